"""Read queries with server notifications off.

Sampler queries name the optional relationship property ``_split`` (and the like) that many
graphs do not have; Neo4j then attaches an "unknown property key" notification that the driver
would log as a warning on every batch. Reads go through a managed read transaction (retried
on transient errors; the function only reads, so retrying is safe).
"""

from __future__ import annotations

from typing import Any

import neo4j


def read(driver: neo4j.Driver, database: str | None, query: str, **params: Any
         ) -> list[neo4j.Record]:
    with driver.session(database=database, notifications_min_severity="OFF") as session:
        return session.execute_read(lambda tx: list(tx.run(query, params)))
