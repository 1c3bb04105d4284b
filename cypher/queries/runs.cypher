// Runs and what they wrote
//
// Every run with predictions in the graph and each of its outputs: kind, where, status
// ('writing' means interrupted: run the writeback again), and how many items.
//
MATCH (run:ModelRun)-[:WROTE]->(o:LmgnnOutput)
RETURN run.run_id AS run, o.kind AS kind,
       coalesce(o.label, o.source + '-[' + o.type + ']->' + o.target_label) AS what,
       o.status AS status, o.count AS items, toString(o.finished_at) AS finished
ORDER BY run.written_at DESC, kind, what
