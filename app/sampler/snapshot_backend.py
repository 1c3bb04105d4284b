"""The snapshot backend: topology in RAM as CSR, node values from Neo4j through an LRU cache.

Use it when ``2 * E * 8`` bytes of topology fit comfortably in memory (``choose_backend``
decides): sampling is vectorised torch on CSR slices and costs no round trip; only node values
(text, labels, features) of nodes not yet cached are fetched, one query per label per batch.
The snapshot is taken once at construction: relationships written later (except ``_split``
values, which are read at snapshot time too) are not seen until a new sampler is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import neo4j
import torch

from lmgnn.sampler.base import DEFAULT_EXCLUDED_SPLITS, NeighbourSampler, vocabularies
from lmgnn.sampler.csr import CsrGraph, snapshot
from lmgnn.sampler.embeddings import EmbeddingCache
from lmgnn.sampler.features import (
    CachedRows,
    FeatureMode,
    MemoryRows,
    Neo4jRows,
    RowSource,
    columns_for,
)
from lmgnn.sampler.subgraph import HopRequest
from lmgnn.spec import EdgeType, GraphSpec


class SnapshotSampler(NeighbourSampler):
    """CSR topology streamed out of Neo4j once; features per batch via ``CachedRows``.

    Extra args: ``csr`` reuses an existing snapshot; ``cache_rows`` bounds the LRU;
    ``rows`` replaces the node-value source (``reference`` uses an in-memory one).
    """

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, *,
                 fanouts: Sequence[int],
                 relation_fanouts: Mapping[str | EdgeType, Sequence[int]] | None = None,
                 seed: int = 0, features: FeatureMode = "text",
                 embeddings: EmbeddingCache | None = None,
                 exclude_splits: Sequence[str] = DEFAULT_EXCLUDED_SPLITS,
                 split_relations: Sequence[EdgeType] | None = None,
                 csr: CsrGraph | None = None, cache_rows: int = 2_000_000,
                 rows: RowSource | None = None, progress: bool = False):
        self.csr = csr if csr is not None else snapshot(driver, database, spec,
                                                        progress=progress)
        rows = rows or CachedRows(Neo4jRows(driver, database, columns_for(spec, features)),
                                  cache_rows)
        super().__init__(spec, counts=dict(self.csr.counts), rows=rows,
                         vocabs=vocabularies(driver, database, spec), fanouts=fanouts,
                         relation_fanouts=relation_fanouts, seed=seed, features=features,
                         embeddings=embeddings, exclude_splits=exclude_splits,
                         split_relations=split_relations, driver=driver, database=database)
        self._excluded_codes = self.csr.codes(self.exclude_splits)
        self._no_codes = self.csr.codes(())

    @classmethod
    def reference(cls, driver: neo4j.Driver, database: str, spec: GraphSpec, *,
                  csr: CsrGraph, features: FeatureMode = "text", **kwargs: object
                  ) -> SnapshotSampler:
        """Same CSR, every node value preloaded into RAM: the no-database reference."""
        source = Neo4jRows(driver, database, columns_for(spec, features))
        rows = MemoryRows.from_source(source, csr.counts)
        return cls(driver, database, spec, csr=csr, rows=rows, features=features,
                   **kwargs)  # type: ignore[arg-type]

    def _fetch_hop(self, requests: list[HopRequest], excluded: torch.Tensor
                   ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        out = []
        for r in requests:
            rel = self.csr.relations[r.part.edge_type]
            codes = self._excluded_codes if self._splits_hidden(r.part.edge_type) \
                else self._no_codes
            out.append(rel.neighbours(r.frontier, r.part.outgoing, r.k, r.salt, codes,
                                      excluded if r.exclude_targets else None))
        return out
