// Split of every node of one label, by dense id: the spec's split property or `_split`.
// Placeholders: label, prop (the split property). Rows: nid, split (null when unset).
MATCH (n:{{label}})
RETURN n._nid AS nid, n.{{prop}} AS split
