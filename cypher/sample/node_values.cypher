// Property values of nodes of one label, looked up by dense id (_nid).
// $nids: list of _nid; $props: property names (checked against the graph spec), read with
// dynamic access; a missing property gives null. One row per node found.
UNWIND $nids AS nid
MATCH (n:{{label}} {_nid: nid})
RETURN nid, [p IN $props | n[p]] AS values
