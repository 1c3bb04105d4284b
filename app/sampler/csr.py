"""Compact CSR snapshot of the graph's topology, and vectorised neighbour sampling on it.

Built once by streaming each relation out of Neo4j in pages of source ``_nid`` ranges (each
page its own short read transaction), kept as int64 tensors in both directions: about
``2 * E * 8`` bytes plus one int8 split code per edge when relationship splits exist. Node
properties are not part of it (the sampler fetches them per batch through a cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import neo4j
import torch
from rich.progress import Progress

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler import hashing
from lmgnn.sampler.reads import read
from lmgnn.spec import EdgeType, GraphSpec

SPLIT_PROPERTY = "_split"  # relationship split written by training (spec `split` overrides)


def split_property(spec: GraphSpec, edge_type: EdgeType) -> str:
    return spec.relation(tuple(edge_type)).split or SPLIT_PROPERTY


@dataclass
class RelationCSR:
    """One stored relation in both directions; ``*_split`` hold split codes (or None)."""

    edge_type: EdgeType
    num_src: int
    num_dst: int
    out_ptr: torch.Tensor
    out_idx: torch.Tensor
    out_split: torch.Tensor | None
    in_ptr: torch.Tensor
    in_idx: torch.Tensor
    in_split: torch.Tensor | None

    @classmethod
    def from_edges(cls, edge_type: EdgeType, src: torch.Tensor, dst: torch.Tensor,
                   num_src: int, num_dst: int, split: torch.Tensor | None = None
                   ) -> RelationCSR:
        for ids, n, end in ((src, num_src, edge_type[0]), (dst, num_dst, edge_type[2])):
            if ids.numel() and (ids.min() < 0 or ids.max() >= n):
                raise UserError(f"{edge_type}: a {end} node has _nid outside 0..{n - 1}; "
                                "_nid must be dense per label (reload the graph)")
        out_order = torch.argsort(src, stable=True)
        in_order = torch.argsort(dst, stable=True)
        return cls(edge_type, num_src, num_dst,
                   _ptr(src, num_src), dst[out_order].contiguous(),
                   None if split is None else split[out_order].contiguous(),
                   _ptr(dst, num_dst), src[in_order].contiguous(),
                   None if split is None else split[in_order].contiguous())

    @property
    def num_edges(self) -> int:
        return int(self.out_idx.numel())

    @property
    def nbytes(self) -> int:
        tensors = [self.out_ptr, self.out_idx, self.in_ptr, self.in_idx, self.out_split,
                   self.in_split]
        return sum(t.numel() * t.element_size() for t in tensors if t is not None)

    def neighbours(self, frontier: torch.Tensor, outgoing: bool, k: int, salt: int,
                   excluded_codes: torch.Tensor, excluded_pairs: torch.Tensor | None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """(u, v): up to ``k`` neighbours v per frontier node u, smallest ``order_key`` first.

        Edges with an excluded split code, or (when given) whose ``pair_key`` is in
        ``excluded_pairs``, are skipped before choosing. ``k < 0`` keeps all.
        """
        ptr, idx, codes = ((self.out_ptr, self.out_idx, self.out_split) if outgoing
                           else (self.in_ptr, self.in_idx, self.in_split))
        start = ptr[frontier]
        deg = ptr[frontier + 1] - start
        total = int(deg.sum())
        seg = torch.repeat_interleave(torch.arange(frontier.numel()), deg)  # (E_f,)
        offsets = torch.cumsum(deg, 0) - deg
        pos = torch.arange(total) - offsets[seg] + start[seg]
        u, v = frontier[seg], idx[pos]
        keep = None
        if codes is not None and excluded_codes.numel():
            keep = ~torch.isin(codes[pos], excluded_codes)
        if excluded_pairs is not None and excluded_pairs.numel():
            pairs = hashing.pair_key(u, v) if outgoing else hashing.pair_key(v, u)
            drop = torch.isin(pairs, excluded_pairs)
            keep = ~drop if keep is None else keep & ~drop
        if keep is not None:
            u, v, seg = u[keep], v[keep], seg[keep]
        if k < 0 or u.numel() == 0:
            return u, v
        counts = torch.bincount(seg, minlength=frontier.numel())
        big = counts[seg] > k  # only nodes with more than k candidates need ranking
        if not bool(big.any()):
            return u, v
        small = ~big
        bu, bv, bseg = u[big], v[big], seg[big]
        order = torch.argsort(hashing.order_key(bu, bv, salt), stable=True)
        order = order[torch.argsort(bseg[order], stable=True)]
        seg_sorted = bseg[order]
        big_counts = torch.bincount(bseg, minlength=frontier.numel())
        first = torch.cumsum(big_counts, 0) - big_counts
        rank = torch.arange(order.numel()) - first[seg_sorted]
        chosen = order[rank < k]
        return torch.cat([u[small], bu[chosen]]), torch.cat([v[small], bv[chosen]])


def _ptr(ids: torch.Tensor, n: int) -> torch.Tensor:
    ptr = torch.zeros(n + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(ids, minlength=n), 0)
    return ptr


@dataclass
class CsrGraph:
    """The whole topology: node counts per label, one ``RelationCSR`` per stored relation."""

    counts: dict[str, int]
    relations: dict[EdgeType, RelationCSR]
    split_codes: dict[str, int]  # split value -> code (codes start at 1; 0 = no split)

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.relations.values())

    def codes(self, splits: tuple[str, ...]) -> torch.Tensor:
        return torch.tensor([self.split_codes[s] for s in splits if s in self.split_codes],
                            dtype=torch.int8)


def node_counts(driver: neo4j.Driver, database: str, spec: GraphSpec) -> dict[str, int]:
    counts = {}
    for label in spec.nodes:
        records = read(driver, database, cypher.render("sample/node_count", label=label))
        counts[label] = int(records[0]["count"])
    return counts


def relation_count(driver: neo4j.Driver, database: str, edge_type: EdgeType) -> int:
    src, rel, dst = edge_type
    records = read(driver, database,
                   cypher.render("sample/relation_count", src=src, rel=rel, dst=dst))
    return int(records[0]["count"])


def snapshot(driver: neo4j.Driver, database: str, spec: GraphSpec, *,
             page_edges: int = 500_000, progress: bool = False) -> CsrGraph:
    """Stream every relation out of Neo4j, page by page, into a ``CsrGraph``."""
    counts = node_counts(driver, database, spec)
    split_codes: dict[str, int] = {}
    relations = {}
    with Progress(disable=not progress, transient=True) as bar:
        for edge_type in spec.edge_types:
            src_label, rel, dst_label = edge_type
            total = relation_count(driver, database, edge_type)
            task = bar.add_task(f"snapshot {src_label}-[:{rel}]->{dst_label}", total=total)
            n_src = counts[src_label]
            width = max(1, page_edges * n_src // max(1, total))
            query = cypher.render("sample/topology_page", src=src_label, rel=rel, dst=dst_label,
                                  split=split_property(spec, edge_type))
            srcs, dsts, splits = [], [], []
            for lo in range(0, max(n_src, 1), width):
                records = read(driver, database, query, lo=lo, hi=lo + width)
                page = records[0]
                srcs.append(torch.tensor(page["src"], dtype=torch.long))
                dsts.append(torch.tensor(page["dst"], dtype=torch.long))
                splits.append(_encode_splits(page["split"], split_codes))
                bar.advance(task, len(page["src"]))
            code = torch.cat(splits) if splits else torch.empty(0, dtype=torch.int8)
            relations[edge_type] = RelationCSR.from_edges(
                edge_type, torch.cat(srcs), torch.cat(dsts), n_src, counts[dst_label],
                code if bool((code != 0).any()) else None)
    return CsrGraph(counts, relations, split_codes)


def _encode_splits(values: list[str], codes: dict[str, int]) -> torch.Tensor:
    """Split values ('' = none) as int8 codes (0 = none)."""
    if not any(values):
        return torch.zeros(len(values), dtype=torch.int8)
    out = []
    for v in values:
        if not v:
            out.append(0)
            continue
        if v not in codes:
            if len(codes) >= 120:
                raise UserError(f"relationship split property has more than 120 distinct "
                                f"values (e.g. {v!r}); use train/valid/test")
            codes[v] = len(codes) + 1
        out.append(codes[v])
    return torch.tensor(out, dtype=torch.int8)
