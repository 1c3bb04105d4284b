"""`lmgnn db start|stop|status` against a real local Neo4j, and the errors users meet."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from lmgnn.config import Settings, new_password
from lmgnn.db import server
from lmgnn.errors import UserError

from ..conftest import free_port


def lmgnn(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `lmgnn` command in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "lmgnn", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def own_server_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a second local server with its own data dir, ports and config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update({
        "LMGNN_CONFIG": str(tmp_path / "config.toml"),
        "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}",
        "LMGNN_NEO4J_DATA_DIR": str(tmp_path / "neo4j"),
        "LMGNN_NEO4J_HTTP_PORT": str(free_port()),
        "LMGNN_NEO4J_HEAP": "512m",
        "COLUMNS": "200",
    })
    yield env
    lmgnn("db", "stop", env=env)


def test_start_status_stop_start_keeps_data(own_server_env: dict[str, str]) -> None:
    env = own_server_env
    started = lmgnn("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert "Neo4j is up" in started.stdout

    # a generated password went into a private config file and never into the output
    config = Path(env["LMGNN_CONFIG"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    password = config.read_text().split('password = "')[1].split('"')[0]
    assert password not in started.stdout + started.stderr

    status = lmgnn("db", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "5.26." in status.stdout and "community" in status.stdout
    assert env["NEO4J_URI"] in status.stdout

    # Neo4j Browser is served by the same launcher
    page = urllib.request.urlopen(f"http://127.0.0.1:{env['LMGNN_NEO4J_HTTP_PORT']}/browser/")
    assert page.status == 200

    again = lmgnn("db", "start", env=env)
    assert again.returncode == 0 and "nothing started" in again.stdout

    settings = Settings(uri=env["NEO4J_URI"], password=password)
    from lmgnn.db.connection import open_driver

    driver = open_driver(settings)
    driver.execute_query("CREATE (:Persisted {value: 42})")
    driver.close()

    stopped = lmgnn("db", "stop", env=env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    down = lmgnn("db", "status", env=env)
    assert down.returncode == 1 and "no Neo4j at" in down.stderr

    assert lmgnn("db", "start", env=env).returncode == 0
    driver = open_driver(settings)
    records, _, _ = driver.execute_query("MATCH (n:Persisted) RETURN n.value AS v")
    driver.close()
    assert [r["v"] for r in records] == [42]


def test_a_password_starting_with_a_dash_starts_a_fresh_server(
        own_server_env: dict[str, str]) -> None:
    """The admin tool read such a password as an option ("Missing required parameter:
    '<password>'"): the generated ones start with "-" one time in 64."""
    env = {**own_server_env, "NEO4J_PASSWORD": "-" + new_password()}
    started = lmgnn("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    from lmgnn.db.connection import open_driver

    driver = open_driver(Settings(uri=env["NEO4J_URI"], password=env["NEO4J_PASSWORD"]))
    records, _, _ = driver.execute_query("RETURN 1 AS one")
    driver.close()
    assert [r["one"] for r in records] == [1]


def test_status_without_server_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}",
           "NEO4J_PASSWORD": "whatever1", "LMGNN_CONFIG": str(tmp_path / "c.toml"),
           "COLUMNS": "200"}
    result = lmgnn("db", "status", env=env)
    assert result.returncode == 1
    assert "no Neo4j at bolt://127.0.0.1:" in result.stderr
    assert "lmgnn db start" in result.stderr and "NEO4J_URI" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_password_says_so(neo4j_db) -> None:
    env = {**os.environ, **neo4j_db.env(), "NEO4J_PASSWORD": "not-the-password",
           "COLUMNS": "200"}
    result = lmgnn("db", "status", env=env)
    assert result.returncode == 1
    assert "wrong password" in result.stderr and "environment NEO4J_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_reports_counts(neo4j_db) -> None:
    neo4j_db.run("UNWIND range(1, 3) AS i CREATE (:A {i: i})-[:R]->(:B)")
    result = lmgnn("db", "status", env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines() if line}
    assert lines["nodes"] == "6" and lines["relationships"] == "3"


def test_port_taken_by_something_else(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = Settings(uri=f"bolt://127.0.0.1:{port}", password=new_password(),
                            data_dir=tmp_path / "neo4j", http_port=free_port())
        with pytest.raises(UserError, match=f"port {port} on 127.0.0.1 is taken by something "
                                            "that is not Neo4j"):
            server.start(settings)


def test_server_that_fails_to_start_points_at_its_log(tmp_path: Path) -> None:
    settings = Settings(uri=f"bolt://127.0.0.1:{free_port()}", password=new_password(),
                        data_dir=tmp_path / "neo4j", http_port=free_port(), heap="lots")
    with pytest.raises(UserError, match="exited during start-up") as err:
        server.start(settings, timeout_s=60)
    assert str(tmp_path / "neo4j" / "logs" / "launcher.log") in str(err.value)
    assert not (tmp_path / "neo4j" / "neo4j.pid").exists()


def test_missing_java_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="Java 17 or newer is needed"):
        server.java_version()


def test_missing_maven_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "launcher"
    shutil.copytree(server.launcher_dir(), root, ignore=shutil.ignore_patterns("target"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(shutil.which("java"))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(UserError, match="Maven is needed"):
        server.build(root)
