"""GLEM against lm / gnn / lmgnn on one node task of the loaded graph, over seeds.

Prints three markdown tables: test accuracy (mean ± std over the seeds) and wall time per run
of every method, GLEM-LM and GLEM-GNN side by side; accuracy of both GLEM models after each
EM round (round 0: pre-trained on gold labels); wall time and LM texts encoded per round.
Every method runs with the same ``--set`` options (the CPU budget), seeds in turn, in one
process, so the machine's load hits them alike.

    # DBLP (lmgnn load loaders/specs/dblp.yaml --data-dir ../shared/data/dblp)
    python benchmarks/glem.py --target Paper.area --exclude PUBLISHED_IN --seeds 0,1,2 \
        --set max_steps_per_epoch=20 --set epochs=4 --set lm_epochs=4 --set batch_size=64
    # synthetic shop (lmgnn load synthetic --products 600 --queries 360 --seed 0 --replace),
    # every method at the same --budget (minutes, set-up included), the LM cut to 2 layers
    python benchmarks/glem.py --target Product.category --seeds 0,1,2 --lm-layers 2 \
        --set budget=2 --set max_length=32
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


def _ms(values: list[float], digits: int = 4) -> str:
    values = [v for v in values if v == v]  # drop NaN
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def truncated_lm(root: Path, layers: int) -> str:
    """The packaged all-MiniLM-L6-v2 cut to its first ``layers`` transformer layers (saved
    once under ``root``): a pretrained LM cheap enough for 3 seeds of every method on a
    shared 2-core machine."""
    from transformers import AutoModel, AutoTokenizer

    from lmgnn.models.text_encoder import default_model_dir

    out = root / f"minilm-{layers}-layers"
    if not (out / "config.json").is_file():
        model = AutoModel.from_pretrained(str(default_model_dir()), local_files_only=True)
        model.encoder.layer = model.encoder.layer[:layers]
        model.config.num_hidden_layers = layers
        model.save_pretrained(str(out))
        AutoTokenizer.from_pretrained(str(default_model_dir()), local_files_only=True
                                      ).save_pretrained(str(out))
    return str(out)


def _glem_rows(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines() if x]
    return [r for r in rows if r.get("stage") == "glem"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True)
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--methods", default="lm,gnn,lmgnn,glem")
    p.add_argument("--seeds", default="0")
    p.add_argument("--runs-dir", default="runs/benchmarks")
    p.add_argument("--out", help="also write the results as JSON here")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--tables", metavar="JSON", help="only print the tables of a finished or "
                   "partial --out file")
    p.add_argument("--from-runs", metavar="DIR", help="only print the tables of the finished "
                   "runs in DIR (e.g. a benchmark cut off before its end)")
    p.add_argument("--lm-layers", type=int, default=0,
                   help="use the packaged MiniLM's first N layers (0: the whole LM)")
    args = p.parse_args()
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    extra = set_options(args.set)
    if args.lm_layers:
        Path(args.runs_dir).mkdir(parents=True, exist_ok=True)
        extra["lm_path"] = truncated_lm(Path(args.runs_dir), args.lm_layers)
    methods, seeds = args.methods.split(","), [int(s) for s in args.seeds.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    if args.tables:
        saved = json.loads(Path(args.tables).read_text())
        tables(saved["target"], saved["exclude"], saved["seeds"], saved["options"],
               saved["lm_layers"], saved["runs"])
        return
    if args.from_runs:
        found = from_runs(Path(args.from_runs), methods, seeds)
        tables(args.target, args.exclude, seeds, extra, args.lm_layers, found)
        return
    with connect() as (driver, db):
        for seed in seeds:
            for method in methods:
                cfg = TrainConfig.from_dict({"method": method, "task": "node",
                                             "target": args.target, "seed": seed,
                                             "exclude": args.exclude, **extra})
                t0 = time.perf_counter()
                r = train(cfg, driver, db, Path(args.runs_dir))
                item = {"run_id": r.run_id, "test": r.test, "valid": r.valid,
                        "seconds": time.perf_counter() - t0}
                if method == "glem":
                    item["steps"] = _glem_rows(r.path)
                runs[method].append(item)
                print(f"# {method} seed {seed}: {r.run_id} test acc {r.test.get('acc'):.4f} "
                      f"({item['seconds']:.0f} s)", flush=True)
                if args.out:  # after every run: a cut-off benchmark keeps what it measured
                    Path(args.out).write_text(json.dumps(
                        {"target": args.target, "exclude": args.exclude, "seeds": seeds,
                         "options": extra, "lm_layers": args.lm_layers, "runs": runs},
                        indent=2, default=str))
    tables(args.target, args.exclude, seeds, extra, args.lm_layers, runs)


def from_runs(root: Path, methods: list[str], seeds: list[int]
              ) -> dict[str, list[dict[str, Any]]]:
    """The finished runs under ``root`` (wall time: config.json written to the last metrics
    row), by method, in seed order."""
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for path in sorted(root.glob("*/summary.json")):
        run = path.parent
        train_cfg = json.loads((run / "config.json").read_text())["train"]
        method, seed = train_cfg["method"], train_cfg["seed"]
        if method not in out or seed not in seeds:
            continue
        summary = json.loads(path.read_text())
        rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x]
        item = {"run_id": run.name, "test": summary["test"], "valid": summary["valid"],
                "seconds": rows[-1]["time"] - (run / "config.json").stat().st_mtime,
                "seed": seed}
        if method == "glem":
            item["steps"] = [r for r in rows if r.get("stage") == "glem"]
        out[method].append(item)
    for m in out:
        out[m].sort(key=lambda r: r["seed"])
    return out


def tables(target: str, exclude: list[str], seeds: list[int], extra: dict[str, Any],
           lm_layers: int, runs: dict[str, list[dict[str, Any]]]) -> None:
    methods = [m for m in runs if runs[m]]
    print(f"\n## node {target} (excluded: {', '.join(exclude) or '-'}); seeds {seeds};"
          f" options {extra}; LM layers {lm_layers or 'all'}\n")
    print("| method | test acc | test macro-F1 | wall s per run |\n|---|---|---|---|")
    for m in methods:
        if m == "glem":
            for kind in ("lm", "gnn"):
                last = [[s for s in r["steps"] if s["model"] == kind][-1] for r in runs[m]]
                print(f"| GLEM-{kind.upper()} | {_ms([s['test_acc'] for s in last])} | "
                      f"{_ms([s['test_macro_f1'] for s in last])} | "
                      f"{_ms([r['seconds'] for r in runs[m]], 0)} |")
            continue
        print(f"| {m} | {_ms([r['test']['acc'] for r in runs[m]])} | "
              f"{_ms([r['test']['macro_f1'] for r in runs[m]])} | "
              f"{_ms([r['seconds'] for r in runs[m]], 0)} |")
    if runs.get("glem"):
        rounds = sorted({s["round"] for s in runs["glem"][0]["steps"]})
        print("\n| round | GLEM-LM valid | GLEM-LM test | GLEM-GNN valid | GLEM-GNN test | "
              "pseudo-labels (E / M) | wall s | texts encoded |\n|---|---|---|---|---|---|---|---|")
        for rnd in rounds:
            per = [[s for s in r["steps"] if s["round"] == rnd] for r in runs["glem"]]

            def pick(kind: str, key: str, per: list = per) -> list[float]:
                return [next(s[key] for s in steps if s["model"] == kind) for steps in per]

            pseudo = [f"{statistics.mean(pick(k, 'pseudo_labels')):.0f}" if rnd else "-"
                      for k in ("lm", "gnn")]
            print(f"| {rnd} | {_ms(pick('lm', 'valid_acc'))} | {_ms(pick('lm', 'test_acc'))} | "
                  f"{_ms(pick('gnn', 'valid_acc'))} | {_ms(pick('gnn', 'test_acc'))} | "
                  f"{' / '.join(pseudo)} | "
                  f"{_ms([sum(s['seconds'] for s in steps) for steps in per], 0)} | "
                  f"{_ms([sum(s['texts_encoded'] for s in steps) for steps in per], 0)} |")


if __name__ == "__main__":
    main()
