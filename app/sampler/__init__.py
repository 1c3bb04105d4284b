"""Mini-batches of heterogeneous subgraphs streamed from Neo4j (docs/architecture.md).

Typical use::

    sampler = make_sampler(driver, database, spec, fanouts=[10, 5], seed=0)
    loader = NodeLoader(sampler, "Paper", seeds, batch_size=1024, shuffle=True)
    for epoch in range(3):
        loader.set_epoch(epoch)
        for batch in loader:   # HeteroData: n_id, batch_size, edge_index (+ rev_*), text, y
            ...
"""

from lmgnn.sampler.base import (
    NeighbourSampler,
    Sampler,
    fanouts_per_relation,
    parse_fanouts,
    vocabularies,
)
from lmgnn.sampler.choose import default_backend, make_sampler
from lmgnn.sampler.csr import CsrGraph, RelationCSR, node_counts, snapshot
from lmgnn.sampler.cypher_backend import CypherSampler
from lmgnn.sampler.embeddings import (
    EmbeddingCache,
    MemmapEmbeddings,
    Neo4jEmbeddings,
    fill_embeddings,
)
from lmgnn.sampler.features import LabelVocab, edge_vocab, join_text, node_vocab
from lmgnn.sampler.loader import EdgeLoader, EdgeSeeds, NodeLoader, edge_seeds, epoch_order
from lmgnn.sampler.snapshot_backend import SnapshotSampler
from lmgnn.sampler.subgraph import reverse

__all__ = [
    "CsrGraph",
    "CypherSampler",
    "EdgeLoader",
    "EdgeSeeds",
    "EmbeddingCache",
    "LabelVocab",
    "MemmapEmbeddings",
    "NeighbourSampler",
    "Neo4jEmbeddings",
    "NodeLoader",
    "RelationCSR",
    "Sampler",
    "SnapshotSampler",
    "default_backend",
    "edge_seeds",
    "edge_vocab",
    "epoch_order",
    "fanouts_per_relation",
    "fill_embeddings",
    "join_text",
    "make_sampler",
    "node_counts",
    "node_vocab",
    "parse_fanouts",
    "reverse",
    "snapshot",
    "vocabularies",
]
