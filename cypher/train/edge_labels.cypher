// A relationship property (e.g. the edge-classification label) with its endpoints' dense ids.
// Placeholders: src, rel, dst, prop.
MATCH (s:{{src}})-[r:{{rel}}]->(d:{{dst}})
RETURN s._nid AS src, d._nid AS dst, r.{{prop}} AS value
