// Edge-class predictions against the stored judgements (e.g. ESCI)
//
// How often each judged class (e.g. Exact/Substitute/Complement/Irrelevant) is predicted as
// each class: the confusion table of the run on existing relationships, with mean confidence.
//
// $run: run(edge_class) = latest -- run whose edge predictions to read
// $type: type = any -- classified relation, when the run classified several
// $split: string = null -- only relationships of this split (train/valid/test)
MATCH (:{{run_source}})-[r:{{run_type}}]->(:{{run_target_label}})
WHERE r.{{run_pred}} IS NOT NULL AND ($split IS NULL OR r.{{run_split}} = $split)
RETURN r.{{run_target}} AS judged, r.{{run_pred}} AS predicted, count(*) AS relationships,
       round(avg(r.{{run_prob}}), 3) AS mean_probability
ORDER BY judged, predicted
