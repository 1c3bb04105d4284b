"""A `neo4j://` (routing) URI: every sampler and inference read is a read transaction (what a
cluster spreads over its secondaries), writes go to the writer; tested against our single
server, which routes to itself."""

from __future__ import annotations

import dataclasses
import logging

import neo4j
import pytest
import torch

from lmgnn.db.connection import open_driver
from lmgnn.sampler import NodeLoader, edge_seeds, make_sampler, snapshot
from lmgnn.sampler.reads import read
from lmgnn.spec_store import require_spec
from lmgnn.train import TrainConfig, record_run, train
from lmgnn.writeback.inference import load_run, node_representations

from .conftest import lmgnn


def routing(db):
    settings = dataclasses.replace(db.settings, uri=db.settings.uri.replace("bolt://",
                                                                            "neo4j://"))
    assert settings.uri.startswith("neo4j://")
    return settings


def _transactions(caplog) -> list[str]:
    """The BEGIN / auto-commit RUN messages the driver sent (its debug log of Bolt)."""
    return [r.getMessage() for r in caplog.records
            if "C: BEGIN" in r.getMessage() or "C: RUN" in r.getMessage()]


def test_sampler_and_inference_reads_are_read_transactions(shop, tiny_lm_dir, tmp_path,
                                                            caplog) -> None:
    config = TrainConfig(target="Product.category", method="gnn", lm_path=str(tiny_lm_dir),
                         max_length=16, hidden=16, epochs=1, batch_size=64, fanout=5,
                         budget=0)
    run_id = train(config, shop.driver, shop.database, tmp_path / "runs").run_id
    driver = open_driver(routing(shop))
    try:
        caplog.set_level(logging.DEBUG, logger="neo4j")
        spec = require_spec(driver, shop.database)
        for backend in ("cypher", "snapshot"):
            sampler = make_sampler(driver, shop.database, spec, backend=backend,
                                   fanouts=[5, 5], features="text")
            batch = next(iter(NodeLoader(sampler, "Product", batch_size=32, prefetch=0)))
            assert batch["Product"].batch_size == 32 and len(batch["Query"].text)
        assert len(edge_seeds(driver, shop.database, spec, "PURCHASED")) > 0
        assert snapshot(driver, shop.database, spec).counts["Product"] == 160
        loaded = load_run(driver, shop.database, tmp_path / "runs", run_id, sampler="cypher")
        reps = list(node_representations(loaded, "Product", torch.arange(40), 16))
        assert sum(int(n.numel()) for n, _ in reps) == 40
        begins = [m for m in _transactions(caplog) if "C: BEGIN" in m]
        assert len(begins) > 10, begins[:5]  # the reads above went over Bolt, logged
        not_read = [m for m in begins if "'mode': 'r'" not in m]
        assert not not_read, not_read[:3]
    finally:
        driver.close()


def test_a_read_transaction_refuses_writes_and_writes_reach_the_writer(shop, caplog) -> None:
    driver = open_driver(routing(shop))
    try:
        with pytest.raises(neo4j.exceptions.ClientError, match=r"(?i)read"):
            read(driver, shop.database, "CREATE (:ShouldNotExist)")
        caplog.set_level(logging.DEBUG, logger="neo4j")
        record_run(driver, shop.database, "routed-run", {"status": "running"})
    finally:
        driver.close()
    begins = [m for m in _transactions(caplog) if "C: BEGIN" in m]
    assert begins and all("'mode': 'r'" not in m for m in begins)  # writes: write mode
    assert shop.run("MATCH (n:ShouldNotExist) RETURN count(n) AS n") == [{"n": 0}]
    assert shop.run("MATCH (r:ModelRun {run_id: 'routed-run'}) RETURN r.status AS s") == [
        {"s": "running"}]


def test_writeback_in_two_processes_over_the_routing_uri(shop, tiny_lm_dir, tmp_path) -> None:
    config = TrainConfig(target="Product.category", method="gnn", lm_path=str(tiny_lm_dir),
                         max_length=16, hidden=16, epochs=1, batch_size=64, fanout=5,
                         budget=0)
    runs = tmp_path / "runs"
    run_id = train(config, shop.driver, shop.database, runs).run_id
    counts = {r["label"]: r["n"] for r in shop.run(
        "MATCH (n) WHERE n:Product OR n:Query OR n:Brand "
        "RETURN labels(n)[0] AS label, count(n) AS n")}
    for attempt in range(2):  # the second run rewrites in place: nothing added or lost
        done = lmgnn(shop, "writeback", "--run", run_id, "--nproc", "2", "--batch-size", "16",
                     "--batch-rows", "20", "--runs-dir", str(runs),
                     NEO4J_URI=routing(shop).uri)
        assert done.returncode == 0, done.stderr[-3000:]
        assert (done.stdout + done.stderr).count(f"written for run {run_id}") == 1
        outputs = shop.run("MATCH (:ModelRun {run_id: $r})-[:WROTE]->(o:LmgnnOutput) "
                           "RETURN o.kind AS kind, o.label AS label, o.count AS count, "
                           "o.status AS status, o.pred AS pred, o.property AS property",
                           r=run_id)
        assert {(o["kind"], o["label"]) for o in outputs} == {
            ("node_class", "Product"), ("embedding", "Product"), ("embedding", "Query"),
            ("embedding", "Brand")}, attempt
        for o in outputs:
            assert o["status"] == "complete"
            assert o["count"] == counts[o["label"]]  # exact: every rank's batches counted
            prop = o["pred"] if o["kind"] == "node_class" else o["property"]
            held = shop.run(f"MATCH (n:{o['label']}) WHERE n.`{prop}` IS NOT NULL "
                            "RETURN count(n) AS n")
            assert held == [{"n": counts[o["label"]]}]
