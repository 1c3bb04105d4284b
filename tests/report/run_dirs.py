"""Run directories written by hand, in the trainer's documented layout (docs/architecture.md),
for report tests that need exact, known numbers."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

from lmgnn.report import save_eval_predictions

CLASSES = ["books", "garden", "kitchen", "toys"]


def write_run(root: Path, run_id: str, kind: str = "node", predictions: bool = True,
              seed: int = 0) -> Path:
    """A finished three-stage run: metrics.jsonl, stages.json, summary.json, config.json and
    (optionally) predictions/test.npz with a planted signal."""
    rng = np.random.default_rng(seed)
    path = root / run_id
    path.mkdir(parents=True)
    primary = "acc" if kind == "node" else "mrr"
    config = {"train": {"method": "lmgnn", "task": kind, "seed": seed, "hidden": 16 + seed,
                        "target": "Product.category" if kind == "node" else "PURCHASED"},
              "graph": "shop", "classes": CLASSES if kind == "node" else [],
              "target": {"kind": kind}}
    rows: list[dict[str, Any]] = [{"stage": "lm_links", "epoch": 0, "split": "train",
                                   "loss": float(rng.uniform(1, 2)), "seconds": 2.5}]
    for stage in ("gnn", "joint"):
        for epoch in range(3):
            rows.append({"stage": stage, "epoch": epoch, "split": "valid",
                         "loss": float(rng.uniform(0.2, 1)), "seconds": 1.25, "steps": 4,
                         f"valid_{primary}": float(rng.uniform(0.3, 0.9)),
                         "valid_count": 50})
    final = {split: {primary: float(rng.uniform(0.3, 0.9)), "count": 50}
             for split in ("valid", "test")}
    rows += [{"stage": "final", "split": s, **m} for s, m in final.items()]
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows),
                                        encoding="utf-8")
    stages = {"gnn": rows[2], "joint": rows[6]}
    (path / "stages.json").write_text(json.dumps(stages), encoding="utf-8")
    (path / "summary.json").write_text(json.dumps({"run_id": run_id, "status": "finished",
                                                   **final, "stages": stages}),
                                       encoding="utf-8")
    if predictions and kind == "node":
        y = rng.integers(0, len(CLASSES), 300)
        logits = rng.normal(size=(300, len(CLASSES)))
        logits[np.arange(300), y] += 2.0
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        save_eval_predictions(path, "test", y=y, probs=probs)
    elif predictions:
        save_eval_predictions(path, "test", pos=rng.normal(1, 1, 200),
                              neg=rng.normal(0, 1, (200, 30)))
    return path


class Cells(HTMLParser):
    """Every element with data-metric: its attributes and text; and every <img>."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a)
        if "data-metric" in a:
            self._open = {**a, "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == "td":
            self.cells.append(self._open)
            self._open = None


def parse(path) -> Cells:
    cells = Cells()
    cells.feed(path.read_text(encoding="utf-8"))
    return cells


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
