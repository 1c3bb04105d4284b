"""Removing what one run wrote to one output (before a re-write, or on delete).

These statements use ``CALL {...} IN TRANSACTIONS``, which needs an auto-commit transaction;
they are idempotent, so running one again after a failure is safe.
"""

from __future__ import annotations

from typing import Any

import neo4j

from lmgnn import cypher_files as cypher
from lmgnn.writeback.naming import EdgeClassNames, EmbeddingNames, LinkNames, NodeClassNames

CLEAR_BATCH = 10_000


def clear_node_classes(driver: neo4j.Driver, database: str, n: NodeClassNames) -> None:
    run_in_transactions(driver, database, cypher.render(
        "writeback/clear_node_class", label=n.label, pred=n.pred, prob=n.prob, dist=n.dist))


def clear_embeddings(driver: neo4j.Driver, database: str, e: EmbeddingNames) -> None:
    driver.execute_query(cypher.load("writeback/drop_index"), name=e.index, database_=database)
    run_in_transactions(driver, database, cypher.render(
        "writeback/clear_embedding", label=e.label, property=e.property))


def clear_links(driver: neo4j.Driver, database: str, ln: LinkNames) -> None:
    source, _, target = ln.edge_type
    run_in_transactions(driver, database, cypher.render(
        "writeback/clear_links", source=source, type=ln.rel_type, target=target),
        run_id=ln.run_id)


def clear_edge_classes(driver: neo4j.Driver, database: str, ec: EdgeClassNames) -> None:
    source, rel_type, target = ec.edge_type
    run_in_transactions(driver, database, cypher.render(
        "writeback/clear_edge_class", source=source, type=rel_type, target=target,
        pred=ec.pred, prob=ec.prob))


def run_in_transactions(driver: neo4j.Driver, database: str, query: str, **params: Any) -> None:
    """Run a `CALL {...} IN TRANSACTIONS OF $batch ROWS` statement in an auto-commit session."""
    with driver.session(database=database) as session:
        session.run(query, batch=CLEAR_BATCH, **params).consume()
