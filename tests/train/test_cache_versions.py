"""Cached LM vectors belong to one graph version: reused while the texts stay, re-encoded
after any load (issue: a graph replaced by one with the same node counts served old vectors)."""

from __future__ import annotations

import json

from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec
from lmgnn.train import TrainConfig, train
from tests.train.conftest import write_tiny_shop


def _gnn_run(db, tiny_lm_dir, runs) -> dict:
    config = TrainConfig(method="gnn", task="node", target="Product.category",
                         lm_path=str(tiny_lm_dir), max_length=16, hidden=16, epochs=1,
                         batch_size=32, fanout=5)
    result = train(config, db.driver, db.database, runs)
    rows = [json.loads(x) for x in (result.path / "metrics.jsonl").read_text().splitlines()]
    summary = json.loads((result.path / "summary.json").read_text())
    return {"encoded": sum(r.get("texts_encoded", 0) for r in rows),
            "state": summary["embedding_state"]}


def test_vectors_are_reused_for_the_same_texts_and_recomputed_after_a_reload(
        tiny_shop, tiny_lm_dir, tmp_path):
    runs = tmp_path / "runs"
    first = _gnn_run(tiny_shop, tiny_lm_dir, runs)
    assert first["encoded"] == 180  # 120 products + 60 queries
    again = _gnn_run(tiny_shop, tiny_lm_dir, runs)
    assert again == {"encoded": 0, "state": first["state"]}
    # another graph with the same node counts and other texts
    spec_path = write_tiny_shop(tmp_path / "other", seed=7)
    load_graph(load_spec(spec_path), spec_path.parent, tiny_shop.driver, tiny_shop.database,
               progress=False, replace=True)
    other = _gnn_run(tiny_shop, tiny_lm_dir, runs)
    assert other["encoded"] == 180 and other["state"] != first["state"]
