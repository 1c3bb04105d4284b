"""Names of what a run writes: properties, relationship types and vector indexes.

Predictions of several runs live side by side in the graph, so every property a run writes is
named by the run (``pred_category__r42``), predicted links carry ``run`` as a property of a
``PREDICTED_<TYPE>`` relationship, and each vector index is per (label, run). Names are built
only from a validated spec and a checked run id, and are checked against the spec so that a
prediction never overwrites the user's own data.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass

from lmgnn.errors import UserError
from lmgnn.spec import EdgeType, GraphSpec

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
LINK_PREFIX = "PREDICTED_"


def run_key(run_id: str) -> str:
    """The run id as it appears inside property and index names (only letters, digits, _)."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise UserError(f"invalid run id {run_id!r}: use letters, digits and _ . : - "
                        "(at most 100 characters, starting with a letter or digit)")
    return re.sub(r"[^A-Za-z0-9_]", "_", run_id)


@dataclass(frozen=True)
class NodeClassNames:
    """Node classification of ``label.target``: predicted value, its probability, distribution."""

    run_id: str
    label: str
    target: str
    pred: str
    prob: str
    dist: str

    @property
    def output_id(self) -> str:
        return f"{run_key(self.run_id)}/node_class/{self.label}/{self.target}"

    def identifiers(self, spec: GraphSpec) -> dict[str, str]:
        return {"label": self.label, "target": self.target, "pred": self.pred, "prob": self.prob,
                "dist": self.dist, **_node_fields(spec, self.label, "")}


@dataclass(frozen=True)
class EmbeddingNames:
    """Node embeddings of ``label`` as a LIST<FLOAT> property with a vector index."""

    run_id: str
    label: str
    property: str
    index: str

    @builtins.property  # the field above shadows the builtin in this class body
    def output_id(self) -> str:
        return f"{run_key(self.run_id)}/embedding/{self.label}"

    def identifiers(self, spec: GraphSpec) -> dict[str, str]:
        return {"label": self.label, "property": self.property,
                **_node_fields(spec, self.label, "")}


@dataclass(frozen=True)
class LinkNames:
    """Predicted links of ``edge_type`` as ``(source)-[:PREDICTED_<TYPE> {run}]->(target)``."""

    run_id: str
    edge_type: EdgeType
    rel_type: str

    @property
    def output_id(self) -> str:
        s, t, d = self.edge_type
        return f"{run_key(self.run_id)}/links/{s}/{t}/{d}"

    def identifiers(self, spec: GraphSpec) -> dict[str, str]:
        source, rel_type, target = self.edge_type
        return {"source": source, "type": rel_type, "target_label": target,
                "link_type": self.rel_type, **_node_fields(spec, source, "source_"),
                **_node_fields(spec, target, "target_")}


@dataclass(frozen=True)
class EdgeClassNames:
    """Edge classification of ``edge_type.label``: properties on the existing relationships."""

    run_id: str
    edge_type: EdgeType
    target: str
    pred: str
    prob: str

    @property
    def output_id(self) -> str:
        s, t, d = self.edge_type
        return f"{run_key(self.run_id)}/edge_class/{s}/{t}/{d}/{self.target}"

    def identifiers(self, spec: GraphSpec) -> dict[str, str]:
        source, rel_type, target = self.edge_type
        return {"source": source, "type": rel_type, "target_label": target,
                "target": self.target, "pred": self.pred, "prob": self.prob,
                "split": spec.relation(self.edge_type).split or "_split",
                **_node_fields(spec, source, "source_"), **_node_fields(spec, target, "target_")}


def node_class_names(spec: GraphSpec, run_id: str, label: str,
                     target: str | None = None) -> NodeClassNames:
    node = spec.node(label)
    target = target or node.target
    if target is None:
        raise UserError(f"node type {label} has no `target` in the spec: nothing to classify")
    spec.check_property(label, target)
    key = run_key(run_id)
    names = NodeClassNames(run_id, label, target, pred=f"pred_{target}__{key}",
                           prob=f"prob_{target}__{key}", dist=f"dist_{target}__{key}")
    _not_in_spec(spec.nodes[label].properties, (names.pred, names.prob, names.dist), label)
    return names


def embedding_names(spec: GraphSpec, run_id: str, label: str) -> EmbeddingNames:
    spec.node(label)
    key = run_key(run_id)
    names = EmbeddingNames(run_id, label, property=f"emb__{key}", index=f"emb_{label}__{key}")
    _not_in_spec(spec.nodes[label].properties, (names.property,), label)
    return names


def link_names(spec: GraphSpec, run_id: str, edge_type: EdgeType | str) -> LinkNames:
    rel = spec.relation(tuple(edge_type) if not isinstance(edge_type, str) else edge_type)
    rel_type = LINK_PREFIX + rel.type
    if any(r.type == rel_type for r in spec.relationships):
        raise UserError(f"cannot write predicted links as :{rel_type}: the graph already has "
                        "relationships of that type")
    run_key(run_id)
    return LinkNames(run_id, rel.edge_type, rel_type)


def edge_class_names(spec: GraphSpec, run_id: str, edge_type: EdgeType | str,
                     target: str | None = None) -> EdgeClassNames:
    rel = spec.relation(tuple(edge_type) if not isinstance(edge_type, str) else edge_type)
    target = target or rel.label
    if target is None or target not in rel.properties:
        raise UserError(f"relationship {rel.type} has no label property {target!r} in the spec: "
                        "nothing to classify")
    key = run_key(run_id)
    names = EdgeClassNames(run_id, rel.edge_type, target, pred=f"pred_{target}__{key}",
                           prob=f"prob_{target}__{key}")
    _not_in_spec(rel.properties, (names.pred, names.prob), rel.type)
    return names


def display_property(spec: GraphSpec, label: str) -> str:
    """The property that best shows a node to a person: its first text property, else its key."""
    node = spec.node(label)
    return node.text[0] if node.text else node.key


def _node_fields(spec: GraphSpec, label: str, prefix: str) -> dict[str, str]:
    """Key, display and split property of a label (split: the spec's, else `_split`)."""
    node = spec.node(label)
    fields = {"key": node.key, "display": display_property(spec, label),
              "split": node.split or "_split"}
    if prefix:  # ends of a relation: the relation's own split wins
        fields.pop("split")
    return {prefix + k: v for k, v in fields.items()}


def _not_in_spec(declared: dict[str, str], names: tuple[str, ...], owner: str) -> None:
    clash = [n for n in names if n in declared]
    if clash:
        raise UserError(f"{owner} already declares property {clash[0]!r} in the spec; "
                        "predictions would overwrite it: use another run id")
