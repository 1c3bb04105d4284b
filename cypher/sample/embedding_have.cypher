// Which of $nids (one label) already hold a cached LM embedding of state $state: reads the
// state marker only, never the vectors.
UNWIND $nids AS nid
MATCH (n:{{label}} {_nid: nid})
WHERE n._emb_state = $state
RETURN collect(nid) AS have
