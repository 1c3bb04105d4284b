// Two runs compared, class by class
//
// For each stored class: nodes both runs classified, how many each got right, and how often
// they agree. By default the latest run against the one written before it.
//
// $run: run(node_class) = latest -- first run
// $other: run(node_class) = previous -- second run
// $label: label = any -- classified node label, when the runs classified several
// $split: string = null -- only nodes of this split (train/valid/test)
MATCH (n:{{run_label}})
WHERE n.{{run_pred}} IS NOT NULL AND n.{{other_pred}} IS NOT NULL
  AND n.{{run_target}} IS NOT NULL AND ($split IS NULL OR n.{{run_split}} = $split)
WITH n.{{run_target}} AS class, n.{{run_pred}} AS a, n.{{other_pred}} AS b
RETURN class, count(*) AS nodes,
       sum(CASE WHEN a = class THEN 1 ELSE 0 END) AS correct_run,
       sum(CASE WHEN b = class THEN 1 ELSE 0 END) AS correct_other,
       sum(CASE WHEN a = b THEN 1 ELSE 0 END) AS agree
ORDER BY nodes DESC, class
