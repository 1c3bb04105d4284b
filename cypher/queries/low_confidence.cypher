// Low-confidence predictions to review
//
// Nodes whose predicted class has a probability under the threshold, least sure first: the
// queue for a human to label (the stored value is shown when there is one).
//
// $run: run(node_class) = latest -- run whose predictions to read
// $label: label = any -- classified node label, when the run classified several
// $threshold: float = 0.5 -- show predictions less probable than this
// $limit: int = 25 -- rows to return
MATCH (n:{{run_label}})
WHERE n.{{run_prob}} < $threshold
RETURN n.{{run_key}} AS key, n.{{run_display}} AS name, n.{{run_pred}} AS predicted,
       round(n.{{run_prob}}, 3) AS probability, n.{{run_target}} AS stored,
       n.{{run_split}} AS split
ORDER BY probability, key
LIMIT $limit
