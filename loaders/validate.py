"""Read every file of a spec once, fully, before anything is written.

A load either passes every check here or writes nothing: missing files or columns, wrong
types, empty or non-UTF-8 text, keys repeated with different values, and relationships whose
endpoints are in no node file are all found in this pass. What it returns (the unique keys per
label, in file order, and row counts) is what the writer assigns dense ``_nid`` from.

Dense ids are given as the files stream by (a key's ``_nid`` is its rank of first appearance),
so a ``ChunkSink`` can write each chunk as soon as it passed its checks, with its ``_nid``s and
endpoint ids: the bulk path writes the importer's files in this same pass instead of reading
every file a second time. Whatever a sink wrote is worthless if a later check fails, and
callers throw it away.

Memory: one key per node and, per row, its id and one 64-bit hash per property; never whole
files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from lmgnn.loaders.plan import SOURCE, TARGET, describe_rel, node_columns, rel_columns, resolve
from lmgnn.loaders.progress import RowProgress
from lmgnn.loaders.readers import InputError, key_array, read_chunks
from lmgnn.spec import GraphSpec, NodeType, RelType, SpecError


@dataclass
class ValidatedGraph:
    """What the files hold, once they passed every check."""

    keys: dict[str, pd.Index] = field(default_factory=dict)  # label -> unique keys, file order
    node_rows: dict[str, int] = field(default_factory=dict)  # label -> rows in its files
    rel_rows: dict[str, int] = field(default_factory=dict)  # "S-[:T]->D" -> rows in files
    rel_unique: dict[str, int] = field(default_factory=dict)  # distinct (source, target) pairs

    @property
    def total_rows(self) -> int:
        return sum(self.node_rows.values()) + sum(self.rel_rows.values())


class ChunkSink(Protocol):
    """Receives every chunk once it passed its checks, in file order (``bulk_files``)."""

    def nodes(self, node: NodeType, chunk: pd.DataFrame, nids: np.ndarray,
              first: np.ndarray) -> None:
        """``nids``: each row's ``_nid``; ``first``: True where a key appears first."""

    def relationships(self, rel: RelType, chunk: pd.DataFrame, source: np.ndarray,
                      target: np.ndarray) -> None:
        """``source``/``target``: each row's endpoint ``_nid``s."""

    def relationships_done(self, rel: RelType, first: np.ndarray | None) -> None:
        """All of ``rel``'s rows passed; ``first`` (over all its rows, in order): True where
        a (source, target) pair appears first, None when no pair repeats."""


class _KeyOrder:
    """Dense ids by first appearance, given chunk by chunk (a dict of key -> id)."""

    def __init__(self) -> None:
        self._ids: dict[object, int] = {}

    def add(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's id, and True where its key appears for the first time."""
        codes, uniques = pd.factorize(keys)  # uniques in order of first appearance
        get = self._ids.get
        values = uniques.tolist()
        ids = np.fromiter((get(k, -1) for k in values), dtype=np.int64, count=len(values))
        new = ids < 0
        start = len(self._ids)
        ids[new] = np.arange(start, start + int(new.sum()), dtype=np.int64)
        self._ids.update(zip([values[i] for i in np.flatnonzero(new)], ids[new].tolist(),
                             strict=True))
        first = np.zeros(len(keys), dtype=bool)
        first[np.unique(codes, return_index=True)[1]] = True
        return ids[codes], first & new[codes]

    def index(self) -> pd.Index:
        return pd.Index(list(self._ids))


class _Duplicates:
    """Rows that repeat an id: identical repeats collapse, differing ones are an error."""

    def __init__(self, props: list[str]) -> None:
        self.props = props
        self.ids: list[np.ndarray] = []
        self.hashes: list[np.ndarray] = []  # (rows, props) per-property value hashes
        self.rows: list[np.ndarray] = []
        self.files: list[np.ndarray] = []

    def add(self, ids: np.ndarray, chunk: pd.DataFrame, file_no: int) -> None:
        cols = [pd.util.hash_pandas_object(chunk[p], index=False).to_numpy()
                for p in self.props]
        self.ids.append(ids)
        self.hashes.append(np.stack(cols, axis=1) if cols
                           else np.zeros((len(chunk), 0), dtype=np.uint64))
        self.rows.append(chunk["row"].to_numpy())
        self.files.append(np.full(len(chunk), file_no, dtype=np.int32))

    def check(self, shown_files: list[str], describe: Callable[[int], str]) -> int:
        """Number of distinct ids; raises InputError on a conflicting repeat (``describe``
        gets the repeated id)."""
        if not self.ids:
            return 0
        ids = self.ids[0] if len(self.ids) == 1 else np.concatenate(self.ids)
        self.ids = [ids]
        hashes = np.concatenate(self.hashes)
        frame = pd.DataFrame({"id": ids, "h": _combine(hashes)})
        distinct = frame.drop_duplicates()
        clash = distinct.duplicated("id", keep=False).to_numpy()
        if clash.any():
            clash_id = distinct["id"].to_numpy()[np.argmax(clash)]
            same = ids == clash_id
            first = int(np.argmax(same))
            second = int(np.argmax(same & (hashes != hashes[first]).any(axis=1)))
            rows, files = np.concatenate(self.rows), np.concatenate(self.files)
            prop = self.props[int(np.argmax(hashes[second] != hashes[first]))]
            raise InputError(
                f"{shown_files[files[second]]}, row {rows[second]}, field {prop!r}: "
                f"{describe(int(ids[second]))} appears again with a different {prop!r} than in "
                f"{shown_files[files[first]]}, row {rows[first]}; a key must be unique or "
                "repeat identical values")
        return int(distinct["id"].nunique())

    def first_rows(self) -> np.ndarray:
        """True for each row whose id appears there first (after ``check``)."""
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=np.int64)
        first = np.zeros(len(ids), dtype=bool)
        first[np.unique(ids, return_index=True)[1]] = True
        return first


def _combine(hashes: np.ndarray) -> np.ndarray:
    out = np.zeros(len(hashes), dtype=np.uint64)
    for j in range(hashes.shape[1]):
        out = out * np.uint64(1_000_003) ^ hashes[:, j]
    return out


def validate_files(spec: GraphSpec, data_dir: Path, progress: RowProgress | None = None,
                   sink: ChunkSink | None = None) -> ValidatedGraph:
    """Check every file of ``spec`` under ``data_dir``; raise InputError/SpecError naming file,
    row and field at the first problem. ``sink`` gets each chunk that passed its checks."""
    _check_spec_has_files(spec)
    progress = progress or RowProgress(enabled=False)
    result = ValidatedGraph()
    for label, node in spec.nodes.items():
        shown = [s.path for s in node.files]
        dups = _Duplicates([p for p in node.properties if p != node.key])
        order = _KeyOrder()
        rows = 0
        task = progress.task(f"check {label}")
        for file_no, source in enumerate(node.files):
            path = resolve(data_dir, source)
            for chunk in read_chunks(path, node_columns(node, source), source.path):
                nids, first = order.add(key_array(chunk[node.key]))
                dups.add(nids, chunk, file_no)
                if sink is not None:
                    sink.nodes(node, chunk, nids, first)
                rows += len(chunk)
                progress.advance(task, len(chunk))
        if not rows:
            raise InputError(f"{', '.join(shown)}: no data rows, only a header; node type "
                             f"{label!r} needs at least one node (or leave it out of the spec)")
        keys = order.index()
        del order

        def duplicate(nid: int, k: pd.Index = keys, n: NodeType = node) -> str:
            return f"{n.label} {n.key}={k[nid]!r}"

        dups.check(shown, duplicate)
        result.keys[label] = keys
        result.node_rows[label] = rows
    for rel in spec.relationships:
        _validate_rel(spec, rel, data_dir, result, progress, sink)
    return result


def _validate_rel(spec: GraphSpec, rel: RelType, data_dir: Path, result: ValidatedGraph,
                  progress: RowProgress, sink: ChunkSink | None) -> None:
    name = describe_rel(rel)
    src_keys, dst_keys = result.keys[rel.source], result.keys[rel.target]
    width = max(1, len(dst_keys))
    exact = len(src_keys) * width < 2**63  # (source, target) as one int64, else hashed
    dups = _Duplicates(list(rel.properties))
    rows = 0
    task = progress.task(f"check {rel.type}")
    for file_no, source in enumerate(rel.files):
        path = resolve(data_dir, source)
        for chunk in read_chunks(path, rel_columns(spec, rel, source), source.path):
            ends = []
            for end, keys, label, column in ((SOURCE, src_keys, rel.source, source.source),
                                             (TARGET, dst_keys, rel.target, source.target)):
                ids = keys.get_indexer(pd.Index(key_array(chunk[end])))
                known = ids >= 0
                if not known.all():
                    i = int(np.argmin(known))
                    raise InputError(
                        f"{source.path}, row {chunk['row'].iloc[i]}, field {column!r}: "
                        f"{label} {chunk[end].iloc[i]!r} is in no {label} file, so the "
                        f"{name} relationship has no {end.strip('_')} node")
                ends.append(ids.astype(np.int64, copy=False))
            src, dst = ends
            pair = (src * np.int64(width) + dst if exact else
                    pd.util.hash_array(src) * np.uint64(1_000_003) ^ pd.util.hash_array(dst))
            dups.add(pair, chunk, file_no)
            if sink is not None:
                sink.relationships(rel, chunk, src, dst)
            rows += len(chunk)
            progress.advance(task, len(chunk))
    result.rel_rows[name] = rows
    result.rel_unique[name] = dups.check(
        [s.path for s in rel.files],
        lambda _id: f"the {rel.type} relationship between this row's source and target")
    if sink is not None:
        sink.relationships_done(rel, dups.first_rows() if result.rel_unique[name] != rows
                                else None)


def _check_spec_has_files(spec: GraphSpec) -> None:
    for label, node in spec.nodes.items():
        if not node.files:
            raise SpecError(f"{spec.origin}: nodes.{label}.files: list at least one file to load")
    for i, rel in enumerate(spec.relationships):
        if not rel.files:
            raise SpecError(f"{spec.origin}: relationships[{i}].files: list at least one file")
