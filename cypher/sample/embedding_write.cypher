// Store LM embeddings as compact float vectors on nodes of one label, tagged with the LM state
// that produced them. $rows: [{nid, vector}]; idempotent (re-writing overwrites).
UNWIND $rows AS row
MATCH (n:{{label}} {_nid: row.nid})
CALL db.create.setNodeVectorProperty(n, '_emb', row.vector)
SET n._emb_state = $state
