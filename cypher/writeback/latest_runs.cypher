// Runs with a readable output of one kind ('complete', or 'rewriting': a complete output being
// re-written in place, every item old or new), most recently written first.
// Parameters: $kind (node_class, embedding, links or edge_class).
MATCH (run:ModelRun)-[:WROTE]->(o:LmgnnOutput {kind: $kind})
WHERE o.status IN ['complete', 'rewriting']
WITH DISTINCT run
RETURN run.run_id AS run_id
ORDER BY run.written_at DESC, run_id DESC
