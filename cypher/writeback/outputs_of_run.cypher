// Every output a run has written (or started to write), with the names it used.
// Parameters: $run_id.
MATCH (o:LmgnnOutput {run_id: $run_id})
RETURN o {.*} AS output
ORDER BY o.id
