// One page of a relation's edges as seeds for edge/link tasks, for sources with _nid in
// [$lo, $hi): parallel lists of source _nid, target _nid, [label value] (property named by
// $label, checked against the spec, or null for none; wrapped because collect() drops nulls)
// and split value ('' when absent).
MATCH (s:{{src}})
WHERE s._nid >= $lo AND s._nid < $hi
MATCH (s)-[r:{{rel}}]->(d:{{dst}})
RETURN collect(s._nid) AS src, collect(d._nid) AS dst,
       collect([CASE WHEN $label IS NULL THEN null ELSE r[$label] END]) AS label,
       collect(coalesce(r.{{split}}, '')) AS split
