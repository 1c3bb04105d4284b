// Forget one output once its data is gone; a run left with no outputs is unlinked only.
// Parameters: $id (output id).
MATCH (o:LmgnnOutput {id: $id})
DETACH DELETE o
