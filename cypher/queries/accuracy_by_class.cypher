// Per-class accuracy of a run
//
// For each stored class (e.g. each catalogue category): nodes, correct predictions and
// accuracy, optionally on one split only (test for held-out accuracy).
//
// $run: run(node_class) = latest -- run whose predictions to score
// $label: label = any -- classified node label, when the run classified several
// $split: string = null -- only nodes of this split (train/valid/test)
MATCH (n:{{run_label}})
WHERE n.{{run_pred}} IS NOT NULL AND n.{{run_target}} IS NOT NULL
  AND ($split IS NULL OR n.{{run_split}} = $split)
WITH n.{{run_target}} AS class,
     CASE WHEN n.{{run_pred}} = n.{{run_target}} THEN 1 ELSE 0 END AS hit
RETURN class, count(*) AS nodes, sum(hit) AS correct,
       round(toFloat(sum(hit)) / count(*), 3) AS accuracy
ORDER BY nodes DESC, class
