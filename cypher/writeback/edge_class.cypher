// Write one batch of edge-class predictions onto the existing relationships between each
// (source, target) pair (parallel relationships of the pair get the same prediction).
// Identifiers: {{source}}, {{type}}, {{target}}; {{pred}}, {{prob}} are the run's properties.
// Parameters: $rows = [{src, dst, pred, prob}].
UNWIND $rows AS row
MATCH (:{{source}} {_nid: row.src})-[r:{{type}}]->(:{{target}} {_nid: row.dst})
SET r.{{pred}} = row.pred, r.{{prob}} = row.prob
WITH row, count(r) AS hits
RETURN count(row) AS written
