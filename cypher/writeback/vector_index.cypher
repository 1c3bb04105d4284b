// A vector index over one run's embeddings of one label (no-op when it exists).
// Identifiers: {{label}}, {{property}}. Parameters: $name, $dimensions, $similarity.
CREATE VECTOR INDEX $name IF NOT EXISTS
FOR (n:{{label}}) ON (n.{{property}})
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: $similarity}}
