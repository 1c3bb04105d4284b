// Runs that have predictions in the graph, most recently written first.
MATCH (run:ModelRun)-[:WROTE]->(:LmgnnOutput)
WITH DISTINCT run
RETURN run.run_id AS run_id, run.written_at AS written_at
ORDER BY written_at DESC, run_id DESC
