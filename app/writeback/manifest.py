"""What each run wrote: ``(:ModelRun {run_id})-[:WROTE]->(:LmgnnOutput)``.

One ``LmgnnOutput`` per output (node classes of a label, embeddings of a label, predicted links
of a relation, edge classes of a relation) records the names used, the count of items the graph
holds (kept exact by the transaction of every batch) and a status: ``writing`` from a first
write's first batch until its last one has landed, ``rewriting`` while a complete output is
written again in place (still readable: each item is the old or the new one), then
``complete``. Deletion, retention and the query library read the names from here.
"""

from __future__ import annotations

from typing import Any

import neo4j

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError


def ensure_schema(driver: neo4j.Driver, database: str) -> None:
    driver.execute_query(cypher.load("writeback/output_constraint"), database_=database)


def begin_output(driver: neo4j.Driver, database: str, run_id: str, output_id: str, kind: str,
                 props: dict[str, Any]) -> tuple[str | None, int]:
    """Link the output to its run before the first batch: 'rewriting' when it was complete
    (readers keep using it: batches overwrite in place), else 'writing'. Returns the status it
    had (None: new) and its count, i.e. what the graph holds of it."""
    records, _, _ = driver.execute_query(
        cypher.load("writeback/output_begin"), run_id=run_id, id=output_id, kind=kind,
        props=props, database_=database)
    if not records:
        raise UserError(f"output {output_id} belongs to another run whose id differs from "
                        f"{run_id!r} only in punctuation: choose a distinct run id")
    return records[0]["was"], int(records[0]["count"])


def output_count(driver: neo4j.Driver, database: str, output_id: str) -> int:
    records, _, _ = driver.execute_query(cypher.load("writeback/output_count"), id=output_id,
                                         database_=database)
    return int(records[0]["count"])


def count_batch(tx: neo4j.ManagedTransaction, output_id: str, count: int) -> None:
    """Add the items a batch added to the output's count, inside the transaction that wrote
    them: the count is always exactly what the graph holds."""
    tx.run(cypher.load("writeback/output_progress"), id=output_id, count=count).consume()


def update_output(driver: neo4j.Driver, database: str, output_id: str,
                  props: dict[str, Any]) -> None:
    driver.execute_query(cypher.load("writeback/output_update"), id=output_id, props=props,
                         database_=database)


def finish_output(driver: neo4j.Driver, database: str, output_id: str) -> int:
    records, _, _ = driver.execute_query(cypher.load("writeback/output_finish"), id=output_id,
                                         database_=database)
    return int(records[0]["count"])


def outputs_of_run(driver: neo4j.Driver, database: str, run_id: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher.load("writeback/outputs_of_run"), run_id=run_id,
                                         database_=database, routing_="r")
    return [r["output"] for r in records]


def forget_output(driver: neo4j.Driver, database: str, output_id: str) -> None:
    driver.execute_query(cypher.load("writeback/output_delete"), id=output_id,
                         database_=database)


def runs_written(driver: neo4j.Driver, database: str) -> list[str]:
    """Run ids that have outputs in the graph, most recently written first."""
    records, _, _ = driver.execute_query(cypher.load("writeback/runs_written"),
                                         database_=database, routing_="r")
    return [r["run_id"] for r in records]
