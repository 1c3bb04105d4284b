"""Task data from Neo4j: targets, splits, texts, and batch streams through the sampler.

Batches are produced by the sampler (``sample_from_nodes`` / ``sample_from_edges``) in a
background thread, a few ahead of the training step, so Neo4j reads overlap with compute.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import neo4j
import torch
from torch_geometric.data import HeteroData

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler.features import Columns, LabelVocab, MemoryRows, Neo4jRows, join_text
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.train.config import TrainConfig
from lmgnn.train.splits import SPLITS, edge_split, node_split

PREFETCH = 3


@dataclass
class Target:
    """The task resolved against the spec."""

    kind: str
    label: str | None = None  # node task: node label
    prop: str | None = None  # node/edge task: property holding the class
    relation: EdgeType | None = None  # edge/link task


def resolve_target(spec: GraphSpec, config: TrainConfig) -> Target:
    """``Label.prop`` / ``Label`` for node tasks; a relation name or ``Src-TYPE->Dst`` else."""
    text = config.target.strip()
    if config.task == "node":
        label, _, prop = text.partition(".")
        node = spec.node(label)
        prop = prop or node.target
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
    if config.task == "edge":
        if not rel.label:
            raise UserError(f"relationship {rel.type} has no `label` property in the spec: "
                            "edge classification needs one (e.g. label: esci)")
        return Target("edge", prop=rel.label, relation=rel.edge_type)
    return Target("link", relation=rel.edge_type)


def excluded_relations(spec: GraphSpec, names: list[str]) -> list[EdgeType]:
    return [spec.relation(n).edge_type for n in names]


def node_counts(driver: neo4j.Driver, database: str, spec: GraphSpec) -> dict[str, int]:
    out = {}
    for label in spec.nodes:
        rows = driver.execute_query(cypher.render("sample/node_count", label=label),
                                    database_=database, routing_="r")[0]
        out[label] = int(rows[0]["count"])
    return out


def all_texts(driver: neo4j.Driver, database: str, spec: GraphSpec,
              counts: dict[str, int]) -> dict[str, list[str]]:
    """Text of every node of every label that has text, indexed by _nid."""
    columns = {label: Columns(tuple(node.text), None, ())
               for label, node in spec.nodes.items() if node.text}
    table = MemoryRows.from_source(Neo4jRows(driver, database, columns),
                                   {label: counts[label] for label in columns})
    return {label: [join_text(row) for row in rows] for label, rows in table.table.items()}


def node_targets(driver: neo4j.Driver, database: str, label: str, prop: str,
                 vocab: LabelVocab, count: int) -> torch.Tensor:
    """Class id per _nid (-1 where unlabelled)."""
    rows = driver.execute_query(cypher.render("train/node_labels", label=label, prop=prop),
                                database_=database, routing_="r")[0]
    y = torch.full((count,), -1, dtype=torch.long)
    if rows:
        nids = torch.tensor([r["nid"] for r in rows], dtype=torch.long)
        y[nids] = vocab.encode([r["value"] for r in rows])
    return y


def edge_targets(driver: neo4j.Driver, database: str, relation: EdgeType, prop: str,
                 vocab: LabelVocab) -> dict[tuple[int, int], int]:
    src, typ, dst = relation
    rows = driver.execute_query(cypher.render("train/edge_labels", src=src, rel=typ, dst=dst,
                                              prop=prop), database_=database, routing_="r")[0]
    ids = vocab.encode([r["value"] for r in rows]).tolist()
    return {(r["src"], r["dst"]): c for r, c in zip(rows, ids, strict=True)}


@dataclass
class TaskData:
    """Everything about the task that does not change during training."""

    target: Target
    counts: dict[str, int]
    texts: dict[str, list[str]]
    num_classes: int
    classes: list
    # node task: ids per split; edge/link task: (2, E) pairs per split and (edge) labels
    nodes: dict[str, torch.Tensor]
    pairs: dict[str, torch.Tensor]
    pair_labels: dict[str, torch.Tensor]


def load_task(driver: neo4j.Driver, database: str, spec: GraphSpec, config: TrainConfig,
              vocabs: dict[str, LabelVocab]) -> TaskData:
    from lmgnn.sampler.features import edge_vocab

    target = resolve_target(spec, config)
    counts = node_counts(driver, database, spec)
    texts = all_texts(driver, database, spec, counts)
    nodes: dict[str, torch.Tensor] = {}
    pairs: dict[str, torch.Tensor] = {}
    pair_labels: dict[str, torch.Tensor] = {}
    classes: list = []
    if target.kind == "node":
        vocab = vocabs.get(target.label) if target.prop == spec.node(target.label).target \
            else None
        if vocab is None:
            from lmgnn.sampler.features import LabelVocab as _LV

            rows = driver.execute_query(cypher.render("train/node_labels", label=target.label,
                                                      prop=target.prop), database_=database)[0]
            vocab = _LV.from_values(r["value"] for r in rows)
        if len(vocab) < 2:
            raise UserError(f"{target.label}.{target.prop} has {len(vocab)} distinct value(s): "
                            "node classification needs at least 2")
        y = node_targets(driver, database, target.label, target.prop, vocab,
                         counts[target.label])
        labelled = torch.nonzero(y >= 0).flatten()
        split = node_split(driver, database, spec, target.label, config.seed, only=labelled)
        keep = set(labelled.tolist())
        for s in SPLITS:
            ids = getattr(split, s)
            nodes[s] = ids[torch.tensor([i in keep for i in ids.tolist()], dtype=torch.bool)] \
                if ids.numel() else ids
        classes = list(vocab.values)
    else:
        split = edge_split(driver, database, spec, target.relation, config.seed)
        for s in SPLITS:
            pairs[s] = getattr(split, s)
        if target.kind == "edge":
            vocab = edge_vocab(driver, database, spec, target.relation)
            if len(vocab) < 2:
                raise UserError(f"{target.relation[1]}.{target.prop} has {len(vocab)} distinct "
                                "value(s): edge classification needs at least 2")
            lab = edge_targets(driver, database, target.relation, target.prop, vocab)
            for s in SPLITS:
                p = pairs[s]
                ys = torch.tensor([lab.get((a, b), -1) for a, b in p.T.tolist()],
                                  dtype=torch.long)
                pairs[s], pair_labels[s] = p[:, ys >= 0], ys[ys >= 0]
            classes = list(vocab.values)
    return TaskData(target, counts, texts, len(classes), classes, nodes, pairs, pair_labels)


# ---- batch streams ---------------------------------------------------------------------------
def prefetch(make: Callable[[], Iterator[HeteroData]], depth: int = PREFETCH
             ) -> Iterator[HeteroData]:
    """Run a batch generator in a background thread, ``depth`` batches ahead."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in make():
                if stop.is_set():
                    return
                q.put(item)
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def _chunks(ids: torch.Tensor, size: int, max_steps: int | None) -> list[torch.Tensor]:
    parts = list(torch.split(ids, size)) if ids.numel() else []
    return parts[:max_steps] if max_steps else parts


def node_batches(sampler, label: str, ids: torch.Tensor, batch_size: int, *, epoch: int,
                 shuffle_seed: int | None, max_steps: int | None = None
                 ) -> tuple[int, Iterator[HeteroData]]:
    if shuffle_seed is not None:
        g = torch.Generator().manual_seed(shuffle_seed * 1_000_003 + epoch)
        ids = ids[torch.randperm(ids.numel(), generator=g)]
    chunks = _chunks(ids, batch_size, max_steps)
    return len(chunks), prefetch(lambda: (sampler.sample_from_nodes(label, c, epoch=epoch)
                                          for c in chunks))


def pair_batches(sampler, relation: EdgeType, pairs: torch.Tensor,
                 labels: torch.Tensor | None, batch_size: int, *, epoch: int,
                 shuffle_seed: int | None, negatives: int, num_dst: int,
                 max_steps: int | None = None, neg_seed: int = 0
                 ) -> tuple[int, Iterator[HeteroData]]:
    """Edge batches: positives (label 1) plus ``negatives`` uniform (src, random dst) pairs
    (label 0) per batch for link prediction; or labelled pairs for edge classification."""
    n = pairs.size(1)
    order = torch.arange(n)
    if shuffle_seed is not None:
        g = torch.Generator().manual_seed(shuffle_seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=g)
    chunks = _chunks(order, batch_size, max_steps)
    gen = torch.Generator().manual_seed(neg_seed * 7_919 + epoch)
    plans = []
    for c in chunks:
        src, dst = pairs[0, c], pairs[1, c]
        if labels is not None:
            plans.append((src, dst, labels[c]))
            continue
        pick = torch.randint(0, c.numel(), (negatives,), generator=gen)
        neg_dst = torch.randint(0, num_dst, (negatives,), generator=gen)
        s = torch.cat([src, src[pick]])
        d = torch.cat([dst, neg_dst])
        y = torch.cat([torch.ones(c.numel(), dtype=torch.long),
                       torch.zeros(negatives, dtype=torch.long)])
        # a (src, dst) pair may appear twice (negative hits a positive): keep the first
        key = s * (num_dst + 1) + d
        _, first = _first_unique(key)
        plans.append((s[first], d[first], y[first]))
    return len(plans), prefetch(lambda: (sampler.sample_from_edges(relation, s, d, y,
                                                                   epoch=epoch)
                                         for s, d, y in plans))


def _first_unique(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    uniq, inverse = torch.unique(key, return_inverse=True)
    first = torch.full((uniq.numel(),), key.numel(), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(key.numel()), reduce="amin")
    return uniq, torch.sort(first).values
