from __future__ import annotations

import json

import pytest

from lmgnn.train import TrainConfig, train


def _cfg(tiny_lm_dir, **kw) -> TrainConfig:
    base = dict(lm_path=str(tiny_lm_dir), max_length=16, hidden=16, epochs=2, batch_size=32,
                lm_batch_size=16, fanout=5, num_negatives=8, eval_negatives=20)
    base.update(kw)
    for stage_epochs in ("lm_epochs", "joint_epochs"):  # LM stages as long as the gnn's
        base.setdefault(stage_epochs, base["epochs"])
    return TrainConfig(**base)


@pytest.mark.parametrize("method", ["lm", "gnn", "lmgnn"])
def test_node_task_every_method(tiny_shop, tiny_lm_dir, tmp_path, method) -> None:
    cfg = _cfg(tiny_lm_dir, method=method, task="node", target="Product.category")
    result = train(cfg, tiny_shop.driver, tiny_shop.database, tmp_path / "runs")
    assert 0 <= result.test["acc"] <= 1 and result.test["count"] > 0
    rows = [json.loads(x) for x in (result.path / "metrics.jsonl").read_text().splitlines()]
    assert any(r.get("split") == "test" for r in rows)
    print(method, result.test, result.stages)
