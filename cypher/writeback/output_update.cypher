// Add settings learnt while writing (e.g. embedding dimensions) to an output.
// Parameters: $id (output id), $props.
MATCH (o:LmgnnOutput {id: $id})
SET o += $props
