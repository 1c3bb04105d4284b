// Remove one run's edge-class predictions from the relationships of one relation.
// Identifiers: {{source}}, {{type}}, {{target}}, {{pred}}, {{prob}}. Parameters: $batch.
MATCH (:{{source}})-[r:{{type}}]->(:{{target}})
WHERE r.{{pred}} IS NOT NULL OR r.{{prob}} IS NOT NULL
CALL (r) { REMOVE r.{{pred}}, r.{{prob}} } IN TRANSACTIONS OF $batch ROWS
