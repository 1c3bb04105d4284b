"""SAME evidence: linear probes on frozen embeddings of meta (iSAME, eSAME), multi-task
(summed losses) and single-task encoders, mean ± std over seeds, side by side in one run.

Per seed: train every encoder on the loaded graph with the same budget (epochs x episodes
steps; each step gives every task ``support + target`` seeds: meta splits them into support
and target, multitask and single-task runs take them as one batch), then train one linear
probe per (encoder, task) on the encoder's frozen embeddings (``lmgnn train --method probe``)
and report the probe's test metric (accuracy, or MRR against 100 sampled negatives).

    # synthetic shop (lmgnn load synthetic --products 2000 --queries 1000)
    python benchmarks/meta.py --exclude JUDGED --task node:Product.category \\
        --task edge:JUDGED --task 'link:Query-PURCHASED->Product' --seeds 0,1,2
    # DBLP (lmgnn load loaders/specs/dblp.yaml --data-dir ../shared/data/dblp)
    python benchmarks/meta.py --exclude PUBLISHED_IN --task node:Paper.area \\
        --task link:WRITTEN_BY --task link:PUBLISHED_IN --seeds 0,1,2

Extra ``--set key=value`` go into every encoder's TrainConfig (e.g. --set fanout=5).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

from options import set_options  # benchmarks/options.py (the script's folder)

from lmgnn.db import connect
from lmgnn.train import TrainConfig, train
from lmgnn.train.multitask import parse_tasks

PRIMARY = {"node": "acc", "edge": "acc", "link": "mrr"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", action="append", required=True, help="KIND:TARGET (repeat)")
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--encoders", default="isame,esame,multitask,single")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--episodes", type=int, default=30)
    p.add_argument("--support", type=int, default=64)
    p.add_argument("--target-size", type=int, default=64)
    p.add_argument("--probe-epochs", type=int, default=10)
    p.add_argument("--probe-lr", type=float, default=0.01)
    p.add_argument("--runs-dir", default="runs/benchmarks-meta")
    p.add_argument("--out", help="also write the results as JSON here")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    extra = set_options(args.set)
    tasks = parse_tasks(args.task)
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = Path(args.runs_dir)
    common = {"exclude": args.exclude, "epochs": args.epochs, "patience": args.epochs, **extra}
    encoders: dict[str, dict[str, Any]] = {}
    for name in args.encoders.split(","):
        multi = {"task_target": [t.name for t in tasks], "episodes": args.episodes,
                 "support_size": args.support, "target_size": args.target_size}
        if name in ("isame", "esame"):
            encoders[name] = {"method": "meta", "meta_variant": name, **multi}
        elif name == "multitask":
            encoders[name] = {"method": "multitask", **multi}
        elif name == "single":
            for t in tasks:
                encoders[f"single {t.name}"] = {
                    "method": "gnn", "task": str(t.kind), "target": t.target,
                    "max_steps_per_epoch": args.episodes,
                    "batch_size": args.support + args.target_size}
        else:
            raise SystemExit(f"unknown encoder {name}")
    scores: dict[str, dict[str, list[float]]] = {e: {t.name: [] for t in tasks}
                                                 for e in encoders}
    seconds: dict[str, list[float]] = {e: [] for e in encoders}
    with connect() as (driver, db):
        for seed in seeds:
            for enc, options in encoders.items():
                t0 = time.perf_counter()
                r = train(TrainConfig.from_dict({**common, **options, "seed": seed}),
                          driver, db, runs)
                seconds[enc].append(time.perf_counter() - t0)
                for t in tasks:
                    probe = train(TrainConfig.from_dict({
                        "method": "probe", "embeddings": r.run_id, "task": str(t.kind),
                        "target": t.target, "seed": seed, "epochs": args.probe_epochs,
                        "gnn_lr": args.probe_lr, "patience": 3}), driver, db, runs)
                    value = probe.test.get(PRIMARY[str(t.kind)], float("nan"))
                    scores[enc][t.name].append(value)
                    print(f"# seed {seed} {enc} ({r.run_id}) probe {t.name}: {value:.4f} "
                          f"({probe.run_id})", flush=True)
    print(f"\n## probes on frozen embeddings, test {', '.join(PRIMARY[str(t.kind)] + ' ' + t.name for t in tasks)}; "  # noqa: E501
          f"seeds {seeds}; excluded {args.exclude or '-'}; encoders: {args.epochs} epochs x "
          f"{args.episodes} steps, {args.support}+{args.target_size} seeds per task and step; "
          f"probes: {args.probe_epochs} epochs, lr {args.probe_lr}; options {extra}\n")
    print("| encoder | " + " | ".join(t.name for t in tasks) + " | encoder s |")
    print("|---|" + "---|" * (len(tasks) + 1))
    for enc in encoders:
        cells = [_cell(scores[enc][t.name]) for t in tasks]
        print(f"| {enc} | " + " | ".join(cells) + f" | {statistics.mean(seconds[enc]):.0f} |")
    _goal(scores, tasks)
    if args.out:
        Path(args.out).write_text(json.dumps({"scores": scores, "seconds": seconds,
                                              "args": vars(args)}, indent=1))


def _cell(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {sd:.4f}"


def _goal(scores: dict[str, dict[str, list[float]]], tasks: list[Any]) -> None:
    """The paper's claim per meta encoder: on every task within the seeds' spread of (or
    above) the single-task encoder, and above multitask on at least two of three tasks."""
    for meta in ("isame", "esame"):
        if meta not in scores:
            continue
        near, above = [], 0
        for t in tasks:
            m = scores[meta][t.name]
            single = scores.get(f"single {t.name}", {}).get(t.name)
            multi = scores.get("multitask", {}).get(t.name)
            if single:
                spread = max(statistics.stdev(m) if len(m) > 1 else 0.0,
                             statistics.stdev(single) if len(single) > 1 else 0.0)
                near.append(statistics.mean(m) >= statistics.mean(single) - spread)
            if multi and statistics.mean(m) > statistics.mean(multi):
                above += 1
        print(f"\n{meta}: within spread of / above single-task on {sum(near)}/{len(near)} "
              f"tasks; above multitask on {above}/{len(tasks)}")


if __name__ == "__main__":
    main()
