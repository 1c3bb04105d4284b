"""The write core: streams of prediction batches in, batched UNWIND transactions out.

A ``Sink`` per output (``NodeClassSink``, ``EmbeddingSink``, ``LinkSink``, ``EdgeClassSink``)
takes batches as inference yields them (so predictions are never all in memory; one pass can
feed several sinks), regroups their rows into transactions of about ``batch_rows`` items and
writes each with ``session.execute_write``; the transaction that writes a batch also adds its
items to the output's count in the manifest. ``write_*`` drain one iterable into one sink. So:

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
from collections.abc import Callable, Iterable, Sequence
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
    seconds: float  # all of it, from opening the output to marking it complete
    index_seconds: float = 0.0  # of which: building the vector index (embeddings)


# ---- sinks: one output each, fed batch by batch -------------------------------------------------
class Sink:
    """One output of a run, written as batches arrive (a context manager).

    ``with sink: sink.add(batch) ...``: entering opens the output (and clears the run's old
    data there unless appending); leaving normally writes the rest and marks it complete;
    leaving by an exception writes nothing more (the output stays 'writing'). Several sinks
    can be fed from one inference pass.
    """

    kind = ""

    def __init__(self, driver: neo4j.Driver, database: str, run_id: str, output_id: str,
                 props: dict[str, Any], query: str, *, batch_rows: int, append: bool,
                 on_rows: ProgressFn | None, what: str,
                 params: dict[str, Any] | None = None) -> None:
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self.driver, self.database, self.run_id = driver, database, run_id
        self.output_id, self.props, self.query = output_id, props, query
        self.batch_rows, self.append, self.on_rows, self.what = batch_rows, append, on_rows, what
        self.params = params or {}
        self._buffer: Rows = []
        self._load = 0
        self._items = self._transactions = 0
        self._started = 0.0
        self._session: neo4j.Session | None = None
        self.stats: WriteStats | None = None

    # -- what each output defines --
    def rows(self, batch: Any) -> Rows:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def weight(self, row: dict[str, Any]) -> int:
        return 1

    def expected(self, rows: Rows) -> int:
        return len(rows)

    def before_finish(self) -> None:
        """Work after the last batch (e.g. the vector index)."""

    # -- the protocol --
    def __enter__(self) -> Sink:
        self._started = time.perf_counter()
        manifest.ensure_schema(self.driver, self.database)
        manifest.begin_output(self.driver, self.database, self.run_id, self.output_id, self.kind,
                              self.props, append=self.append)
        if not self.append:
            self.clear()
        self._session = self.driver.session(database=self.database)
        return self

    def add(self, batch: Any) -> None:
        for row in self.rows(batch):
            w = self.weight(row)
            if self._buffer and self._load + w > self.batch_rows:
                self._flush()
            self._buffer.append(row)
            self._load += w
            if self._load >= self.batch_rows:
                self._flush()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                if self._buffer:
                    self._flush()
                before = time.perf_counter()
                self.before_finish()
                finishing = time.perf_counter() - before
                manifest.finish_output(self.driver, self.database, self.output_id)
                self.stats = WriteStats(self.output_id, self._items, self._transactions,
                                        time.perf_counter() - self._started,
                                        finishing if self.kind == "embedding" else 0.0)
        finally:
            if self._session is not None:
                self._session.close()

    def _flush(self) -> None:
        rows, self._buffer, self._load = self._buffer, [], 0
        assert self._session is not None, "use the sink in a `with` block"
        self._items += self._session.execute_write(
            _write_batch, self.query, rows, self.params, self.output_id, self.expected(rows),
            self.what)
        self._transactions += 1
        if self.on_rows:
            self.on_rows(len(rows))


class NodeClassSink(Sink):
    """Predicted class (as the target property's value), its probability, optionally all.

    ``classes[i]`` is the target value of class ``i``, converted to the spec's property type.
    """

    kind = "node_class"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 label: str, *, classes: Sequence[Any], target: str | None = None,
                 distribution: bool = False, batch_rows: int = 10_000,
                 on_rows: ProgressFn | None = None, append: bool = False) -> None:
        self.names = names = naming.node_class_names(spec, run_id, label, target)
        self.values = _class_values(classes, spec.nodes[label].properties[names.target],
                                    f"{label}.{names.target}")
        self.distribution = distribution
        props = {**names.identifiers(spec), "dist": names.dist if distribution else None,
                 "classes": self.values}
        query = cypher.render("writeback/node_class", label=label, pred=names.pred,
                              prob=names.prob, dist=names.dist)
        super().__init__(driver, database, run_id, names.output_id, props, query,
                         batch_rows=batch_rows, append=append, on_rows=on_rows,
                         what=f"{label} nodes")

    def rows(self, batch: NodeClassBatch) -> Rows:
        index, prob = top_class(batch.probs)
        dists = cpu_list(batch.probs) if self.distribution else [None] * len(index)
        return [{"nid": nid, "pred": _pick(self.values, i), "prob": p, "dist": dist}
                for nid, i, p, dist in zip(cpu_list(batch.nids), index, prob, dists,
                                           strict=True)]

    def clear(self) -> None:
        clear_node_classes(self.driver, self.database, self.names)


class EmbeddingSink(Sink):
    """Embeddings as LIST<FLOAT> properties, then a vector index for (label, run)."""

    kind = "embedding"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 label: str, *, similarity: str = "cosine", batch_rows: int = 2_000,
                 on_rows: ProgressFn | None = None, append: bool = False,
                 index: bool = True, index_timeout_s: int = 600) -> None:
        if similarity not in ("cosine", "euclidean"):
            raise UserError(f"vector similarity must be cosine or euclidean, got {similarity!r}")
        self.names = names = naming.embedding_names(spec, run_id, label)
        self.similarity, self.index, self.index_timeout_s = similarity, index, index_timeout_s
        self.dims: set[int] = set()
        if append:  # new vectors must fit the run's vector index
            self.dims.update(o["dimensions"] for o in
                             manifest.outputs_of_run(driver, database, run_id)
                             if o["id"] == names.output_id and o.get("dimensions"))
        props = {**names.identifiers(spec), "index": names.index, "similarity": similarity}
        super().__init__(driver, database, run_id, names.output_id, props,
                         cypher.render("writeback/embedding", label=label),
                         batch_rows=batch_rows, append=append, on_rows=on_rows,
                         what=f"{label} nodes", params={"property": names.property})

    def rows(self, batch: EmbeddingBatch) -> Rows:
        self.dims.add(batch.vectors.size(1))
        if len(self.dims) > 1 or not 1 <= batch.vectors.size(1) <= MAX_VECTOR_DIMENSIONS:
            raise ValueError(f"embeddings of {self.names.label} must have one size in 1.."
                             f"{MAX_VECTOR_DIMENSIONS}, got {sorted(self.dims)}")
        return [{"nid": nid, "vec": vec} for nid, vec in
                zip(cpu_list(batch.nids), cpu_list(batch.vectors), strict=True)]

    def clear(self) -> None:
        clear_embeddings(self.driver, self.database, self.names)

    def before_finish(self) -> None:
        if not self.dims or not self.index:
            return
        dimensions = next(iter(self.dims))
        n = self.names
        self.driver.execute_query(cypher.render("writeback/vector_index", label=n.label,
                                                property=n.property),
                                  name=n.index, dimensions=dimensions,
                                  similarity=self.similarity, database_=self.database)
        self.driver.execute_query(cypher.load("writeback/await_index"), name=n.index,
                                  timeout_s=self.index_timeout_s, database_=self.database)
        manifest.update_output(self.driver, self.database, n.output_id,
                               {"dimensions": dimensions})


class LinkSink(Sink):
    """Top-k predicted links per source as ``PREDICTED_<TYPE> {run, score, rank}`` (rank 1 =
    best). The caller excludes links that already exist (see ``links.rank_links``)."""

    kind = "links"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 edge_type: EdgeType | str, *, batch_rows: int = 10_000,
                 on_rows: ProgressFn | None = None, append: bool = False) -> None:
        self.names = names = naming.link_names(spec, run_id, edge_type)
        source, _, target = names.edge_type
        query = cypher.render("writeback/links", source=source, target=target,
                              type=names.rel_type)
        super().__init__(driver, database, run_id, names.output_id, names.identifiers(spec),
                         query, batch_rows=batch_rows, append=append, on_rows=on_rows,
                         what=f"{target} link targets", params={"run_id": run_id})

    def rows(self, batch: LinkBatch) -> Rows:
        out = []
        for src, dsts, scores in zip(cpu_list(batch.src), cpu_list(batch.dst),
                                     cpu_list(batch.score), strict=True):
            kept = [(d, s) for d, s in zip(dsts, scores, strict=True) if d >= 0]
            out.append({"src": src, "links": [{"dst": d, "score": s, "rank": r}
                                              for r, (d, s) in enumerate(kept, start=1)]})
        return out

    def weight(self, row: dict[str, Any]) -> int:
        return max(1, len(row["links"]))

    def expected(self, rows: Rows) -> int:
        return sum(len(r["links"]) for r in rows)

    def clear(self) -> None:
        clear_links(self.driver, self.database, self.names)


class EdgeClassSink(Sink):
    """Predicted class and probability as properties of the existing relationships."""

    kind = "edge_class"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 edge_type: EdgeType | str, *, classes: Sequence[Any],
                 target: str | None = None, batch_rows: int = 10_000,
                 on_rows: ProgressFn | None = None, append: bool = False) -> None:
        self.names = names = naming.edge_class_names(spec, run_id, edge_type, target)
        source, rel_type, dst_label = names.edge_type
        rel = spec.relation(names.edge_type)
        self.values = _class_values(classes, rel.properties[names.target],
                                    f"{rel_type}.{names.target}")
        query = cypher.render("writeback/edge_class", source=source, type=rel_type,
                              target=dst_label, pred=names.pred, prob=names.prob)
        super().__init__(driver, database, run_id, names.output_id,
                         {**names.identifiers(spec), "classes": self.values}, query,
                         batch_rows=batch_rows, append=append, on_rows=on_rows,
                         what=f"{rel_type} relationships")

    def rows(self, batch: EdgeClassBatch) -> Rows:
        index, prob = top_class(batch.probs)
        return [{"src": s, "dst": d, "pred": _pick(self.values, i), "prob": p}
                for s, d, i, p in zip(cpu_list(batch.src), cpu_list(batch.dst), index, prob,
                                      strict=True)]

    def clear(self) -> None:
        clear_edge_classes(self.driver, self.database, self.names)


# ---- one output from one stream ------------------------------------------------------------------
def write_node_classes(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                       label: str, batches: Iterable[NodeClassBatch], **options: Any
                       ) -> WriteStats:
    """Stream NodeClassBatches into the graph; options as for ``NodeClassSink``."""
    return _drain(NodeClassSink(driver, database, spec, run_id, label, **options), batches)


def write_embeddings(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                     label: str, batches: Iterable[EmbeddingBatch], **options: Any
                     ) -> WriteStats:
    """Stream EmbeddingBatches into the graph, then index them; see ``EmbeddingSink``."""
    return _drain(EmbeddingSink(driver, database, spec, run_id, label, **options), batches)


def write_links(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                edge_type: EdgeType | str, batches: Iterable[LinkBatch], **options: Any
                ) -> WriteStats:
    """Stream LinkBatches into the graph; see ``LinkSink``."""
    return _drain(LinkSink(driver, database, spec, run_id, edge_type, **options), batches)


def write_edge_classes(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                       edge_type: EdgeType | str, batches: Iterable[EdgeClassBatch],
                       **options: Any) -> WriteStats:
    """Stream EdgeClassBatches onto existing relationships; see ``EdgeClassSink``."""
    return _drain(EdgeClassSink(driver, database, spec, run_id, edge_type, **options), batches)


def _drain(sink: Sink, batches: Iterable[Any]) -> WriteStats:
    with sink:
        for batch in batches:
            sink.add(batch)
    assert sink.stats is not None
    return sink.stats


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
