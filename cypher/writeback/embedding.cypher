// Write one batch of node embeddings as compact LIST<FLOAT> properties.
// Identifiers: {{label}}. Parameters: $property (the run's embedding property, checked),
// $rows = [{nid, vec}].
UNWIND $rows AS row
MATCH (n:{{label}} {_nid: row.nid})
CALL db.create.setNodeVectorProperty(n, $property, row.vec)
RETURN count(n) AS written
