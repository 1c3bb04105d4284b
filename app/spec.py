"""The graph spec: the one description of a graph that loaders, sampler, trainer and writeback read.

Written by users as YAML, validated here with errors that name the offending key, stored in
Neo4j by ``lmgnn load`` as a ``(:LmgnnSpec)`` node so that ``train`` needs only the database.
Every label, relationship type and property name that reaches query text comes from a validated
spec (and is back-quoted again by ``cypher_files.render``).

YAML shape (see loaders/specs/*.yaml)::

    name: shop
    nodes:
      Product:
        key: product_id                  # unique per label; a constraint is created
        properties: {product_id: string, title: string, category: string, price: float}
        text: [title]                    # concatenated into the node's text
        target: category                 # node-classification label (optional)
        features: [price]                # numeric features (optional)
        split: split                     # property with train/valid/test (optional)
        files:                           # CSV, CSV.gz or Parquet, relative to --data-dir
          - path: products.csv
            columns: {product_id: pid}   # property -> column when they differ
    relationships:
      - type: PURCHASED
        source: Query                    # node types declared above
        target: Product
        properties: {count: int, esci: string}
        label: esci                      # edge-classification label (optional)
        files:
          - path: purchases.csv
            source: query_id             # column holding the source node's key
            target: product_id           # column holding the target node's key
            columns: {count: n}

Every node also gets ``_nid``: a dense integer id per label (0..n-1), given at load time and
indexed; samplers and CSR snapshots use it instead of keys.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lmgnn.errors import UserError

PROPERTY_TYPES = ("string", "int", "float", "bool")
NID = "_nid"  # dense per-label node id property
RESERVED_LABELS = frozenset({"LmgnnSpec", "ModelRun", "LmgnnOutput"})
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

EdgeType = tuple[str, str, str]  # (source label, relationship type, target label), as in PyG


def reverse(edge_type: EdgeType) -> EdgeType:
    """The reverse relation every batch carries next to a relation: (dst, "rev_TYPE", src)."""
    src, rel, dst = edge_type
    return (dst, f"rev_{rel}", src)


class SpecError(UserError):
    """The spec is wrong; the message names the file and the key path."""


@dataclass(frozen=True)
class FileSource:
    path: str
    columns: dict[str, str] = field(default_factory=dict)  # property -> column
    source: str | None = None  # relationship files: column with the source node key
    target: str | None = None  # relationship files: column with the target node key

    def column(self, prop: str) -> str:
        return self.columns.get(prop, prop)


@dataclass(frozen=True)
class NodeType:
    label: str
    key: str
    properties: dict[str, str]
    files: list[FileSource]
    text: list[str] = field(default_factory=list)
    target: str | None = None
    features: list[str] = field(default_factory=list)
    split: str | None = None

    @property
    def key_type(self) -> str:
        return self.properties[self.key]


@dataclass(frozen=True)
class RelType:
    type: str
    source: str
    target: str
    files: list[FileSource]
    properties: dict[str, str] = field(default_factory=dict)
    label: str | None = None  # edge-classification label property (e.g. esci)
    split: str | None = None

    @property
    def edge_type(self) -> EdgeType:
        return (self.source, self.type, self.target)


@dataclass(frozen=True)
class GraphSpec:
    name: str
    nodes: dict[str, NodeType]
    relationships: list[RelType]
    origin: str = "<spec>"

    # ---- lookups that check names coming from users -------------------------------------
    def node(self, label: str) -> NodeType:
        if label not in self.nodes:
            raise SpecError(f"{self.origin}: unknown node type {label!r}; "
                            f"known: {', '.join(sorted(self.nodes))}")
        return self.nodes[label]

    def relation(self, name: str | tuple[str, ...]) -> RelType:
        """A relationship by type name (if unambiguous) or by (source, type, target)."""
        hits = [r for r in self.relationships
                if (r.edge_type == tuple(name) if isinstance(name, tuple) else r.type == name)]
        if len(hits) != 1:
            known = ", ".join(f"{s}-[:{t}]->{d}" for s, t, d in self.edge_types)
            what = "ambiguous" if hits else "unknown"
            raise SpecError(f"{self.origin}: {what} relationship {name!r}; known: {known}")
        return hits[0]

    def check_property(self, label: str, prop: str) -> str:
        if prop not in self.node(label).properties and prop != NID:
            raise SpecError(f"{self.origin}: node type {label} has no property {prop!r}")
        return prop

    @property
    def edge_types(self) -> list[EdgeType]:
        return [r.edge_type for r in self.relationships]

    # ---- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nodes": {k: _drop_none(asdict(v)) for k, v in self.nodes.items()},
            "relationships": [_drop_none(asdict(r)) for r in self.relationships],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, origin: str = "spec stored in Neo4j") -> GraphSpec:
        return parse_spec(json.loads(text), origin)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if k == "label" and "key" in d:  # NodeType.label is the mapping key
            continue
        if v is None or v == [] or v == {}:
            continue
        if k == "files":
            v = [_drop_none(f) for f in v]
        out[k] = v
    return out


class _DuplicateKey(yaml.YAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last one
    silently, so a repeated ``nodes:`` entry would drop a node type)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(f"line {line}: key {key!r} appears twice in one mapping "
                                    f"(first on line {seen[key]}); keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_spec(path: str | Path) -> GraphSpec:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file {path} does not exist")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    except _DuplicateKey as exc:
        raise SpecError(f"{path}, {exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    return parse_spec(data, str(path))


# ---- validation ---------------------------------------------------------------------------
_NODE_KEYS = {"key", "properties", "files", "text", "target", "features", "split"}
_REL_KEYS = {"type", "source", "target", "files", "properties", "label", "split"}
_FILE_KEYS = {"path", "columns", "source", "target"}


def parse_spec(data: Any, origin: str = "<spec>") -> GraphSpec:
    """Validate a parsed YAML/JSON document into a GraphSpec; SpecError names the bad key."""
    where = origin
    _expect(isinstance(data, dict), where, "the spec must be a mapping with `nodes` and "
            "`relationships`")
    _unknown(data, {"name", "nodes", "relationships"}, where)
    name = str(data.get("name") or Path(origin).stem)
    raw_nodes = data.get("nodes")
    _expect(isinstance(raw_nodes, dict) and raw_nodes, where, "`nodes` must be a non-empty "
            "mapping of label -> node type")
    nodes = {label: _parse_node(label, body, f"{where}: nodes.{label}")
             for label, body in raw_nodes.items()}
    raw_rels = data.get("relationships") or []
    _expect(isinstance(raw_rels, list), where, "`relationships` must be a list")
    rels = [_parse_rel(body, nodes, f"{where}: relationships[{i}]")
            for i, body in enumerate(raw_rels)]
    seen: set[EdgeType] = set()
    for i, r in enumerate(rels):
        _expect(r.edge_type not in seen, f"{where}: relationships[{i}]",
                f"{r.source}-[:{r.type}]->{r.target} is declared twice")
        seen.add(r.edge_type)
    return GraphSpec(name=name, nodes=nodes, relationships=rels, origin=origin)


def _parse_node(label: Any, body: Any, where: str) -> NodeType:
    _ident(label, where, "node label")
    _expect(label not in RESERVED_LABELS, where, f"label {label} is reserved by lmgnn")
    _expect(isinstance(body, dict), where, "must be a mapping")
    _unknown(body, _NODE_KEYS, where)
    props = _parse_props(body.get("properties"), f"{where}.properties", required=True)
    key = body.get("key")
    _expect(isinstance(key, str) and key in props, f"{where}.key",
            f"must name one of the properties ({', '.join(props)}), got {key!r}")
    _expect(props[key] in ("int", "string"), f"{where}.key", "key property must be int or string")
    text = _names(body.get("text"), props, f"{where}.text", types=("string",))
    features = _names(body.get("features"), props, f"{where}.features",
                      types=("int", "float", "bool"))
    target = _optional_prop(body.get("target"), props, f"{where}.target")
    split = _optional_prop(body.get("split"), props, f"{where}.split", types=("string",))
    files = _parse_files(body.get("files"), props, f"{where}.files", relationship=False)
    return NodeType(label=label, key=key, properties=props, files=files, text=text,
                    target=target, features=features, split=split)


def _parse_rel(body: Any, nodes: dict[str, NodeType], where: str) -> RelType:
    _expect(isinstance(body, dict), where, "must be a mapping")
    _unknown(body, _REL_KEYS, where)
    rtype = body.get("type")
    _ident(rtype, f"{where}.type", "relationship type")
    for end in ("source", "target"):
        _expect(body.get(end) in nodes, f"{where}.{end}",
                f"unknown node type {body.get(end)!r}; declared: {', '.join(nodes)}")
    props = _parse_props(body.get("properties"), f"{where}.properties", required=False)
    label = _optional_prop(body.get("label"), props, f"{where}.label")
    split = _optional_prop(body.get("split"), props, f"{where}.split", types=("string",))
    files = _parse_files(body.get("files"), props, f"{where}.files", relationship=True)
    return RelType(type=rtype, source=body["source"], target=body["target"], files=files,
                   properties=props, label=label, split=split)


def _parse_props(raw: Any, where: str, required: bool) -> dict[str, str]:
    if raw is None and not required:
        return {}
    _expect(isinstance(raw, dict) and (raw or not required), where,
            "must map property name -> type (" + ", ".join(PROPERTY_TYPES) + ")")
    for name, kind in raw.items():
        _ident(name, f"{where}.{name}", "property name")
        _expect(kind in PROPERTY_TYPES, f"{where}.{name}",
                f"unknown type {kind!r}; use one of {', '.join(PROPERTY_TYPES)}")
    return dict(raw)


def _parse_files(raw: Any, props: dict[str, str], where: str,
                 relationship: bool) -> list[FileSource]:
    if raw is None:
        return []
    _expect(isinstance(raw, list), where, "must be a list of files")
    out = []
    for i, item in enumerate(raw):
        w = f"{where}[{i}]"
        if isinstance(item, str):
            item = {"path": item}
        _expect(isinstance(item, dict) and isinstance(item.get("path"), str), w,
                "must be a path or a mapping with `path`")
        _unknown(item, _FILE_KEYS, w)
        _expect(Path(item["path"]).suffix.lower() in (".csv", ".gz", ".parquet"), f"{w}.path",
                "must be .csv, .csv.gz or .parquet")
        columns = item.get("columns") or {}
        _expect(isinstance(columns, dict), f"{w}.columns", "must map property -> column")
        for prop in columns:
            _expect(prop in props, f"{w}.columns.{prop}", "is not a declared property")
        if relationship:
            for end in ("source", "target"):
                _expect(isinstance(item.get(end), str), f"{w}.{end}",
                        f"name the column that holds the {end} node's key")
        else:
            _expect("source" not in item and "target" not in item, w,
                    "`source`/`target` columns are for relationship files")
        out.append(FileSource(path=item["path"], columns=dict(columns),
                              source=item.get("source"), target=item.get("target")))
    return out


def _names(raw: Any, props: dict[str, str], where: str, types: tuple[str, ...]) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    _expect(isinstance(raw, list), where, "must be a list of property names")
    for name in raw:
        _expect(name in props, where, f"{name!r} is not a declared property")
        _expect(props[name] in types, where, f"{name!r} must be of type {' or '.join(types)}")
    return list(raw)


def _optional_prop(raw: Any, props: dict[str, str], where: str,
                   types: tuple[str, ...] = PROPERTY_TYPES) -> str | None:
    if raw is None:
        return None
    _expect(raw in props, where, f"{raw!r} is not a declared property")
    _expect(props[raw] in types, where, f"{raw!r} must be of type {' or '.join(types)}")
    return raw


def _ident(value: Any, where: str, what: str) -> None:
    _expect(isinstance(value, str) and bool(_IDENT.match(value)), where,
            f"{what} {value!r} must start with a letter and use only letters, digits and _")


def _unknown(body: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = set(body) - allowed
    _expect(not extra, where, f"unknown key(s) {sorted(extra)}; allowed: {sorted(allowed)}")


def _expect(ok: object, where: str, message: str) -> None:
    if not ok:
        raise SpecError(f"{where}: {message}")
