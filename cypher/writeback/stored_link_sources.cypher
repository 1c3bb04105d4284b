// Source `_nid`s that hold predicted links of a run (leftovers after a re-write: those it did
// not write again). Identifiers: {{source}}, {{type}}, {{target}}. Parameters: $run_id.
MATCH (s:{{source}})-[r:{{type}}]->(:{{target}})
WHERE r.run = $run_id
RETURN DISTINCT s._nid AS nid
