// Targets each source node already links to (they are not predicted again).
// Identifiers: {{source}}, {{type}}, {{target}}. Parameters: $sources (list of _nid).
UNWIND $sources AS src
MATCH (:{{source}} {_nid: src})-[:{{type}}]->(d:{{target}})
RETURN src, collect(DISTINCT d._nid) AS targets
