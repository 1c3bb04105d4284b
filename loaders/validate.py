"""Read every file of a spec once, fully, before anything is written.

A load either passes every check here or writes nothing: missing files or columns, wrong
types, empty or non-UTF-8 text, keys repeated with different values, and relationships whose
endpoints are in no node file are all found in this pass. What it returns (the unique keys per
label, in file order, and row counts) is what the writer assigns dense ``_nid`` from.

Memory: one key per node and two 64-bit hashes per row and property; never whole files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
        """Number of distinct ids; raises InputError on a conflicting repeat."""
        if not self.ids:
            return 0
        ids = np.concatenate(self.ids)
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
                f"{describe(second)} appears again with a different {prop!r} than in "
                f"{shown_files[files[first]]}, row {rows[first]}; a key must be unique or "
                "repeat identical values")
        return int(distinct["id"].nunique())


def _combine(hashes: np.ndarray) -> np.ndarray:
    out = np.zeros(len(hashes), dtype=np.uint64)
    for j in range(hashes.shape[1]):
        out = out * np.uint64(1_000_003) ^ hashes[:, j]
    return out


def validate_files(spec: GraphSpec, data_dir: Path, progress: RowProgress | None = None
                   ) -> ValidatedGraph:
    """Check every file of ``spec`` under ``data_dir``; raise InputError/SpecError naming file,
    row and field at the first problem."""
    _check_spec_has_files(spec)
    progress = progress or RowProgress(enabled=False)
    result = ValidatedGraph()
    for label, node in spec.nodes.items():
        shown = [s.path for s in node.files]
        dups = _Duplicates([p for p in node.properties if p != node.key])
        key_parts: list[pd.Series] = []
        rows = 0
        task = progress.task(f"check {label}")
        for file_no, source in enumerate(node.files):
            path = resolve(data_dir, source)
            for chunk in read_chunks(path, node_columns(node, source), source.path):
                keys = pd.Series(key_array(chunk[node.key]))
                key_parts.append(keys)
                dups.add(pd.util.hash_pandas_object(keys, index=False).to_numpy(), chunk,
                         file_no)
                rows += len(chunk)
                progress.advance(task, len(chunk))
        if not key_parts:
            raise InputError(f"{', '.join(shown)}: no data rows, only a header; node type "
                             f"{label!r} needs at least one node (or leave it out of the spec)")
        all_keys = pd.concat(key_parts, ignore_index=True)
        def duplicate(i: int, k: pd.Series = all_keys, n: NodeType = node) -> str:
            return f"{n.label} {n.key}={k.iloc[i]!r}"

        dups.check(shown, duplicate)
        result.keys[label] = pd.Index(all_keys.drop_duplicates().to_numpy(), copy=False)
        result.node_rows[label] = rows
    for rel in spec.relationships:
        _validate_rel(spec, rel, data_dir, result, progress)
    return result


def _validate_rel(spec: GraphSpec, rel: RelType, data_dir: Path, result: ValidatedGraph,
                  progress: RowProgress) -> None:
    name = describe_rel(rel)
    src_keys, dst_keys = result.keys[rel.source], result.keys[rel.target]
    dups = _Duplicates(list(rel.properties))
    rows = 0
    task = progress.task(f"check {rel.type}")
    for file_no, source in enumerate(rel.files):
        path = resolve(data_dir, source)
        for chunk in read_chunks(path, rel_columns(spec, rel, source), source.path):
            for end, keys, label, column in ((SOURCE, src_keys, rel.source, source.source),
                                             (TARGET, dst_keys, rel.target, source.target)):
                known = keys.get_indexer(pd.Index(key_array(chunk[end]))) >= 0
                if not known.all():
                    i = int(np.argmin(known))
                    raise InputError(
                        f"{source.path}, row {chunk['row'].iloc[i]}, field {column!r}: "
                        f"{label} {chunk[end].iloc[i]!r} is in no {label} file, so the "
                        f"{name} relationship has no {end.strip('_')} node")
            pair = pd.util.hash_pandas_object(chunk[[SOURCE, TARGET]], index=False).to_numpy()
            dups.add(pair, chunk, file_no)
            rows += len(chunk)
            progress.advance(task, len(chunk))
    result.rel_rows[name] = rows
    result.rel_unique[name] = dups.check(
        [s.path for s in rel.files],
        lambda _i: f"the {rel.type} relationship between this row's source and target")


def _check_spec_has_files(spec: GraphSpec) -> None:
    for label, node in spec.nodes.items():
        if not node.files:
            raise SpecError(f"{spec.origin}: nodes.{label}.files: list at least one file to load")
    for i, rel in enumerate(spec.relationships):
        if not rel.files:
            raise SpecError(f"{spec.origin}: relationships[{i}].files: list at least one file")
