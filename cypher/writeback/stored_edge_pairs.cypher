// (source, target) `_nid` pairs whose relationship holds the run's edge-class prediction.
// Identifiers: {{source}}, {{type}}, {{target}}, {{pred}}.
MATCH (a:{{source}})-[r:{{type}}]->(b:{{target}})
WHERE r.{{pred}} IS NOT NULL
RETURN a._nid AS src, b._nid AS dst
