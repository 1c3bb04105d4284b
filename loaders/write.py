"""Write validated files into Neo4j: schema first, then nodes, then relationships.

Every write is an ``UNWIND $rows`` batch in a managed transaction (``execute_write``), which
the driver retries on transient errors; the statements MERGE on constrained keys, so a retried
batch, or a whole re-run, changes nothing. Relationship batches go one after another from one
thread, each sorted by source key, so no two transactions fight over the same node locks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import numpy as np
import pandas as pd

from lmgnn import cypher_files as cypher
from lmgnn.loaders.plan import SOURCE, TARGET, describe_rel, node_columns, rel_columns, resolve
from lmgnn.loaders.progress import RowProgress
from lmgnn.loaders.readers import key_array, python_values, read_chunks
from lmgnn.spec import NID, GraphSpec, NodeType, RelType

BATCH_ROWS = 10_000
INDEX_WAIT_S = 300


@dataclass
class WriteCounts:
    nodes_created: int = 0
    relationships_created: int = 0
    properties_set: int = 0
    node_seconds: float = 0.0
    relationship_seconds: float = 0.0


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


def node_ids(driver: neo4j.Driver, database: str, node: NodeType, keys: pd.Index
             ) -> tuple[pd.Series, int]:
    """Dense `_nid` for every key: stored nodes keep theirs, new keys continue the count.

    Returns (key -> nid, number of new nodes).
    """
    query = cypher.render("load/node_ids", label=node.label, key=node.key, nid=NID)
    stored = [(r["key"], r["nid"]) for r in read(driver, database, query)]
    if not stored:
        return pd.Series(np.arange(len(keys), dtype=np.int64), index=keys), len(keys)
    old = pd.Series([n for _, n in stored], index=pd.Index([k for k, _ in stored]))
    old = old.dropna().astype(np.int64)
    new_keys = keys[~keys.isin(old.index)]
    start = int(old.max()) + 1 if len(old) else 0
    new = pd.Series(np.arange(start, start + len(new_keys), dtype=np.int64), index=new_keys)
    return pd.concat([old, new]), len(new_keys)


def write_nodes(driver: neo4j.Driver, database: str, node: NodeType, data_dir: Path,
                ids: pd.Series, progress: RowProgress, total: int, counts: WriteCounts) -> None:
    query = cypher.render("load/merge_nodes", label=node.label, key=node.key, nid=NID)
    props = [p for p in node.properties if p != node.key]
    task = progress.task(f"nodes {node.label}", total=total)
    for source in node.files:
        path = resolve(data_dir, source)
        for chunk in read_chunks(path, node_columns(node, source), source.path):
            keys = key_array(chunk[node.key])
            nids = ids.to_numpy()[ids.index.get_indexer(keys)]
            rows = _rows(keys, nids, chunk, props)
            for batch in _batches(rows):
                _write(driver, database, query, batch, counts)
                progress.advance(task, len(batch))


def write_relationships(driver: neo4j.Driver, database: str, spec: GraphSpec, rel: RelType,
                        data_dir: Path, progress: RowProgress, total: int,
                        counts: WriteCounts) -> None:
    src, dst = spec.nodes[rel.source], spec.nodes[rel.target]
    query = cypher.render("load/merge_relationships", source=src.label, source_key=src.key,
                          target=dst.label, target_key=dst.key, type=rel.type)
    props = list(rel.properties)
    task = progress.task(f"rels {rel.type}", total=total)
    for source in rel.files:
        path = resolve(data_dir, source)
        for chunk in read_chunks(path, rel_columns(spec, rel, source), source.path):
            chunk = chunk.sort_values(SOURCE, kind="stable", ignore_index=True)
            rows = [{"s": s, "t": t, "props": p} for s, t, p in zip(
                python_values(chunk[SOURCE]), python_values(chunk[TARGET]),
                _prop_maps(chunk, props), strict=True)]
            for batch in _batches(rows):
                _write(driver, database, query, batch, counts)
                progress.advance(task, len(batch))


def _rows(keys: np.ndarray, nids: np.ndarray, chunk: pd.DataFrame,
          props: list[str]) -> list[dict[str, object]]:
    return [{"key": k, "nid": n, "props": p} for k, n, p in zip(
        keys.tolist(), nids.tolist(), _prop_maps(chunk, props), strict=True)]


def _prop_maps(chunk: pd.DataFrame, props: list[str]) -> list[dict[str, object]]:
    """One property map per row; None values remove the property (so a reload is exact)."""
    columns = [python_values(chunk[p]) for p in props]
    return [dict(zip(props, values, strict=True)) for values in zip(*columns, strict=True)] \
        if props else [{} for _ in range(len(chunk))]


def _batches(rows: list[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(rows), BATCH_ROWS):
        yield rows[start:start + BATCH_ROWS]


def _write(driver: neo4j.Driver, database: str, query: str, rows: list[dict[str, object]],
           counts: WriteCounts) -> None:
    def work(tx: neo4j.ManagedTransaction) -> neo4j.SummaryCounters:
        return tx.run(query, rows=rows).consume().counters

    with driver.session(database=database) as session:
        done = session.execute_write(work)
    counts.nodes_created += done.nodes_created
    counts.relationships_created += done.relationships_created
    counts.properties_set += done.properties_set


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
