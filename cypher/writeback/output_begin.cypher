// Open (or reopen) one output of a run before its first batch: the (:ModelRun) links to it with
// :WROTE, and it stays status 'writing' until the last batch has landed. Its count restarts at
// 0, unless $append (new nodes scored later keep the count of what is there).
// Returns no row when the output id already belongs to another run id (names would clash).
// Parameters: $run_id, $id (output id), $kind, $props (names and settings it uses), $append.
MERGE (o:LmgnnOutput {id: $id})
  ON CREATE SET o.run_id = $run_id
WITH o
WHERE o.run_id = $run_id
MERGE (run:ModelRun {run_id: $run_id})
SET run.written_at = datetime()
MERGE (run)-[:WROTE]->(o)
SET o += $props, o.kind = $kind, o.status = 'writing',
    o.count = CASE WHEN $append THEN coalesce(o.count, 0) ELSE 0 END,
    o.started_at = datetime(), o.finished_at = null
RETURN o.id AS id
