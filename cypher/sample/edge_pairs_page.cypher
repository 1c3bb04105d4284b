// One page of a relation's edges as seeds for edge/link tasks: source and target _nid, label
// property value and split value (null when absent), for sources with _nid in [$lo, $hi).
MATCH (s:{{src}})
WHERE s._nid >= $lo AND s._nid < $hi
MATCH (s)-[r:{{rel}}]->(d:{{dst}})
RETURN collect(s._nid) AS src, collect(d._nid) AS dst, collect(r.{{label}}) AS label,
       collect(r.{{split}}) AS split
