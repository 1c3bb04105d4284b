// Cached LM embeddings of nodes of one label by _nid; null where absent or computed by another
// LM state than $state.
UNWIND $nids AS nid
MATCH (n:{{label}} {_nid: nid})
RETURN nid, CASE WHEN n._emb_state = $state THEN n._emb END AS vector
