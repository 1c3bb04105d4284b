// User keys of some nodes of one label, to show predictions to people.
// Identifiers: {{label}}, {{key}}. Parameters: $nids (list of _nid).
UNWIND $nids AS nid
MATCH (n:{{label}} {_nid: nid})
RETURN nid, toString(n.{{key}}) AS key
