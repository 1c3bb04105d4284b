"""Kill the CLI (or the server) mid-writeback; the re-run's graph equals a clean writeback's.

One run (method gnn, node task, tiny random LM) is trained on a synthetic shop in this
module's own server (see conftest.py). The reference is one uninterrupted `lmgnn writeback`:
every node's and relationship's properties (predictions and embeddings included) hashed, plus
each output's item count. Then, per scenario, a writeback is killed while it writes:

- a first write (the run's outputs deleted before): the manifest must never call an output
  complete that is not (status 'writing', its count exactly what the graph holds), so the
  query library, which reads only complete or rewriting outputs, does not serve it;
- a re-write over complete predictions: every item is the old or the new prediction, and
  since inference of one run on one graph is deterministic they are the same values, so the
  graph equals the clean writeback's even before the re-run (a complete run throughout;
  status 'rewriting' until the re-run marks it complete).

Then `lmgnn writeback` again must give exactly the clean writeback's graph and manifest.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import neo4j
import pytest

from lmgnn.loaders import load_graph
from lmgnn.loaders.synthetic import generate
from lmgnn.spec import load_spec
from lmgnn.train import TrainConfig, train
from lmgnn.writeback import manifest

from .conftest import OwnServer

PRODUCTS, QUERIES = 3_000, 2_000
BATCH_ROWS = "100"  # small transactions: the writes take seconds, so a fault lands mid-way
BOOKKEEPING = ("LmgnnSpec", "LmgnnOutput", "ModelRun")  # timestamps differ from run to run


@pytest.fixture(scope="module")
def trained(own_server: OwnServer, tmp_path_factory: pytest.TempPathFactory,
            tiny_lm_dir: Path) -> tuple[Path, str]:
    """The shop loaded and one run trained on it: (runs folder, run id)."""
    tmp = tmp_path_factory.mktemp("writeback-faults")
    shop = generate(tmp / "shop", products=PRODUCTS, queries=QUERIES, seed=5)
    own_server.wipe()
    config = TrainConfig(method="gnn", task="node", target="Product.category",
                         lm_path=str(tiny_lm_dir), max_length=16, hidden=16, epochs=1,
                         batch_size=64, max_steps_per_epoch=3, fanout=3, device="cpu")
    with own_server.driver() as driver:
        load_graph(load_spec(shop), shop.parent, driver, "neo4j", progress=False)
        run = train(config, driver, "neo4j", tmp / "runs")
    return tmp / "runs", run.run_id


def prediction_state(driver: neo4j.Driver) -> dict[str, object]:
    """A SHA-256 over every node's labels and properties and every relationship's type,
    endpoints and properties (bookkeeping nodes apart), and each output's count."""
    def rows(query: str) -> list[dict]:
        records, _, _ = driver.execute_query(query, database_="neo4j")
        return [r.data() for r in records]

    skip = " AND ".join(f"NOT n:{label}" for label in BOOKKEEPING)
    items = rows(f"MATCH (n) WHERE {skip} RETURN labels(n) AS labels, properties(n) AS props")
    items += rows("MATCH (a)-[r]->(b) WHERE NOT a:ModelRun RETURN type(r) AS type, "
                  "labels(a) AS a, a._nid AS an, labels(b) AS b, b._nid AS bn, "
                  "properties(r) AS props")
    digest = hashlib.sha256()
    for item in sorted(json.dumps(x, sort_keys=True, default=str) for x in items):
        digest.update(item.encode())
    counts = {r["id"]: r["count"] for r in rows(
        "MATCH (o:LmgnnOutput) RETURN o.id AS id, o.count AS count")}
    return {"sha256": digest.hexdigest(), "counts": counts}


def outputs(driver: neo4j.Driver, run_id: str) -> dict[str, dict]:
    """The run's outputs by ``kind:label``, e.g. ``node_class:Product``."""
    return {f"{o['kind']}:{o['label']}": o
            for o in manifest.outputs_of_run(driver, "neo4j", run_id)}


def _writeback(own_server: OwnServer, runs: Path, run_id: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lmgnn", "writeback", "--run", run_id, "--runs-dir", str(runs),
         "--batch-rows", BATCH_ROWS, "--device", "cpu", *extra],
        env=own_server.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _complete(own_server: OwnServer, runs: Path, run_id: str) -> None:
    proc = _writeback(own_server, runs, run_id)
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err


@pytest.fixture(scope="module")
def clean(own_server: OwnServer, trained: tuple[Path, str]) -> dict[str, object]:
    """The graph after one uninterrupted writeback."""
    runs, run_id = trained
    _complete(own_server, runs, run_id)
    with own_server.driver() as driver:
        state = prediction_state(driver)
        done = outputs(driver, run_id)
    assert {o["status"] for o in done.values()} == {"complete"}
    assert done["node_class:Product"]["count"] == PRODUCTS
    return state


def _wait_mid_write(own_server: OwnServer, proc: subprocess.Popen, run_id: str, status: str,
                    timeout_s: float = 300) -> None:
    """Until the Product classes are being written: a first write (``writing``) has landed
    some of them; a re-write (``rewriting``, whose count stays full while it overwrites in
    place) has been seen running two of its write transactions."""
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    with own_server.driver() as driver:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"writeback ended before the fault: {proc.communicate()}"
            product = outputs(driver, run_id).get("node_class:Product", {})
            if product.get("status") == status:
                if status == "writing" and 0 < product.get("count", 0) < PRODUCTS:
                    return
                running, _, _ = driver.execute_query(
                    "SHOW TRANSACTIONS YIELD transactionId AS id, currentQuery AS q "
                    "WHERE q CONTAINS $pred OR q CONTAINS 'setNodeVectorProperty' RETURN id",
                    pred=product["pred"], database_="neo4j")
                seen.update(r["id"] for r in running)
                if status == "rewriting" and len(seen) >= 2:
                    return
            time.sleep(0.01)
    proc.kill()
    pytest.fail("the writeback never reached its Product classes")


def _nothing_half_written_looks_complete(driver: neo4j.Driver, run_id: str) -> None:
    """Every output's count is what the graph holds, and none that is short says complete."""
    for name, o in outputs(driver, run_id).items():
        if o["kind"] == "node_class":
            records, _, _ = driver.execute_query(
                f"MATCH (n:{o['label']}) WHERE n[$p] IS NOT NULL RETURN count(n) AS n",
                p=o["pred"], database_="neo4j")
            assert records[0]["n"] == o["count"], name
        if o["count"] < (PRODUCTS if o["label"] == "Product" else QUERIES):
            assert o["status"] == "writing", (name, o["status"])
    records, _, _ = driver.execute_query("MATCH (n:Product) WHERE n[$p] IS NOT NULL "
                                         "RETURN count(n) AS n", database_="neo4j",
                                         p=outputs(driver, run_id)["node_class:Product"]["pred"])
    assert 0 < records[0]["n"] < PRODUCTS  # the fault really hit mid-write


def _fault(own_server: OwnServer, proc: subprocess.Popen, victim: str) -> None:
    if victim == "cli":
        proc.kill()  # SIGKILL: no clean-up of any kind
        proc.communicate(timeout=60)
        return
    own_server.kill()
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err  # one line that says what happened and what completes it
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: lost the connection to Neo4j")
    assert "re-run the same `lmgnn writeback` command" in err
    own_server.start()  # recovers from its transaction log


@pytest.mark.parametrize("victim", ["cli", "server"], ids=["kill-9-cli", "kill-9-server"])
def test_killed_first_writeback_is_never_served_and_a_rerun_completes_it(
        own_server: OwnServer, trained: tuple[Path, str], clean: dict[str, object],
        victim: str) -> None:
    runs, run_id = trained
    subprocess.run([sys.executable, "-m", "lmgnn", "writeback", "--delete", run_id],
                   env=own_server.env(), check=True, capture_output=True)
    proc = _writeback(own_server, runs, run_id)
    _wait_mid_write(own_server, proc, run_id, "writing")
    _fault(own_server, proc, victim)
    with own_server.driver() as driver:
        _nothing_half_written_looks_complete(driver, run_id)
        latest, _, _ = driver.execute_query(
            "MATCH (run:ModelRun {run_id: $id})-[:WROTE]->(o:LmgnnOutput {kind: 'node_class'}) "
            "WHERE o.status IN ['complete', 'rewriting'] RETURN count(o) AS n",
            id=run_id, database_="neo4j")
        assert latest[0]["n"] == 0  # what the query library reads (latest_runs.cypher)
    _complete(own_server, runs, run_id)
    with own_server.driver() as driver:
        assert prediction_state(driver) == clean
        assert {o["status"] for o in outputs(driver, run_id).values()} == {"complete"}


@pytest.mark.parametrize("victim", ["cli", "server"], ids=["kill-9-cli", "kill-9-server"])
def test_killed_rewrite_leaves_the_complete_predictions_and_a_rerun_completes_it(
        own_server: OwnServer, trained: tuple[Path, str], clean: dict[str, object],
        victim: str) -> None:
    runs, run_id = trained
    with own_server.driver() as driver:
        if prediction_state(driver) != clean:  # the previous scenario left it otherwise
            _complete(own_server, runs, run_id)
    proc = _writeback(own_server, runs, run_id)
    _wait_mid_write(own_server, proc, run_id, "rewriting")
    _fault(own_server, proc, victim)
    with own_server.driver() as driver:
        # every item is the old or the new prediction, and they are equal: a complete run
        assert prediction_state(driver) == clean
        assert outputs(driver, run_id)["node_class:Product"]["status"] == "rewriting"
    _complete(own_server, runs, run_id)
    with own_server.driver() as driver:
        assert prediction_state(driver) == clean
        assert {o["status"] for o in outputs(driver, run_id).values()} == {"complete"}
