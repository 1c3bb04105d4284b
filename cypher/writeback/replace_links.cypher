// Write one batch of predicted links into an output that holds some: the batch's sources lose
// their old links of this run and get the new ones in the same transaction (readers see the
// old top-k or the new one, never none), so a retried or repeated batch duplicates nothing.
// Returns the links created, and the net number added (created minus removed).
// Identifiers: {{source}}, {{target}} labels; {{type}} the PREDICTED_<TYPE> relationship.
// Parameters: $run_id, $sources (the batch's source _nids), $src, $dst, $score, $rank
// (parallel lists, one entry per link).
CALL () {
  UNWIND $sources AS nid
  MATCH (:{{source}} {_nid: nid})-[old:{{type}}]->(:{{target}})
  WHERE old.run = $run_id
  DELETE old
  RETURN count(old) AS removed
}
CALL () {
  UNWIND range(0, size($src) - 1) AS i
  MATCH (s:{{source}} {_nid: $src[i]})
  MATCH (d:{{target}} {_nid: $dst[i]})
  CREATE (s)-[r:{{type}} {run: $run_id, score: $score[i], rank: $rank[i]}]->(d)
  RETURN count(r) AS created
}
RETURN created AS written, created - removed AS added
