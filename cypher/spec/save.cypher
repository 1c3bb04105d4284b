// Store the graph spec (JSON) so that train/writeback need only the database. Every load
// bumps `generation`, and a graph created anew (first load, or after --replace) gets a new
// `graph_id`: together they version the texts, so cached LM vectors of another graph or of an
// older load are never served (lmgnn.train.cache).
MERGE (s:LmgnnSpec {id: 'graph'})
SET s.name = $name, s.json = $json, s.updated_at = datetime(),
    s.graph_id = coalesce(s.graph_id, randomUUID()),
    s.generation = coalesce(s.generation, 0) + 1
