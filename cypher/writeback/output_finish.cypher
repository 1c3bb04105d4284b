// Mark an output complete after its last batch.
// Parameters: $id (output id).
MATCH (o:LmgnnOutput {id: $id})
SET o.status = 'complete', o.finished_at = datetime()
RETURN o.count AS count
