"""Compare lm / gnn / lmgnn on one task of the loaded graph over seeds; measure each stage.

Prints two markdown tables: test metrics as mean ± std over the seeds, side by side per method,
and throughput per stage (texts/s through the LM with gradients, seeds/s, seconds per epoch,
texts/s when encoding the embedding cache), read from each run's metrics.jsonl.

    # synthetic graph (lmgnn load synthetic ... or loaders.synthetic.generate + load_graph)
    python benchmarks/train.py --task node --target Product.category --seeds 0,1,2
    python benchmarks/train.py --task link --target PURCHASED --exclude JUDGED --seeds 0,1,2
    # DBLP, venue edges excluded (they give the area away)
    python benchmarks/train.py --task node --target Paper.area --exclude PUBLISHED_IN
    python benchmarks/train.py --task link --target WRITTEN_BY --exclude PUBLISHED_IN

Extra ``--set key=value`` options go into TrainConfig (e.g. --set budget=20); without them
every run uses the defaults users get (``--budget 45`` minutes, ``--max-length auto``, ...).
The minutes column is each run's wall time (the budget is kept when it stays near it).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

from options import set_options  # benchmarks/options.py (the script's folder)

from lmgnn.db import connect
from lmgnn.train import TrainConfig, train

PRIMARY = {"node": ["acc", "macro_f1"], "edge": ["acc", "macro_f1"],
           "link": ["mrr", "hits@1", "hits@10", "roc_auc", "full_mrr", "full_hits@10"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--methods", default="lm,gnn,lmgnn")
    p.add_argument("--seeds", default="0")
    p.add_argument("--runs-dir", default="runs/benchmarks")
    p.add_argument("--out", help="also write the results as JSON here")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    extra = set_options(args.set)
    methods = args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict[str, list[dict]] = {m: [] for m in methods}
    with connect() as (driver, db):
        for seed in seeds:
            for method in methods:
                cfg = TrainConfig.from_dict({"method": method, "task": args.task,
                                             "target": args.target, "seed": seed,
                                             "exclude": args.exclude, **extra})
                t0 = time.perf_counter()
                r = train(cfg, driver, db, Path(args.runs_dir))
                minutes = (time.perf_counter() - t0) / 60
                results[method].append({"run_id": r.run_id, "test": r.test, "minutes": minutes,
                                        "throughput": throughput(r.path)})
                print(f"# {method} seed {seed}: {r.run_id} test {json.dumps(r.test)}",
                      flush=True)
    keys = PRIMARY[args.task]
    print(f"\n## {args.task} {args.target} (excluded: {', '.join(args.exclude) or '-'}); "
          f"seeds {seeds}; options {extra}\n")
    print("| method | " + " | ".join(f"test {k}" for k in keys) + " | minutes |")
    print("|---|" + "---|" * (len(keys) + 1))
    for m in methods:
        cells = []
        for k in keys:
            vals = [r["test"].get(k, float("nan")) for r in results[m]]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cells.append(f"{statistics.mean(vals):.4f} ± {sd:.4f}")
        mins = [r["minutes"] for r in results[m]]
        cells.append(f"{statistics.mean(mins):.1f} ± "
                     f"{statistics.stdev(mins) if len(mins) > 1 else 0.0:.1f}")
        print(f"| {m} | " + " | ".join(cells) + " |")
    print("\n| method | stage | texts/s (LM grads) | seeds/s | s/epoch | cache texts/s |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        for stage, t in results[m][0]["throughput"].items():
            print(f"| {m} | {stage} | {t['texts_per_s']:.1f} | {t['seeds_per_s']:.1f} | "
                  f"{t['seconds_per_epoch']:.1f} | {t['cache_texts_per_s']} |")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


def throughput(run_path: Path) -> dict[str, dict[str, float]]:
    """Mean per-epoch throughput of each stage of a run (from metrics.jsonl)."""
    rows = [json.loads(x) for x in (run_path / "metrics.jsonl").read_text().splitlines()]
    out = {}
    for stage in dict.fromkeys(r["stage"] for r in rows if r["stage"] != "final"):
        rs = [r for r in rows if r["stage"] == stage]
        enc = [(r["texts_encoded"], r["encode_seconds"]) for r in rs
               if r.get("texts_encoded") and r.get("encode_seconds")]
        out[stage] = {
            "texts_per_s": statistics.mean(r["texts_per_s"] for r in rs),
            "seeds_per_s": statistics.mean(r["seeds_per_s"] for r in rs),
            "seconds_per_epoch": statistics.mean(r.get("epoch_seconds", r["seconds"])
                                                 for r in rs),
            "cache_texts_per_s": (f"{sum(n for n, _ in enc) / sum(s for _, s in enc):.1f}"
                                  if enc else "-")}
    return out


if __name__ == "__main__":
    main()
