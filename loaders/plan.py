"""Which columns each spec file is read with: the one mapping validation and writing share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from lmgnn.loaders.readers import Column, key_array, read_chunks
from lmgnn.spec import FileSource, GraphSpec, NodeType, RelType

SOURCE, TARGET = "_source", "_target"  # endpoint columns of relationship chunks


def node_columns(node: NodeType, source: FileSource) -> list[Column]:
    """Every declared property is read; the key and text properties must not be empty."""
    return [Column(prop=p, column=source.column(p), type=t,
                   required=(p == node.key or p in node.text), text=p in node.text)
            for p, t in node.properties.items()]


def rel_columns(spec: GraphSpec, rel: RelType, source: FileSource) -> list[Column]:
    src, dst = spec.nodes[rel.source], spec.nodes[rel.target]
    ends = [Column(prop=SOURCE, column=str(source.source), type=src.key_type, required=True),
            Column(prop=TARGET, column=str(source.target), type=dst.key_type, required=True)]
    return ends + [Column(prop=p, column=source.column(p), type=t)
                   for p, t in rel.properties.items()]


def resolve(data_dir: Path, source: FileSource) -> Path:
    path = Path(source.path)
    return path if path.is_absolute() else data_dir / path


def describe_rel(rel: RelType) -> str:
    return f"{rel.source}-[:{rel.type}]->{rel.target}"


def rel_chunks(spec: GraphSpec, rel: RelType, data_dir: Path) -> Iterator[pd.DataFrame]:
    """Typed chunks of every file of ``rel``, one file after another."""
    for source in rel.files:
        yield from read_chunks(resolve(data_dir, source), rel_columns(spec, rel, source),
                               source.path)


def first_pairs(spec: GraphSpec, rel: RelType, data_dir: Path,
                keys: dict[str, pd.Index]) -> np.ndarray:
    """Row mask over all files of ``rel`` (in ``rel_chunks`` order): True where a (source,
    target) pair appears first. For writers that CREATE, when validation found repeats.

    Memory: 8 bytes per row (one int64 code per pair), never the rows themselves.
    """
    width = np.int64(max(1, len(keys[rel.target])))
    codes = [keys[rel.source].get_indexer(pd.Index(key_array(c[SOURCE]))).astype(np.int64) * width
             + keys[rel.target].get_indexer(pd.Index(key_array(c[TARGET])))
             for c in rel_chunks(spec, rel, data_dir)]
    every = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    keep = np.zeros(len(every), dtype=bool)
    keep[np.unique(every, return_index=True)[1]] = True
    return keep
