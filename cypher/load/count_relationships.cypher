// Number of relationships of one type between two labels.
MATCH (:{{source}})-[r:{{type}}]->(:{{target}})
RETURN count(r) AS n
