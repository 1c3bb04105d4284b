// Record the latest comparison report each of the compared runs appears in.
MATCH (r:ModelRun) WHERE r.run_id IN $run_ids
SET r.compare_report = $path, r.compare_report_at = datetime()
RETURN count(r) AS recorded
