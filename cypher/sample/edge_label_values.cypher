// Distinct non-null values of a relationship property (an edge-classification label).
MATCH (:{{src}})-[r:{{rel}}]->(:{{dst}})
WHERE r.{{prop}} IS NOT NULL
RETURN DISTINCT r.{{prop}} AS value
