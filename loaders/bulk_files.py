"""The offline importer's CSV files, written from a spec's validated files.

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

Files are streamed chunk by chunk (the readers' chunks), so memory follows the chunk size plus
one bit per node of a label (first occurrence) and, only for relations whose files repeat a
pair, 8 bytes per row (first occurrence of each pair).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lmgnn.loaders.plan import (
    SOURCE,
    TARGET,
    describe_rel,
    first_pairs,
    node_columns,
    rel_chunks,
    resolve,
)
from lmgnn.loaders.progress import RowProgress
from lmgnn.loaders.readers import key_array, read_chunks
from lmgnn.loaders.validate import ValidatedGraph
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


def dense_ids(checked: ValidatedGraph) -> dict[str, pd.Index]:
    """Label -> unique keys in file order: a key's position is its ``_nid`` (as the online
    path gives them on an empty database)."""
    return dict(checked.keys)


def write_import_files(spec: GraphSpec, data_dir: Path, checked: ValidatedGraph, out: Path,
                       progress: RowProgress | None = None) -> ImportFiles:
    """Write header and data files for every label and relation of ``spec`` into ``out``."""
    progress = progress or RowProgress(enabled=False)
    out.mkdir(parents=True, exist_ok=True)
    files = ImportFiles()
    keys = dense_ids(checked)
    for label, node in spec.nodes.items():
        files.nodes.append(_write_nodes(node, data_dir, keys[label], out, progress,
                                        checked.node_rows[label], files))
    for i, rel in enumerate(spec.relationships):
        name = describe_rel(rel)
        repeats = checked.rel_rows[name] != checked.rel_unique[name]
        files.relationships.append(_write_rels(
            spec, rel, i, data_dir, keys, out, progress, checked.rel_rows[name], repeats, files))
    return files


def _header(path: Path, fields: list[str]) -> None:
    path.write_text(",".join(fields) + "\n", encoding="utf-8")


def _typed_fields(props: dict[str, str]) -> list[str]:
    return [f"{p}:{IMPORT_TYPES[t]}" for p, t in props.items()]


def _write_nodes(node: NodeType, data_dir: Path, keys: pd.Index, out: Path,
                 progress: RowProgress, total: int, files: ImportFiles) -> ImportFile:
    props = {node.key: node.key_type,
             **{p: t for p, t in node.properties.items() if p != node.key}}
    target = ImportFile(node.label, out / f"nodes_{node.label}.header.csv",
                        out / f"nodes_{node.label}.csv")
    _header(target.header, [f"{NID}:ID({node.label})", *_typed_fields(props)])
    seen = np.zeros(len(keys), dtype=bool)
    task = progress.task(f"import file {node.label}", total=total)
    with target.data.open("w", encoding="utf-8", newline="") as fh:
        for source in node.files:
            for chunk in read_chunks(resolve(data_dir, source), node_columns(node, source),
                                     source.path):
                nids = keys.get_indexer(pd.Index(key_array(chunk[node.key])))
                first = ~seen[nids] & ~pd.Series(nids).duplicated().to_numpy()
                seen[nids[first]] = True
                frame = pd.DataFrame({NID: nids[first]})
                for p, t in props.items():
                    frame[p] = _cells(chunk[p][first].reset_index(drop=True), t)
                files.multiline |= _spans_lines(frame, props)
                _append(frame, fh)
                target.rows += len(frame)
                progress.advance(task, len(chunk))
    return target


def _write_rels(spec: GraphSpec, rel: RelType, number: int, data_dir: Path,
                keys: dict[str, pd.Index], out: Path, progress: RowProgress, total: int,
                repeats: bool, files: ImportFiles) -> ImportFile:
    stem = f"rels_{number}_{rel.type}"
    target = ImportFile(rel.type, out / f"{stem}.header.csv", out / f"{stem}.csv")
    _header(target.header, [f":START_ID({rel.source})", f":END_ID({rel.target})",
                            *_typed_fields(rel.properties)])
    keep = first_pairs(spec, rel, data_dir, keys) if repeats else None
    offset = 0
    task = progress.task(f"import file {rel.type}", total=total)
    with target.data.open("w", encoding="utf-8", newline="") as fh:
        for chunk in rel_chunks(spec, rel, data_dir):
            frame = pd.DataFrame({
                "s": keys[rel.source].get_indexer(pd.Index(key_array(chunk[SOURCE]))),
                "t": keys[rel.target].get_indexer(pd.Index(key_array(chunk[TARGET])))})
            for p, t in rel.properties.items():
                frame[p] = _cells(chunk[p].reset_index(drop=True), t)
            if keep is not None:
                frame = frame[keep[offset:offset + len(frame)]]
            offset += len(chunk)
            files.multiline |= _spans_lines(frame, rel.properties)
            _append(frame, fh)
            target.rows += len(frame)
            progress.advance(task, len(chunk))
    return target


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
    for p, t in props.items():
        if t == "string" and frame[p].astype(str).str.contains("[\r\n]", regex=True).any():
            return True
    return False


def _append(frame: pd.DataFrame, fh) -> None:
    frame.to_csv(fh, header=False, index=False, na_rep="", lineterminator="\n")
