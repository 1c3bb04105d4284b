// Number of nodes of one label (count store, constant time); _nid runs 0..count-1.
MATCH (n:{{label}})
RETURN count(n) AS count
