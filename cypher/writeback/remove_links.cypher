// Delete the run's predicted links of some sources (leftovers of an earlier write); returns
// how many were deleted. Identifiers: {{source}}, {{type}}, {{target}}. Parameters: $run_id,
// $nids.
UNWIND $nids AS nid
MATCH (:{{source}} {_nid: nid})-[r:{{type}}]->(:{{target}})
WHERE r.run = $run_id
DELETE r
RETURN count(r) AS removed
