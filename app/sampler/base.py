"""The sampler interface every trainer uses, and the logic all backends share.

A sampler turns seeds into one PyG ``HeteroData`` batch (format: docs/architecture.md,
"Neo4j -> sampler -> trainer"). Backends implement only ``_fetch_hop`` (topology) and choose a
``RowSource`` (node values); validation, expansion, leakage rules and features live here.
State is small (spec, fanouts, a driver handle; the snapshot backend adds its CSR arrays):
samplers are used from a background thread of the same process, never pickled to workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import neo4j
import torch
from torch_geometric.data import HeteroData

from lmgnn.errors import UserError
from lmgnn.sampler import hashing
from lmgnn.sampler.embeddings import EmbeddingCache
from lmgnn.sampler.features import (
    Columns,
    FeatureMode,
    LabelVocab,
    Neo4jRows,
    RowSource,
    attach_features,
    columns_for,
    join_text,
    node_vocab,
)
from lmgnn.sampler.subgraph import HopRequest, expand, localize, to_hetero_data
from lmgnn.spec import EdgeType, GraphSpec

DEFAULT_EXCLUDED_SPLITS = ("valid", "test")


@runtime_checkable
class Sampler(Protocol):
    """What trainer and writeback rely on; see ``NeighbourSampler`` for the semantics."""

    spec: GraphSpec
    counts: dict[str, int]
    vocabs: dict[str, LabelVocab]

    def sample_from_nodes(self, label: str, seeds: torch.Tensor, *, epoch: int = 0
                          ) -> HeteroData: ...

    def sample_from_edges(self, edge_type: EdgeType | str, src: torch.Tensor,
                          dst: torch.Tensor, labels: torch.Tensor | None = None, *,
                          epoch: int = 0) -> HeteroData: ...

    def node_texts(self, label: str, nids: torch.Tensor) -> list[str]: ...


def parse_fanouts(text: str) -> list[int]:
    """``"10,5"`` -> ``[10, 5]`` (``-1`` = all neighbours), with a clear error otherwise."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"--fanout {text!r}: expected comma-separated integers like 10,5") \
            from None
    if not values or any(v < -1 for v in values):
        raise UserError(f"--fanout {text!r}: give one integer >= -1 per hop, like 10,5")
    return values


def fanouts_per_relation(spec: GraphSpec, fanouts: Sequence[int],
                         relation_fanouts: Mapping[str | EdgeType, Sequence[int]] | None = None
                         ) -> dict[EdgeType, list[int]]:
    """Per stored relation, the number of neighbours per hop (same for both directions)."""
    hops = len(fanouts)
    if any(int(k) < -1 for k in fanouts):
        raise UserError(f"fanouts {list(fanouts)}: use integers >= -1 (-1 = all neighbours)")
    out = {et: [int(k) for k in fanouts] for et in spec.edge_types}
    for name, ks in (relation_fanouts or {}).items():
        rel = spec.relation(tuple(name) if not isinstance(name, str) else name)
        if len(ks) != hops or any(int(k) < -1 for k in ks):
            raise UserError(f"fanouts for {rel.type}: give {hops} integers >= -1, got {ks}")
        out[rel.edge_type] = [int(k) for k in ks]
    return out


class NeighbourSampler:
    """Seeded, per-relation, per-hop neighbour sampling without replacement.

    Args:
        spec: the validated graph spec (all labels/types come from it).
        fanouts: neighbours per frontier node, relation direction and hop (``[10, 5]``).
        relation_fanouts: per-relation overrides (type name or edge type -> list per hop).
        seed: with the epoch, fixes every choice: same seed and epoch, same batch.
        features: "text" (``batch[L].text``), "embedding" (``batch[L].x`` from
            ``embeddings``) or "none"; ``y`` and numeric ``feat`` are always attached.
        embeddings: the cache serving ``x`` when ``features="embedding"``.
        exclude_splits: relationships whose split property (spec ``split`` or ``_split``) has
            one of these values are never used for message passing.
        split_relations: the relations ``exclude_splits`` applies to (None: all). A trainer
            names its task relation only, so a split another run left on another relation
            does not hide that relation's edges.
    """

    def __init__(self, spec: GraphSpec, *, counts: dict[str, int], rows: RowSource,
                 vocabs: dict[str, LabelVocab], fanouts: Sequence[int],
                 relation_fanouts: Mapping[str | EdgeType, Sequence[int]] | None = None,
                 seed: int = 0, features: FeatureMode = "text",
                 embeddings: EmbeddingCache | None = None,
                 exclude_splits: Sequence[str] = DEFAULT_EXCLUDED_SPLITS,
                 split_relations: Sequence[EdgeType] | None = None,
                 driver: neo4j.Driver | None = None, database: str | None = None):
        if features not in ("text", "embedding", "none"):
            raise UserError(f"features={features!r}: use text, embedding or none")
        if features == "embedding" and embeddings is None:
            raise UserError("features='embedding' needs an embedding cache (embeddings=...)")
        self.spec, self.counts, self.rows, self.vocabs = spec, counts, rows, vocabs
        self.fanouts = fanouts_per_relation(spec, fanouts, relation_fanouts)
        self.seed, self.features, self.embeddings = seed, features, embeddings
        self.exclude_splits = tuple(exclude_splits)
        self.split_relations = None if split_relations is None else \
            {tuple(et) for et in split_relations}
        self.columns: dict[str, Columns] = columns_for(spec, features)
        self.driver, self.database = driver, database

    # ---- public API ----------------------------------------------------------------------
    def sample_from_nodes(self, label: str, seeds: torch.Tensor, *, epoch: int = 0
                          ) -> HeteroData:
        """Subgraph around ``seeds`` (unique ``_nid``s of ``label``), seeds first in n_id."""
        self.spec.node(label)
        seeds = self._check_ids(label, seeds, "seeds")
        if torch.unique(seeds).numel() != seeds.numel():
            raise UserError(f"seeds of {label} contain duplicates")
        sampled = expand(self.spec, {label: seeds}, self.fanouts, self._fetch_hop,
                         seed=self.seed, epoch=epoch)
        data = to_hetero_data(self.spec, sampled)
        self._attach(data)
        data.input_type = label
        return data

    def sample_from_edges(self, edge_type: EdgeType | str, src: torch.Tensor,
                          dst: torch.Tensor, labels: torch.Tensor | None = None, *,
                          epoch: int = 0) -> HeteroData:
        """Subgraph around the end nodes of the pairs ``src[i] -> dst[i]`` of ``edge_type``.

        ``batch[et].edge_label_index`` holds the pairs (local ids), ``edge_label`` the
        ``labels`` (default: ones). None of the pairs, in either direction, is in the
        message-passing edges, nor is any relationship of an excluded split.
        """
        rel = self.spec.relation(edge_type if isinstance(edge_type, str) else tuple(edge_type))
        et = rel.edge_type
        src = self._check_ids(rel.source, src, "src")
        dst = self._check_ids(rel.target, dst, "dst")
        if src.numel() != dst.numel():
            raise UserError(f"src ({src.numel()}) and dst ({dst.numel()}) differ in length")
        if labels is not None and labels.numel() != src.numel():
            raise UserError(f"labels ({labels.numel()}) and pairs ({src.numel()}) differ")
        if rel.source == rel.target:
            seeds = {rel.source: torch.unique(torch.cat([src, dst]))}
        else:
            seeds = {rel.source: torch.unique(src), rel.target: torch.unique(dst)}
        excluded = torch.unique(hashing.pair_key(src, dst))
        sampled = expand(self.spec, seeds, self.fanouts, self._fetch_hop, seed=self.seed,
                         epoch=epoch, excluded_pairs=excluded, target_type=et)
        data = to_hetero_data(self.spec, sampled)
        data[et].edge_label_index = torch.stack([localize(data[rel.source].n_id, src),
                                                 localize(data[rel.target].n_id, dst)])
        data[et].edge_label = (torch.ones(src.numel(), dtype=torch.long) if labels is None
                               else labels.to(torch.long))
        self._attach(data)
        data.input_type = et
        return data

    def node_texts(self, label: str, nids: torch.Tensor) -> list[str]:
        """Texts (spec ``text`` properties joined with " | ") of nodes, from Neo4j."""
        node = self.spec.node(label)
        if not node.text:
            return [""] * int(nids.numel())
        if self.driver is None:
            raise UserError("this sampler has no database connection for node_texts")
        source = Neo4jRows(self.driver, self.database or "neo4j",
                           {label: Columns(tuple(node.text), None, ())})
        return [join_text(row) for row in source.rows(label, nids.tolist())]

    # ---- shared internals ----------------------------------------------------------------
    def _splits_hidden(self, edge_type: EdgeType) -> tuple[str, ...]:
        """The split values whose edges of ``edge_type`` are kept out of message passing."""
        if self.split_relations is not None and tuple(edge_type) not in self.split_relations:
            return ()
        return self.exclude_splits

    def _fetch_hop(self, requests: list[HopRequest], excluded: torch.Tensor
                   ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        raise NotImplementedError

    def _check_ids(self, label: str, ids: torch.Tensor, what: str) -> torch.Tensor:
        ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
        n = self.counts[label]
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
            raise UserError(f"{what}: {label} _nid must lie in 0..{n - 1}, got "
                            f"{int(ids.min())}..{int(ids.max())}")
        return ids

    def _attach(self, data: HeteroData) -> None:
        attach_features(data, self.columns, self.rows, self.vocabs)
        if self.features == "embedding" and self.embeddings is not None:
            for label, node in self.spec.nodes.items():
                if node.text:
                    data[label].x = self.embeddings.get(label, data[label].n_id)


def vocabularies(driver: neo4j.Driver, database: str, spec: GraphSpec) -> dict[str, LabelVocab]:
    """Target vocabulary of every label that has a target (stable: sorted values)."""
    return {label: node_vocab(driver, database, spec, label)
            for label, node in spec.nodes.items() if node.target}
