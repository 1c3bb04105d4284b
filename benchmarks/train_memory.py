"""Peak RSS of `lmgnn train` at two graph sizes, cypher vs snapshot backend, side by side.

For each size it loads the synthetic shop (`lmgnn load synthetic --replace`), then runs, each in
a fresh process whose peak RSS (``ru_maxrss``) is read when it exits:

- `lmgnn train --method gnn` (cache fill of every text node + GNN epochs), and
- one `lmgnn` joint epoch (`--method lmgnn --stages joint --joint-epochs 1`),

once with `--sampler cypher` and once with `--sampler snapshot`. The LM is a tiny random BERT
(1 layer, 32 dims) made on the spot, so that encoding 300k texts takes a minute: what is
measured is the data path, not the LM (whose weights are the same at every size). Training
steps per epoch are capped (`--max-steps`) so that every run does the same work at every size.

    .venv/bin/python benchmarks/train_memory.py                      # 20k and 200k products
    .venv/bin/python benchmarks/train_memory.py --products 2000,20000  # quick

Needs a running server (`lmgnn db start`) whose database may be replaced.
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

from lmgnn.models.text_encoder import save_tiny_random_lm

WRAP = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.exit(rc)")


def peak_mib(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS MiB, seconds) of one command run in a fresh child process."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    kb = next(int(line.split()[1]) for line in out.stdout.splitlines()
              if line.startswith("PEAK_KB"))
    return kb / 1024, seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--products", default="20000,200000", help="graph sizes (products)")
    p.add_argument("--max-steps", type=int, default=20)
    p.add_argument("--out", help="also write the rows as JSON here")
    args = p.parse_args()
    lmgnn = str(Path(sys.executable).with_name("lmgnn"))
    work = Path(tempfile.mkdtemp(prefix="lmgnn-mem-"))
    lm = save_tiny_random_lm(work / "tiny-lm")
    common = ["--target", "Product.category", "--lm-path", str(lm), "--max-length", "16",
              "--max-steps", str(args.max_steps), "--batch-size", "256"]
    runs = {"gnn": ["--method", "gnn", "--epochs", "2"],
            "lmgnn joint epoch": ["--method", "lmgnn", "--stages", "joint",
                                  "--joint-epochs", "1"]}
    rows = []
    for products in [int(x) for x in args.products.split(",")]:
        t0 = time.perf_counter()
        subprocess.run([lmgnn, "load", "synthetic", "--products", str(products), "--queries",
                        str(products * 6 // 10), "--replace", "--no-progress", "--out-dir",
                        str(work / f"shop-{products}")], check=True, capture_output=True)
        load_s = time.perf_counter() - t0
        for name, extra in runs.items():
            for backend in ("cypher", "snapshot"):
                runs_dir = work / f"runs-{products}-{backend}"
                mib, seconds = peak_mib([lmgnn, "train", *common, *extra, "--sampler", backend,
                                         "--runs-dir", str(runs_dir)])
                rows.append({"products": products, "run": name, "backend": backend,
                             "peak_mib": round(mib, 1), "seconds": round(seconds, 1),
                             "load_seconds": round(load_s, 1)})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    sizes = sorted({r["products"] for r in rows})
    print(f"| run | backend | {' | '.join(f'peak RSS at {s:,} products' for s in sizes)} | "
          f"growth {sizes[0]:,} -> {sizes[-1]:,} |")
    print("| --- | --- |" + " --- |" * (len(sizes) + 1))
    for name in runs:
        for backend in ("cypher", "snapshot"):
            mine = {r["products"]: r for r in rows if r["run"] == name
                    and r["backend"] == backend}
            cells = [f"{mine[s]['peak_mib']:,.0f} MiB ({mine[s]['seconds']:.0f} s)"
                     for s in sizes]
            growth = mine[sizes[-1]]["peak_mib"] / mine[sizes[0]]["peak_mib"] - 1
            print(f"| {name} | {backend} | {' | '.join(cells)} | {growth:+.1%} |")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))
    print(f"(machine: {os.cpu_count()} cores; runs in {work})")


if __name__ == "__main__":
    main()
