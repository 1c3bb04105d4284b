"""Multi-hop neighbour expansion shared by every backend, and its conversion to ``HeteroData``.

Backends differ only in how one hop is fetched (``HopFetcher``: Neo4j query or CSR slices);
frontier bookkeeping, node order and edge de-duplication happen here once, so equal hop
answers give equal batches. Node order per type: seeds first (as given), then each hop's new
nodes in ascending ``_nid``. Edges are kept per stored relation, de-duplicated, in ascending
(source, target) order; the reverse relation ``(dst, "rev_TYPE", src)`` carries the same edges
flipped. Every node type and relation of the spec is present in every batch (possibly empty),
so models see the same metadata each step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch_geometric.data import HeteroData

from lmgnn.sampler import hashing
from lmgnn.spec import EdgeType, GraphSpec, reverse


@dataclass(frozen=True)
class Part:
    """One direction of one stored relation: the unit a hop samples (``k`` per frontier node)."""

    index: int
    edge_type: EdgeType
    outgoing: bool  # True: frontier is the source and neighbours the targets

    @property
    def frontier_label(self) -> str:
        return self.edge_type[0] if self.outgoing else self.edge_type[2]

    @property
    def neighbour_label(self) -> str:
        return self.edge_type[2] if self.outgoing else self.edge_type[0]

    @property
    def name(self) -> str:  # identifier used as a Cypher parameter key
        return f"p{self.index}"


def parts_of(spec: GraphSpec) -> list[Part]:
    parts = []
    for i, edge_type in enumerate(spec.edge_types):
        parts.append(Part(2 * i, edge_type, True))
        parts.append(Part(2 * i + 1, edge_type, False))
    return parts


@dataclass
class HopRequest:
    """Sample up to ``k`` neighbours of each ``frontier`` node along ``part``."""

    part: Part
    frontier: torch.Tensor  # unique _nids of part.frontier_label (int64)
    k: int
    salt: int
    exclude_targets: bool  # skip the pairs in the batch's excluded set (target relation only)


# A backend's hop: for each request, (u, v) = frontier node, sampled neighbour (aligned int64).
HopFetcher = Callable[[list[HopRequest], torch.Tensor], list[tuple[torch.Tensor, torch.Tensor]]]


@dataclass
class SampledGraph:
    """Global ids of a sampled subgraph, before features are attached."""

    n_id: dict[str, torch.Tensor]
    batch_size: dict[str, int]
    edges: dict[EdgeType, tuple[torch.Tensor, torch.Tensor]]  # canonical (src, dst) _nids
    hops: int = 0
    # per label, nodes first reached at hop 0 (the seeds), 1, ..., hops: n_id is in this order
    hop_nodes: dict[str, list[int]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


def expand(spec: GraphSpec, seeds: dict[str, torch.Tensor], fanouts: dict[EdgeType, list[int]],
           fetch: HopFetcher, *, seed: int, epoch: int,
           excluded_pairs: torch.Tensor | None = None,
           target_type: EdgeType | None = None) -> SampledGraph:
    """Expand ``seeds`` (unique _nids per label) hop by hop with the given fanouts.

    ``excluded_pairs`` are ``hashing.pair_key`` values of ``target_type`` edges that must not be
    used for message passing (the batch's own target edges).
    """
    parts = parts_of(spec)
    hops = len(next(iter(fanouts.values()))) if fanouts else 0
    empty = torch.empty(0, dtype=torch.long)
    excluded = excluded_pairs if excluded_pairs is not None else empty
    n_id = {label: [seeds.get(label, empty)] for label in spec.nodes}
    hop_nodes = {label: [int(seeds.get(label, empty).numel())] + [0] * hops
                 for label in spec.nodes}
    seen = {label: torch.sort(seeds.get(label, empty)).values for label in spec.nodes}
    frontier = {label: seeds[label] for label in seeds if seeds[label].numel()}
    found: dict[EdgeType, list[tuple[torch.Tensor, torch.Tensor]]] = {et: [] for et in
                                                                        spec.edge_types}
    for hop in range(hops):
        requests = [HopRequest(part, frontier[part.frontier_label], fanouts[part.edge_type][hop],
                               hashing.salt(seed, epoch, part.index),
                               part.edge_type == target_type and excluded.numel() > 0)
                    for part in parts
                    if part.frontier_label in frontier and fanouts[part.edge_type][hop] != 0]
        if not requests:
            break
        answers = fetch(requests, excluded)
        reached: dict[str, list[torch.Tensor]] = {}
        for request, (u, v) in zip(requests, answers, strict=True):
            part = request.part
            found[part.edge_type].append((u, v) if part.outgoing else (v, u))
            reached.setdefault(part.neighbour_label, []).append(v)
        frontier = {}
        for label, chunks in reached.items():
            candidates = torch.unique(torch.cat(chunks))
            new = candidates[~_contains(seen[label], candidates)]
            if new.numel():
                n_id[label].append(new)
                hop_nodes[label][hop + 1] = int(new.numel())
                seen[label] = torch.sort(torch.cat([seen[label], new])).values
                frontier[label] = new
        if not frontier:
            break
    edges = {et: _unique_pairs(chunks) for et, chunks in found.items()}
    return SampledGraph(n_id={label: torch.cat(chunks) for label, chunks in n_id.items()},
                        batch_size={label: int(seeds.get(label, empty).numel())
                                    for label in spec.nodes},
                        edges=edges, hops=hops, hop_nodes=hop_nodes)


def _contains(sorted_values: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    if sorted_values.numel() == 0:
        return torch.zeros(query.shape, dtype=torch.bool)
    pos = torch.searchsorted(sorted_values, query).clamp(max=sorted_values.numel() - 1)
    return sorted_values[pos] == query


def _unique_pairs(chunks: Sequence[tuple[torch.Tensor, torch.Tensor]]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    if not chunks:
        empty = torch.empty(0, dtype=torch.long)
        return empty, empty.clone()
    keys = torch.unique(torch.cat([hashing.pair_key(s, d) for s, d in chunks]))
    return keys // hashing.SHIFT, keys % hashing.SHIFT


def localize(n_id: torch.Tensor, nids: torch.Tensor) -> torch.Tensor:
    """Positions of global ``nids`` in ``n_id`` (all must be present)."""
    sorted_ids, order = torch.sort(n_id)
    pos = torch.searchsorted(sorted_ids, nids)
    if nids.numel() and (pos.max() >= n_id.numel() or (sorted_ids[pos] != nids).any()):
        raise ValueError("node id not in the sampled subgraph")
    return order[pos]


def to_hetero_data(spec: GraphSpec, sampled: SampledGraph) -> HeteroData:
    """Topology part of a batch: ``n_id``, ``batch_size``, ``edge_index`` (+ reverse) and, as
    in PyG's loaders, ``num_sampled_nodes`` (nodes per hop, in n_id order), which lets a GNN
    compute each layer only for the nodes later layers still read."""
    data = HeteroData()
    index = {}
    for label in spec.nodes:
        data[label].n_id = sampled.n_id[label]
        data[label].batch_size = sampled.batch_size[label]
        if sampled.hop_nodes:
            data[label].num_sampled_nodes = list(sampled.hop_nodes[label])
        data[label].num_nodes = int(sampled.n_id[label].numel())
        index[label] = torch.sort(sampled.n_id[label])  # once per label, not per relation

    def local(label: str, nids: torch.Tensor) -> torch.Tensor:
        sorted_ids, order = index[label]  # every edge end is a sampled node, by construction
        return order[torch.searchsorted(sorted_ids, nids)]

    for edge_type, (src, dst) in sampled.edges.items():
        s = local(edge_type[0], src)
        d = local(edge_type[2], dst)
        data[edge_type].edge_index = torch.stack([s, d])
        data[reverse(edge_type)].edge_index = torch.stack([d, s])
    return data
