"""Train/valid/test splits: from the spec's split property, else a seeded split in the graph.

A random split is written into Neo4j (`_split` on nodes or relationships) the first time a task
needs it and is never overwritten, so every later run, and writeback, sees the same split. Only
elements without a split get one: re-running is safe and idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import neo4j
import torch

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler.csr import SPLIT_PROPERTY, node_counts
from lmgnn.sampler.loader import SPLIT_CODES, EdgeSeeds, edge_seeds
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


PAGE = 100_000


def _write(driver: neo4j.Driver, database: str, query: str, rows: list[dict]) -> None:
    for i in range(0, len(rows), WRITE_BATCH):
        chunk = rows[i:i + WRITE_BATCH]
        with driver.session(database=database) as session:
            session.execute_write(lambda tx, c: tx.run(query, rows=c).consume(), chunk)


def node_property_pages(driver: neo4j.Driver, database: str, label: str, prop: str,
                        count: int, page: int = PAGE) -> Iterator[tuple[torch.Tensor, list]]:
    """(nids, values) of one node property, a page of ``_nid``s at a time (its own read
    transaction each): a label's column is never held whole as records."""
    query = cypher.render("train/node_property_page", label=label, prop=prop)
    for lo in range(0, count, page):
        records = read(driver, database, query, lo=lo, hi=lo + page)
        if records and records[0]["nid"]:
            yield (torch.tensor(records[0]["nid"], dtype=torch.long),
                   [v[0] for v in records[0]["value"]])


def node_split(driver: neo4j.Driver, database: str, spec: GraphSpec, label: str,
               seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
               only: torch.Tensor | None = None, count: int | None = None) -> NodeSplit:
    """The split of `label`'s nodes; writes `_split` for nodes without one (spec prop first).

    `only` restricts the split to these ids (e.g. labelled nodes) when a split is generated.
    Splits are held as one byte per node (a code), read and written in pages.
    """
    node = spec.node(label)
    prop = node.split or SPLIT_PROPERTY
    if count is None:
        count = node_counts(driver, database, spec)[label]
    codes = torch.full((count,), -1, dtype=torch.int8)  # -1: no such node
    for nids, values in node_property_pages(driver, database, label, prop, count):
        _check_values(values, f"{label}.{prop}")
        codes[nids] = torch.tensor([SPLIT_CODES[v] for v in values], dtype=torch.int8)
    if node.split is None:
        wanted = codes == 0
        if only is not None:
            keep = torch.zeros(count, dtype=torch.bool)
            keep[only] = True
            wanted &= keep
        missing = torch.nonzero(wanted).flatten()  # ascending _nid: deterministic
        if missing.numel():
            fresh = _assign(int(missing.numel()), seed, fractions)
            query = cypher.render("train/set_node_splits", label=label)
            for lo in range(0, int(missing.numel()), WRITE_BATCH):
                chunk = missing[lo:lo + WRITE_BATCH].tolist()
                _write(driver, database, query, [{"nid": n, "split": s} for n, s in
                                                 zip(chunk, fresh[lo:lo + WRITE_BATCH],
                                                     strict=True)])
            codes[missing] = torch.tensor([SPLIT_CODES[v] for v in fresh], dtype=torch.int8)
    by = {s: torch.nonzero(codes == SPLIT_CODES[s]).flatten() for s in SPLITS}
    if not len(by["train"]):
        raise UserError(f"no {label} node is in the train split (property {prop})")
    return NodeSplit(**by)


def edge_split(driver: neo4j.Driver, database: str, spec: GraphSpec, relation: EdgeType,
               seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
               ) -> EdgeSplit:
    """The split of one relation's edges (read with ``lmgnn.sampler.edge_seeds``, the one
    edge reader, as a byte per edge); writes `_split` on relationships without one."""
    rel = spec.relation(relation)
    prop = rel.split or SPLIT_PROPERTY
    src, typ, dst = rel.edge_type
    seeds = edge_seeds(driver, database, spec, rel.edge_type)
    if seeds.unknown_splits:
        raise UserError(f"{src}-[:{typ}]->{dst}.{prop}: split values must be train/valid/test, "
                        f"found {sorted(seeds.unknown_splits)[:5]}")
    seeds = _sorted(seeds)  # by (source, target): deterministic regardless of store order
    if rel.split is None:
        missing = torch.nonzero(seeds.split_codes == SPLIT_CODES[None]).flatten()
        if missing.numel():
            fresh = _assign(int(missing.numel()), seed, fractions)
            query = cypher.render("train/set_edge_splits", src=src, rel=typ, dst=dst)
            for lo in range(0, int(missing.numel()), WRITE_BATCH):
                part = missing[lo:lo + WRITE_BATCH]
                _write(driver, database, query, [
                    {"src": a, "dst": b, "split": s} for a, b, s in zip(
                        seeds.src[part].tolist(), seeds.dst[part].tolist(),
                        fresh[lo:lo + WRITE_BATCH], strict=True)])
            seeds.split_codes[missing] = torch.tensor([SPLIT_CODES[v] for v in fresh],
                                                      dtype=torch.int8)
    by = {s: seeds.where(s) for s in SPLITS}
    if not len(by["train"]):
        raise UserError(f"relation {src}-[:{typ}]->{dst} has no edge in the train split")
    return EdgeSplit(**by)


def _sorted(seeds: EdgeSeeds) -> EdgeSeeds:
    if not len(seeds):
        return seeds
    return seeds.take(torch.argsort(seeds.src * (int(seeds.dst.max()) + 1) + seeds.dst,
                                    stable=True))
