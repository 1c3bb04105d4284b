// Remove one run's node-class predictions from every node of a label (auto-commit, batched).
// Identifiers: {{label}}, {{pred}}, {{prob}}, {{dist}}. Parameters: $batch.
MATCH (n:{{label}})
WHERE n.{{pred}} IS NOT NULL OR n.{{prob}} IS NOT NULL
CALL (n) { REMOVE n.{{pred}}, n.{{prob}}, n.{{dist}} } IN TRANSACTIONS OF $batch ROWS
