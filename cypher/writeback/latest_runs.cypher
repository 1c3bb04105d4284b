// Runs with a complete output of one kind, most recently written first.
// Parameters: $kind (node_class, embedding, links or edge_class).
MATCH (run:ModelRun)-[:WROTE]->(:LmgnnOutput {kind: $kind, status: 'complete'})
WITH DISTINCT run
RETURN run.run_id AS run_id
ORDER BY run.written_at DESC, run_id DESC
