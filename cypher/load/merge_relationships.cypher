// Benchmark baseline (the loader before create/merge_relationships_nid, benchmarks/ingest.py).
// One batch of relationships: $rows = [{s, t, props}] holding source and target keys.
// At most one relationship of this type per (source, target): MERGE makes reloads idempotent.
UNWIND $rows AS row
MATCH (a:{{source}} { {{source_key}}: row.s })
MATCH (b:{{target}} { {{target_key}}: row.t })
MERGE (a)-[r:{{type}}]->(b)
SET r += row.props
