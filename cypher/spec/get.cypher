// The stored graph spec, if any.
MATCH (s:LmgnnSpec {id: 'graph'})
RETURN s.name AS name, s.json AS json
