// Predicted links that have since come true
//
// After new data is loaded (e.g. new purchases), how many of the run's predicted links now
// exist as real relationships, by rank: a live hit rate of the predictions.
//
// $run: run(links) = latest -- run whose predicted links to check
// $type: type = any -- predicted relation, when the run predicted several
MATCH (s:{{run_source}})-[r:{{run_link_type}}]->(t:{{run_target_label}})
WHERE r.run = $run
WITH r.rank AS rank, EXISTS { (s)-[:{{run_type}}]->(t) } AS real
RETURN rank, count(*) AS predicted, sum(CASE WHEN real THEN 1 ELSE 0 END) AS came_true,
       round(avg(CASE WHEN real THEN 1.0 ELSE 0.0 END), 3) AS hit_rate
ORDER BY rank
