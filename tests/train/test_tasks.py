"""Link prediction, edge classification, resume and (:ModelRun) records on the tiny shop."""

from __future__ import annotations

import json
import math

import pytest
import torch
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.errors import UserError
from lmgnn.train import TrainConfig, list_runs, train
from lmgnn.train.checkpoint import Checkpoint
from lmgnn.train.runs import RunDir


def _cfg(tiny_lm_dir, **kw) -> TrainConfig:
    base = dict(lm_path=str(tiny_lm_dir), max_length=16, hidden=16, epochs=2, batch_size=32,
                lm_batch_size=16, fanout=5, num_negatives=8, eval_negatives=20)
    base.update(kw)
    for stage_epochs in ("lm_epochs", "joint_epochs"):  # LM stages as long as the gnn's
        base.setdefault(stage_epochs, base["epochs"])
    return TrainConfig(**base)


@pytest.mark.parametrize(("method", "loss", "negatives"), [
    ("lm", "bce", "uniform"), ("gnn", "contrastive", "in_batch"),
    ("lmgnn", "contrastive", "uniform")])
def test_link_prediction(tiny_shop, tiny_lm_dir, tmp_path, method, loss, negatives) -> None:
    cfg = _cfg(tiny_lm_dir, method=method, task="link", target="Query-PURCHASED->Product",
               loss=loss, negatives=negatives)
    result = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    m = result.test
    assert 0 < m["mrr"] <= 1 and 0 <= m["hits@1"] <= m["hits@10"] <= 1
    assert 0 <= m["roc_auc"] <= 1 and m["count"] == 24  # 10% of 240 purchases
    # filtered full ranking against every product
    assert m["full_candidates"] == 120 and 0 < m["full_mrr"] <= 1
    assert 0 <= m["full_hits@1"] <= m["full_hits@10"] <= 1


def test_the_first_link_run_on_a_graph_holds_its_valid_and_test_edges_out(
        tiny_shop, tiny_lm_dir, tmp_path) -> None:
    """The snapshot sampler reads `_split` once, when it is made: it was made before the first
    run wrote the splits, so on a fresh graph that run passed messages over its own valid and
    test edges, and a second, identical run got other numbers."""
    cfg = _cfg(tiny_lm_dir, method="gnn", task="link", target="Query-PURCHASED->Product",
               sampler="snapshot")
    first = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    second = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    assert first.test == second.test and first.valid == second.valid


def test_gnn_input_stats_are_those_of_the_final_embeddings(tiny_shop, tiny_lm_dir,
                                                          tmp_path) -> None:
    """The GNN standardises its inputs with the stats of the LM state it was trained on, and
    saves them, so inference on the run standardises the same way."""
    from lmgnn.sampler.embeddings import MemmapEmbeddings
    from lmgnn.spec_store import require_spec
    from lmgnn.train.cache import VectorCache

    cfg = _cfg(tiny_lm_dir, method="lmgnn", task="node", target="Product.category", epochs=1)
    result = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    summary = json.loads((result.path / "summary.json").read_text())
    state = torch.load(result.path / "model.pt", weights_only=True)
    counts = json.loads((result.path / "config.json").read_text())["counts"]
    cache = VectorCache(tmp_path / "runs" / ".embeddings",
                        require_spec(tiny_shop.driver, tiny_shop.database), counts)
    cache.store = MemmapEmbeddings(cache.root, summary["embedding_state"], 32, cache.counts)
    stats = cache.stats()
    for label, (mean, std) in stats.items():
        assert torch.allclose(state[f"gnn.input.{label}.mean"], mean, atol=1e-5)
        assert torch.allclose(state[f"gnn.input.{label}.std"], std.clamp(min=1e-4), atol=1e-5)
        assert float(std.min()) > 0 and float(mean.abs().max()) > 0


def test_joint_stage_must_beat_stage_2_on_validation(tiny_shop, tiny_lm_dir, tmp_path,
                                                     monkeypatch) -> None:
    """A joint stage that validates worse than stage 2 does not replace its model."""
    from lmgnn.train import loops

    real_eval, real_train, modes = loops.evaluate, loops.train_epoch, []

    def remember_mode(task, model, batches, mode, *args, **kwargs):
        modes.append(mode)
        return real_train(task, model, batches, mode, *args, **kwargs)

    def joint_always_worse(*args, **kwargs):
        m = real_eval(*args, **kwargs)
        return {**m, "acc": -1.0} if modes and modes[-1] == "joint" else m

    monkeypatch.setattr(loops, "train_epoch", remember_mode)
    monkeypatch.setattr(loops, "evaluate", joint_always_worse)
    cfg = _cfg(tiny_lm_dir, method="lmgnn", task="node", target="Product.category", epochs=1)
    result = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    assert result.stages["joint"]["kept"] == "gnn"
    assert result.stages["joint"]["valid_acc"] == result.stages["gnn"]["valid_acc"]
    summary = json.loads((result.path / "summary.json").read_text())
    assert summary["embedding_state"].endswith("-lm")  # stage-2 vectors, not joint-1


def test_diverged_training_stops_with_a_clear_error(tiny_shop, tiny_lm_dir, tmp_path) -> None:
    cfg = _cfg(tiny_lm_dir, method="gnn", task="node", target="Product.category",
               gnn_lr=float("inf"))
    with pytest.raises(UserError, match="diverged"):
        train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")


def test_cli_trains_a_link_run_and_prints_full_ranking(tiny_shop, tiny_lm_dir, tmp_path) -> None:
    out = CliRunner().invoke(app, [
        "train", "--method", "gnn", "--task", "link", "--target", "PURCHASED",
        "--lm-path", str(tiny_lm_dir), "--max-length", "16", "--hidden", "16", "--epochs", "1",
        "--num-negatives", "4", "--eval-negatives", "10", "--full-rank-max", "120",
        "--runs-dir", str(tmp_path / "runs")], env=tiny_shop.env(), terminal_width=250)
    assert out.exit_code == 0, out.output
    assert "full_mrr" in out.output and "full_candidates" in out.output
    config = json.loads(next((tmp_path / "runs").glob("*/config.json")).read_text())["train"]
    assert (config["num_negatives"], config["eval_negatives"], config["full_rank_max"]) == \
        (4, 10, 120)
    off = CliRunner().invoke(app, [
        "train", "--method", "gnn", "--task", "link", "--target", "PURCHASED",
        "--lm-path", str(tiny_lm_dir), "--max-length", "16", "--hidden", "16", "--epochs", "1",
        "--full-rank-max", "119", "--runs-dir", str(tmp_path / "runs")],
        env=tiny_shop.env(), terminal_width=250)
    assert off.exit_code == 0 and "full_mrr" not in off.output  # 120 products > 119


def test_edge_classification_and_runs_listed(tiny_shop, tiny_lm_dir, tmp_path) -> None:
    cfg = _cfg(tiny_lm_dir, method="gnn", task="edge", target="PURCHASED")
    result = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    assert 0 <= result.test["acc"] <= 1 and result.test["count"] == 24
    config = json.loads((result.path / "config.json").read_text())
    assert config["classes"] == ["C", "E", "S"]
    runs = list_runs(tiny_shop.driver, tiny_shop.database)
    assert [r["run_id"] for r in runs] == [result.run_id]
    assert runs[0]["status"] == "finished" and runs[0]["method"] == "gnn"
    assert math.isclose(runs[0]["test_acc"], result.test["acc"])
    out = CliRunner().invoke(app, ["runs"], env=tiny_shop.env(), terminal_width=200)
    assert out.exit_code == 0 and result.run_id in out.output
    assert f"{result.test['acc']:.4f}" in out.output


def test_interrupted_run_resumes_from_checkpoint(tiny_shop, tiny_lm_dir, tmp_path,
                                                 monkeypatch) -> None:
    from lmgnn.train import loops

    cfg = _cfg(tiny_lm_dir, method="lmgnn", task="node", target="Product.category", epochs=2)
    real, calls = loops.train_epoch, []

    def crash_in_joint(*args, **kwargs):
        calls.append(kwargs.get("description") or args[-1])
        if str(calls[-1]).startswith("joint epoch 1"):
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loops, "train_epoch", crash_in_joint)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs", run_id="r1")
    ckpt = Checkpoint.load(RunDir.open(tmp_path / "runs", "r1"))
    assert ckpt.stage_index == 2 and ckpt.next_epoch == 1  # joint, after its epoch 0
    monkeypatch.setattr(loops, "train_epoch", real)
    done = []
    monkeypatch.setattr(loops, "train_epoch",
                        lambda *a, **k: done.append(k.get("description") or a[-1]) or real(*a, **k))
    result = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs", resume="r1")
    assert done == ["joint epoch 1"]  # nothing before the interruption is redone
    rows = [json.loads(x) for x in (result.path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if r["stage"] == "joint"] == [0, 1]
    assert (result.path / "lm" / "config.json").is_file()
    assert (result.path / "model.pt").is_file()
    shape = json.loads((result.path / "model.json").read_text())["shape"]
    assert shape["gnn"]["num_nodes"] == {"Brand": 8}
    assert not (result.path / "checkpoints" / "last.pt").exists()  # dropped when finished
    with pytest.raises(UserError, match="already finished"):
        train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs", resume="r1")


def test_bad_targets_are_user_errors(tiny_shop, tiny_lm_dir, tmp_path) -> None:
    for kw, pattern in [(dict(task="node", target="Query"), "no target"),
                        (dict(task="edge", target="MADE_BY"), "no `label`"),
                        (dict(task="link", target="BOUGHT"), "unknown relationship"),
                        (dict(task="node", target="Product.colour"), "no property")]:
        with pytest.raises(UserError, match=pattern):
            train(_cfg(tiny_lm_dir, method="gnn", **kw), tiny_shop.driver, tiny_shop.database,
                  tmp_path / "runs")
    with pytest.raises(UserError, match="unknown training option"):
        TrainConfig.from_dict({"method": "gnn", "task": "node", "target": "x", "epoch": 3})
