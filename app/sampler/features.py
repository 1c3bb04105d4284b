"""Per-node values a batch carries: text, class labels (``y``) and numeric features.

Sources answer "the values of these properties for these ``_nid``s" and are swappable:
``Neo4jRows`` (one query per label per batch, the cypher backend), ``CachedRows`` (an LRU in
front of Neo4j, the snapshot backend), ``MemoryRows`` (everything in RAM: the reference
sampler of tests and benchmarks). ``attach_features`` turns rows into batch attributes, the
same way for all of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, Protocol

import neo4j
import torch
from torch_geometric.data import HeteroData

from lmgnn import cypher_files as cypher
from lmgnn.sampler.reads import read
from lmgnn.spec import EdgeType, GraphSpec

FeatureMode = Literal["text", "embedding", "none"]
TEXT_SEPARATOR = " | "


@dataclass(frozen=True)
class LabelVocab:
    """Class ids for a target property: position in ``values`` (sorted, so stable across runs)."""

    values: tuple[Any, ...]

    @classmethod
    def from_values(cls, values: Iterable[Any]) -> LabelVocab:
        distinct = {v for v in values if v is not None}
        return cls(tuple(sorted(distinct, key=lambda v: (type(v).__name__, v))))

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def index(self) -> dict[Any, int]:
        return {v: i for i, v in enumerate(self.values)}

    def encode(self, raw: Sequence[Any]) -> torch.Tensor:
        """LongTensor of class ids; -1 for null or unknown values."""
        index = self.index
        return torch.tensor([index.get(v, -1) for v in raw], dtype=torch.long)

    def decode(self, ids: Iterable[int]) -> list[Any]:
        return [self.values[int(i)] for i in ids]


def node_vocab(driver: neo4j.Driver, database: str, spec: GraphSpec, label: str) -> LabelVocab:
    """Vocabulary of ``spec.nodes[label].target`` (empty when the label has no target)."""
    node = spec.node(label)
    if node.target is None:
        return LabelVocab(())
    query = cypher.render("sample/target_values", label=label, prop=node.target)
    records = read(driver, database, query)
    return LabelVocab.from_values(r["value"] for r in records)


def edge_vocab(driver: neo4j.Driver, database: str, spec: GraphSpec,
               edge_type: EdgeType) -> LabelVocab:
    """Vocabulary of the relation's ``label`` property (empty when it has none)."""
    rel = spec.relation(tuple(edge_type))
    if rel.label is None:
        return LabelVocab(())
    query = cypher.render("sample/edge_label_values", src=rel.source, rel=rel.type,
                          dst=rel.target, prop=rel.label)
    records = read(driver, database, query)
    return LabelVocab.from_values(r["value"] for r in records)


@dataclass(frozen=True)
class Columns:
    """Which properties a label's rows hold: text first, then target, then numeric features."""

    text: tuple[str, ...]
    target: str | None
    features: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [*self.text, *([self.target] if self.target else []), *self.features]

    def prepare(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """Property values -> the row a source serves: (joined text?, target?, *features)."""
        nt = len(self.text)
        return (join_text(values[:nt]), *values[nt:]) if nt else tuple(values)

    def __bool__(self) -> bool:
        return bool(self.names)


def columns_for(spec: GraphSpec, mode: FeatureMode) -> dict[str, Columns]:
    """Per label, the properties to fetch for ``mode`` (text only in "text" mode)."""
    return {label: Columns(tuple(node.text) if mode == "text" else (), node.target,
                           tuple(node.features))
            for label, node in spec.nodes.items()}


class RowSource(Protocol):
    def rows(self, label: str, nids: list[int]) -> list[tuple[Any, ...]]:
        """Per nid, in order: ``Columns.prepare`` of its values (nulls where missing)."""
        ...


class Neo4jRows:
    """One Cypher query per label and call; holds nothing between calls."""

    def __init__(self, driver: neo4j.Driver, database: str, columns: dict[str, Columns]):
        self.driver, self.database, self.columns = driver, database, columns

    def rows(self, label: str, nids: list[int]) -> list[tuple[Any, ...]]:
        props = self.columns[label].names
        if not nids:
            return []
        records = read(self.driver, self.database,
                       cypher.render("sample/node_values", label=label), nids=nids,
                       props=props)
        cols = self.columns[label]
        found = {r["nid"]: cols.prepare(r["values"]) for r in records}
        blank = cols.prepare([None] * len(props))
        return [found.get(n, blank) for n in nids]


class CachedRows:
    """Approximate LRU (two generations) in front of another source.

    Hits move into the young generation; when it holds ``capacity // 2`` rows the old one is
    dropped and the young one becomes old. Costs a dict lookup per node, evicts in O(1).
    """

    def __init__(self, inner: RowSource, capacity: int = 2_000_000):
        self.inner, self.half = inner, max(1, capacity // 2)
        self._young: dict[str, dict[int, tuple[Any, ...]]] = {}
        self._old: dict[str, dict[int, tuple[Any, ...]]] = {}
        self.hits = self.misses = 0

    def rows(self, label: str, nids: list[int]) -> list[tuple[Any, ...]]:
        young = self._young.setdefault(label, {})
        old = self._old.setdefault(label, {})
        out: list[Any] = [None] * len(nids)
        missing = []
        for i, nid in enumerate(nids):
            row = young.get(nid)
            if row is None:
                row = old.pop(nid, None)
                if row is None:
                    missing.append(i)
                    continue
                young[nid] = row
            out[i] = row
        if missing:
            fetched = self.inner.rows(label, [nids[i] for i in missing])
            for i, row in zip(missing, fetched, strict=True):
                out[i] = row
                young[nids[i]] = row
        self.hits += len(nids) - len(missing)
        self.misses += len(missing)
        if len(young) >= self.half:
            self._old[label], self._young[label] = young, {}
        return out


class MemoryRows:
    """All rows in RAM, indexed by _nid: the no-database reference."""

    def __init__(self, table: dict[str, list[tuple[Any, ...]]]):
        self.table = table

    @classmethod
    def from_source(cls, source: RowSource, counts: dict[str, int],
                    chunk: int = 50_000) -> MemoryRows:
        table = {}
        for label, n in counts.items():
            rows: list[tuple[Any, ...]] = []
            for lo in range(0, n, chunk):
                rows.extend(source.rows(label, list(range(lo, min(n, lo + chunk)))))
            table[label] = rows
        return cls(table)

    def rows(self, label: str, nids: list[int]) -> list[tuple[Any, ...]]:
        table = self.table[label]
        return [table[n] for n in nids]


def join_text(values: Sequence[Any]) -> str:
    return TEXT_SEPARATOR.join(str(v) for v in values if v is not None and v != "")


def attach_features(data: HeteroData, columns: dict[str, Columns], source: RowSource,
                    vocabs: dict[str, LabelVocab]) -> None:
    """Set ``text`` / ``y`` / ``feat`` on every node type of ``data`` from ``source``."""
    for label, cols in columns.items():
        if not cols:
            continue
        nids = data[label].n_id.tolist()
        rows = source.rows(label, nids)
        nt = 1 if cols.text else 0
        if nt:
            data[label].text = [row[0] for row in rows]
        if cols.target:
            data[label].y = vocabs[label].encode([row[nt] for row in rows])
        if cols.features:
            start = nt + (1 if cols.target else 0)
            # a missing value is NaN: the model standardises, then reads NaN as the mean (0)
            data[label].feat = torch.tensor(
                [[math.nan if v is None else float(v) for v in row[start:]] for row in rows],
                dtype=torch.float32).reshape(len(rows), len(cols.features))


def feature_stats(driver: neo4j.Driver, database: str, spec: GraphSpec
                  ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per label with numeric ``features``: their mean and std over all nodes, computed inside
    Neo4j (one aggregate per property), so no feature column is ever held whole here."""
    out = {}
    for label, node in spec.nodes.items():
        if not node.features:
            continue
        means, stds = [], []
        for prop in node.features:
            spec.check_property(label, prop)
            records = read(driver, database, cypher.render("sample/feature_stats", label=label),
                           prop=prop)
            mean, std = (records[0]["mean"], records[0]["std"]) if records else (None, None)
            means.append(float(mean) if mean is not None else 0.0)
            stds.append(float(std) if std else 1.0)
        out[label] = (torch.tensor(means), torch.tensor(stds))
    return out
