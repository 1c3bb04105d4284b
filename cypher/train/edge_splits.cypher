// Every relationship of one type between two labels, as dense ids, with its split (or null).
// Placeholders: src, rel, dst, prop (the split property).
MATCH (s:{{src}})-[r:{{rel}}]->(d:{{dst}})
RETURN s._nid AS src, d._nid AS dst, r.{{prop}} AS split
