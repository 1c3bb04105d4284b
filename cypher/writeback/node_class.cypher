// Write one batch of node-class predictions: the predicted value, its probability and
// (when asked for) the whole distribution; a null `dist` leaves no property behind.
// Identifiers: {{label}}; {{pred}}, {{prob}}, {{dist}} are the run's property names.
// Parameters: $rows = [{nid, pred, prob, dist}].
UNWIND $rows AS row
MATCH (n:{{label}} {_nid: row.nid})
SET n.{{pred}} = row.pred, n.{{prob}} = row.prob, n.{{dist}} = row.dist
RETURN count(n) AS written
