"""Train/valid/test splits: from the spec's split property, else a seeded split in the graph.

A random split is written into Neo4j (`_split` on nodes or relationships) the first time a task
needs it and is never overwritten, so every later run, and writeback, sees the same split. Only
elements without a split get one: re-running is safe and idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

import neo4j
import torch

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler.csr import SPLIT_PROPERTY
from lmgnn.sampler.loader import EdgeSeeds, edge_seeds
from lmgnn.sampler.reads import read
from lmgnn.spec import EdgeType, GraphSpec

SPLITS = ("train", "valid", "test")
WRITE_BATCH = 10_000


@dataclass(frozen=True)
class NodeSplit:
    """Dense ids of one label per split."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor


@dataclass(frozen=True)
class EdgeSplit:
    """One relation's edges per split (pairs, label values), sorted by (source, target)."""

    train: EdgeSeeds
    valid: EdgeSeeds
    test: EdgeSeeds


def _assign(count: int, seed: int, fractions: tuple[float, float, float]) -> list[str]:
    """A seeded random split of `count` items with the given train/valid/test fractions."""
    if abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise UserError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    perm = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    n_train = round(count * fractions[0])
    n_valid = round(count * fractions[1])
    out = ["test"] * count
    for i in perm[:n_train].tolist():
        out[i] = "train"
    for i in perm[n_train:n_train + n_valid].tolist():
        out[i] = "valid"
    return out


def _check_values(values: list[str | None], where: str) -> None:
    bad = sorted({str(v) for v in values if v is not None and v not in SPLITS})
    if bad:
        raise UserError(f"{where}: split values must be train/valid/test, found {bad[:5]}")


def _write(driver: neo4j.Driver, database: str, query: str, rows: list[dict]) -> None:
    for i in range(0, len(rows), WRITE_BATCH):
        chunk = rows[i:i + WRITE_BATCH]
        with driver.session(database=database) as session:
            session.execute_write(lambda tx, c=chunk: tx.run(query, rows=c).consume())


def node_split(driver: neo4j.Driver, database: str, spec: GraphSpec, label: str,
               seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
               only: torch.Tensor | None = None) -> NodeSplit:
    """The split of `label`'s nodes; writes `_split` for nodes without one (spec prop first).

    `only` restricts the split to these ids (e.g. labelled nodes) when a split is generated.
    """
    node = spec.node(label)
    prop = node.split or SPLIT_PROPERTY
    rows = read(driver, database, cypher.render("train/node_splits", label=label, prop=prop))
    nids = [r["nid"] for r in rows]
    values = [r["split"] for r in rows]
    _check_values(values, f"{label}.{prop}")
    if node.split is None:
        keep = set(only.tolist()) if only is not None else None
        missing = [i for i, v in enumerate(values)
                   if v is None and (keep is None or nids[i] in keep)]
        missing.sort(key=lambda i: nids[i])  # deterministic regardless of store order
        if missing:
            fresh = _assign(len(missing), seed, fractions)
            _write(driver, database, cypher.render("train/set_node_splits", label=label),
                   [{"nid": nids[i], "split": s} for i, s in zip(missing, fresh, strict=True)])
            for i, s in zip(missing, fresh, strict=True):
                values[i] = s
    by = {s: torch.tensor(sorted(n for n, v in zip(nids, values, strict=True) if v == s),
                          dtype=torch.long) for s in SPLITS}
    if not len(by["train"]):
        raise UserError(f"no {label} node is in the train split (property {prop})")
    return NodeSplit(**by)


def edge_split(driver: neo4j.Driver, database: str, spec: GraphSpec, relation: EdgeType,
               seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
               ) -> EdgeSplit:
    """The split of one relation's edges (read with ``lmgnn.sampler.edge_seeds``, the one
    edge reader); writes `_split` on relationships without one."""
    rel = spec.relation(relation)
    prop = rel.split or SPLIT_PROPERTY
    src, typ, dst = rel.edge_type
    seeds = edge_seeds(driver, database, spec, rel.edge_type)
    values = list(seeds.splits)
    _check_values(values, f"{src}-[:{typ}]->{dst}.{prop}")
    if rel.split is None:
        pairs = list(zip(seeds.src.tolist(), seeds.dst.tolist(), strict=True))
        # sorted by pair: deterministic regardless of store order
        order = sorted((i for i, v in enumerate(values) if v is None), key=lambda i: pairs[i])
        if order:
            fresh = _assign(len(order), seed, fractions)
            _write(driver, database, cypher.render("train/set_edge_splits", src=src, rel=typ,
                                                   dst=dst),
                   [{"src": pairs[i][0], "dst": pairs[i][1], "split": s}
                    for i, s in zip(order, fresh, strict=True)])
            for i, s in zip(order, fresh, strict=True):
                values[i] = s
    seeds = EdgeSeeds(seeds.src, seeds.dst, seeds.label_values, values)
    by = {s: _sorted(seeds.where(s)) for s in SPLITS}
    if not len(by["train"]):
        raise UserError(f"relation {src}-[:{typ}]->{dst} has no edge in the train split")
    return EdgeSplit(**by)


def _sorted(seeds: EdgeSeeds) -> EdgeSeeds:
    """By (source, target): the same order whatever the store order."""
    if not len(seeds):
        return seeds
    order = torch.argsort(seeds.src * (int(seeds.dst.max()) + 1) + seeds.dst, stable=True)
    return EdgeSeeds(seeds.src[order], seeds.dst[order],
                     [seeds.label_values[i] for i in order.tolist()],
                     [seeds.splits[i] for i in order.tolist()])
