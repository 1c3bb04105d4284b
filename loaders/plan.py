"""Which columns each spec file is read with: the one mapping validation and writing share."""

from __future__ import annotations

from pathlib import Path

from lmgnn.loaders.readers import Column
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
