"""The write core: streams of prediction batches in, batched UNWIND transactions out.

A ``Sink`` per output (``NodeClassSink``, ``EmbeddingSink``, ``LinkSink``, ``EdgeClassSink``)
takes batches as inference yields them (so predictions are never all in memory; one pass can
feed several sinks), regroups their rows into transactions of about ``batch_rows`` items, sent
as parallel lists (cheaper to encode than a map per row), and writes each with
``session.execute_write``; the transaction that writes a batch also adds the items it added to
the output's count in the manifest, so the count is always what the graph holds. So:

- nothing is cleared first: items are overwritten in place (a node's prediction, a source's
  top-k links, each in one transaction), and what an earlier write stored that this one did
  not write again is removed at the end. A re-write of a complete output therefore never
  leaves readers without a complete set: the output stays readable ('rewriting') and every
  item is the old or the new one until the swap is done ('complete');
- an interrupted writeback leaves whole transactions only; a re-run completes it, and never
  duplicates anything;
- the swap is per item, not per run, and that is enough for a re-run on the same graph: a
  run's inference is deterministic (seeded sampling, eval mode, the run's weights), so old
  and new items are the same values and a re-write killed anywhere leaves the complete run
  (tests/faults/test_writeback_faults.py). A run-level swap would need either one
  transaction over every item of the run (server heap growing with the run) or readers that
  take property names from the manifest instead of the fixed ``naming`` ones; so after the
  graph changed, items are old or new until the re-write completes ('rewriting');
- ``append=True`` (``lmgnn predict``: nodes added after training) writes without removing
  anything else;
- links of an output that holds none yet are CREATEd without looking for old ones;
- a batch naming a node or relationship that is not in the graph is rolled back with an error.

Labels, types and property names come from ``naming`` (checked against the spec) and reach
Cypher only through ``cypher_files.render``; every value is a parameter. Batch sizes are the
measured ones (benchmarks/writeback.py, table in loaders/README.md).
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import neo4j
import numpy as np

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.spec import NID, EdgeType, GraphSpec
from lmgnn.train import distributed
from lmgnn.writeback import manifest, naming
from lmgnn.writeback.batches import (
    EdgeClassBatch,
    EmbeddingBatch,
    LinkBatch,
    NodeClassBatch,
    cpu_list,
    top_class,
)

Rows = list[dict[str, Any]]
ProgressFn = Callable[[int], None]
MAX_VECTOR_DIMENSIONS = 4096
# items per transaction, measured (benchmarks/writeback.py): larger ones gained nothing more
NODE_BATCH_ROWS = 20_000
EMBEDDING_BATCH_ROWS = 2_000
LINK_BATCH_ROWS = 20_000
EDGE_BATCH_ROWS = 20_000
LEFTOVER_BATCH = 10_000


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
    removed: int = 0  # items an earlier write left that this one did not write again


# ---- sinks: one output each, fed batch by batch -------------------------------------------------
class Sink:
    """One output of a run, written as batches arrive (a context manager).

    ``with sink: sink.add(batch) ...``: entering opens the output; leaving normally writes the
    rest, removes what an earlier write left and this one did not write again (unless
    appending), and marks it complete; leaving by an exception writes nothing more (a first
    write stays 'writing', a re-write 'rewriting'). Several sinks can be fed from one pass.
    """

    kind = ""
    # batches written at once: items of different batches are different nodes or
    # relationships, so they share no locks (links: one at a time, they lock both end nodes)
    threads = 2

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
        self._items = self._transactions = self._removed = 0
        self._written = array("q")  # ids of what this pass wrote (nid, source or pair code)
        self._started = 0.0
        self._was: str | None = None  # status before this write (None: a new output)
        self._count_before = 0
        self._session: neo4j.Session | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[int], Rows]] = deque()
        self.stats: WriteStats | None = None

    # -- what each output defines --
    def rows(self, batch: Any) -> Rows:
        raise NotImplementedError

    def columns(self, rows: Rows) -> dict[str, list[Any]]:
        """The batch as parallel lists, the statement's parameters."""
        raise NotImplementedError

    def statement(self, rows: Rows) -> tuple[str, dict[str, Any]]:
        return self.query, {**self.params, **self.columns(rows)}

    def written_ids(self, rows: Rows) -> list[int]:
        return [r["nid"] for r in rows]

    def weight(self, row: dict[str, Any]) -> int:
        return 1

    def expected(self, rows: Rows) -> int:
        return len(rows)

    def stored_ids(self) -> np.ndarray:
        """Ids (as ``written_ids`` gives them) of everything the graph holds of the output."""
        raise NotImplementedError

    def remove(self, tx: neo4j.ManagedTransaction, ids: list[int]) -> int:
        """Remove the output's items with these ids; the number removed."""
        raise NotImplementedError

    def before_finish(self) -> None:
        """Work after the last batch (e.g. the vector index)."""

    # -- the protocol --
    def __enter__(self) -> Sink:
        self._started = time.perf_counter()

        def begin() -> tuple[str | None, int]:
            manifest.ensure_schema(self.driver, self.database)
            return manifest.begin_output(self.driver, self.database, self.run_id,
                                         self.output_id, self.kind, self.props)

        # distributed writeback: rank 0 opens the output before any rank writes to it
        self._was, self._count_before = distributed.on_main(begin)
        self._session = self.driver.session(database=self.database)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="lmgnn-writeback") \
            if self.threads > 1 else None
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
                while self._pending:
                    self._collect_one()
                if self._gather_ranks():  # rank 0 (or the only process) finishes the output
                    if not self.append:
                        self._remove_leftovers()
                    before = time.perf_counter()
                    self.before_finish()
                    finishing = time.perf_counter() - before
                    manifest.finish_output(self.driver, self.database, self.output_id)
                    self.stats = WriteStats(self.output_id, self._items, self._transactions,
                                            time.perf_counter() - self._started,
                                            finishing if self.kind == "embedding" else 0.0,
                                            self._removed)
                distributed.barrier()  # every rank returns once the output is complete
        finally:
            if self._pool is not None:  # batches in flight land (whole) before we return
                self._pool.shutdown(wait=True)
            self._pending.clear()
            if self._session is not None:
                self._session.close()

    def _gather_ranks(self) -> bool:
        """Distributed writeback: each rank wrote its own slice (the manifest count is exact,
        every batch added its own); rank 0 receives what every rank wrote (ids, items,
        transactions) and alone finishes the output. True on the rank that finishes it."""
        parts = distributed.gather_to_main((self._items, self._transactions,
                                            self._written.tobytes()))
        if parts is None:
            return False
        if len(parts) > 1:
            self._items = sum(p[0] for p in parts)
            self._transactions = sum(p[1] for p in parts)
            self._written = array("q")
            for p in parts:
                self._written.frombytes(p[2])
        return True

    def _flush(self) -> None:
        rows, self._buffer, self._load = self._buffer, [], 0
        assert self._session is not None, "use the sink in a `with` block"
        query, params = self.statement(rows)
        args: tuple[Any, ...] = (
            _write_batch, query, params, self.output_id, self.expected(rows), self.what,
            lambda: sorted({cast(int, r.get("nid", r.get("src"))) for r in rows}))
        if self._pool is None:
            self._landed(rows, self._session.execute_write(*args))
            return
        self._pending.append((self._pool.submit(self._in_session, args), rows))
        while len(self._pending) >= self.threads:  # at most `threads` batches in flight
            self._collect_one()

    def _in_session(self, args: tuple[Any, ...]) -> int:
        with self.driver.session(database=self.database) as session:
            return session.execute_write(*args)

    def _collect_one(self) -> None:
        future, rows = self._pending.popleft()
        self._landed(rows, future.result())  # a failed batch raises here

    def _landed(self, rows: Rows, written: int) -> None:
        self._items += written
        self._written.extend(self.written_ids(rows))
        self._transactions += 1
        if self.on_rows:
            self.on_rows(len(rows))

    def _remove_leftovers(self) -> None:
        """The swap's second half: drop what the graph holds of the output beyond this pass.

        Free when the count says nothing is left over (the usual case): the count is exact,
        so it equals the distinct items written exactly when every stored item was written.
        """
        written = np.unique(np.frombuffer(self._written, dtype=np.int64))
        stored = manifest.output_count(self.driver, self.database, self.output_id)
        if stored == self.distinct_items(written):
            return
        leftovers = np.setdiff1d(self.stored_ids(), written, assume_unique=False)
        assert self._session is not None
        for lo in range(0, len(leftovers), LEFTOVER_BATCH):
            ids = leftovers[lo:lo + LEFTOVER_BATCH].tolist()
            self._removed += self._session.execute_write(_remove_batch, self, ids)

    def distinct_items(self, written: np.ndarray) -> int:
        """How many items the graph holds of what this pass wrote (distinct ids)."""
        return len(written)


class NodeClassSink(Sink):
    """Predicted class (as the target property's value), its probability, optionally all.

    ``classes[i]`` is the target value of class ``i``, converted to the spec's property type.
    """

    kind = "node_class"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 label: str, *, classes: Sequence[Any], target: str | None = None,
                 distribution: bool = False, batch_rows: int = NODE_BATCH_ROWS,
                 on_rows: ProgressFn | None = None, append: bool = False) -> None:
        self.names = names = naming.node_class_names(spec, run_id, label, target)
        self.values = _class_values(classes, spec.nodes[label].properties[names.target],
                                    f"{label}.{names.target}")
        self.distribution = distribution
        props = {**names.identifiers(spec), "dist": names.dist if distribution else None,
                 "classes": self.values}
        query = cypher.render("writeback/node_class_columns", label=label, pred=names.pred,
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

    def columns(self, rows: Rows) -> dict[str, list[Any]]:
        return {"nids": [r["nid"] for r in rows], "preds": [r["pred"] for r in rows],
                "probs": [r["prob"] for r in rows], "dists": [r["dist"] for r in rows]}

    def stored_ids(self) -> np.ndarray:
        n = self.names
        return _read_ids(self.driver, self.database, cypher.render(
            "writeback/stored_node_values", label=n.label, prop=n.pred))

    def remove(self, tx: neo4j.ManagedTransaction, ids: list[int]) -> int:
        n = self.names
        return _removed(tx, cypher.render("writeback/remove_node_values", label=n.label,
                                          a=n.pred, b=n.prob, c=n.dist), nids=ids)


class EmbeddingSink(Sink):
    """Embeddings as LIST<FLOAT> properties, then a vector index for (label, run).

    A re-write keeps the index (it follows the new vectors as they land); only vectors of
    another size need a new one, built after the last batch.
    """

    kind = "embedding"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 label: str, *, similarity: str = "cosine",
                 batch_rows: int = EMBEDDING_BATCH_ROWS, on_rows: ProgressFn | None = None,
                 append: bool = False, index: bool = True, index_timeout_s: int = 600) -> None:
        if similarity not in ("cosine", "euclidean"):
            raise UserError(f"vector similarity must be cosine or euclidean, got {similarity!r}")
        self.names = names = naming.embedding_names(spec, run_id, label)
        self.similarity, self.index, self.index_timeout_s = similarity, index, index_timeout_s
        self.dims: set[int] = set()
        self.stored_dims = {o["dimensions"] for o in manifest.outputs_of_run(
            driver, database, run_id) if o["id"] == names.output_id and o.get("dimensions")}
        if append:  # new vectors must fit the run's vector index
            self.dims.update(self.stored_dims)
        props = {**names.identifiers(spec), "index": names.index, "similarity": similarity}
        super().__init__(driver, database, run_id, names.output_id, props,
                         cypher.render("writeback/embedding_columns", label=label),
                         batch_rows=batch_rows, append=append, on_rows=on_rows,
                         what=f"{label} nodes", params={"property": names.property})

    def rows(self, batch: EmbeddingBatch) -> Rows:
        self.dims.add(batch.vectors.size(1))
        if len(self.dims) > 1 or not 1 <= batch.vectors.size(1) <= MAX_VECTOR_DIMENSIONS:
            raise ValueError(f"embeddings of {self.names.label} must have one size in 1.."
                             f"{MAX_VECTOR_DIMENSIONS}, got {sorted(self.dims)}")
        return [{"nid": nid, "vec": vec} for nid, vec in
                zip(cpu_list(batch.nids), cpu_list(batch.vectors), strict=True)]

    def columns(self, rows: Rows) -> dict[str, list[Any]]:
        return {"nids": [r["nid"] for r in rows], "vecs": [r["vec"] for r in rows]}

    def stored_ids(self) -> np.ndarray:
        n = self.names
        return _read_ids(self.driver, self.database, cypher.render(
            "writeback/stored_node_values", label=n.label, prop=n.property))

    def remove(self, tx: neo4j.ManagedTransaction, ids: list[int]) -> int:
        n = self.names
        return _removed(tx, cypher.render("writeback/remove_node_values", label=n.label,
                                          a=n.property, b=n.property, c=n.property), nids=ids)

    def before_finish(self) -> None:
        if not self.dims or not self.index:
            return
        dimensions = next(iter(self.dims))
        n = self.names
        if self.stored_dims and self.stored_dims != {dimensions}:  # the old index does not fit
            self.driver.execute_query(cypher.load("writeback/drop_index"), name=n.index,
                                      database_=self.database)
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
    best). The caller excludes links that already exist (see ``links.rank_links``).

    An output that holds no links yet gets plain CREATEs; otherwise each source's old links
    are replaced by its new ones in the same transaction (readers see one or the other).
    """

    kind = "links"
    threads = 1

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 edge_type: EdgeType | str, *, batch_rows: int = LINK_BATCH_ROWS,
                 on_rows: ProgressFn | None = None, append: bool = False) -> None:
        self.names = names = naming.link_names(spec, run_id, edge_type)
        source, _, target = names.edge_type
        ids = {"source": source, "target": target, "type": names.rel_type}
        self.create_query = cypher.render("writeback/create_links", **ids)
        self._sources = np.zeros(0, dtype=bool)  # sources written so far (create mode)
        self._create: bool | None = None  # decided at the first batch
        super().__init__(driver, database, run_id, names.output_id, names.identifiers(spec),
                         cypher.render("writeback/replace_links", **ids), batch_rows=batch_rows,
                         append=append, on_rows=on_rows, what=f"{target} link targets",
                         params={"run_id": run_id})

    def rows(self, batch: LinkBatch) -> Rows:
        out = []
        for src, dsts, scores in zip(cpu_list(batch.src), cpu_list(batch.dst),
                                     cpu_list(batch.score), strict=True):
            kept = [(d, s) for d, s in zip(dsts, scores, strict=True) if d >= 0]
            out.append({"src": src, "links": [{"dst": d, "score": s, "rank": r}
                                              for r, (d, s) in enumerate(kept, start=1)]})
        return out

    def statement(self, rows: Rows) -> tuple[str, dict[str, Any]]:
        if self._create is None:
            self._create = self._count_before == 0  # the output holds no links yet
        links = [(r["src"], link) for r in rows for link in r["links"]]
        params = {"run_id": self.run_id, "src": [s for s, _ in links],
                  "dst": [link["dst"] for _, link in links],
                  "score": [link["score"] for _, link in links],
                  "rank": [link["rank"] for _, link in links]}
        if self._create and self._new_sources(rows):
            return self.create_query, params
        return self.query, {**params, "sources": [r["src"] for r in rows]}

    def _new_sources(self, rows: Rows) -> bool:
        """True while no source comes twice (then CREATE cannot duplicate a link)."""
        src = np.array([r["src"] for r in rows], dtype=np.int64)
        if len(src) and src.max() >= len(self._sources):
            grown = np.zeros(int(src.max()) * 2 + 1, dtype=bool)
            grown[:len(self._sources)] = self._sources
            self._sources = grown
        if self._sources[src].any() or len(np.unique(src)) != len(src):
            self._create = False  # from here on: replace per source
            return False
        self._sources[src] = True
        return True

    def written_ids(self, rows: Rows) -> list[int]:
        return [r["src"] for r in rows]

    def weight(self, row: dict[str, Any]) -> int:
        return max(1, len(row["links"]))

    def expected(self, rows: Rows) -> int:
        return sum(len(r["links"]) for r in rows)

    def distinct_items(self, written: np.ndarray) -> int:
        # links per source vary: exact only while no source was written twice
        return self._items if len(written) == len(self._written) else -1

    def stored_ids(self) -> np.ndarray:
        source, _, target = self.names.edge_type
        return _read_ids(self.driver, self.database, cypher.render(
            "writeback/stored_link_sources", source=source, type=self.names.rel_type,
            target=target), run_id=self.run_id)

    def remove(self, tx: neo4j.ManagedTransaction, ids: list[int]) -> int:
        source, _, target = self.names.edge_type
        return _removed(tx, cypher.render("writeback/remove_links", source=source,
                                          type=self.names.rel_type, target=target),
                        run_id=self.run_id, nids=ids)


PAIR_SHIFT = 31  # pair id = source _nid << 31 | target _nid (ids below 2**31)


class EdgeClassSink(Sink):
    """Predicted class and probability as properties of the existing relationships."""

    kind = "edge_class"

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                 edge_type: EdgeType | str, *, classes: Sequence[Any],
                 target: str | None = None, batch_rows: int = EDGE_BATCH_ROWS,
                 on_rows: ProgressFn | None = None, append: bool = False) -> None:
        self.names = names = naming.edge_class_names(spec, run_id, edge_type, target)
        source, rel_type, dst_label = names.edge_type
        rel = spec.relation(names.edge_type)
        self.values = _class_values(classes, rel.properties[names.target],
                                    f"{rel_type}.{names.target}")
        self.ends = {"source": source, "type": rel_type, "target": dst_label}
        query = cypher.render("writeback/edge_class_columns", **self.ends, pred=names.pred,
                              prob=names.prob)
        super().__init__(driver, database, run_id, names.output_id,
                         {**names.identifiers(spec), "classes": self.values}, query,
                         batch_rows=batch_rows, append=append, on_rows=on_rows,
                         what=f"{rel_type} relationships")

    def rows(self, batch: EdgeClassBatch) -> Rows:
        index, prob = top_class(batch.probs)
        return [{"src": s, "dst": d, "pred": _pick(self.values, i), "prob": p}
                for s, d, i, p in zip(cpu_list(batch.src), cpu_list(batch.dst), index, prob,
                                      strict=True)]

    def columns(self, rows: Rows) -> dict[str, list[Any]]:
        return {"src": [r["src"] for r in rows], "dst": [r["dst"] for r in rows],
                "preds": [r["pred"] for r in rows], "probs": [r["prob"] for r in rows]}

    def written_ids(self, rows: Rows) -> list[int]:
        return [(r["src"] << PAIR_SHIFT) | r["dst"] for r in rows]

    def stored_ids(self) -> np.ndarray:
        query = cypher.render("writeback/stored_edge_pairs", **self.ends, pred=self.names.pred)
        with self.driver.session(database=self.database) as session:
            pairs = session.execute_read(lambda tx: [(r[0] << PAIR_SHIFT) | r[1]
                                                     for r in tx.run(query)])
        return np.array(pairs, dtype=np.int64)

    def remove(self, tx: neo4j.ManagedTransaction, ids: list[int]) -> int:
        mask = (1 << PAIR_SHIFT) - 1
        return _removed(tx, cypher.render("writeback/remove_edge_values", **self.ends,
                                          pred=self.names.pred, prob=self.names.prob),
                        src=[i >> PAIR_SHIFT for i in ids], dst=[i & mask for i in ids])


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


def _write_batch(tx: neo4j.ManagedTransaction, query: str, params: dict[str, Any],
                 output_id: str, expected: int, what: str,
                 nids: Callable[[], list[int]]) -> int:
    """One transaction: the batch and its count, or nothing (the driver may call this again)."""
    record = tx.run(query, params).single(strict=True)
    written, added = record["written"], record["added"]
    if written != expected:
        ids = nids()
        raise MissingInGraph(
            f"{expected - written} of {expected} {what} in a batch (by {NID} in "
            f"{ids[0]}..{ids[-1]}) are not in the graph: it changed since the run was "
            "trained; reload the graph or score new nodes with `lmgnn predict`")
    manifest.count_batch(tx, output_id, added)
    return written


def _remove_batch(tx: neo4j.ManagedTransaction, sink: Sink, ids: list[int]) -> int:
    removed = sink.remove(tx, ids)
    manifest.count_batch(tx, sink.output_id, -removed)
    return removed


def _removed(tx: neo4j.ManagedTransaction, query: str, **params: Any) -> int:
    return int(tx.run(query, params).single(strict=True)["removed"])


def _read_ids(driver: neo4j.Driver, database: str, query: str, **params: Any) -> np.ndarray:
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        ids = session.execute_read(lambda tx: [r[0] for r in tx.run(query, params)])
    return np.array(ids, dtype=np.int64)


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
