// Benchmark baseline (the writer before issue 17; benchmarks/writeback.py): the writer uses edge_class_columns.
// Write one batch of edge-class predictions onto the existing relationships between each
// (source, target) pair (parallel relationships of the pair get the same prediction).
// Returns the pairs written and the relationships that had no prediction of this run before.
// Identifiers: {{source}}, {{type}}, {{target}}; {{pred}}, {{prob}} are the run's properties.
// Parameters: $rows = [{src, dst, pred, prob}].
UNWIND $rows AS row
MATCH (:{{source}} {_nid: row.src})-[r:{{type}}]->(:{{target}} {_nid: row.dst})
WITH row, r, r.{{pred}} IS NULL AS fresh
SET r.{{pred}} = row.pred, r.{{prob}} = row.prob
WITH row, sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS new
RETURN count(row) AS written, sum(new) AS added
