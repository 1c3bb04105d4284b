// Top predicted links of a source node (e.g. purchases a query should lead to)
//
// The run's top-k new links of each source node, best first; links that existed when the run
// wrote them are never predicted. Without $source, the first sources by key are shown.
//
// $run: run(links) = latest -- run whose predicted links to read
// $type: type = any -- predicted relation, when the run predicted several
// $source: value = null -- key of the source node (e.g. a query id)
// $limit: int = 30 -- rows to return
MATCH (s:{{run_source}})-[r:{{run_link_type}}]->(t:{{run_target_label}})
WHERE r.run = $run AND ($source IS NULL OR s.{{run_source_key}} = $source)
RETURN s.{{run_source_key}} AS source_key, s.{{run_source_display}} AS source, r.rank AS rank,
       t.{{run_target_key}} AS key, t.{{run_target_display}} AS name,
       round(r.score, 4) AS score
ORDER BY source_key, rank
LIMIT $limit
