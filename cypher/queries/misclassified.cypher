// Nodes whose predicted class disagrees with the catalogue
//
// Nodes (e.g. products) whose class predicted by the run differs from the value stored in the
// graph, most confident predictions first: likely catalogue errors, or ambiguous items.
//
// $run: run(node_class) = latest -- run whose predictions to read
// $label: label = any -- classified node label, when the run classified several
// $limit: int = 25 -- rows to return
MATCH (n:{{run_label}})
WHERE n.{{run_pred}} IS NOT NULL AND n.{{run_target}} IS NOT NULL
  AND n.{{run_pred}} <> n.{{run_target}}
RETURN n.{{run_key}} AS key, n.{{run_display}} AS name, n.{{run_target}} AS stored,
       n.{{run_pred}} AS predicted, round(n.{{run_prob}}, 3) AS probability
ORDER BY probability DESC, key
LIMIT $limit
