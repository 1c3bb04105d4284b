// Write one batch of node-class predictions, in place (a re-write overwrites node by node, so
// readers see the old or the new prediction of every node, never none): the predicted value,
// its probability and (when asked for) the whole distribution; a null `dist` leaves no
// property behind. Returns the nodes written and how many had no prediction of this run yet.
// Identifiers: {{label}}; {{pred}}, {{prob}}, {{dist}} are the run's property names.
// Parameters: $nids, $preds, $probs, $dists (parallel lists).
UNWIND range(0, size($nids) - 1) AS i
MATCH (n:{{label}} {_nid: $nids[i]})
WITH n, i, n.{{pred}} IS NULL AS fresh
SET n.{{pred}} = $preds[i], n.{{prob}} = $probs[i], n.{{dist}} = $dists[i]
RETURN count(n) AS written, sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS added
