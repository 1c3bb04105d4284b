// Nodes most similar to a given node, through the vector index
//
// Nearest neighbours of one node (e.g. a product) among the nodes of its label, found by the
// run's vector index (approximate) and ranked by the exact cosine similarity of the run's
// embeddings (vector.similarity.cosine: 1 = same direction, 0.5 = orthogonal, 0 = opposite).
//
// $run: run(embedding) = latest -- run whose embeddings to use
// $label: label = Product -- label of the node (the run's embeddings of it are used)
// $key: value -- key of the node (e.g. a product id)
// $k: int = 10 -- neighbours to return
MATCH (n:{{run_label}})
WHERE n.{{run_key}} = $key AND n.{{run_property}} IS NOT NULL
CALL db.index.vector.queryNodes($run_index, $k + 1, n.{{run_property}})
YIELD node
WITH n, node
WHERE node <> n
RETURN n.{{run_display}} AS similar_to, node.{{run_key}} AS key, node.{{run_display}} AS name,
       round(vector.similarity.cosine(n.{{run_property}}, node.{{run_property}}), 4) AS similarity
ORDER BY similarity DESC
LIMIT $k
