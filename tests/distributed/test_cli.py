"""`lmgnn train --nproc 2` through torch's elastic launcher: matches one process, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import child_env, lmgnn

# loss of the first epoch: 2 x 16 seeds per step vs 32 seeds per step differ only in the
# few messages a merged batch adds between its seeds' subgraphs
LOSS_TOLERANCE = 0.05  # relative
ACC_TOLERANCE = 0.1  # absolute, on 16 validation products (one product = 0.0625)


def _args(tiny_lm_dir, runs: Path, *extra: str) -> list[str]:
    return ["train", "--target", "Product.category", "--method", "gnn", "--lm-path",
            str(tiny_lm_dir), "--max-length", "16", "--hidden", "16", "--fanout", "5",
            "--dropout", "0", "--budget", "0", "--runs-dir", str(runs), *extra]


def _run_dir(runs: Path) -> Path:
    (path,) = [p.parent for p in runs.glob("*/config.json")]
    return path


def _rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_two_processes_match_one_with_the_same_global_batch(shop, tiny_lm_dir, tmp_path
                                                            ) -> None:
    one = lmgnn(shop, *_args(tiny_lm_dir, tmp_path / "one", "--epochs", "2",
                             "--batch-size", "32"))
    assert one.returncode == 0, one.stderr[-3000:]
    two = lmgnn(shop, *_args(tiny_lm_dir, tmp_path / "two", "--epochs", "2",
                             "--batch-size", "16", "--nproc", "2"))
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("saved in") + two.stderr.count("saved in") == 1  # rank 0 speaks
    a, b = _run_dir(tmp_path / "one"), _run_dir(tmp_path / "two")
    ra = [r for r in _rows(a) if r.get("stage") == "gnn"]
    rb = [r for r in _rows(b) if r.get("stage") == "gnn"]
    assert len(ra) == len(rb) == 2  # one metrics row per epoch, written once (rank 0)
    assert ra[0]["steps"] == rb[0]["steps"]  # 2 ranks x 16 seeds = 32 seeds per step
    assert abs(ra[0]["loss"] - rb[0]["loss"]) <= LOSS_TOLERANCE * ra[0]["loss"]
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    print(f"loss {ra[0]['loss']:.4f} vs {rb[0]['loss']:.4f}; valid acc {sa['valid']['acc']:.4f}"
          f" vs {sb['valid']['acc']:.4f}; test acc {sa['test']['acc']:.4f} vs "
          f"{sb['test']['acc']:.4f}")
    assert abs(sa["valid"]["acc"] - sb["valid"]["acc"]) <= ACC_TOLERANCE
    assert abs(sa["test"]["acc"] - sb["test"]["acc"]) <= ACC_TOLERANCE
    assert sa["test"]["count"] == sb["test"]["count"]  # rank 0 evaluated every test item
    records = shop.run("MATCH (r:ModelRun) RETURN r.status AS status")
    assert [r["status"] for r in records] == ["finished", "finished"]


def test_an_interrupted_two_process_run_resumes_with_another_n(shop, tiny_lm_dir, tmp_path
                                                                ) -> None:
    runs = tmp_path / "runs"
    epochs = 12
    args = _args(tiny_lm_dir, runs, "--epochs", str(epochs), "--patience", str(epochs),
                 "--batch-size", "16", "--nproc", "2")
    proc = subprocess.Popen([sys.executable, "-m", "lmgnn", *args], env=child_env(shop),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(runs.glob("*/checkpoints/last.pt"))
            if found and (found[0].parent.parent / "metrics.jsonl").exists():
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the launcher and both ranks
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    run = _run_dir(runs)
    assert not (run / "summary.json").exists()
    stopped_at = max(r["epoch"] for r in _rows(run) if r.get("stage") == "gnn")
    assert stopped_at < epochs - 1
    # another N: the checkpoint does not depend on the processes that wrote it
    again = lmgnn(shop, "train", "--resume", run.name, "--nproc", "1", "--runs-dir", str(runs))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming run" in again.stderr
    epochs_logged = {r["epoch"] for r in _rows(run) if r.get("stage") == "gnn"}
    assert epochs_logged == set(range(epochs))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["test"]["count"] > 0


def test_every_training_stage_runs_in_two_processes(shop, tiny_lm_dir, tmp_path) -> None:
    """lm (stage lm_task) on products, lmgnn on links (lm_links, gnn, joint with a cache
    refresh): each ends, written once by rank 0, with the same steps on both ranks."""
    runs = tmp_path / "runs"
    common = ["--lm-path", str(tiny_lm_dir), "--max-length", "16", "--hidden", "16",
              "--fanout", "5", "--budget", "0", "--epochs", "1", "--lm-epochs", "1",
              "--joint-epochs", "1", "--max-steps", "3", "--batch-size", "16",
              "--lm-batch-size", "8", "--runs-dir", str(runs), "--nproc", "2"]
    for extra in (["--method", "lm", "--target", "Product.category"],
                  ["--method", "lmgnn", "--task", "link", "--target", "PURCHASED",
                   "--num-negatives", "4", "--eval-negatives", "8"]):
        done = lmgnn(shop, "train", *extra, *common)
        assert done.returncode == 0, done.stderr[-3000:]
    stages = {}
    for config in runs.glob("*/config.json"):
        rows = _rows(config.parent)
        assert (config.parent / "summary.json").exists()
        for r in rows:
            if r.get("stage") not in (None, "final"):
                stages.setdefault(r["stage"], []).append(r)
    assert set(stages) == {"lm_task", "lm_links", "gnn", "joint"}, set(stages)
    for name, rows in stages.items():
        assert len(rows) == 1 and rows[0]["steps"] == 3, (name, rows)  # one row: rank 0
