// Store the graph spec (JSON) so that train/writeback need only the database.
MERGE (s:LmgnnSpec {id: 'graph'})
SET s.name = $name, s.json = $json, s.updated_at = datetime()
