// Benchmark baseline only: one node per transaction (see benchmarks/ingest.py).
MERGE (n:{{label}} { {{key}}: $key })
ON CREATE SET n.{{nid}} = $nid
SET n += $props
