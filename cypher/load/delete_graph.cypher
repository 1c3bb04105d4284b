// Delete every node and relationship in batches (`lmgnn load --replace`, benchmarks).
// Needs an auto-commit transaction (session.run), as CALL ... IN TRANSACTIONS does.
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
