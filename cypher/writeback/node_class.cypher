// Benchmark baseline (the writer before issue 17; benchmarks/writeback.py): the writer uses node_class_columns.
// Write one batch of node-class predictions: the predicted value, its probability and
// (when asked for) the whole distribution; a null `dist` leaves no property behind.
// Returns the nodes written and how many of them had no prediction of this run before.
// Identifiers: {{label}}; {{pred}}, {{prob}}, {{dist}} are the run's property names.
// Parameters: $rows = [{nid, pred, prob, dist}].
UNWIND $rows AS row
MATCH (n:{{label}} {_nid: row.nid})
WITH n, row, n.{{pred}} IS NULL AS fresh
SET n.{{pred}} = row.pred, n.{{prob}} = row.prob, n.{{dist}} = row.dist
RETURN count(n) AS written, sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS added
