// Nodes most similar to a given node, through the vector index
//
// Nearest neighbours of one node (e.g. a product) among the nodes of its label, by the cosine
// similarity of the run's embeddings, answered by the run's vector index.
//
// $run: run(embedding) = latest -- run whose embeddings to use
// $label: label = any -- label of the node, when the run embedded several
// $key: value -- key of the node (e.g. a product id)
// $k: int = 10 -- neighbours to return
MATCH (n:{{run_label}})
WHERE n.{{run_key}} = $key AND n.{{run_property}} IS NOT NULL
CALL db.index.vector.queryNodes($run_index, $k + 1, n.{{run_property}})
YIELD node, score
WITH n, node, score
WHERE node <> n
RETURN n.{{run_display}} AS similar_to, node.{{run_key}} AS key,
       node.{{run_display}} AS name, round(score, 4) AS similarity
ORDER BY similarity DESC
LIMIT $k
