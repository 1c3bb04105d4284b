"""The write core: streams of prediction batches in, batched UNWIND transactions out.

Each ``write_*`` function consumes an iterable of batches (a generator, so predictions are never
all in memory), regroups their rows into transactions of about ``batch_rows`` items and writes
each with ``session.execute_write``; the transaction that writes a batch also adds its rows to
the output's count in the manifest. So:

- an interrupted writeback leaves whole transactions only, and its output stays 'writing';
- writing an output first clears what the run wrote there before, so a re-run replaces the
  run's predictions (completing an interrupted one) and never duplicates anything;
- ``append=True`` (``lmgnn predict``: nodes added after training) writes without clearing;
  the manifest counts only items that are new, so its count always equals what is stored;
- a batch naming a node or relationship that is not in the graph is rolled back with an error.

Labels, types and property names come from ``naming`` (checked against the spec) and reach
Cypher only through ``cypher_files.render``; every value is a parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import neo4j

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.spec import NID, EdgeType, GraphSpec
from lmgnn.writeback import manifest, naming
from lmgnn.writeback.batches import (
    EdgeClassBatch,
    EmbeddingBatch,
    LinkBatch,
    NodeClassBatch,
    cpu_list,
    top_class,
)
from lmgnn.writeback.clear import (
    clear_edge_classes,
    clear_embeddings,
    clear_links,
    clear_node_classes,
)

Rows = list[dict[str, Any]]
ProgressFn = Callable[[int], None]
MAX_VECTOR_DIMENSIONS = 4096


class MissingInGraph(UserError):
    """A prediction names a node or relationship that the graph does not hold (any more)."""


@dataclass(frozen=True)
class WriteStats:
    """What one output's writeback did."""

    output_id: str
    items: int  # nodes, relationships or links written
    transactions: int
    seconds: float


# ---- the four outputs --------------------------------------------------------------------------
def write_node_classes(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                       label: str, batches: Iterable[NodeClassBatch], *, classes: Sequence[Any],
                       target: str | None = None, distribution: bool = False,
                       batch_rows: int = 10_000, on_rows: ProgressFn | None = None,
                       append: bool = False) -> WriteStats:
    """Predicted class (as the target property's value), its probability, optionally all.

    ``classes[i]`` is the target value of class ``i``, converted to the spec's property type.
    """
    names = naming.node_class_names(spec, run_id, label, target)
    values = _class_values(classes, spec.nodes[label].properties[names.target],
                           f"{label}.{names.target}")
    props = {**names.identifiers(spec), "dist": names.dist if distribution else None,
             "classes": values}
    query = cypher.render("writeback/node_class", label=label, pred=names.pred, prob=names.prob,
                          dist=names.dist)

    def rows() -> Iterator[Rows]:
        for batch in batches:
            index, prob = top_class(batch.probs)
            dists = cpu_list(batch.probs) if distribution else [None] * len(index)
            yield [{"nid": nid, "pred": _pick(values, i), "prob": p, "dist": dist}
                   for nid, i, p, dist in zip(cpu_list(batch.nids), index, prob, dists,
                                              strict=True)]

    def clear() -> None:
        clear_node_classes(driver, database, names)

    return _write_output(driver, database, run_id, names.output_id, "node_class", props, clear,
                         query, rows(), batch_rows=batch_rows, on_rows=on_rows, append=append,
                         what=f"{label} nodes")


def write_embeddings(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                     label: str, batches: Iterable[EmbeddingBatch], *,
                     similarity: str = "cosine", batch_rows: int = 2_000,
                     on_rows: ProgressFn | None = None, append: bool = False,
                     index_timeout_s: int = 600) -> WriteStats:
    """Embeddings as LIST<FLOAT> properties, then a vector index for (label, run)."""
    if similarity not in ("cosine", "euclidean"):
        raise UserError(f"vector similarity must be cosine or euclidean, got {similarity!r}")
    names = naming.embedding_names(spec, run_id, label)
    dims: set[int] = set()
    if append:  # new vectors must fit the run's vector index
        dims.update(o["dimensions"] for o in manifest.outputs_of_run(driver, database, run_id)
                    if o["id"] == names.output_id and o.get("dimensions"))
    props = {**names.identifiers(spec), "index": names.index, "similarity": similarity}
    query = cypher.render("writeback/embedding", label=label)

    def rows() -> Iterator[Rows]:
        for batch in batches:
            dims.add(batch.vectors.size(1))
            if len(dims) > 1 or not 1 <= batch.vectors.size(1) <= MAX_VECTOR_DIMENSIONS:
                raise ValueError(f"embeddings of {label} must have one size in 1.."
                                 f"{MAX_VECTOR_DIMENSIONS}, got {sorted(dims)}")
            yield [{"nid": nid, "vec": vec} for nid, vec in
                   zip(cpu_list(batch.nids), cpu_list(batch.vectors), strict=True)]

    def clear() -> None:
        clear_embeddings(driver, database, names)

    def create_index() -> None:
        if not dims:
            return
        dimensions = dims.pop()
        driver.execute_query(cypher.render("writeback/vector_index", label=label,
                                           property=names.property),
                             name=names.index, dimensions=dimensions, similarity=similarity,
                             database_=database)
        driver.execute_query(cypher.load("writeback/await_index"), name=names.index,
                             timeout_s=index_timeout_s, database_=database)
        manifest.update_output(driver, database, names.output_id, {"dimensions": dimensions})

    return _write_output(driver, database, run_id, names.output_id, "embedding", props, clear,
                         query, rows(), batch_rows=batch_rows, on_rows=on_rows, append=append,
                         params={"property": names.property}, what=f"{label} nodes",
                         before_finish=create_index)


def write_links(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                edge_type: EdgeType | str, batches: Iterable[LinkBatch], *,
                batch_rows: int = 10_000, on_rows: ProgressFn | None = None,
                append: bool = False) -> WriteStats:
    """Top-k predicted links per source as ``PREDICTED_<TYPE> {run, score, rank}`` (rank 1 =
    best). The caller excludes links that already exist (see ``links.rank_links``)."""
    names = naming.link_names(spec, run_id, edge_type)
    source, _, target = names.edge_type
    props = names.identifiers(spec)
    query = cypher.render("writeback/links", source=source, target=target, type=names.rel_type)

    def rows() -> Iterator[Rows]:
        for batch in batches:
            out = []
            for src, dsts, scores in zip(cpu_list(batch.src), cpu_list(batch.dst),
                                         cpu_list(batch.score), strict=True):
                links = [{"dst": d, "score": s, "rank": r}
                         for r, (d, s) in enumerate(((d, s) for d, s in zip(dsts, scores,
                                                                             strict=True)
                                                     if d >= 0), start=1)]
                out.append({"src": src, "links": links})
            yield out

    def clear() -> None:
        clear_links(driver, database, names)

    return _write_output(driver, database, run_id, names.output_id, "links", props, clear,
                         query, rows(), batch_rows=batch_rows, on_rows=on_rows, append=append,
                         params={"run_id": run_id}, what=f"{target} link targets",
                         weight=lambda row: max(1, len(row["links"])),
                         expected=lambda rows: sum(len(r["links"]) for r in rows))


def write_edge_classes(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                       edge_type: EdgeType | str, batches: Iterable[EdgeClassBatch], *,
                       classes: Sequence[Any], target: str | None = None,
                       batch_rows: int = 10_000, on_rows: ProgressFn | None = None,
                       append: bool = False) -> WriteStats:
    """Predicted class and probability as properties of the existing relationships."""
    names = naming.edge_class_names(spec, run_id, edge_type, target)
    source, rel_type, dst_label = names.edge_type
    rel = spec.relation(names.edge_type)
    values = _class_values(classes, rel.properties[names.target], f"{rel_type}.{names.target}")
    props = {**names.identifiers(spec), "classes": values}
    query = cypher.render("writeback/edge_class", source=source, type=rel_type, target=dst_label,
                          pred=names.pred, prob=names.prob)

    def rows() -> Iterator[Rows]:
        for batch in batches:
            index, prob = top_class(batch.probs)
            yield [{"src": s, "dst": d, "pred": _pick(values, i), "prob": p}
                   for s, d, i, p in zip(cpu_list(batch.src), cpu_list(batch.dst), index, prob,
                                         strict=True)]

    def clear() -> None:
        clear_edge_classes(driver, database, names)

    return _write_output(driver, database, run_id, names.output_id, "edge_class", props, clear,
                         query, rows(), batch_rows=batch_rows, on_rows=on_rows, append=append,
                         what=f"{rel_type} relationships")


# ---- shared machinery --------------------------------------------------------------------------
def _write_output(driver: neo4j.Driver, database: str, run_id: str, output_id: str, kind: str,
                  props: dict[str, Any], clear: Callable[[], None], query: str,
                  row_batches: Iterable[Rows], *, batch_rows: int, on_rows: ProgressFn | None,
                  append: bool, what: str, params: dict[str, Any] | None = None,
                  weight: Callable[[dict[str, Any]], int] = lambda row: 1,
                  expected: Callable[[Rows], int] = len,
                  before_finish: Callable[[], None] | None = None) -> WriteStats:
    """Open the output, clear the run's old data there (unless appending), write, finish."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    started = time.perf_counter()
    manifest.ensure_schema(driver, database)
    manifest.begin_output(driver, database, run_id, output_id, kind, props, append=append)
    if not append:
        clear()
    items = transactions = 0
    with driver.session(database=database) as session:
        for tx_rows in _regroup(row_batches, batch_rows, weight):
            written = session.execute_write(_write_batch, query, tx_rows, params or {},
                                            output_id, expected(tx_rows), what)
            items += written
            transactions += 1
            if on_rows:
                on_rows(len(tx_rows))
    if before_finish:
        before_finish()
    manifest.finish_output(driver, database, output_id)
    return WriteStats(output_id, items, transactions, time.perf_counter() - started)


def _write_batch(tx: neo4j.ManagedTransaction, query: str, rows: Rows, params: dict[str, Any],
                 output_id: str, expected: int, what: str) -> int:
    """One transaction: the batch and its count, or nothing (the driver may call this again)."""
    record = tx.run(query, rows=rows, **params).single(strict=True)
    written, added = record["written"], record["added"]
    if written != expected:
        nids = sorted({r.get("nid", r.get("src")) for r in rows})
        raise MissingInGraph(
            f"{expected - written} of {expected} {what} in a batch (by {NID} in "
            f"{nids[0]}..{nids[-1]}) are not in the graph: it changed since the run was "
            "trained; reload the graph or score new nodes with `lmgnn predict`")
    manifest.count_batch(tx, output_id, added)
    return written


def _regroup(row_batches: Iterable[Rows], batch_rows: int,
             weight: Callable[[dict[str, Any]], int]) -> Iterator[Rows]:
    """Rows regrouped into transactions of at most ``batch_rows`` weight (at least one row)."""
    buffer: Rows = []
    load = 0
    for rows in row_batches:
        for row in rows:
            w = weight(row)
            if buffer and load + w > batch_rows:
                yield buffer
                buffer, load = [], 0
            buffer.append(row)
            load += w
            if load >= batch_rows:
                yield buffer
                buffer, load = [], 0
    if buffer:
        yield buffer


_CASTS: dict[str, Callable[[Any], Any]] = {"string": str, "int": int, "float": float,
                                           "bool": bool}


def _class_values(classes: Sequence[Any], kind: str, where: str) -> list[Any]:
    if not classes:
        raise UserError(f"no classes given for {where}")
    try:
        return [_CASTS[kind](c) for c in classes]
    except (TypeError, ValueError) as exc:
        raise UserError(f"class values of {where} must be of type {kind}: {exc}") from exc


def _pick(values: list[Any], index: int) -> Any:
    if not 0 <= index < len(values):
        raise ValueError(f"predicted class {index} is outside the {len(values)} known classes")
    return values[index]
