"""Method glem end to end on a shop graph whose structure tells the category better than the
titles do (a brand per category pair, queries of one category), with a tiny random BERT."""

from __future__ import annotations

import json

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec
from lmgnn.spec_store import require_spec
from lmgnn.train import TrainConfig, train
from lmgnn.train.checkpoint import Checkpoint
from lmgnn.train.glem import LM_DIR, plan
from lmgnn.train.pseudo_labels import PseudoLabels
from lmgnn.train.runs import RunDir
from lmgnn.writeback.inference import load_run
from lmgnn.writeback.naming import node_class_names
from lmgnn.writeback.pipeline import WritebackOptions, writeback
from tests.train.conftest import write_tiny_shop


@pytest.fixture
def shop(neo4j_db, tmp_path):
    spec_path = write_tiny_shop(tmp_path / "shop", products=320, queries=160)
    load_graph(load_spec(spec_path), spec_path.parent, neo4j_db.driver, neo4j_db.database,
               progress=False)
    return neo4j_db


def _cfg(tiny_lm_dir, **kw) -> TrainConfig:
    base = dict(method="glem", target="Product.category", lm_path=str(tiny_lm_dir),
                max_length=16, hidden=32, epochs=2, batch_size=32, lm_batch_size=32, fanout=5,
                lm_lr=1e-3, glem_rounds=2, glem_lm_epochs=2, glem_gnn_epochs=2, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def _steps(path) -> list[dict]:
    rows = [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r.get("stage") == "glem"]


def test_glem_end_to_end(shop, tiny_lm_dir, tmp_path) -> None:
    cfg = _cfg(tiny_lm_dir)
    result = train(cfg, shop.driver, shop.database, tmp_path / "runs")
    steps = _steps(result.path)
    assert [(r["model"], r["round"]) for r in steps] == [
        ("lm", 0), ("gnn", 0), ("lm", 1), ("gnn", 1), ("lm", 2), ("gnn", 2)]
    rounds = result.stages["glem"]["rounds"]
    print(json.dumps(rounds))
    # both models end above their pre-trained start (the GNN's labels teach the LM, whose
    # vectors and labels feed the GNN)
    assert rounds["lm_valid_acc"][-1] > rounds["lm_valid_acc"][0]
    assert rounds["gnn_valid_acc"][-1] >= rounds["gnn_valid_acc"][0]
    assert rounds["gnn_test_acc"][-1] + rounds["lm_test_acc"][-1] > \
        rounds["gnn_test_acc"][0] + rounds["lm_test_acc"][0]
    # the run's own evaluation is GLEM-GNN's, the same numbers as its last round
    assert result.valid["acc"] == pytest.approx(steps[-1]["valid_acc"])
    # pseudo-labels: one distribution per non-training product, read back from the run cache
    run = RunDir(result.path)
    y_split = shop.run("MATCH (p:Product) RETURN p._nid AS nid, p._split AS split")
    others = torch.tensor(sorted(r["nid"] for r in y_split if r["split"] != "train"))
    n = len(y_split)
    for name in ("gnn-1", "lm-2", "gnn-3"):
        labels = PseudoLabels(run.path, name, "Product", n, 4)
        probs = labels.get(others)  # raises if any row was never written
        assert torch.allclose(probs.sum(-1), torch.ones(len(others)), atol=1e-4)
        assert labels.store.missing("Product", torch.arange(n)).numel() == n - len(others)
    e_step = next(r for r in steps if r["model"] == "lm" and r["round"] == 1)
    assert 0 < e_step["pseudo_labels"] <= len(others) and e_step["texts_encoded"] > 0
    # (:ModelRun) records every round of both models
    rec = shop.run("MATCH (r:ModelRun {run_id: $id}) RETURN r", id=result.run_id)[0]["r"]
    assert json.loads(rec["glem_lm_valid_acc"]) == rounds["lm_valid_acc"]
    assert len(json.loads(rec["glem_gnn_test_acc"])) == 3
    # both models usable: writeback of GLEM-GNN (default) and GLEM-LM
    gnn_run = load_run(shop.driver, shop.database, tmp_path / "runs", result.run_id)
    lm_run = load_run(shop.driver, shop.database, tmp_path / "runs", result.run_id,
                      glem_model="lm")
    assert gnn_run.model.gnn is not None and lm_run.model.gnn is None
    assert (result.path / LM_DIR / "model.json").is_file()
    writeback(shop.driver, shop.database, tmp_path / "runs", result.run_id,
              WritebackOptions(embeddings=False, glem_model="lm"), progress=False)
    prop = node_class_names(require_spec(shop.driver, shop.database), result.run_id,
                            "Product").pred
    pred = shop.run(f"MATCH (p:Product) WHERE p.`{prop}` IS NOT NULL RETURN count(p) AS n")
    assert pred[0]["n"] == n


def test_glem_resumes_at_step_and_epoch(shop, tiny_lm_dir, tmp_path, monkeypatch) -> None:
    """Interrupted inside the first E-step (after one epoch): the resumed run skips the
    finished steps and epochs and ends where an uninterrupted run ends."""
    from lmgnn.train import stages

    cfg = _cfg(tiny_lm_dir, glem_rounds=1)
    real = stages.loops.train_epoch
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # lm pre 2 + gnn pre 2 + one E-step epoch
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(stages.loops, "train_epoch", flaky)
    runs = tmp_path / "runs"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, shop.driver, shop.database, runs, run_id="glem-resume")
    ckpt = Checkpoint.load(RunDir(runs / "glem-resume"))
    assert ckpt is not None and (ckpt.stage_index, ckpt.next_epoch) == (2, 1)
    assert len(ckpt.extra["history"]) == 2
    monkeypatch.setattr(stages.loops, "train_epoch", real)
    calls["n"] = 0
    resumed = train(cfg, shop.driver, shop.database, runs, resume="glem-resume")
    steps = _steps(resumed.path)
    assert [(r["model"], r["round"]) for r in steps] == [
        ("lm", 0), ("gnn", 0), ("lm", 1), ("gnn", 1)]
    fresh = train(cfg, shop.driver, shop.database, runs, run_id="glem-fresh")
    assert resumed.valid["acc"] == pytest.approx(fresh.valid["acc"], abs=0.1)
    assert resumed.stages["glem"]["rounds"]["lm_valid_acc"][:1] == \
        fresh.stages["glem"]["rounds"]["lm_valid_acc"][:1]


def test_glem_plan_and_options(tiny_lm_dir) -> None:
    assert [(s.model, s.round) for s in plan(_cfg(tiny_lm_dir, glem_start="gnn"))] == [
        ("lm", 0), ("gnn", 0), ("gnn", 1), ("lm", 1), ("gnn", 2), ("lm", 2)]
    with pytest.raises(UserError, match="glem_alpha"):
        _cfg(tiny_lm_dir, glem_alpha=1.5)
    with pytest.raises(UserError, match="node classification"):
        _cfg(tiny_lm_dir, task="edge", target="PURCHASED")
