// Distinct non-null values of a node property (a classification target): the label vocabulary.
MATCH (n:{{label}})
WHERE n.{{prop}} IS NOT NULL
RETURN DISTINCT n.{{prop}} AS value
