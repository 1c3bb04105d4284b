"""The one streaming data path: loaders of a run, the cypher backend end to end, fixed
evaluation batches, the stage-1 leakage guard, config files and spec features."""

from __future__ import annotations

import csv
import json
import random

import pytest
import torch
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.errors import UserError
from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec
from lmgnn.spec_store import require_spec
from lmgnn.train import TrainConfig, train
from lmgnn.train.batches import RunSamplers, TaskLoaders
from lmgnn.train.lm_links import text_relations
from lmgnn.train.task import excluded_relations, prepare_task, resolve_target

PURCHASED = ("Query", "PURCHASED", "Product")


def _cfg(tiny_lm_dir, **kw) -> TrainConfig:
    base = dict(lm_path=str(tiny_lm_dir), max_length=16, hidden=16, epochs=2, batch_size=32,
                lm_batch_size=16, fanout=5, num_negatives=8, eval_negatives=20)
    base.update(kw)
    for stage_epochs in ("lm_epochs", "joint_epochs"):  # LM stages as long as the gnn's
        base.setdefault(stage_epochs, base["epochs"])
    return TrainConfig(**base)


def _parts(db, config: TrainConfig):
    spec = require_spec(db.driver, db.database)
    exclude = excluded_relations(spec, config.exclude)
    target = resolve_target(spec, config)
    samplers = RunSamplers(db.driver, db.database, spec, config, exclude=exclude,
                           target_kind=target.kind, task_relation=target.relation)
    data = prepare_task(db.driver, db.database, spec, config, samplers.counts)
    return samplers, data, TaskLoaders(samplers, data, config)


def _seeds(batch, label: str) -> list[int]:
    return batch[label].n_id[:batch[label].batch_size].tolist()


def test_training_loaders_reshuffle_and_evaluation_loaders_never_move(tiny_shop, tiny_lm_dir):
    config = _cfg(tiny_lm_dir, method="gnn", task="node", target="Product.category",
                  max_steps_per_epoch=2, batch_size=10)
    _, data, loaders = _parts(tiny_shop, config)
    epoch0 = [_seeds(b, "Product") for b in loaders.train("graph", 0)]
    assert len(epoch0) == 2 and all(len(s) == 10 for s in epoch0)  # max_steps caps the epoch
    epoch1 = [_seeds(b, "Product") for b in loaders.train("graph", 1)]
    assert epoch0 != epoch1  # reshuffled
    assert {n for s in epoch0 for n in s} <= set(data.nodes["train"].tolist())
    valid = [(_seeds(b, "Product"), b["Product"].n_id.tolist(),
              b["Query", "PURCHASED", "Product"].edge_index.tolist())
             for b in loaders.evaluate("graph", "valid")]
    loaders.train("graph", 7)  # training moving on does not move evaluation
    again = [(_seeds(b, "Product"), b["Product"].n_id.tolist(),
              b["Query", "PURCHASED", "Product"].edge_index.tolist())
             for b in loaders.evaluate("graph", "valid")]
    assert valid == again
    assert sorted(n for v in valid for n in v[0]) == sorted(data.nodes["valid"].tolist())


def test_link_evaluation_negatives_are_fixed_and_training_negatives_change(tiny_shop,
                                                                          tiny_lm_dir):
    config = _cfg(tiny_lm_dir, method="gnn", task="link", target="PURCHASED", batch_size=16)
    _, data, loaders = _parts(tiny_shop, config)

    def pairs(loader):
        out = []
        for b in loader:
            eli, y = b[PURCHASED].edge_label_index, b[PURCHASED].edge_label
            q, p = b["Query"].n_id[eli[0]], b["Product"].n_id[eli[1]]
            out.append(sorted(zip(q.tolist(), p.tolist(), y.tolist(), strict=True)))
        return out

    first = pairs(loaders.evaluate("graph", "test"))
    loaders.train("graph", 3)
    assert pairs(loaders.evaluate("graph", "test")) == first
    negatives = [x for batch in first for x in batch if x[2] == 0]
    assert len(negatives) >= 20  # eval_negatives uniform targets per batch
    positives = {(q, p) for batch in first for q, p, y in batch if y == 1}
    assert positives == set(map(tuple, data.pairs["test"].T.tolist()))
    assert pairs(loaders.train("graph", 0)) != pairs(loaders.train("graph", 1))


def test_lm_links_sees_only_train_pairs_of_the_task_and_no_excluded_relation(tiny_shop,
                                                                           tiny_lm_dir):
    config = _cfg(tiny_lm_dir, method="lmgnn", task="link", target="PURCHASED",
                  exclude=["MADE_BY"])
    samplers, data, _ = _parts(tiny_shop, config)
    rels = text_relations(samplers, [("Product", "MADE_BY", "Brand")], PURCHASED,
                          data.pairs["train"])
    assert list(rels) == [PURCHASED]  # MADE_BY: excluded (and Brand has no text)
    seen = set(map(tuple, rels[PURCHASED].T.tolist()))
    held_out = set(map(tuple, torch.cat([data.pairs["valid"], data.pairs["test"]], 1).T.tolist()))
    assert seen == set(map(tuple, data.pairs["train"].T.tolist())) and not seen & held_out
    # a node task: the _split a link run left on PURCHASED is not this task's: every edge
    node_cfg = _cfg(tiny_lm_dir, method="lmgnn", task="node", target="Product.category")
    samplers, _, _ = _parts(tiny_shop, node_cfg)
    visible = text_relations(samplers, [], None, None)[PURCHASED]
    assert set(map(tuple, visible.T.tolist())) == seen | held_out


@pytest.mark.parametrize(("method", "task", "target"), [
    ("lm", "node", "Product.category"), ("gnn", "edge", "PURCHASED"),
    ("lmgnn", "link", "PURCHASED")])
def test_every_method_and_task_trains_and_writes_back_on_the_cypher_backend(
        tiny_shop, tiny_lm_dir, tmp_path, method, task, target):
    runs = tmp_path / "runs"
    result = train(_cfg(tiny_lm_dir, method=method, task=task, target=target, epochs=1,
                        sampler="cypher", max_steps_per_epoch=3), tiny_shop.driver,
                   tiny_shop.database, runs)
    summary = json.loads((result.path / "summary.json").read_text())
    assert summary["sampler"] == "cypher" and summary["test"]["count"] > 0
    out = CliRunner().invoke(app, ["writeback", "--run", result.run_id, "--sampler", "cypher",
                                   "--runs-dir", str(runs), "--no-embeddings"],
                             env=tiny_shop.env(), terminal_width=200)
    assert out.exit_code == 0, out.output
    written = tiny_shop.run("MATCH (o:LmgnnOutput {run_id: $run}) RETURN o.count AS n",
                            run=result.run_id)
    assert written and all(r["n"] > 0 for r in written)


@pytest.mark.parametrize(("task", "target", "metric"), [
    ("node", "Product.category", "acc"), ("link", "PURCHASED", "mrr")])
def test_summary_valid_equals_the_best_epochs_validation(tiny_shop, tiny_lm_dir, tmp_path,
                                                         task, target, metric):
    result = train(_cfg(tiny_lm_dir, method="gnn", task=task, target=target, epochs=3,
                        patience=3), tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    rows = [json.loads(x) for x in (result.path / "metrics.jsonl").read_text().splitlines()]
    epochs = [r for r in rows if r["stage"] == "gnn"]
    best = max(epochs, key=lambda r: r[f"valid_{metric}"])
    summary = json.loads((result.path / "summary.json").read_text())
    assert summary["valid"][metric] == pytest.approx(best[f"valid_{metric}"], abs=1e-6)
    assert summary["valid"]["count"] == best["valid_count"]


def test_a_config_file_sets_options_and_the_command_line_overrides_it(tiny_shop, tiny_lm_dir,
                                                                      tmp_path):
    file = tmp_path / "run.yaml"
    file.write_text(f"method: gnn\ntarget: Product.category\nhidden: 24\nepochs: 3\n"
                    f"lm_path: {tiny_lm_dir}\nmax_length: 16\nexclude: [MADE_BY]\n")
    out = CliRunner().invoke(app, ["train", "--config", str(file), "--epochs", "1",
                                   "--runs-dir", str(tmp_path / "runs")],
                             env=tiny_shop.env(), terminal_width=200)
    assert out.exit_code == 0, out.output
    stored = json.loads(next((tmp_path / "runs").glob("*/config.json")).read_text())["train"]
    assert (stored["method"], stored["hidden"], stored["epochs"], stored["exclude"]) == \
        ("gnn", 24, 1, ["MADE_BY"])
    file.write_text("method: gnn\ntarget: Product.category\nepoch: 3\n")
    bad = CliRunner().invoke(app, ["train", "--config", str(file)], env=tiny_shop.env())
    assert isinstance(bad.exception, UserError) and "epoch" in str(bad.exception)
    assert not list((tmp_path / "runs").glob("*-gnn-*/config.json"))[1:]  # no second run dir


def test_a_bad_exclude_is_refused_before_any_run_is_recorded(tiny_shop, tiny_lm_dir, tmp_path):
    with pytest.raises(UserError, match="unknown relationship"):
        train(_cfg(tiny_lm_dir, method="gnn", task="node", target="Product.category",
                   exclude=["SOLD_BY"]), tiny_shop.driver, tiny_shop.database, tmp_path / "r")
    assert not (tmp_path / "r").exists()
    assert tiny_shop.run("MATCH (r:ModelRun) RETURN count(r) AS n")[0]["n"] == 0


FEATURE_SPEC = """
name: features
nodes:
  Item:
    key: id
    properties: {id: string, title: string, score: float, kind: string}
    text: [title]
    target: kind
    {features}
    files: [items.csv]
relationships:
  - type: NEAR
    source: Item
    target: Item
    files: [{path: near.csv, source: a, target: b}]
"""


def _feature_graph(db, tmp_path, with_features: bool) -> None:
    """Four kinds told apart only by `score`: the titles are noise, neighbours random."""
    rng = random.Random(0)
    words = ["red", "blue", "big", "small", "new", "old", "fast", "slow"]
    out = tmp_path / ("f" if with_features else "nf")
    out.mkdir()
    with (out / "items.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "score", "kind"])
        for i in range(200):
            kind = i % 4
            w.writerow([f"i{i}", " ".join(rng.sample(words, 3)), kind + rng.random() * 0.5,
                        "abcd"[kind]])
    with (out / "near.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b"])
        for i in range(200):
            w.writerow([f"i{i}", f"i{rng.randrange(200)}"])
    spec_text = FEATURE_SPEC.replace("{features}", "features: [score]" if with_features else "")
    (out / "spec.yaml").write_text(spec_text)
    spec = load_spec(out / "spec.yaml")
    load_graph(spec, out, db.driver, db.database, progress=False, replace=True)


def test_a_spec_feature_that_alone_gives_the_label_is_learnt(neo4j_db, tiny_lm_dir, tmp_path):
    accs = {}
    for with_features in (True, False):
        _feature_graph(neo4j_db, tmp_path, with_features)
        result = train(_cfg(tiny_lm_dir, method="gnn", task="node", target="Item.kind",
                            epochs=15, patience=15, batch_size=32, gnn_lr=0.01,
                            dropout=0.0),  # 20 test items: no dropout, so no coin flips
                       neo4j_db.driver, neo4j_db.database, tmp_path / "runs")
        accs[with_features] = result.test["acc"]
    assert accs[True] >= 0.85 and accs[False] <= 0.6, accs  # 4 kinds: chance is 0.25


def test_a_node_task_on_a_property_that_is_not_the_spec_target(tiny_shop, tiny_lm_dir,
                                                                tmp_path):
    """Labels come from the property the run trains on, not from the spec's `target`."""
    tiny_shop.run("MATCH (p:Product) SET p.parity = CASE WHEN p._nid % 2 = 0 THEN 'even' "
                  "ELSE 'odd' END")
    from lmgnn.spec_store import save_spec
    spec = require_spec(tiny_shop.driver, tiny_shop.database)
    product = spec.nodes["Product"]
    patched = type(spec)(spec.name, {**spec.nodes, "Product": type(product)(
        **{**product.__dict__, "properties": {**product.properties, "parity": "string"}})},
        spec.relationships, spec.origin)
    save_spec(tiny_shop.driver, tiny_shop.database, patched)
    config = _cfg(tiny_lm_dir, method="gnn", task="node", target="Product.parity", epochs=1)
    _, data, loaders = _parts(tiny_shop, config)
    assert data.classes == ["even", "odd"]
    batch = next(iter(loaders.train("graph", 0)))
    seeds = batch["Product"].n_id[:batch["Product"].batch_size]
    assert batch["Product"].y[:seeds.numel()].tolist() == (seeds % 2).tolist()
    result = train(config, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    assert result.test["count"] > 0
