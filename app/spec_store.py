"""The graph spec kept in Neo4j: one graph per database, as a ``(:LmgnnSpec)`` node."""

from __future__ import annotations

import neo4j

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.spec import GraphSpec


def save_spec(driver: neo4j.Driver, database: str, spec: GraphSpec) -> None:
    driver.execute_query(cypher.load("spec/save"), name=spec.name, json=spec.to_json(),
                         database_=database)


def stored_spec(driver: neo4j.Driver, database: str) -> GraphSpec | None:
    records, _, _ = driver.execute_query(cypher.load("spec/get"), database_=database,
                                         routing_="r")
    return GraphSpec.from_json(records[0]["json"]) if records else None


def require_spec(driver: neo4j.Driver, database: str) -> GraphSpec:
    """The stored spec, or a UserError telling the user to load a graph first."""
    spec = stored_spec(driver, database)
    if spec is None:
        raise UserError(f"database {database!r} holds no lmgnn graph: run `lmgnn load SPEC.yaml` "
                        "or `lmgnn load synthetic` first")
    return spec


def graph_version(driver: neo4j.Driver, database: str) -> str:
    """``<graph id>-g<load generation>``: changes with every load and every new graph, so a
    cache keyed by it never serves vectors of texts that were replaced."""
    records, _, _ = driver.execute_query(cypher.load("spec/get"), database_=database,
                                         routing_="r")
    if not records:
        raise UserError(f"database {database!r} holds no lmgnn graph: run `lmgnn load` first")
    graph_id, generation = records[0]["graph_id"], records[0]["generation"]
    return f"{str(graph_id or 'legacy')[:8]}-g{int(generation or 0)}"
