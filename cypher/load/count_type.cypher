// Number of relationships of one type, between any labels (count store: constant time).
MATCH ()-[r:{{type}}]->()
RETURN count(r) AS n
