"""The task resolved against the graph: target, classes and the seeds of each split.

Only ids travel here (node ``_nid``s per split, or ``(2, E)`` pairs per split): texts and
vectors are fetched per batch by the sampler. ``prepare_task`` is for training and writes the
seeded ``_split`` of elements that lack one (``lmgnn.train.splits``); inference never calls
it (``lmgnn.train.model_files.load_model`` needs the run's files alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import neo4j
import torch

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler.features import LabelVocab, edge_vocab, node_vocab
from lmgnn.sampler.reads import read
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.train.config import TaskKind, TrainConfig
from lmgnn.train.splits import SPLITS, edge_split, node_property_pages, node_split


@dataclass(frozen=True)
class Target:
    """The task resolved against the spec."""

    kind: str
    label: str | None = None  # node task: node label
    prop: str | None = None  # node/edge task: property holding the class
    relation: EdgeType | None = None  # edge/link task

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "label": self.label, "prop": self.prop,
                "relation": list(self.relation) if self.relation else None}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Target:
        rel = data.get("relation")
        return cls(str(data["kind"]), data.get("label"), data.get("prop"),  # type: ignore[arg-type]
                   tuple(rel) if rel else None)  # type: ignore[arg-type]


def resolve_target(spec: GraphSpec, config: TrainConfig) -> Target:
    """``Label.prop`` / ``Label`` for node tasks; a relation name or ``Src-TYPE->Dst`` else."""
    text = config.target.strip()
    if config.task is TaskKind.node:
        label, _, prop = text.partition(".")
        node = spec.node(label)
        prop = prop or node.target or ""
        if not prop:
            raise UserError(f"node type {label} has no target in the spec: use {label}.PROPERTY")
        spec.check_property(label, prop)
        return Target("node", label=label, prop=prop)
    name: str | EdgeType = text
    if "->" in text:
        left, _, dst = text.partition("->")
        src, _, typ = left.rstrip("-").partition("-")
        name = (src.strip(), typ.strip("-[]: "), dst.strip())
    rel = spec.relation(name)
    if config.task is TaskKind.edge:
        if not rel.label:
            raise UserError(f"relationship {rel.type} has no `label` property in the spec: "
                            "edge classification needs one (e.g. label: esci)")
        return Target("edge", prop=rel.label, relation=rel.edge_type)
    return Target("link", relation=rel.edge_type)


def excluded_relations(spec: GraphSpec, names: list[str]) -> list[EdgeType]:
    return [spec.relation(n).edge_type for n in names]


@dataclass
class TaskData:
    """The seeds of each split; what does not change during training."""

    target: Target
    classes: list
    # node task: ids per split; edge/link task: (2, E) pairs per split and (edge) labels
    nodes: dict[str, torch.Tensor] = field(default_factory=dict)
    y: torch.Tensor | None = None  # node task: class id per _nid (-1: unlabelled)
    pairs: dict[str, torch.Tensor] = field(default_factory=dict)
    pair_labels: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def target_vocab(driver: neo4j.Driver, database: str, spec: GraphSpec, target: Target
                 ) -> LabelVocab:
    """Classes of a node or edge task (sorted values: class id = position)."""
    if target.kind == "edge":
        assert target.relation is not None  # an edge task has its relation
        vocab = edge_vocab(driver, database, spec, target.relation)
        what = f"{target.relation[1]}.{target.prop}"
    else:
        assert target.label is not None and target.prop is not None  # a node task has both
        if target.prop == spec.node(target.label).target:
            vocab = node_vocab(driver, database, spec, target.label)
        else:
            records = read(driver, database, cypher.render(
                "sample/target_values", label=target.label, prop=target.prop))
            vocab = LabelVocab.from_values(r["value"] for r in records)
        what = f"{target.label}.{target.prop}"
    if len(vocab) < 2:
        raise UserError(f"{what} has {len(vocab)} distinct value(s): classification needs "
                        "at least 2")
    return vocab


def node_targets(driver: neo4j.Driver, database: str, label: str, prop: str,
                 vocab: LabelVocab, count: int) -> torch.Tensor:
    """Class id per _nid (-1 where unlabelled): one long per node, read in pages."""
    y = torch.full((count,), -1, dtype=torch.long)
    for nids, values in node_property_pages(driver, database, label, prop, count):
        y[nids] = vocab.encode(values)
    return y


def prepare_task(driver: neo4j.Driver, database: str, spec: GraphSpec, config: TrainConfig,
                 counts: dict[str, int]) -> TaskData:
    """Resolve the target, read (and where missing, write) the splits: training only."""
    target = resolve_target(spec, config)
    if target.kind == "node":
        assert target.label is not None and target.prop is not None  # a node task has both
        vocab = target_vocab(driver, database, spec, target)
        y = node_targets(driver, database, target.label, target.prop,
                         vocab, counts[target.label])
        labelled = torch.nonzero(y >= 0).flatten()
        split = node_split(driver, database, spec, target.label,
                           config.seed, only=labelled, count=counts[target.label])
        nodes = {s: _labelled(getattr(split, s), y) for s in SPLITS}
        return TaskData(target, list(vocab.values), nodes=nodes, y=y)
    assert target.relation is not None  # an edge or link task has its relation
    edges = edge_split(driver, database, spec, target.relation, config.seed)
    if target.kind == "link":
        return TaskData(target, [], pairs={s: getattr(edges, s).pairs for s in SPLITS})
    vocab = target_vocab(driver, database, spec, target)
    pairs, labels = {}, {}
    for s in SPLITS:
        seeds = getattr(edges, s)
        ys = seeds.labels(vocab)
        pairs[s], labels[s] = seeds.pairs[:, ys >= 0], ys[ys >= 0]
    return TaskData(target, list(vocab.values), pairs=pairs, pair_labels=labels)


def _labelled(ids: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ids[y[ids] >= 0] if ids.numel() else ids
