"""Kill the server (or the CLI) mid-load; the re-run's graph equals a clean run's.

Every scenario loads the same synthetic shop: once cleanly (the reference: counts plus a
content hash), then with a fault injected while `lmgnn load` writes, then `lmgnn load` again.
The server here is this module's own (see conftest.py), never the session's.

Faults mid-writeback: test_writeback_faults.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmgnn.loaders import load_graph
from lmgnn.loaders.synthetic import generate
from lmgnn.spec import load_spec

from .conftest import OwnServer, graph_state

# big enough that writing takes several seconds on a busy 2-core machine
PRODUCTS, QUERIES = 6_000, 4_000


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("shop"), products=PRODUCTS, queries=QUERIES, seed=3)


@pytest.fixture(scope="module")
def clean(own_server: OwnServer, shop: Path) -> dict[str, object]:
    """The graph after one uninterrupted load."""
    own_server.wipe()
    with own_server.driver() as driver:
        load_graph(load_spec(shop), shop.parent, driver, "neo4j", progress=False)
        state = graph_state(driver)
    assert state["counts"]["Product"] == PRODUCTS and state["counts"]["PURCHASED"] > 10_000
    return state


def _load(own_server: OwnServer, shop: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lmgnn", "load", str(shop), "--no-progress"],
                            env=own_server.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(own_server: OwnServer, proc: subprocess.Popen, query: str,
              timeout_s: float = 240) -> None:
    """Until ``query`` counts more than 0 (the load is writing), while the load runs."""
    deadline = time.monotonic() + timeout_s
    with own_server.driver() as driver:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"the load ended before the fault: {proc.communicate()}"
            records, _, _ = driver.execute_query(query, database_="neo4j")
            if records[0]["n"] > 0:
                return
            time.sleep(0.05)
    proc.kill()
    pytest.fail("the load never started writing")


def _rerun_equals_clean(own_server: OwnServer, shop: Path, clean: dict[str, object]) -> None:
    again = _load(own_server, shop)
    _out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    with own_server.driver() as driver:
        assert graph_state(driver) == clean


NODES_STARTED = "MATCH (n:Query) RETURN count(n) AS n"
RELS_STARTED = "MATCH ()-[r:PURCHASED]->() RETURN count(r) AS n"


@pytest.mark.parametrize("when", [NODES_STARTED, RELS_STARTED], ids=["nodes", "relationships"])
def test_server_killed_mid_load(own_server: OwnServer, shop: Path, clean, when: str) -> None:
    own_server.wipe()
    proc = _load(own_server, shop)
    _wait_for(own_server, proc, when)
    own_server.kill()
    _out, err = proc.communicate(timeout=300)
    # one line that says what happened and that re-running completes the load
    assert proc.returncode == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: lost the connection to Neo4j")
    assert "re-run the same `lmgnn load` command" in err
    own_server.start()  # recovers from its transaction log
    with own_server.driver() as driver:
        partial = graph_state(driver)
    assert partial["counts"] != clean["counts"]  # the fault really hit mid-load
    _rerun_equals_clean(own_server, shop, clean)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_cli_stopped_mid_load(own_server: OwnServer, shop: Path, clean, sig: int) -> None:
    own_server.wipe()
    proc = _load(own_server, shop)
    _wait_for(own_server, proc, RELS_STARTED)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert err.strip() == ("interrupted: re-run the same `lmgnn load` command to complete "
                               "the load (it skips what is already stored)")
    with own_server.driver() as driver:
        assert graph_state(driver)["counts"] != clean["counts"]
    _rerun_equals_clean(own_server, shop, clean)
