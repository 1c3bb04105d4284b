"""`lmgnn train --method glem --nproc 2`: every GLEM step data-parallel (gloo), rank 0 writes."""

from __future__ import annotations

import json

import torch

from lmgnn.train.pseudo_labels import PseudoLabels

from .conftest import lmgnn

BATCH = 8


def _steps(seeds: int) -> int:
    """Steps of an epoch over ``seeds`` on each of 2 ranks (equal shards, tail dropped)."""
    return -(-(seeds // 2) // BATCH)


def test_glem_runs_in_two_processes(shop, tiny_lm_dir, tmp_path) -> None:
    """Pre-training, one E-step and one M-step in 2 ranks: each step's row written once (rank
    0), each epoch over half the step's seeds per rank, the pseudo-label stores filled by
    both ranks' shards (a row for every non-training product), the record and GLEM-LM's
    files saved."""
    runs = tmp_path / "runs"
    done = lmgnn(shop, "train", "--method", "glem", "--target", "Product.category",
                 "--exclude", "MADE_BY", "--lm-path", str(tiny_lm_dir), "--max-length", "16",
                 "--hidden", "16", "--fanout", "5", "--budget", "0", "--epochs", "1",
                 "--lm-epochs", "1", "--glem-rounds", "1", "--glem-gnn-epochs", "1",
                 "--glem-threshold", "0", "--batch-size", str(BATCH),
                 "--lm-batch-size", str(BATCH), "--runs-dir", str(runs), "--nproc", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (done.stdout + done.stderr).count("saved in") == 1  # rank 0 speaks
    (run,) = [p.parent for p in runs.glob("*/summary.json")]
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if r.get("stage") == "glem"]
    assert [(r["model"], r["round"]) for r in steps] == [
        ("lm", 0), ("gnn", 0), ("lm", 1), ("gnn", 1)]
    split = shop.run("MATCH (p:Product) RETURN p._nid AS nid, p._split AS split")
    others = sorted(r["nid"] for r in split if r["split"] != "train")
    train = len(split) - len(others)
    epochs = [r["steps"] for r in rows if r.get("stage") in ("lm_task", "gnn")]
    # pre-training on gold, then gold + every other product (threshold 0)
    assert epochs == [_steps(train)] * 2 + [_steps(len(split))] * 2, epochs
    assert steps[2]["pseudo_labels"] == steps[3]["pseudo_labels"] == len(others)  # threshold 0
    for name in ("gnn-1", "lm-2"):
        labels = PseudoLabels(run, name, "Product", len(split), 4)
        assert labels.store.missing("Product", torch.tensor(others)).numel() == 0
    rec = shop.run("MATCH (r:ModelRun) RETURN r.status AS s, r.glem_lm_valid_acc AS lm")
    assert [r["s"] for r in rec] == ["finished"] and len(json.loads(rec[0]["lm"])) == 2
    assert (run / "glem_lm" / "model.json").is_file()
