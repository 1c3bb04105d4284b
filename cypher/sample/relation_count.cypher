// Number of relationships of one stored relation (source label, type, target label).
MATCH (:{{src}})-[r:{{rel}}]->(:{{dst}})
RETURN count(r) AS count
