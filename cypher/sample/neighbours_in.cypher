// One part of a sampling hop (parts are joined with UNION ALL: one round trip per hop): for
// each frontier node u, up to k sources v of (v:src)-[:rel]->(u:dst), the k smallest by the
// seeded rank of lmgnn.sampler.hashing (then by v's _nid), so the snapshot backend picks the
// same ones. Skips edges whose split is in the part's excluded_splits and, when the part's `exclude`
// flag is set, the batch's target pairs ($excluded holds src * $hash.m + dst keys).
UNWIND $parts.{{part}}.frontier AS u_nid
MATCH (u:{{dst}} {_nid: u_nid})
CALL (u, u_nid) {
  MATCH (u)<-[r:{{rel}}]-(v:{{src}})
  WITH u_nid, v._nid AS v_nid, r.{{split}} AS split
  WHERE (split IS NULL OR NOT split IN $parts.{{part}}.excluded_splits)
    AND NOT ($parts.{{part}}.exclude AND v_nid * $hash.m + u_nid IN $excluded)
  WITH v_nid, (u_nid * $hash.a % $hash.p + v_nid * $hash.b % $hash.p + $parts.{{part}}.salt)
              % $hash.p AS x
  WITH v_nid, (x * x + $hash.c) % $hash.p AS x
  WITH v_nid, (x * x + $parts.{{part}}.salt) % $hash.p AS h
  ORDER BY h, v_nid
  LIMIT $parts.{{part}}.k
  RETURN collect(v_nid) AS nbrs
}
RETURN $parts.{{part}}.index AS part, u_nid, nbrs
