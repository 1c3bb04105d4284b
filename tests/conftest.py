"""Real Neo4j for every test: one server per session, a clean graph per test.

With NEO4J_URI set, tests use that server (it must be empty, or LMGNN_TEST_ALLOW_WIPE=1,
because every test wipes the graph). Otherwise the session starts a throwaway local server on
free ports in a temporary directory, and stops it at the end.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pytest

from lmgnn.config import Settings, load_settings, new_password
from lmgnn.db import server
from lmgnn.db.connection import open_driver

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
# the user's own config file (e.g. the password `lmgnn db start` saved), read before the
# session swaps in a private one
USER_CONFIG = os.environ.get("LMGNN_CONFIG")


@dataclass
class Neo4jHandle:
    """What a test gets: a live driver on a clean graph, and the settings that reach it."""

    driver: neo4j.Driver
    database: str
    settings: Settings

    def run(self, query: str, **params: object) -> list[dict]:
        records, _, _ = self.driver.execute_query(query, params, database_=self.database)
        return [r.data() for r in records]

    def env(self) -> dict[str, str]:
        """Environment variables that point the CLI at this server."""
        return {"NEO4J_URI": self.settings.uri, "NEO4J_USER": self.settings.user,
                "NEO4J_PASSWORD": self.settings.password or "",
                "NEO4J_DATABASE": self.database}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_reaches_children() -> None:
    """A shell script that starts the suite in the background (`... &`) makes it ignore SIGINT,
    and children inherit an ignored signal: the tests that press Ctrl-C on a `lmgnn` child
    would then see it run on. A handler here is reset to the default in every child."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def _private_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the user's config file."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LMGNN_CONFIG", str(tmp_path_factory.mktemp("config") / "config.toml"))
        yield


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    if os.environ.get("NEO4J_URI"):
        with pytest.MonkeyPatch.context() as mp:
            if USER_CONFIG:
                mp.setenv("LMGNN_CONFIG", USER_CONFIG)
            else:
                mp.delenv("LMGNN_CONFIG", raising=False)
            settings = load_settings()
        _refuse_to_wipe_user_data(settings)
        yield settings
        return
    data_dir = tmp_path_factory.mktemp("neo4j")
    settings = Settings(uri=f"bolt://127.0.0.1:{free_port()}", password=new_password(),
                        data_dir=data_dir, http_port=free_port(), heap="768m",
                        sources={"password": "test fixture"})
    server.start(settings)
    try:
        yield settings
    finally:
        server.stop(settings)


def _refuse_to_wipe_user_data(settings: Settings) -> None:
    if os.environ.get("LMGNN_TEST_ALLOW_WIPE") == "1":
        return
    driver = open_driver(settings)
    try:
        records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n",
                                             database_=settings.database)
    finally:
        driver.close()
    if records[0]["n"]:
        pytest.exit(f"NEO4J_URI={settings.uri} holds {records[0]['n']} nodes and every test "
                    "wipes the graph: unset NEO4J_URI (a throwaway server is started) or set "
                    "LMGNN_TEST_ALLOW_WIPE=1", returncode=2)


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_settings: Settings) -> Iterator[neo4j.Driver]:
    driver = open_driver(neo4j_settings)
    yield driver
    driver.close()


def wipe(driver: neo4j.Driver, database: str) -> None:
    """Delete every node, constraint and index (but the built-in token lookup indexes)."""
    with driver.session(database=database) as session:  # IN TRANSACTIONS needs auto-commit
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()
    for row in driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)[0]:
        driver.execute_query(f"DROP CONSTRAINT `{row['name']}` IF EXISTS", database_=database)
    for row in driver.execute_query("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'",
                                    database_=database)[0]:
        driver.execute_query(f"DROP INDEX `{row['name']}` IF EXISTS", database_=database)


@pytest.fixture
def neo4j_db(neo4j_driver: neo4j.Driver, neo4j_settings: Settings,
             monkeypatch: pytest.MonkeyPatch) -> Neo4jHandle:
    """A clean graph; the environment points `lmgnn` commands at the same server."""
    wipe(neo4j_driver, neo4j_settings.database)
    handle = Neo4jHandle(neo4j_driver, neo4j_settings.database, neo4j_settings)
    for key, value in handle.env().items():
        monkeypatch.setenv(key, value)
    return handle


@pytest.fixture
def dblp_dir() -> Path:
    path = SHARED_DATA / "dblp"
    if not (path / "papers.csv").is_file():
        pytest.skip(f"the DBLP data is not at {path} (it ships in ../shared of the dev "
                    "checkout and CI, not in a user's clone)")
    return path


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> Path:
    """A randomly initialised 1-layer BERT with the packaged MiniLM tokenizer, saved to disk:
    the fast stand-in for the real LM in most training and writeback tests."""
    from lmgnn.models.text_encoder import save_tiny_random_lm

    return save_tiny_random_lm(tmp_path_factory.mktemp("tiny_lm_dir"))
