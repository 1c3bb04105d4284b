// Open (or reopen) one output of a run before its first batch: the (:ModelRun) links to it with
// :WROTE. Nothing is cleared: batches overwrite in place and leftovers go at the end, so an
// output that was complete stays readable while it is re-written ('rewriting'); a first write
// (or an interrupted first write) is 'writing' until its last batch has landed. The count is
// what the graph holds of the output, kept exact by every batch.
// Returns no row when the output id already belongs to another run id (names would clash),
// else the status it had before and its count.
// Parameters: $run_id, $id (output id), $kind, $props (names and settings it uses).
MERGE (o:LmgnnOutput {id: $id})
  ON CREATE SET o.run_id = $run_id, o.count = 0
WITH o, o.status AS was
WHERE o.run_id = $run_id
MERGE (run:ModelRun {run_id: $run_id})
SET run.written_at = datetime()
MERGE (run)-[:WROTE]->(o)
SET o += $props, o.kind = $kind, o.count = coalesce(o.count, 0),
    o.status = CASE WHEN was IN ['complete', 'rewriting'] THEN 'rewriting' ELSE 'writing' END,
    o.started_at = datetime(), o.finished_at = null
RETURN o.id AS id, was, o.count AS count
