// Count the items a batch added, in the same transaction that writes the batch.
// Parameters: $id (output id), $count.
MATCH (o:LmgnnOutput {id: $id})
SET o.count = o.count + $count
