"""Methods meta (iSAME, eSAME) and multitask, and probes on frozen embeddings, on the tiny shop."""

from __future__ import annotations

import json

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.models import to_device
from lmgnn.spec_store import require_spec
from lmgnn.train import TrainConfig, train
from lmgnn.train.meta import adapt, adapted_names, build_meta
from lmgnn.train.multitask import parse_tasks, resolve_tasks
from lmgnn.writeback.pipeline import WritebackOptions, writeback

TASKS = ["node:Product.category", "edge:PURCHASED", "link:Query-PURCHASED->Product"]


def _cfg(tiny_lm_dir, **kw) -> TrainConfig:
    base = dict(lm_path=str(tiny_lm_dir), max_length=16, hidden=16, epochs=1, fanout=5,
                num_negatives=8, eval_negatives=20, task_target=TASKS, episodes=3,
                support_size=16, target_size=16, method="meta", dropout=0.0)
    base.update(kw)
    return TrainConfig(**base)


def test_meta_run_probe_and_writeback(tiny_shop, tiny_lm_dir, tmp_path) -> None:
    db, runs = tiny_shop, tmp_path / "runs"
    meta = train(_cfg(tiny_lm_dir), db.driver, db.database, runs)
    for key in ("node_category_acc", "edge_PURCHASED_acc", "link_PURCHASED_mrr"):
        assert 0 <= meta.test[key] <= 1, key
    summary = json.loads((meta.path / "summary.json").read_text())
    assert summary["tasks"] == ["node_category", "edge_PURCHASED", "link_PURCHASED"]
    assert (meta.path / "heads.pt").is_file() and (meta.path / "model.json").is_file()

    # a linear probe per task kind on the meta run's frozen embeddings, recorded as a run
    probes = {}
    for kind, target in (("node", "Product.category"), ("edge", "PURCHASED"),
                         ("link", "PURCHASED")):
        probe = train(TrainConfig(method="probe", embeddings=meta.run_id, task=kind,
                                  target=target, epochs=2, gnn_lr=0.05, eval_negatives=20),
                      db.driver, db.database, runs)
        probes[kind] = probe
        assert probe.test["count"] > 0
    assert 0 <= probes["node"].test["acc"] <= 1 and 0 <= probes["link"].test["mrr"] <= 1
    saved = sorted(p.name for p in (meta.path / "embeddings").iterdir())
    assert saved == ["all", "hold-PURCHASED"]  # link/edge probes: test edges held out
    record, _, _ = db.driver.execute_query(
        "MATCH (r:ModelRun {run_id: $id}) RETURN r.method AS m, r.status AS s, "
        "r.encoder AS e", id=probes["node"].run_id, database_=db.database)
    assert (record[0]["m"], record[0]["s"], record[0]["e"]) == ("probe", "finished",
                                                                 meta.run_id)

    # the meta run's embeddings go back with a vector index; the probe's predictions too
    stats = writeback(db.driver, db.database, runs, meta.run_id, progress=False)
    assert {s.output_id.split("/", 1)[1] for s in stats} >= {"embedding/Product",
                                                              "embedding/Query"}
    graph_probe = train(TrainConfig(method="probe", embeddings=f"graph:{meta.run_id}",
                                    task="node", target="Product.category", epochs=1),
                        db.driver, db.database, runs)
    assert graph_probe.test["count"] == probes["node"].test["count"]
    stats = writeback(db.driver, db.database, runs, probes["node"].run_id,
                      WritebackOptions(embeddings=False), progress=False)
    assert [s.items for s in stats] == [120]  # every Product got the probe's class
    stats = writeback(db.driver, db.database, runs, probes["edge"].run_id,
                      WritebackOptions(embeddings=False), progress=False)
    assert stats and stats[0].items > 0


@pytest.mark.parametrize("variant", ["isame", "esame"])
def test_inner_loop_adapts_outer_step_updates(tiny_shop, tiny_lm_dir, tmp_path,
                                              variant) -> None:
    db = tiny_shop
    # esame: with the support and target roles swapped too (episode_swap)
    parts = build_meta(_cfg(tiny_lm_dir, meta_variant=variant, episode_swap=variant == "esame"),
                       db.driver, db.database, tmp_path / "runs")
    try:
        model = parts.model
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        for i in range(len(parts.names)):
            support = to_device(parts.support[i].next(), parts.device)
            names = adapted_names(model, i, parts.config.meta_variant)
            if variant == "esame":
                assert names and all(n.startswith(f"heads.{i}.") for n in names)
            fast, losses = adapt(model, i, support, parts.cache, names=names, steps=4,
                                 lr=0.5 if variant == "isame" else 2.0)
            after = torch.func.functional_call(model, fast, (i, support, parts.cache))
            after = float(after.detach())
            assert after < losses[0], (parts.names[i], losses, after)  # support loss falls
            assert any(not torch.equal(fast[n], before[n]) for n in names)
            # the inner loop never touches the module's own (shared) parameters
            assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())
        # one outer step changes the shared encoder
        from lmgnn.train.meta import _episode
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        loss = _episode(parts, [0.0] * len(parts.names))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
        assert any(n.startswith("gnn.") for n in changed)
    finally:
        parts.close()


def test_multitask_run(tiny_shop, tiny_lm_dir, tmp_path) -> None:
    r = train(_cfg(tiny_lm_dir, method="multitask", task_target=TASKS[:2]),
              tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    assert set(r.test) >= {"node_category_acc", "edge_PURCHASED_acc"}


def test_task_definitions_are_checked(tiny_shop, tmp_path) -> None:
    spec = require_spec(tiny_shop.driver, tiny_shop.database)
    with pytest.raises(UserError, match="KIND:TARGET"):
        parse_tasks(["Product.category"])
    with pytest.raises(UserError, match="named twice"):
        parse_tasks(["link:PURCHASED", "link:PURCHASED"])
    with pytest.raises(UserError, match=r"task edge:MADE_BY: .*label"):
        resolve_tasks(spec, TrainConfig(method="meta", task_target=["edge:MADE_BY"]))
    with pytest.raises(UserError, match="task link:SOLD"):
        resolve_tasks(spec, TrainConfig(method="meta", task_target=["link:SOLD"]))
    with pytest.raises(UserError, match="name its tasks"):
        TrainConfig(method="multitask")
    with pytest.raises(UserError, match="--embeddings"):
        TrainConfig(method="probe", target="Product.category")
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("tasks:\n  - node:Product.category\n  - {kind: link, target: MADE_BY}\n")
    assert [t.name for t in parse_tasks([str(tasks)])] == ["node:Product.category",
                                                           "link:MADE_BY"]
    tasks.write_text("- {kind: link}\n")
    with pytest.raises(UserError, match=r"tasks\.yaml task 1"):
        parse_tasks([str(tasks)])


def _weights(run_path) -> dict[str, torch.Tensor]:
    return torch.load(run_path / "model.pt", weights_only=True)


def test_interrupted_meta_and_probe_runs_resume_to_the_same_result(tiny_shop, tiny_lm_dir,
                                                                   tmp_path, monkeypatch
                                                                   ) -> None:
    """Ctrl-C in epoch 1, then `--resume`: the run ends exactly where an uninterrupted run
    with the same options ends (weights, metrics), redoing no finished epoch."""
    from lmgnn.train import loops, meta
    from lmgnn.train.checkpoint import Checkpoint
    from lmgnn.train.runs import RunDir

    db, runs = tiny_shop, tmp_path / "runs"
    cfg = _cfg(tiny_lm_dir, task_target=TASKS[::2], epochs=3, patience=3)
    whole = train(cfg, db.driver, db.database, runs, run_id="whole")
    real, calls = meta._episode, []

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == cfg.episodes + 1:  # the first episode of epoch 1
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(meta, "_episode", crash)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, db.driver, db.database, runs, run_id="cut")
    ckpt = Checkpoint.load(RunDir.open(runs, "cut"))
    assert ckpt is not None and ckpt.next_epoch == 1
    assert db.run("MATCH (r:ModelRun {run_id: 'cut'}) RETURN r.status AS s") == [
        {"s": "interrupted"}]
    done: list = []
    monkeypatch.setattr(meta, "_episode", lambda *a, **k: done.append(1) or real(*a, **k))
    resumed = train(cfg, db.driver, db.database, runs, resume="cut")
    assert len(done) == 2 * cfg.episodes  # epochs 1 and 2 only
    assert resumed.valid == whole.valid and resumed.test == whole.test
    rows = {r: [x["loss"] for x in RunDir.open(runs, r).metrics() if x["stage"] == "meta"]
            for r in ("whole", "cut")}
    assert len(rows["cut"]) == 3 and rows["cut"] == rows["whole"]
    a, b = _weights(whole.path), _weights(resumed.path)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not (resumed.path / "checkpoints" / "last.pt").exists()
    with pytest.raises(UserError, match="already finished"):
        train(cfg, db.driver, db.database, runs, resume="cut")

    # a probe: interrupted after its first epoch, resumed, equal to an uninterrupted probe
    probe = TrainConfig(method="probe", embeddings="whole", task="node",
                        target="Product.category", epochs=3, patience=3, gnn_lr=0.05)
    plain = train(probe, db.driver, db.database, runs, run_id="p-whole")
    real_epoch, epochs = loops.train_epoch, []

    def crash_epoch(*args, **kwargs):
        epochs.append(1)
        if len(epochs) == 2:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(loops, "train_epoch", crash_epoch)
    with pytest.raises(KeyboardInterrupt):
        train(probe, db.driver, db.database, runs, run_id="p-cut")
    monkeypatch.setattr(loops, "train_epoch", real_epoch)
    again = train(probe, db.driver, db.database, runs, resume="p-cut")
    assert again.valid == plain.valid and again.test == plain.test
    probe_rows = [x["epoch"] for x in RunDir.open(runs, "p-cut").metrics()
                  if x["stage"] == "probe"]
    assert probe_rows == [0, 1, 2]
