// Runs and what they wrote
//
// Every run with predictions in the graph and each of its outputs: kind, where, status
// ('writing' means interrupted: run the writeback again), and how many items.
//
MATCH (r:ModelRun)-[:WROTE]->(o:LmgnnOutput)
WITH r, o
ORDER BY r.written_at DESC, o.kind, o.id
RETURN r.run_id AS run, o.kind AS kind,
       coalesce(o.label, o.source + '-[' + o.type + ']->' + o.target_label) AS what,
       o.status AS status, o.count AS items, toString(o.finished_at) AS finished
