// Record where a run's report is (lmgnn report RUN); a run not in the graph is left alone.
MATCH (r:ModelRun {run_id: $run_id})
SET r.report = $path, r.report_at = datetime()
RETURN count(r) AS recorded
