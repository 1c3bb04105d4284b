// Benchmark baseline (the writer before issue 17; benchmarks/writeback.py): the writer uses embedding_columns.
// Write one batch of node embeddings as compact LIST<FLOAT> properties.
// Returns the nodes written and how many of them had no embedding of this run before.
// Identifiers: {{label}}. Parameters: $property (the run's embedding property, checked),
// $rows = [{nid, vec}].
UNWIND $rows AS row
MATCH (n:{{label}} {_nid: row.nid})
WITH n, row, n[$property] IS NULL AS fresh
CALL db.create.setNodeVectorProperty(n, $property, row.vec)
RETURN count(n) AS written, sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS added
