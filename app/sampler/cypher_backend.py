"""The cypher backend: every hop is one Neo4j query; the process keeps only the batch.

Use it when the topology does not fit in RAM, or the graph changes while training. Peak
memory is bounded by the batch (fanouts x batch size), not by the graph. Each frontier node's
neighbour list is read inside Neo4j and cut to k there (``ORDER BY rank LIMIT k``), so hubs
cost server time but never transfer more than k ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import neo4j
import torch

from lmgnn import cypher_files as cypher
from lmgnn.sampler import hashing
from lmgnn.sampler.base import DEFAULT_EXCLUDED_SPLITS, NeighbourSampler, vocabularies
from lmgnn.sampler.csr import node_counts, split_property
from lmgnn.sampler.embeddings import EmbeddingCache
from lmgnn.sampler.features import FeatureMode, Neo4jRows, columns_for
from lmgnn.sampler.reads import read
from lmgnn.sampler.subgraph import HopRequest
from lmgnn.spec import EdgeType, GraphSpec

_ALL = hashing.P - 1  # LIMIT for fanout -1


class CypherSampler(NeighbourSampler):
    """Sampling inside Neo4j: one round trip per hop, one per node label for features."""

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, *,
                 fanouts: Sequence[int],
                 relation_fanouts: Mapping[str | EdgeType, Sequence[int]] | None = None,
                 seed: int = 0, features: FeatureMode = "text",
                 embeddings: EmbeddingCache | None = None,
                 exclude_splits: Sequence[str] = DEFAULT_EXCLUDED_SPLITS,
                 split_relations: Sequence[EdgeType] | None = None):
        super().__init__(spec, counts=node_counts(driver, database, spec),
                         rows=Neo4jRows(driver, database, columns_for(spec, features)),
                         vocabs=vocabularies(driver, database, spec), fanouts=fanouts,
                         relation_fanouts=relation_fanouts, seed=seed, features=features,
                         embeddings=embeddings, exclude_splits=exclude_splits,
                         split_relations=split_relations, driver=driver, database=database)

    def _part_query(self, request: HopRequest) -> str:
        part = request.part
        src, rel, dst = part.edge_type
        name = "sample/neighbours_out" if part.outgoing else "sample/neighbours_in"
        return cypher.render(name, part=part.name, src=src, rel=rel, dst=dst,
                             split=split_property(self.spec, part.edge_type))

    def _fetch_hop(self, requests: list[HopRequest], excluded: torch.Tensor
                   ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        query = "\nUNION ALL\n".join(self._part_query(r) for r in requests)
        parts = {r.part.name: {"index": i, "frontier": r.frontier.tolist(),
                               "k": r.k if r.k >= 0 else _ALL, "salt": r.salt,
                               "exclude": r.exclude_targets,
                               "excluded_splits": list(self._splits_hidden(r.part.edge_type))}
                 for i, r in enumerate(requests)}
        assert self.driver is not None  # always passed to the base by __init__
        records = read(self.driver, self.database, query, parts=parts,
                       hash=hashing.HASH_PARAMS, excluded=excluded.tolist())
        us: list[list[int]] = [[] for _ in requests]
        vs: list[list[int]] = [[] for _ in requests]
        for record in records:
            i, nbrs = record["part"], record["nbrs"]
            us[i].extend([record["u_nid"]] * len(nbrs))
            vs[i].extend(nbrs)
        return [(torch.tensor(u, dtype=torch.long), torch.tensor(v, dtype=torch.long))
                for u, v in zip(us, vs, strict=True)]
