"""Fault injection needs a server of its own: the tests kill it, which the session's shared
server (tests/conftest.py) must survive."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pytest

from lmgnn.config import Settings, new_password
from lmgnn.db import server
from lmgnn.db.connection import open_driver

from ..conftest import free_port, wipe


@dataclass
class OwnServer:
    """A throwaway local server this module may kill, and how to reach it."""

    settings: Settings
    config: Path

    def driver(self) -> neo4j.Driver:
        return open_driver(self.settings)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
        return {**env, "NEO4J_URI": self.settings.uri, "NEO4J_USER": self.settings.user,
                "NEO4J_PASSWORD": self.settings.password or "", "NEO4J_DATABASE": "neo4j",
                "LMGNN_CONFIG": str(self.config), "COLUMNS": "200"}

    def kill(self) -> None:
        """SIGKILL the server JVM (no clean shutdown), and wait until it is gone."""
        paths = server.ServerPaths(self.settings.data_dir)
        pid = server.read_pid(paths)
        assert pid is not None, "the test server is not running"
        os.kill(pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # it is this process's child

    def start(self) -> None:
        server.start(self.settings)

    def wipe(self) -> None:
        with self.driver() as driver:
            wipe(driver, "neo4j")


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    tmp = tmp_path_factory.mktemp("fault-server")
    settings = Settings(uri=f"bolt://127.0.0.1:{free_port()}", password=new_password(),
                        data_dir=tmp / "neo4j", http_port=free_port(), heap="512m",
                        sources={"password": "test fixture"})
    handle = OwnServer(settings, tmp / "config.toml")
    handle.start()
    try:
        yield handle
    finally:
        server.stop(settings)


def graph_state(driver: neo4j.Driver) -> dict[str, object]:
    """Counts per label and relationship type, and a SHA-256 over every node's labels and
    properties and every relationship's type, endpoints and properties (order-free)."""
    def rows(query: str) -> list[dict]:
        records, _, _ = driver.execute_query(query, database_="neo4j")
        return [r.data() for r in records]

    nodes = rows("MATCH (n) WHERE NOT n:LmgnnSpec RETURN labels(n) AS labels, "
                 "properties(n) AS props")
    rels = rows("MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a) AS a, a._nid AS an, "
                "labels(b) AS b, b._nid AS bn, properties(r) AS props")
    spec = rows("MATCH (s:LmgnnSpec) RETURN s.name AS name, s.json AS json")
    digest = hashlib.sha256()
    for item in sorted(json.dumps(x, sort_keys=True, default=str) for x in nodes + rels):
        digest.update(item.encode())
    counts: dict[str, int] = {}
    for n in nodes:
        for label in n["labels"]:
            counts[label] = counts.get(label, 0) + 1
    for r in rels:
        counts[r["type"]] = counts.get(r["type"], 0) + 1
    return {"counts": counts, "sha256": digest.hexdigest(), "spec": spec}
