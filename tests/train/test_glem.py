"""Method glem end to end on a shop graph whose structure tells the category better than the
titles do (queries of one category buy its products; brands hidden), with a tiny random BERT."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from lmgnn.cli.main import app
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
from lmgnn.writeback.naming import edge_class_names, node_class_names
from tests.train.conftest import write_tiny_shop


@pytest.fixture
def shop(neo4j_db, tmp_path):
    spec_path = write_tiny_shop(tmp_path / "shop", products=320, queries=160)
    load_graph(load_spec(spec_path), spec_path.parent, neo4j_db.driver, neo4j_db.database,
               progress=False)
    return neo4j_db


def _cfg(tiny_lm_dir, **kw) -> TrainConfig:
    base = dict(method="glem", target="Product.category", lm_path=str(tiny_lm_dir),
                max_length=16, hidden=32, epochs=2, lm_epochs=2, batch_size=32,
                lm_batch_size=32, fanout=5, lm_lr=1e-3, glem_rounds=2, glem_lm_epochs=2,
                glem_gnn_epochs=2, seed=0, exclude=["MADE_BY"],
                dropout=0.2)  # the tiny models' round-on-round gains were sized with it
    base.update(kw)
    return TrainConfig(**base)


def _rows(path) -> list[dict]:
    return [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines()]


def test_glem_end_to_end_resumed(shop, tiny_lm_dir, tmp_path, monkeypatch) -> None:
    """Interrupted in the second epoch of the first E-step, resumed there; then every round
    of both models, the pseudo-labels, the record and a writeback of each model."""
    from lmgnn.train import loops

    # a budget that plans every epoch and whose deadlines never bind, however loaded the
    # machine: at the default 45 minutes a slow E-step epoch met its deadline under load
    cfg, runs = _cfg(tiny_lm_dir, budget=600.0), tmp_path / "runs"
    real, calls = loops.train_epoch, []

    def crash(*args, **kwargs):
        calls.append(kwargs.get("description") or args[-1])
        if len(calls) == 6:  # lm pre-training 2 epochs, gnn 2, the E-step's epoch 0
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loops, "train_epoch", crash)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, shop.driver, shop.database, runs, run_id="g1")
    ckpt = Checkpoint.load(RunDir(runs / "g1"))
    assert ckpt is not None and (ckpt.stage_index, ckpt.next_epoch) == (2, 1)
    assert [r["model"] for r in ckpt.extra["history"]] == ["lm", "gnn"]
    done: list = []
    monkeypatch.setattr(loops, "train_epoch",
                        lambda *a, **k: done.append(k.get("description") or a[-1]) or real(*a, **k))
    result = train(cfg, shop.driver, shop.database, runs, resume="g1")
    assert done[0] == "lm_task epoch 1" and len(done) == 1 + 2 + 2 + 2  # nothing redone
    steps = [r for r in _rows(result.path) if r.get("stage") == "glem"]
    assert [(r["model"], r["round"]) for r in steps] == [
        ("lm", 0), ("gnn", 0), ("lm", 1), ("gnn", 1), ("lm", 2), ("gnn", 2)]
    rounds = result.stages["glem"]["rounds"]
    print(json.dumps(rounds))
    # --budget (default 45 min): one plan, made before the interruption, kept by the resume;
    # its lm_task is every LM step (pre-training 2 epochs + 2 E-steps x 2), gnn every GNN one
    plan_stages = {s["stage"]: s for s in json.loads((result.path / "plan.json").read_text())[
        "stages"]}
    assert plan_stages["lm_task"]["epochs"] == plan_stages["gnn"]["epochs"] == 6
    # both models end above their pre-trained start: the GNN's labels teach the LM what the
    # queries tell, and the LM's labels and vectors feed the GNN
    assert rounds["lm_valid_acc"][-1] > rounds["lm_valid_acc"][0]
    assert rounds["gnn_valid_acc"][-1] > rounds["gnn_valid_acc"][0]
    assert rounds["lm_test_acc"][-1] > rounds["lm_test_acc"][0]
    # the run's own evaluation is GLEM-GNN's, the numbers of its last round
    assert result.valid["acc"] == pytest.approx(steps[-1]["valid_acc"])
    # pseudo-labels: a distribution per non-training product, read back from the run cache
    split = shop.run("MATCH (p:Product) RETURN p._nid AS nid, p._split AS split")
    others = torch.tensor(sorted(r["nid"] for r in split if r["split"] != "train"))
    n = len(split)
    for name in ("gnn-1", "lm-2", "gnn-3"):
        labels = PseudoLabels(result.path, name, "Product", n, 4)
        probs = labels.get(others)  # raises if any row was never written
        assert torch.allclose(probs.sum(-1), torch.ones(len(others)), atol=1e-4)
        assert labels.store.missing("Product", torch.arange(n)).numel() == n - len(others)
    e_step = steps[2]
    assert 0 < e_step["pseudo_labels"] <= len(others) and e_step["texts_encoded"] == n + 160
    # the vector cache keeps the base state and the final GNN's, not round 1's
    states = sorted(d.name for d in (runs / ".embeddings").iterdir())
    assert "g1-glem-lm4" in states and "g1-glem-lm2" not in states and len(states) == 2
    # (:ModelRun) records every round of both models
    rec = shop.run("MATCH (r:ModelRun {run_id: $id}) RETURN r", id=result.run_id)[0]["r"]
    assert json.loads(rec["glem_lm_valid_acc"]) == rounds["lm_valid_acc"]
    assert len(json.loads(rec["glem_gnn_test_acc"])) == 3
    # both models usable afterwards: GLEM-GNN by default, GLEM-LM with --glem-model lm
    assert load_run(shop.driver, shop.database, runs, "g1").model.gnn is not None
    assert (result.path / LM_DIR / "model.json").is_file()
    out = CliRunner().invoke(app, ["writeback", "--run", "g1", "--glem-model", "lm",
                                   "--no-embeddings", "--runs-dir", str(runs)],
                             env=shop.env(), terminal_width=200)
    assert out.exit_code == 0, out.output
    prop = node_class_names(require_spec(shop.driver, shop.database), "g1", "Product").pred
    pred = shop.run(f"MATCH (p:Product) WHERE p.`{prop}` IS NOT NULL RETURN count(p) AS n")
    assert pred[0]["n"] == n
    with pytest.raises(UserError, match="gnn or lm"):
        load_run(shop.driver, shop.database, runs, "g1", glem_model="both")


def test_glem_plan_and_options(tiny_lm_dir) -> None:
    assert [(s.model, s.round) for s in plan(_cfg(tiny_lm_dir, glem_start="gnn"))] == [
        ("lm", 0), ("gnn", 0), ("gnn", 1), ("lm", 1), ("gnn", 2), ("lm", 2)]
    with pytest.raises(UserError, match="glem_alpha"):
        _cfg(tiny_lm_dir, glem_alpha=1.5)
    with pytest.raises(UserError, match="link prediction"):
        _cfg(tiny_lm_dir, task="link", target="PURCHASED")


def test_glem_edge_classification(shop, tiny_lm_dir, tmp_path) -> None:
    """Edge task: GLEM-LM classifies a purchase from its query's and product's texts, GLEM-GNN
    from their neighbourhoods; each trains on the other's pseudo-labels of the valid and test
    purchases (threshold 0: all of them), stored per edge; both models write back."""
    runs = tmp_path / "runs"
    cfg = _cfg(tiny_lm_dir, task="edge", target="PURCHASED", glem_rounds=1, epochs=1,
               lm_epochs=1, glem_lm_epochs=1, glem_gnn_epochs=1, glem_threshold=0.0,
               budget=0)
    result = train(cfg, shop.driver, shop.database, runs, run_id="e1")
    steps = [r for r in _rows(result.path) if r.get("stage") == "glem"]
    assert [(r["model"], r["round"]) for r in steps] == [
        ("lm", 0), ("gnn", 0), ("lm", 1), ("gnn", 1)]
    split = shop.run("MATCH ()-[r:PURCHASED]->() RETURN r._split AS split")
    others = sum(r["split"] in ("valid", "test") for r in split)
    assert steps[2]["pseudo_labels"] == steps[3]["pseudo_labels"] == others > 0
    assert all(0 <= r["valid_acc"] <= 1 and r["valid_count"] > 0 for r in steps)
    labels = PseudoLabels(result.path, "gnn-1", "PURCHASED", len(split), 3)
    probs = labels.get(torch.arange(len(split) - others, len(split)))  # valid + test items
    assert torch.allclose(probs.sum(-1), torch.ones(others), atol=1e-4)
    assert load_run(shop.driver, shop.database, runs, "e1", glem_model="lm").model.gnn is None
    spec = require_spec(shop.driver, shop.database)
    prop = edge_class_names(spec, "e1", "PURCHASED").pred
    for model in ("lm", "gnn"):
        out = CliRunner().invoke(app, ["writeback", "--run", "e1", "--glem-model", model,
                                       "--no-embeddings", "--runs-dir", str(runs)],
                                 env=shop.env(), terminal_width=200)
        assert out.exit_code == 0, out.output
        pred = shop.run(f"MATCH ()-[r:PURCHASED]->() WHERE r.`{prop}` IS NOT NULL "
                        "RETURN count(r) AS n")
        assert pred[0]["n"] == len(split)
