// Write one batch of edge-class predictions, in place, onto the existing relationships between
// each (source, target) pair (parallel relationships of the pair get the same prediction).
// Returns the pairs written and the relationships that had no prediction of this run before.
// Identifiers: {{source}}, {{type}}, {{target}}; {{pred}}, {{prob}} are the run's properties.
// Parameters: $src, $dst, $preds, $probs (parallel lists).
UNWIND range(0, size($src) - 1) AS i
MATCH (:{{source}} {_nid: $src[i]})-[r:{{type}}]->(:{{target}} {_nid: $dst[i]})
WITH i, r, r.{{pred}} IS NULL AS fresh
SET r.{{pred}} = $preds[i], r.{{prob}} = $probs[i]
WITH i, sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS new
RETURN count(i) AS written, sum(new) AS added
