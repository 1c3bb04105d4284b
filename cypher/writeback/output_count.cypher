// What the graph holds of one output now (its exact count). Parameters: $id (output id).
MATCH (o:LmgnnOutput {id: $id})
RETURN o.count AS count
