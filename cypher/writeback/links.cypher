// Benchmark baseline (the writer before issue 17; benchmarks/writeback.py): the writer uses
// create_links and replace_links.
// Write one batch of predicted links: for each source node, its previous links of this run are
// replaced by the new top-k, so a retried or repeated batch never duplicates a link.
// Returns the links created, and the net number added (created minus replaced).
// Identifiers: {{source}}, {{target}} labels; {{type}} the PREDICTED_<TYPE> relationship.
// Parameters: $run_id, $rows = [{src, links: [{dst, score, rank}]}].
UNWIND $rows AS row
MATCH (s:{{source}} {_nid: row.src})
CALL (s) {
  OPTIONAL MATCH (s)-[old:{{type}}]->()
  WHERE old.run = $run_id
  DELETE old
  RETURN count(old) AS removed
}
CALL (s, row) {
  UNWIND row.links AS link
  MATCH (d:{{target}} {_nid: link.dst})
  CREATE (s)-[r:{{type}} {run: $run_id, score: link.score, rank: link.rank}]->(d)
  RETURN count(r) AS created
}
RETURN sum(created) AS written, sum(created) - sum(removed) AS added
