// Key and dense id of every node of one label (a reload keeps the ids already given).
MATCH (n:{{label}})
RETURN n.{{key}} AS key, n.{{nid}} AS nid
