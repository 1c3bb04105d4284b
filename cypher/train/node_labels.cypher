// A node property by dense id (e.g. the classification target), for one label.
// Placeholders: label, prop.
MATCH (n:{{label}})
RETURN n._nid AS nid, n.{{prop}} AS value
