// Benchmark baseline only: one relationship per transaction (see benchmarks/ingest.py).
MATCH (a:{{source}} { {{source_key}}: $s })
MATCH (b:{{target}} { {{target_key}}: $t })
MERGE (a)-[r:{{type}}]->(b)
SET r += $props
