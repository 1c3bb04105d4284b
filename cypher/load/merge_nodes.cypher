// Benchmark baseline (the loader before create_nodes/update_nodes, benchmarks/ingest.py).
// One batch of nodes: $rows = [{key, nid, props}]. MERGE on the constrained key, so a
// retried or repeated batch changes nothing; `nid` is only given to new nodes.
UNWIND $rows AS row
MERGE (n:{{label}} { {{key}}: row.key })
ON CREATE SET n.{{nid}} = row.nid
SET n += row.props
