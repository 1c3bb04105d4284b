"""Iterables of batches for training and inference: shuffling, sharding, negatives, prefetch.

These loaders are the only way batches are made, for every method, stage, evaluation and
inference pass (training and writeback alike): the trainer never slices seeds itself.

Every rank draws the same permutation per epoch (from ``seed`` and the epoch) and keeps every
``world_size``-th seed from position ``rank``; the tail that does not divide evenly is
dropped, so shards are disjoint and equally long (no rank waits for another at the last step).
Call ``set_epoch(e)`` before each epoch (as with PyTorch's DistributedSampler): it changes the
order, the sampled neighbours and the negatives, reproducibly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Literal

import neo4j
import torch
from torch_geometric.data import HeteroData

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler.base import Sampler
from lmgnn.sampler.csr import node_counts, relation_count, split_property
from lmgnn.sampler.features import LabelVocab
from lmgnn.sampler.prefetch import prefetch
from lmgnn.sampler.reads import read
from lmgnn.spec import EdgeType, GraphSpec

Transform = Callable[[HeteroData], HeteroData]
NegativeMode = Literal["none", "uniform", "in_batch"]
NEGATIVE_MODES = ("none", "uniform", "in_batch")


def epoch_order(n: int, *, shuffle: bool, seed: int, epoch: int, rank: int = 0,
                world_size: int = 1) -> torch.Tensor:
    """Positions 0..n-1 this rank visits this epoch (disjoint across ranks)."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise UserError(f"rank {rank} / world_size {world_size}: need 0 <= rank < world_size")
    if shuffle:
        gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=gen)
    else:
        order = torch.arange(n)
    usable = n // world_size * world_size
    return order[rank:usable:world_size]


class _Batches:
    """Shared epoch/batching/prefetch logic of the two loaders."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int, rank: int,
                 world_size: int, drop_last: bool, prefetch: int,
                 transform: Transform | None, pin_memory: bool | None,
                 max_batches: int | None = None):
        if batch_size < 1:
            raise UserError(f"batch_size must be >= 1, got {batch_size}")
        if max_batches is not None and max_batches < 1:
            raise UserError(f"max_batches must be >= 1 (or None), got {max_batches}")
        self.max_batches = max_batches
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.depth, self.transform, self.epoch = prefetch, transform, 0
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        epoch_order(0, shuffle=False, seed=0, epoch=0, rank=rank, world_size=world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        per_rank = self.n // self.world_size
        full, rest = divmod(per_rank, self.batch_size)
        total = full + (1 if rest and not self.drop_last else 0)
        return min(total, self.max_batches) if self.max_batches else total

    def _chunks(self) -> list[torch.Tensor]:
        order = epoch_order(self.n, shuffle=self.shuffle, seed=self.seed, epoch=self.epoch,
                            rank=self.rank, world_size=self.world_size)
        chunks = list(torch.split(order, self.batch_size))
        if chunks and self.drop_last and chunks[-1].numel() < self.batch_size:
            chunks.pop()
        return chunks[:self.max_batches] if self.max_batches else chunks

    def _finish(self, data: HeteroData) -> HeteroData:
        if self.transform is not None:
            data = self.transform(data)
        return data.pin_memory() if self.pin_memory else data


class NodeLoader(_Batches):
    """Batches of ``sampler.sample_from_nodes(label, seeds)`` over ``seeds`` (default: all).

    ``transform`` runs in the prefetch thread (put tokenisation there); ``prefetch`` batches
    wait ready in a bounded queue (0 = no thread); ``max_batches`` caps the batches per epoch
    (the first ones of the epoch's order).
    """

    def __init__(self, sampler: Sampler, label: str, seeds: torch.Tensor | None = None, *,
                 batch_size: int = 1024, shuffle: bool = True, seed: int = 0, rank: int = 0,
                 world_size: int = 1, drop_last: bool = False, prefetch: int = 2,
                 transform: Transform | None = None, pin_memory: bool | None = None,
                 max_batches: int | None = None):
        sampler.spec.node(label)
        self.sampler, self.label = sampler, label
        self.seeds = (torch.arange(sampler.counts[label]) if seeds is None
                      else torch.as_tensor(seeds, dtype=torch.long).reshape(-1))
        super().__init__(int(self.seeds.numel()), batch_size, shuffle, seed, rank, world_size,
                         drop_last, prefetch, transform, pin_memory, max_batches)

    def __iter__(self) -> Generator[HeteroData, None, None]:  # close() stops the prefetch
        epoch = self.epoch

        def make(positions: torch.Tensor) -> HeteroData:
            return self._finish(self.sampler.sample_from_nodes(
                self.label, self.seeds[positions], epoch=epoch))

        return prefetch(make, self._chunks(), self.depth)


class EdgeLoader(_Batches):
    """Batches of ``sampler.sample_from_edges`` over pairs ``src[i] -> dst[i]``.

    ``labels`` given: edge classification (class ids, no negatives). Otherwise link
    prediction: positives get label 1, and ``negatives`` adds pairs with label 0:

    - ``uniform``: ``num_negatives`` random targets of the right label per batch, shared by
      every positive of the batch (a trainer ranks each positive against all of them), each
      paired with a source drawn from the batch (for pairwise metrics such as ROC-AUC);
    - ``in_batch``: each source paired with the next pair's target (the batch's own targets
      are the negatives; no extra nodes are sampled).

    A negative pair equal to a positive of the batch is dropped. Negatives are not checked
    against the whole graph (a rare false negative, as in PyG); they are excluded from message
    passing like positives. They depend on ``seed``, the epoch and the batch index only, so an
    evaluation loader that never calls ``set_epoch`` sees the same negatives every time.
    """

    def __init__(self, sampler: Sampler, edge_type: EdgeType | str, src: torch.Tensor,
                 dst: torch.Tensor, labels: torch.Tensor | None = None, *,
                 negatives: NegativeMode = "none", num_negatives: int = 16,
                 batch_size: int = 1024, shuffle: bool = True, seed: int = 0, rank: int = 0,
                 world_size: int = 1, drop_last: bool = False, prefetch: int = 2,
                 transform: Transform | None = None, pin_memory: bool | None = None,
                 max_batches: int | None = None):
        rel = sampler.spec.relation(edge_type if isinstance(edge_type, str)
                                    else tuple(edge_type))
        if negatives not in NEGATIVE_MODES:
            raise UserError(f"negatives={negatives!r}: use none, uniform or in_batch")
        if labels is not None and negatives != "none":
            raise UserError("negatives are for link prediction; edge labels were given")
        if num_negatives < 1:
            raise UserError(f"num_negatives must be >= 1, got {num_negatives}")
        self.sampler, self.edge_type = sampler, rel.edge_type
        self.src = torch.as_tensor(src, dtype=torch.long).reshape(-1)
        self.dst = torch.as_tensor(dst, dtype=torch.long).reshape(-1)
        if self.src.numel() != self.dst.numel():
            raise UserError(f"src ({self.src.numel()}) and dst ({self.dst.numel()}) differ")
        self.labels = None if labels is None else torch.as_tensor(labels, dtype=torch.long)
        self.negatives, self.num_negatives = negatives, num_negatives
        self.num_dst = sampler.counts[rel.target]
        super().__init__(int(self.src.numel()), batch_size, shuffle, seed, rank, world_size,
                         drop_last, prefetch, transform, pin_memory, max_batches)

    def with_negatives(self, src: torch.Tensor, dst: torch.Tensor, epoch: int, index: int
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(src, dst, labels): the positives first (label 1), then the negatives (label 0)."""
        gen = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) * 100_003 + index)
        b = src.numel()
        if self.negatives == "uniform" and b:
            pick = torch.randint(0, b, (self.num_negatives,), generator=gen)
            neg_src = src[pick]
            neg_dst = torch.randint(0, self.num_dst, (self.num_negatives,), generator=gen)
        elif self.negatives == "in_batch" and b > 1:
            neg_src, neg_dst = src, dst[(torch.arange(b) + 1) % b]
        else:
            neg_src, neg_dst = src[:0], dst[:0]
        s, d = torch.cat([src, neg_src]), torch.cat([dst, neg_dst])
        y = torch.cat([torch.ones(b, dtype=torch.long),
                       torch.zeros(neg_dst.numel(), dtype=torch.long)])
        keep = _first_of_each(s * (self.num_dst + 1) + d)  # positives come first: kept
        return s[keep], d[keep], y[keep]

    def __iter__(self) -> Generator[HeteroData, None, None]:  # close() stops the prefetch
        epoch = self.epoch

        def make(item: tuple[int, torch.Tensor]) -> HeteroData:
            index, positions = item
            src, dst = self.src[positions], self.dst[positions]
            labels = None if self.labels is None else self.labels[positions]
            if self.negatives != "none":
                src, dst, labels = self.with_negatives(src, dst, epoch, index)
            return self._finish(self.sampler.sample_from_edges(
                self.edge_type, src, dst, labels, epoch=epoch))

        return prefetch(make, list(enumerate(self._chunks())), self.depth)


def _first_of_each(key: torch.Tensor) -> torch.Tensor:
    """Positions of the first occurrence of each distinct key, in their original order."""
    if not key.numel():
        return torch.arange(0)
    _, inverse = torch.unique(key, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), key.numel(), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(key.numel()), reduce="amin")
    return torch.sort(first).values


SPLIT_CODES: dict[str | None, int] = {None: 0, "train": 1, "valid": 2, "test": 3}
OTHER_SPLIT = -1  # a split value that is not train/valid/test (reported by the trainer)


@dataclass
class EdgeSeeds:
    """Stored edges of one relation as seed pairs, with their split codes (one byte per edge:
    ``SPLIT_CODES``, ``OTHER_SPLIT`` for unknown values, listed in ``unknown_splits``) and,
    for a relation with a ``label`` property, its values."""

    src: torch.Tensor
    dst: torch.Tensor
    split_codes: torch.Tensor  # int8 (E,)
    label_values: list[object] | None = None
    unknown_splits: frozenset[str] = frozenset()

    def where(self, split: str | None) -> EdgeSeeds:
        """Only the edges whose split value equals ``split`` (None: all)."""
        return self if split is None else self.where_in((split,))

    def where_in(self, splits: tuple[str | None, ...]) -> EdgeSeeds:
        """Only the edges whose split value is one of ``splits`` (None: no split value)."""
        codes = torch.tensor([SPLIT_CODES[s] for s in splits], dtype=torch.int8)
        return self.take(torch.nonzero(torch.isin(self.split_codes, codes)).flatten())

    def take(self, idx: torch.Tensor) -> EdgeSeeds:
        """The edges at positions ``idx``, in that order."""
        values = None if self.label_values is None else \
            [self.label_values[i] for i in idx.tolist()]
        return EdgeSeeds(self.src[idx], self.dst[idx], self.split_codes[idx], values,
                         self.unknown_splits)

    @property
    def pairs(self) -> torch.Tensor:
        """(2, E) source and target ``_nid``s."""
        return torch.stack([self.src, self.dst]) if self.src.numel() else \
            torch.empty(2, 0, dtype=torch.long)

    def __len__(self) -> int:
        return int(self.src.numel())

    def labels(self, vocab: LabelVocab) -> torch.Tensor:
        if self.label_values is None:
            raise UserError("these edges were read without their label property")
        return vocab.encode(self.label_values)


def edge_seeds(driver: neo4j.Driver, database: str, spec: GraphSpec,
               edge_type: EdgeType | str, *, page_edges: int = 500_000) -> EdgeSeeds:
    """Every edge of the relation (paged by source _nid), e.g. to split or to train on: two
    longs and a byte per edge (plus the label value when the relation has a ``label``)."""
    rel = spec.relation(edge_type if isinstance(edge_type, str) else tuple(edge_type))
    query = cypher.render("sample/edge_pairs_page", src=rel.source, rel=rel.type,
                          dst=rel.target, split=split_property(spec, rel.edge_type))
    n_src = node_counts(driver, database, spec)[rel.source]
    total = relation_count(driver, database, rel.edge_type)
    width = max(1, page_edges * n_src // max(1, total))
    src: list[torch.Tensor] = []
    dst: list[torch.Tensor] = []
    codes: list[torch.Tensor] = []
    values: list[object] | None = [] if rel.label else None
    unknown: set[str] = set()
    for lo in range(0, max(n_src, 1), width):
        records = read(driver, database, query, lo=lo, hi=lo + width, label=rel.label)
        page = records[0]
        src.append(torch.tensor(page["src"], dtype=torch.long))
        dst.append(torch.tensor(page["dst"], dtype=torch.long))
        page_codes = []
        for value in page["split"]:
            code = SPLIT_CODES.get(value or None, OTHER_SPLIT)
            if code == OTHER_SPLIT:
                unknown.add(str(value))
            page_codes.append(code)
        codes.append(torch.tensor(page_codes, dtype=torch.int8))
        if values is not None:
            values.extend(v[0] for v in page["label"])
    empty = torch.empty(0, dtype=torch.long)
    return EdgeSeeds(torch.cat(src) if src else empty, torch.cat(dst) if dst else empty,
                     torch.cat(codes) if codes else empty.to(torch.int8), values,
                     frozenset(unknown))
