"""Issue 11: `db stop` signals only our launcher; a fresh server never accepts neo4j/neo4j;
the store is private to its owner (0700 / 0600)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable

from lmgnn.config import Settings
from lmgnn.db import server

from ..conftest import free_port
from .test_server import lmgnn


def _settings(data_dir: Path) -> Settings:
    return Settings(uri=f"bolt://127.0.0.1:{free_port()}", password="unused-password",
                    data_dir=data_dir, http_port=free_port())


def _spawn(*argv: str) -> subprocess.Popen:
    """A throwaway process of this test's own, with the given argv after `python -c`."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", *argv])
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    deadline = time.monotonic() + 30  # a loaded machine can take seconds to exec
    while time.monotonic() < deadline:  # until it has exec'd (empty command line after fork)
        if not cmdline.exists() or b"time.sleep" in cmdline.read_bytes():
            break
        time.sleep(0.02)
    return proc


def _alive(proc: subprocess.Popen) -> bool:
    time.sleep(0.3)
    return proc.poll() is None


@pytest.fixture
def spawned():
    procs: list[subprocess.Popen] = []
    yield lambda *argv: procs.append(_spawn(*argv)) or procs[-1]
    for proc in procs:
        proc.kill()
        proc.wait()


def test_stop_leaves_a_process_that_reused_the_pid_alone(tmp_path: Path, spawned) -> None:
    """A crash left neo4j.pid behind; its pid now belongs to something else."""
    data_dir = tmp_path / "neo4j"
    data_dir.mkdir()
    other = spawned()
    (data_dir / "neo4j.pid").write_text(str(other.pid))
    assert server.stop(_settings(data_dir), timeout_s=2) is False
    assert _alive(other)
    assert not (data_dir / "neo4j.pid").exists()  # the stale file is gone


def test_stop_checks_the_data_dir_too(tmp_path: Path, spawned) -> None:
    """Our launcher serving another data dir is not ours to stop."""
    data_dir = tmp_path / "neo4j"
    data_dir.mkdir()
    other = spawned("lmgnn.launcher.Launcher", str(tmp_path / "elsewhere"))
    (data_dir / "neo4j.pid").write_text(str(other.pid))
    assert server.stop(_settings(data_dir), timeout_s=2) is False
    assert _alive(other)


def test_cli_stop_with_a_stale_pid_file(tmp_path: Path, spawned) -> None:
    data_dir = tmp_path / "neo4j"
    data_dir.mkdir()
    other = spawned()
    (data_dir / "neo4j.pid").write_text(str(other.pid))
    env = {**os.environ, "LMGNN_NEO4J_DATA_DIR": str(data_dir),
           "LMGNN_CONFIG": str(tmp_path / "c.toml"), "COLUMNS": "200"}
    result = lmgnn("db", "stop", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "nothing to stop" in result.stdout
    assert _alive(other)


def test_stop_signals_the_launcher_of_this_data_dir(tmp_path: Path, spawned) -> None:
    """The check accepts what `db start` runs: the launcher class followed by the data dir."""
    data_dir = tmp_path / "neo4j"
    data_dir.mkdir()
    ours = spawned("lmgnn.launcher.Launcher", str(data_dir), "server.bolt.enabled=true")
    (data_dir / "neo4j.pid").write_text(str(ours.pid))
    assert server.stop(_settings(data_dir), timeout_s=10) is True
    # SIGTERM ends it: stop returns once its command line is gone, which on a loaded machine
    # can be a moment before the exit is complete
    assert ours.wait(timeout=10) is not None


# ---- a fresh local server: no default-password window, private files ---------------------

@pytest.fixture(scope="module")
def fresh_start(tmp_path_factory: pytest.TempPathFactory):
    """`lmgnn db start` on a fresh data dir while another thread keeps logging in as
    neo4j/neo4j; yields (env, outcomes of the attempts, start result)."""
    tmp = tmp_path_factory.mktemp("fresh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    port = free_port()
    env.update({"LMGNN_CONFIG": str(tmp / "config.toml"),
                "NEO4J_URI": f"bolt://127.0.0.1:{port}",
                "LMGNN_NEO4J_DATA_DIR": str(tmp / "neo4j"),
                "LMGNN_NEO4J_HTTP_PORT": str(free_port()), "LMGNN_NEO4J_HEAP": "512m",
                "COLUMNS": "200"})
    outcomes: list[str] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            driver = GraphDatabase.driver(env["NEO4J_URI"], auth=("neo4j", "neo4j"),
                                          connection_timeout=1)
            try:
                driver.verify_connectivity()
                outcomes.append("accepted")
            except AuthError:
                outcomes.append("refused")
            except ClientError as exc:  # after 3 wrong tries: AuthenticationRateLimit
                outcomes.append("refused" if "Security" in (exc.code or "") else repr(exc))
            except (ServiceUnavailable, OSError):
                pass  # not listening yet
            finally:
                driver.close()
            time.sleep(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        started = lmgnn("db", "start", env=env)
    finally:
        time.sleep(1.0)  # a few more attempts once the start returned
        done.set()
        prober.join()
    yield env, outcomes, started
    lmgnn("db", "stop", env=env)


def test_fresh_server_never_accepts_the_default_password(fresh_start) -> None:
    env, outcomes, started = fresh_start
    assert started.returncode == 0, started.stderr
    assert outcomes, "the probe never reached Bolt"
    assert "accepted" not in outcomes, f"neo4j/neo4j accepted {outcomes.count('accepted')}x"
    password = Path(env["LMGNN_CONFIG"]).read_text().split('password = "')[1].split('"')[0]
    driver = GraphDatabase.driver(env["NEO4J_URI"], auth=("neo4j", password))
    try:
        for _ in range(30):  # the probe's failed logins lock user neo4j for 5 s
            try:
                records, _, _ = driver.execute_query("RETURN 1 AS one")
                break
            except ClientError as exc:
                if "AuthenticationRateLimit" not in (exc.code or ""):
                    raise
                time.sleep(0.5)
        assert records[0]["one"] == 1  # and no password change is pending
    finally:
        driver.close()


def test_store_is_private_to_its_owner(fresh_start) -> None:
    env, _, started = fresh_start
    assert started.returncode == 0, started.stderr
    data_dir = Path(env["LMGNN_NEO4J_DATA_DIR"])
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    leaks = []
    for path in data_dir.rglob("*"):
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            leaks.append(f"{path.relative_to(data_dir)} {oct(mode)}")
    stores = list((data_dir / "data" / "databases" / "neo4j").glob("neostore*"))
    assert stores, "no store files were checked"
    assert not leaks, leaks[:10]


def test_existing_data_dir_is_made_private(tmp_path: Path) -> None:
    """A data dir created world-readable by an older version is closed on the next start."""
    data_dir = tmp_path / "neo4j"
    (data_dir / "data").mkdir(parents=True)
    old = data_dir / "data" / "old-file"
    old.write_text("x")
    data_dir.chmod(0o755)
    old.chmod(0o644)
    server.make_private(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_run_folders_are_private_to_their_owner(tmp_path: Path) -> None:
    """Run folders followed the umask (0755): their weights and vectors, which may encode the
    graph's private text, were readable by every local user. A 0700 folder closes everything
    below it, whatever the mode of each file the libraries write."""
    from lmgnn.train.runs import RunDir

    old = os.umask(0o022)
    try:
        run = RunDir.create(tmp_path / "runs", "r1", {"train": {}})
        run.save_torch("model.pt", {"w": [1.0]})
        taken = tmp_path / "mine"
        taken.mkdir()  # a runs folder the user made: left as it is, the run inside is closed
        other = RunDir.create(taken, "r2", {"train": {}})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "runs").stat().st_mode) == 0o700
    assert stat.S_IMODE(run.path.stat().st_mode) == 0o700
    assert stat.S_IMODE(taken.stat().st_mode) == 0o755
    assert stat.S_IMODE(other.path.stat().st_mode) == 0o700
