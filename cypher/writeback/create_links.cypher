// Write one batch of predicted links of an output that holds none yet (its count is 0): a
// plain CREATE per link, no per-source delete. Returns the links created (twice: all are new).
// Identifiers: {{source}}, {{target}} labels; {{type}} the PREDICTED_<TYPE> relationship.
// Parameters: $run_id, $src, $dst, $score, $rank (parallel lists, one entry per link).
UNWIND range(0, size($src) - 1) AS i
MATCH (s:{{source}} {_nid: $src[i]})
MATCH (d:{{target}} {_nid: $dst[i]})
CREATE (s)-[r:{{type}} {run: $run_id, score: $score[i], rank: $rank[i]}]->(d)
RETURN count(r) AS written, count(r) AS added
