// Number of nodes with one label (count store: constant time).
MATCH (n:{{label}})
RETURN count(n) AS n
