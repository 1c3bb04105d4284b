"""One driver per process, opened with errors a user can act on.

Drivers are thread-safe but not process-safe: worker processes open their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError, ConfigurationError, ServiceUnavailable

from lmgnn import cypher_files as cypher
from lmgnn.config import Settings, load_settings
from lmgnn.errors import ConnectionFailed, NoServer, UserError, WrongPassword


def _auth(settings: Settings) -> tuple[str, str]:
    if not settings.password:
        raise ConnectionFailed(
            f"no password for Neo4j at {settings.uri}: set NEO4J_PASSWORD or put "
            "`password = \"...\"` under [neo4j] in the config file "
            "(`lmgnn db start` writes one for the local server)"
        )
    return settings.user, settings.password


def open_driver(settings: Settings | None = None) -> neo4j.Driver:
    """Open a driver and check it can log in; raise ConnectionFailed with what to do."""
    settings = settings or load_settings()
    try:
        # server notifications (e.g. "property _split does not exist yet") are noise for users
        driver = GraphDatabase.driver(settings.uri, auth=_auth(settings),
                                      notifications_min_severity="OFF")
    except (ConfigurationError, ValueError) as exc:
        raise UserError(f"invalid NEO4J_URI {settings.uri!r}: {exc}") from exc
    try:
        driver.verify_connectivity()
    except AuthError as exc:
        driver.close()
        where = settings.sources.get("password", "the default")
        raise WrongPassword(
            f"Neo4j at {settings.uri} refused user {settings.user!r}: wrong password "
            f"(taken from {where}). Set NEO4J_PASSWORD to the server's password."
        ) from exc
    except ClientError as exc:
        driver.close()
        if exc.code != "Neo.ClientError.Security.AuthenticationRateLimit":
            raise
        raise WrongPassword(
            f"Neo4j at {settings.uri} refused user {settings.user!r} for now: too many failed "
            "logins in a row lock the user for a few seconds (someone tried wrong passwords); "
            "wait and re-run") from exc
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        hint = "run `lmgnn db start`" if settings.is_local else "check the server is up"
        raise NoServer(
            f"no Neo4j at {settings.uri}: {hint} or set NEO4J_URI to a running server"
        ) from exc
    return driver


@contextmanager
def connect(settings: Settings | None = None) -> Iterator[tuple[neo4j.Driver, str]]:
    """Yield (driver, database name); closes the driver afterwards."""
    settings = settings or load_settings()
    driver = open_driver(settings)
    try:
        yield driver, settings.database
    finally:
        driver.close()


def server_info(driver: neo4j.Driver, database: str) -> dict[str, str]:
    """Name, version and edition of the server, as `dbms.components()` reports them."""
    records, _, _ = driver.execute_query(cypher.load("db/components"), database_=database)
    row = records[0]
    return {"name": row["name"], "version": row["versions"][0], "edition": row["edition"]}


def graph_counts(driver: neo4j.Driver, database: str) -> dict[str, int]:
    records, _, _ = driver.execute_query(cypher.load("db/counts"), database_=database)
    return {"nodes": records[0]["nodes"], "relationships": records[0]["relationships"]}
