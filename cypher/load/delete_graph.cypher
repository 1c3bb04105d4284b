// Benchmark only: delete every node in batches (auto-commit transaction; its own server).
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
