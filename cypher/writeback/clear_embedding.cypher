// Remove one run's embeddings from every node of a label (auto-commit, batched).
// Identifiers: {{label}}, {{property}}. Parameters: $batch.
MATCH (n:{{label}})
WHERE n.{{property}} IS NOT NULL
CALL (n) { REMOVE n.{{property}} } IN TRANSACTIONS OF $batch ROWS
