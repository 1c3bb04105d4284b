"""Data-parallel training on CPU with 2 processes (gloo), against the real Neo4j."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from .conftest import torchrun

WORKER = Path(__file__).with_name("worker.py")
NONFINITE = Path(__file__).with_name("nonfinite_worker.py")


def test_ranks_read_disjoint_shards_and_stay_identical(shop, tiny_lm_dir, tmp_path) -> None:
    done = torchrun(shop, 2, WORKER, str(tmp_path), str(tiny_lm_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    train = set(ranks[0]["train"])
    for epoch in range(len(ranks[0]["visited"])):
        a, b = (r["visited"][epoch] for r in ranks)
        assert len(a) == len(b) == len(train) // 2  # equally long shards
        assert len(set(a)) == len(a) and not set(a) & set(b)  # no seed twice in the epoch
        assert set(a) | set(b) <= train
    assert ranks[0]["visited"][0] != ranks[0]["visited"][1]  # reshuffled per epoch
    # DDP averaged the gradients of every step: the weights are the same on both ranks
    assert torch.equal(ranks[0]["weights"], ranks[1]["weights"])
    assert ranks[0]["losses"] == ranks[1]["losses"]


def test_a_non_finite_loss_on_one_rank_stops_every_rank(tmp_path) -> None:
    """Rank 1 alone sees a NaN loss: both ranks stop with the divergence error at the same
    step, instead of rank 0 waiting for rank 1 in DDP's all-reduce until the timeout."""
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node=2", str(NONFINITE), str(tmp_path)],
                          env={**os.environ, "OMP_NUM_THREADS": "1",
                               "LMGNN_DIST_TIMEOUT_S": "120"},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = [(tmp_path / f"rank{r}.txt").read_text() for r in (0, 1)]
    for outcome in outcomes:
        assert outcome.startswith("stopped: test: loss is nan at step 0"), outcome
