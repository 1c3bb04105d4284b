// Nearest targets for a source node, including one added after training
//
// Embeds nothing itself: the source node (e.g. a query never seen in training) needs the run's
// embedding, which `lmgnn predict` writes for new nodes. Its nearest nodes of the run's
// embedded target label are found through that label's vector index and ranked by exact
// cosine similarity (vector.similarity.cosine: 1 = same direction, 0 = opposite).
//
// $run: run(embedding) = latest -- run whose embeddings to use
// $label: label = Product -- label of the candidates (it has the vector index)
// $source: label = Query -- label of the node to find neighbours for
// $key: value -- key of that node (e.g. a query id)
// $k: int = 10 -- neighbours to return
MATCH (q:{{source}})
WHERE q.{{source_key}} = $key AND q.{{run_property}} IS NOT NULL
CALL db.index.vector.queryNodes($run_index, $k, q.{{run_property}})
YIELD node
RETURN q.{{source_display}} AS source, node.{{run_key}} AS key, node.{{run_display}} AS name,
       round(vector.similarity.cosine(q.{{run_property}}, node.{{run_property}}), 4) AS similarity
ORDER BY similarity DESC
