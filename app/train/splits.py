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
from lmgnn.spec import EdgeType, GraphSpec

SPLITS = ("train", "valid", "test")
SPLIT_PROP = "_split"
WRITE_BATCH = 10_000


@dataclass(frozen=True)
class NodeSplit:
    """Dense ids of one label per split."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor


@dataclass(frozen=True)
class EdgeSplit:
    """Edges (2, E) of one relation per split, as (source _nid, target _nid) columns."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor


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
    prop = node.split or SPLIT_PROP
    rows = driver.execute_query(cypher.render("train/node_splits", label=label, prop=prop),
                                database_=database, routing_="r")[0]
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
    """The split of one relation's edges; writes `_split` on relationships without one."""
    rel = spec.relation(relation)
    prop = rel.split or SPLIT_PROP
    src, typ, dst = rel.edge_type
    rows = driver.execute_query(cypher.render("train/edge_splits", src=src, rel=typ, dst=dst,
                                              prop=prop), database_=database, routing_="r")[0]
    pairs = [(r["src"], r["dst"]) for r in rows]
    values = [r["split"] for r in rows]
    _check_values(values, f"{src}-[:{typ}]->{dst}.{prop}")
    if rel.split is None:
        order = sorted((i for i, v in enumerate(values) if v is None), key=lambda i: pairs[i])
        # (sorted by pair: deterministic regardless of store order)
        if order:
            fresh = _assign(len(order), seed, fractions)
            _write(driver, database, cypher.render("train/set_edge_splits", src=src, rel=typ,
                                                   dst=dst),
                   [{"src": pairs[i][0], "dst": pairs[i][1], "split": s}
                    for i, s in zip(order, fresh, strict=True)])
            for i, s in zip(order, fresh, strict=True):
                values[i] = s
    by = {}
    for s in SPLITS:
        chosen = sorted(p for p, v in zip(pairs, values, strict=True) if v == s)
        by[s] = torch.tensor(chosen, dtype=torch.long).T.reshape(2, -1)
    if not by["train"].size(1):
        raise UserError(f"relation {src}-[:{typ}]->{dst} has no edge in the train split")
    return EdgeSplit(**by)
