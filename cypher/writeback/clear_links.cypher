// Delete one run's predicted links of one relation (auto-commit, batched).
// Identifiers: {{source}}, {{type}}, {{target}}. Parameters: $run_id, $batch.
MATCH (:{{source}})-[r:{{type}}]->(:{{target}})
WHERE r.run = $run_id
CALL (r) { DELETE r } IN TRANSACTIONS OF $batch ROWS
