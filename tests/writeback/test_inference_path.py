"""Inference reloads a run from its files alone and reads the graph through the sampler: a
new node's own edges are in its batch, nothing is written by predict, run ids are checked."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.errors import UserError
from lmgnn.sampler.base import NeighbourSampler
from lmgnn.train import TrainConfig, load_model, train

PURCHASED = ("Query", "PURCHASED", "Product")


def _train_link_run(db, tiny_lm_dir, runs):
    config = TrainConfig(method="gnn", task="link", target="PURCHASED", lm_path=str(tiny_lm_dir),
                         max_length=16, hidden=16, epochs=1, batch_size=32, fanout=5,
                         num_negatives=4, eval_negatives=10)
    return train(config, db.driver, db.database, runs)


def _graph_state(db) -> list[dict]:
    """Every property key of every node and relationship, with counts: what a read-only command
    must leave exactly as it found it."""
    return db.run("MATCH (n) UNWIND keys(n) AS k RETURN 'node' AS what, k, count(*) AS n "
                  "UNION ALL MATCH ()-[r]->() UNWIND keys(r) AS k "
                  "RETURN 'rel' AS what, k, count(*) AS n ORDER BY what, k")


def test_predict_writes_nothing_and_scores_a_new_query_with_both_its_purchases(
        trainshop, tiny_lm_dir, tmp_path, monkeypatch):
    db, runs = trainshop, tmp_path / "runs"
    run = _train_link_run(db, tiny_lm_dir, runs)
    db.run("CREATE (:Query {_nid: 30, query_id: 'q30', text: 'atlas please'})")
    db.run("MATCH (q:Query {_nid: 30}), (p:Product) WHERE p._nid IN [1, 4] "
           "CREATE (q)-[:PURCHASED {esci: 'E'}]->(p)")
    before = _graph_state(db)
    seen: list = []
    real = NeighbourSampler.sample_from_nodes

    def spy(self, label, seeds, *, epoch=0):  # records the real batches, changes nothing
        batch = real(self, label, seeds, epoch=epoch)
        seen.append((label, batch))
        return batch

    monkeypatch.setattr(NeighbourSampler, "sample_from_nodes", spy)
    out = CliRunner().invoke(app, ["predict", "--run", run.run_id, "--runs-dir", str(runs)],
                             env=db.env(), terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "q30" in out.output
    assert _graph_state(db) == before  # no _split, no prediction, nothing
    assert db.run("MATCH (q:Query {_nid: 30})-[r]-() WHERE r._split IS NOT NULL "
                  "RETURN count(r) AS n")[0]["n"] == 0
    batches = [b for label, b in seen if label == "Query"
               and 30 in b["Query"].n_id[:b["Query"].batch_size].tolist()]
    assert batches, "the new query was never scored"
    batch = batches[0]
    local = int((batch["Query"].n_id == 30).nonzero()[0, 0])
    ei = batch[PURCHASED].edge_index
    bought = batch["Product"].n_id[ei[1, ei[0] == local]].tolist()
    assert sorted(bought) == [1, 4]


def test_load_model_rebuilds_the_run_from_its_files_without_touching_rng(trainshop, tiny_lm_dir,
                                                                        tmp_path):
    run = _train_link_run(trainshop, tiny_lm_dir, tmp_path / "runs")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    loaded = load_model(run.path, device="cpu")
    assert torch.equal(torch.rand(3), expected)  # loading reseeded nothing
    weights = torch.load(run.path / "model.pt", weights_only=True)
    state = loaded.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in weights.items())
    assert loaded.target.relation == PURCHASED and loaded.counts["Product"] == 60


@pytest.mark.parametrize("command", ["writeback", "predict"])
def test_run_ids_that_are_paths_are_refused(trainshop, tmp_path, command):
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "config.json").write_text("{}")
    out = CliRunner().invoke(app, [command, "--run", "../evil", "--runs-dir",
                                   str(tmp_path / "runs")], env=trainshop.env())
    assert out.exit_code != 0 and isinstance(out.exception, UserError)
    assert "run id '../evil'" in str(out.exception)
