// The stored graph spec, if any, with the version of its contents (see spec/save).
MATCH (s:LmgnnSpec {id: 'graph'})
RETURN s.name AS name, s.json AS json, s.graph_id AS graph_id, s.generation AS generation
