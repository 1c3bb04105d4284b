// One page of a relation's topology for the snapshot backend: the edges whose source _nid is in
// [$lo, $hi), as three parallel lists (source _nid, target _nid, split value; '' when absent,
// because collect() drops nulls). Paging by source id bounds each transaction and result.
MATCH (s:{{src}})
WHERE s._nid >= $lo AND s._nid < $hi
MATCH (s)-[r:{{rel}}]->(d:{{dst}})
RETURN collect(s._nid) AS src, collect(d._nid) AS dst, collect(coalesce(r.{{split}}, '')) AS split
