"""Data-parallel training throughput: 1 process vs N processes, same global batch, one run.

Trains the same short run (``--max-steps`` steps per rank and epoch, one epoch) with
``lmgnn train`` (1 process, batch B) and ``lmgnn train --nproc N`` (N processes, batch B/N
each: the same global batch), alternating ``--rounds`` times, and prints a markdown table of
seeds/s and texts/s (from each run's ``metrics.jsonl``: all ranks' seeds over the slowest
rank's seconds) with the ratio to the 1-process run of the same round. Every process gets
``cores / N`` threads (torchrun's default of 1 thread per rank on a 2-core machine), so the
comparison spends the same cores.

    lmgnn db start && lmgnn load synthetic          # the graph the benchmark reads
    python benchmarks/distributed.py --target Product.category --method lm --batch-size 64
    python benchmarks/distributed.py --target Product.category --method gnn --batch-size 512

Extra ``--set key=value`` options are passed as ``--key value`` to ``lmgnn train``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(nproc: int, args: argparse.Namespace, runs: Path) -> dict[str, float]:
    per_rank = args.batch_size // nproc
    key = "--lm-batch-size" if args.method == "lm" else "--batch-size"
    cmd = [sys.executable, "-m", "lmgnn", "train", "--target", args.target, "--method",
           args.method, "--epochs", "1", "--lm-epochs", "1", "--joint-epochs", "1",
           "--max-steps", str(args.max_steps), key, str(per_rank), "--eval-max", "200",
           "--budget", "0", "--runs-dir", str(runs), "--nproc", str(nproc)]
    for kv in args.set:
        k, v = kv.split("=", 1)
        cmd += [f"--{k.replace('_', '-')}", v]
    threads = max(1, (os.cpu_count() or 1) // nproc)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    before = set(runs.glob("*/config.json"))
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    (config,) = set(runs.glob("*/config.json")) - before
    rows = [json.loads(x) for x in (config.parent / "metrics.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r.get("split") in ("train", "valid") and "seeds_per_s" in r)
    return {"seeds_per_s": row["seeds_per_s"], "texts_per_s": row["texts_per_s"],
            "steps": row["steps"], "seconds": row["seconds"], "wall": wall}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True)
    p.add_argument("--method", default="lm", choices=["lm", "gnn", "lmgnn"])
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="global batch (split N ways)")
    p.add_argument("--max-steps", type=int, default=20, help="steps per rank")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    print("| round | processes | threads each | steps | train s | seeds/s | texts/s "
          "| ratio seeds/s | wall s (incl. start, snapshot, eval) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            base = None
            for n in (1, args.nproc):
                m = run_once(n, args, Path(tmp))
                base = base or m
                ratio = m["seeds_per_s"] / max(base["seeds_per_s"], 1e-9)
                threads = max(1, (os.cpu_count() or 1) // n)
                print(f"| {r} | {n} | {threads} | {m['steps']} | {m['seconds']:.1f} "
                      f"| {m['seeds_per_s']:.1f} | {m['texts_per_s']:.1f} | {ratio:.2f}x "
                      f"| {m['wall']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
