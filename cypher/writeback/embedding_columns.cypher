// Write one batch of node embeddings, in place, as compact LIST<FLOAT> properties.
// Returns the nodes written and how many of them had no embedding of this run before.
// Identifiers: {{label}}. Parameters: $property (the run's embedding property, checked),
// $nids, $vecs (parallel lists).
UNWIND range(0, size($nids) - 1) AS i
MATCH (n:{{label}} {_nid: $nids[i]})
WITH n, i, n[$property] IS NULL AS fresh
CALL db.create.setNodeVectorProperty(n, $property, $vecs[i])
RETURN count(n) AS written, sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS added
