"""Write validated files into Neo4j: schema first, then nodes, then relationships.

Every write is an ``UNWIND`` batch (parallel lists: cheaper to send than a map per row) in a
managed transaction (``execute_write``), which the driver retries on transient errors; a
failed transaction leaves nothing, so a retry is safe. What is new to the database is
CREATEd (keys not stored yet; relations with no relationships yet, each pair once), what is
stored already is MERGEd on constrained keys, so a whole re-run changes nothing. Node batches
of a label go two at a time; relationship batches go one after another from one thread, each
sorted by source, so no two transactions fight over the same node locks. Measurements behind
these choices: loaders/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import neo4j
import numpy as np
import pandas as pd

from lmgnn import cypher_files as cypher
from lmgnn.loaders.plan import (
    SOURCE,
    TARGET,
    describe_rel,
    first_pairs,
    node_columns,
    rel_chunks,
    resolve,
)
from lmgnn.loaders.progress import RowProgress, TaskID
from lmgnn.loaders.readers import key_array, python_values, read_chunks
from lmgnn.spec import NID, GraphSpec, NodeType, RelType

BATCH_ROWS = 10_000  # rows per transaction (measured: 10k-50k are alike; see loaders/README)
NODE_THREADS = 2  # node batches of one label written at once (measured on 2 cores)
INDEX_WAIT_S = 300


@dataclass
class WriteCounts:
    nodes_created: int = 0
    relationships_created: int = 0
    properties_set: int = 0
    node_seconds: float = 0.0
    relationship_seconds: float = 0.0

    def add(self, done: neo4j.SummaryCounters) -> None:
        self.nodes_created += done.nodes_created
        self.relationships_created += done.relationships_created
        self.properties_set += done.properties_set


def create_schema(driver: neo4j.Driver, database: str, spec: GraphSpec) -> None:
    """Unique constraints on each label's key and `_nid`; range index on split properties."""
    for label, node in spec.nodes.items():
        for prop in (node.key, NID):
            driver.execute_query(cypher.render(
                "schema/unique_constraint", constraint=_schema_name(label, prop), label=label,
                prop=prop), database_=database)
        if node.split:
            driver.execute_query(cypher.render(
                "schema/range_index", index=_schema_name(label, node.split), label=label,
                prop=node.split), database_=database)
    driver.execute_query(cypher.load("schema/await_indexes"), seconds=INDEX_WAIT_S,
                         database_=database)


def delete_graph(driver: neo4j.Driver, database: str) -> None:
    """Delete every node and relationship and drop lmgnn's constraints and indexes."""
    with driver.session(database=database) as session:  # IN TRANSACTIONS needs auto-commit
        session.run(cypher.load("load/delete_graph")).consume()
    for row in read(driver, database, cypher.load("schema/lmgnn_constraints")):
        driver.execute_query(cypher.render("schema/drop_constraint", constraint=row["name"]),
                             database_=database)
    for row in read(driver, database, cypher.load("schema/lmgnn_indexes")):
        driver.execute_query(cypher.render("schema/drop_index", index=row["name"]),
                             database_=database)


def _schema_name(label: str, prop: str) -> str:
    return f"lmgnn_{label}_{prop.lstrip('_')}"


@dataclass(frozen=True)
class NodeIds:
    """Dense ids of one label's keys: stored nodes keep theirs, new keys continue the count,
    so a key is new to the database exactly when its ``_nid`` is ``first_new`` or more."""

    ids: pd.Series  # key -> nid
    first_new: int

    @property
    def new(self) -> int:
        return int((self.ids.to_numpy() >= self.first_new).sum())

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        return self.ids.to_numpy()[self.ids.index.get_indexer(pd.Index(keys))]


def node_ids(driver: neo4j.Driver, database: str, node: NodeType, keys: pd.Index) -> NodeIds:
    """Dense `_nid` for every key of the files, from what the database stores now."""
    query = cypher.render("load/node_ids", label=node.label, key=node.key, nid=NID)
    stored = [(r["key"], r["nid"]) for r in read(driver, database, query)]
    if not stored:
        return NodeIds(pd.Series(np.arange(len(keys), dtype=np.int64), index=keys), 0)
    old = pd.Series([n for _, n in stored], index=pd.Index([k for k, _ in stored]))
    old = old.dropna().astype(np.int64)
    new_keys = keys[~keys.isin(old.index)]
    start = int(old.max()) + 1 if len(old) else 0
    new = pd.Series(np.arange(start, start + len(new_keys), dtype=np.int64), index=new_keys)
    return NodeIds(pd.concat([old, new]), start)


def write_nodes(driver: neo4j.Driver, database: str, node: NodeType, data_dir: Path,
                ids: NodeIds, progress: RowProgress, total: int, counts: WriteCounts,
                *, threads: int = NODE_THREADS) -> None:
    """New keys are CREATEd, stored ones updated (MERGE on the key); each key once, where it
    first appears. Batches of one label go ``threads`` at a time: their keys differ, so they
    take no locks in common."""
    create = cypher.render("load/create_nodes", label=node.label)
    update = cypher.render("load/update_nodes", label=node.label, key=node.key, nid=NID)
    props = [p for p in node.properties if p != node.key]
    task = progress.task(f"nodes {node.label}", total=total)
    seen = np.zeros(len(ids.ids), dtype=bool)
    position = pd.Series(np.arange(len(ids.ids)), index=ids.ids.index)

    def batches() -> Iterator[tuple[str, dict[str, list[object]], int]]:
        for source in node.files:
            for chunk in read_chunks(resolve(data_dir, source), node_columns(node, source),
                                     source.path):
                keys = key_array(chunk[node.key])
                where = position.to_numpy()[position.index.get_indexer(pd.Index(keys))]
                first = ~seen[where] & ~pd.Series(where).duplicated().to_numpy()
                seen[where[first]] = True
                nids = ids.lookup(keys)
                maps = _prop_maps(chunk, props)
                fresh = nids >= ids.first_new
                new = np.flatnonzero(first & fresh)
                for lo in range(0, len(new), BATCH_ROWS):
                    take = new[lo:lo + BATCH_ROWS]
                    yield create, {"rows": [
                        {node.key: k, NID: n, **{p: v for p, v in maps[i].items() if v is not None}}
                        for k, n, i in zip(keys[take].tolist(), nids[take].tolist(), take,
                                           strict=True)]}, len(take)
                stored = np.flatnonzero(first & ~fresh)
                for lo in range(0, len(stored), BATCH_ROWS):
                    take = stored[lo:lo + BATCH_ROWS]
                    yield update, {"keys": keys[take].tolist(), "nids": nids[take].tolist(),
                                   "props": [maps[i] for i in take]}, len(take)
                progress.advance(task, int(len(chunk) - first.sum()))  # repeats: nothing

    _run_parallel(driver, database, batches(), counts, progress, task, threads)


def write_relationships(driver: neo4j.Driver, database: str, spec: GraphSpec, rel: RelType,
                        data_dir: Path, ids: dict[str, NodeIds], progress: RowProgress,
                        total: int, counts: WriteCounts, *, repeats: bool) -> None:
    """Endpoints by `_nid`. A relation with no relationships in the database yet is CREATEd
    (each pair once: ``repeats`` = the files repeat pairs); otherwise MERGEd, which keeps a
    reload idempotent. Batches go one after another, each sorted by source: relationship
    writes lock both end nodes, so parallel batches would wait on each other."""
    fresh = _count(driver, database, cypher.render("load/count_type", type=rel.type)) == 0
    statement = "load/create_relationships" if fresh else "load/merge_relationships_nid"
    query = cypher.render(statement, source=rel.source, target=rel.target, type=rel.type,
                          nid=NID)
    keep = (first_pairs(spec, rel, data_dir, {k: v.ids.index for k, v in ids.items()})
            if fresh and repeats else None)
    props = list(rel.properties)
    task = progress.task(f"rels {rel.type}", total=total)
    offset = 0
    for chunk in rel_chunks(spec, rel, data_dir):
        if keep is not None:
            mask = keep[offset:offset + len(chunk)]
            offset += len(chunk)
            progress.advance(task, int(len(chunk) - mask.sum()))  # repeats: nothing to write
            chunk = chunk[mask]
        chunk = chunk.sort_values(SOURCE, kind="stable", ignore_index=True)
        src = ids[rel.source].lookup(key_array(chunk[SOURCE]))
        dst = ids[rel.target].lookup(key_array(chunk[TARGET]))
        maps = _prop_maps(chunk, props)
        for lo in range(0, len(chunk), BATCH_ROWS):
            hi = lo + BATCH_ROWS
            _write(driver, database, query, {"s": src[lo:hi].tolist(), "t": dst[lo:hi].tolist(),
                                             "props": maps[lo:hi]}, counts)
            progress.advance(task, len(src[lo:hi]))


def _run_parallel(driver: neo4j.Driver, database: str,
                  batches: Iterator[tuple[str, dict[str, list[object]], int]],
                  counts: WriteCounts, progress: RowProgress, task: TaskID,
                  threads: int) -> None:
    """Write batches ``threads`` at a time, at most two per thread in flight (memory stays
    bounded by the batch size); the first failure stops the rest and is raised."""
    if threads <= 1:
        for query, params, n in batches:
            _write(driver, database, query, params, counts)
            progress.advance(task, n)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="lmgnn-load") as pool:
        pending: set[Future[neo4j.SummaryCounters]] = set()
        sizes: dict[Future[neo4j.SummaryCounters], int] = {}
        for query, params, n in batches:
            future = pool.submit(_transaction, driver, database, query, params)
            pending.add(future)
            sizes[future] = n
            if len(pending) >= 2 * threads:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                _collect(done, sizes, counts, progress, task, pending)
        done, _ = wait(pending)
        _collect(done, sizes, counts, progress, task, set())


def _collect(done: set[Future[neo4j.SummaryCounters]],
             sizes: dict[Future[neo4j.SummaryCounters], int], counts: WriteCounts,
             progress: RowProgress, task: TaskID,
             pending: set[Future[neo4j.SummaryCounters]]) -> None:
    for future in done:
        error = future.exception()
        if error is not None:
            for other in pending:
                other.cancel()
            raise error
        counts.add(future.result())
        progress.advance(task, sizes.pop(future))


def _prop_maps(chunk: pd.DataFrame, props: list[str]) -> list[dict[str, object]]:
    """One property map per row; None values remove the property (so a reload is exact)."""
    columns = [python_values(chunk[p]) for p in props]
    return [dict(zip(props, values, strict=True)) for values in zip(*columns, strict=True)] \
        if props else [{} for _ in range(len(chunk))]


def _transaction(driver: neo4j.Driver, database: str, query: str,
                 params: Mapping[str, object]) -> neo4j.SummaryCounters:
    def work(tx: neo4j.ManagedTransaction) -> neo4j.SummaryCounters:
        return tx.run(query, dict(params)).consume().counters

    with driver.session(database=database) as session:
        return session.execute_write(work)


def _write(driver: neo4j.Driver, database: str, query: str, params: Mapping[str, object],
           counts: WriteCounts) -> None:
    counts.add(_transaction(driver, database, query, params))


def count_graph(driver: neo4j.Driver, database: str, spec: GraphSpec
                ) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per relation, as stored in Neo4j now."""
    nodes = {label: _count(driver, database, cypher.render("load/count_nodes", label=label))
             for label in spec.nodes}
    rels = {describe_rel(r): _count(driver, database, cypher.render(
        "load/count_relationships", source=r.source, type=r.type, target=r.target))
        for r in spec.relationships}
    return nodes, rels


def _count(driver: neo4j.Driver, database: str, query: str) -> int:
    return int(read(driver, database, query)[0]["n"])


def read(driver: neo4j.Driver, database: str, query: str, **params: object) -> list[neo4j.Record]:
    """Run a read query without server notifications (e.g. "label does not exist yet" on a
    fresh database, which the driver would log as warnings)."""
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS,
                        notifications_min_severity="OFF") as session:
        return session.execute_read(lambda tx: list(tx.run(query, params)))
