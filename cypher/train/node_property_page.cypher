// One page of a node property by dense id: nodes of one label with _nid in [$lo, $hi), as
// parallel lists (values wrapped in a list each, because collect() drops nulls).
// Placeholders: label, prop.
MATCH (n:{{label}})
WHERE n._nid >= $lo AND n._nid < $hi
RETURN collect(n._nid) AS nid, collect([n.{{prop}}]) AS value
