"""The offline importer's CSV files, written while validation streams the spec's files.

``neo4j-admin database import full`` reads one header file and one data file per label and per
relation. What it is given is exactly what the online path stores:

- nodes: ``_nid:ID(Label)`` (the dense id, stored as a long with ``--id-type=integer``; each
  label is its own id space), the key and every other property with its spec type; a key that
  repeats (identical rows, validation allows it) is written once, where it first appears;
- relationships: ``:START_ID(Source)``, ``:END_ID(Target)`` as ``_nid``s, then the properties;
  a (source, target) pair that repeats is written once, as MERGE would keep it;
- an empty cell stays unquoted and empty, which the importer stores as no property, like the
  online path's ``SET n += {p: null}``; strings are never empty here (validation made blank
  cells missing), so no value is lost to that rule.

``ImportWriter`` is a ``validate.ChunkSink``: each chunk is written as soon as it passed its
checks, so every file is read once (``validate_and_write``). Files that fail a later check are
left to the caller to delete. Memory follows the chunk size; a relation whose files repeat a
pair is filtered afterwards, reading its staged file once more (validation knows which rows
repeat only at the end; the synthetic shop and DBLP repeat none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from lmgnn.loaders.progress import RowProgress
from lmgnn.loaders.readers import CHUNK_ROWS
from lmgnn.loaders.validate import ValidatedGraph, validate_files
from lmgnn.spec import NID, GraphSpec, NodeType, RelType

IMPORT_TYPES = {"string": "string", "int": "long", "float": "double", "bool": "boolean"}


@dataclass
class ImportFile:
    """One ``--nodes`` / ``--relationships`` argument: a label or type, header, data."""

    name: str  # label or relationship type
    header: Path
    data: Path
    rows: int = 0

    def argument(self) -> str:
        return f"{self.name}={self.header},{self.data}"


@dataclass
class ImportFiles:
    """Everything the importer is given, and whether any text spans lines."""

    nodes: list[ImportFile] = field(default_factory=list)
    relationships: list[ImportFile] = field(default_factory=list)
    multiline: bool = False

    @property
    def node_rows(self) -> int:
        return sum(f.rows for f in self.nodes)

    @property
    def relationship_rows(self) -> int:
        return sum(f.rows for f in self.relationships)


def validate_and_write(spec: GraphSpec, data_dir: Path, out: Path,
                       progress: RowProgress | None = None) -> tuple[ValidatedGraph, ImportFiles]:
    """Validate every file of ``spec`` (``validate_files``, same errors) and write the
    importer's header and data files into ``out`` in the same pass."""
    with ImportWriter(spec, out) as writer:
        checked = validate_files(spec, data_dir, progress, sink=writer)
    return checked, writer.files


class ImportWriter:
    """Header and data files for every label and relation of a spec, filled chunk by chunk."""

    def __init__(self, spec: GraphSpec, out: Path) -> None:
        self.spec, self.out, self.files = spec, out, ImportFiles()
        self._nodes: dict[str, tuple[ImportFile, TextIO, dict[str, str]]] = {}
        self._rels: dict[int, tuple[ImportFile, TextIO]] = {}

    def __enter__(self) -> ImportWriter:
        self.out.mkdir(parents=True, exist_ok=True)
        for label, node in self.spec.nodes.items():
            props = {node.key: node.key_type,
                     **{p: t for p, t in node.properties.items() if p != node.key}}
            target = ImportFile(label, self.out / f"nodes_{label}.header.csv",
                                self.out / f"nodes_{label}.csv")
            _header(target.header, [f"{NID}:ID({label})", *_typed_fields(props)])
            self._nodes[label] = (target, _open(target.data), props)
            self.files.nodes.append(target)
        for i, rel in enumerate(self.spec.relationships):
            stem = f"rels_{i}_{rel.type}"
            target = ImportFile(rel.type, self.out / f"{stem}.header.csv",
                                self.out / f"{stem}.csv")
            _header(target.header, [f":START_ID({rel.source})", f":END_ID({rel.target})",
                                    *_typed_fields(rel.properties)])
            self._rels[id(rel)] = (target, _open(target.data))
            self.files.relationships.append(target)
        return self

    def __exit__(self, *exc: object) -> None:
        for _, fh, _ in self._nodes.values():
            fh.close()
        for _, fh in self._rels.values():
            fh.close()

    def nodes(self, node: NodeType, chunk: pd.DataFrame, nids: np.ndarray,
              first: np.ndarray) -> None:
        target, fh, props = self._nodes[node.label]
        if not first.all():
            chunk, nids = chunk[first], nids[first]
        frame = pd.DataFrame({NID: nids})
        for p, t in props.items():
            frame[p] = _cells(chunk[p].reset_index(drop=True), t)
        self.files.multiline |= _spans_lines(frame, props)
        _append(frame, fh)
        target.rows += len(frame)

    def relationships(self, rel: RelType, chunk: pd.DataFrame, source: np.ndarray,
                      target: np.ndarray) -> None:
        staged, fh = self._rels[id(rel)]
        frame = pd.DataFrame({"s": source, "t": target})
        for p, t in rel.properties.items():
            frame[p] = _cells(chunk[p].reset_index(drop=True), t)
        self.files.multiline |= _spans_lines(frame, rel.properties)
        _append(frame, fh)
        staged.rows += len(frame)

    def relationships_done(self, rel: RelType, first: np.ndarray | None) -> None:
        staged, fh = self._rels[id(rel)]
        fh.close()
        if first is not None:
            staged.rows = _keep_rows(staged.data, first)


def _open(path: Path) -> TextIO:
    return path.open("w", encoding="utf-8", newline="")


def _keep_rows(path: Path, keep: np.ndarray) -> int:
    """Rewrite the staged data file ``path`` with only the rows where ``keep``; rows kept."""
    kept = path.with_suffix(".kept.csv")
    offset = rows = 0
    with kept.open("w", encoding="utf-8", newline="") as fh:
        for frame in pd.read_csv(path, header=None, dtype=object, keep_default_na=False,
                                 na_filter=False, encoding="utf-8", chunksize=CHUNK_ROWS):
            mask = keep[offset:offset + len(frame)]
            offset += len(frame)
            _append(frame[mask], fh)
            rows += int(mask.sum())
    if offset != len(keep):
        raise AssertionError(f"{path}: {offset} staged rows, {len(keep)} validated")
    kept.replace(path)
    return rows


def _header(path: Path, fields: list[str]) -> None:
    path.write_text(",".join(fields) + "\n", encoding="utf-8")


def _typed_fields(props: dict[str, str]) -> list[str]:
    return [f"{p}:{IMPORT_TYPES[t]}" for p, t in props.items()]


def _cells(values: pd.Series, kind: str) -> pd.Series:
    """Values as the importer parses them: booleans as true/false, infinities as Java spells
    them; missing values stay missing (an empty cell)."""
    if kind == "bool":
        return values.map({True: "true", False: "false"}).astype(object)
    if kind == "float":
        series = values.astype("float64")
        if np.isinf(series.to_numpy()).any():
            return series.map(lambda v: v if math.isfinite(v) or math.isnan(v)
                              else ("Infinity" if v > 0 else "-Infinity")).astype(object)
        return series
    return values


def _spans_lines(frame: pd.DataFrame, props: dict[str, str]) -> bool:
    """Whether a text cell holds a line break (the importer then parses more slowly)."""
    for p, t in props.items():
        if t == "string":
            column = frame[p]
            joined = "\x00".join(column[column.notna()].tolist())
            if "\n" in joined or "\r" in joined:
                return True
    return False


def _append(frame: pd.DataFrame, fh) -> None:
    frame.to_csv(fh, header=False, index=False, na_rep="", lineterminator="\n")
