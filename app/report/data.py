"""What a report reads: one run directory's files, checked, as plain data.

A report needs no database and no model: ``config.json`` (task, classes), ``metrics.jsonl``
(one row per epoch, then the final valid/test rows), ``summary.json`` and ``stages.json`` when
the run finished, and ``predictions/<split>.npz`` when the trainer saved per-item outputs.
A run that is still training gives a report of what it has so far.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmgnn.errors import UserError
from lmgnn.report.predictions import Predictions, load_predictions

STAGE_ORDER = ("lm", "gnn", "joint", "train")
PRIMARY = {"node": "acc", "edge": "acc", "link": "mrr"}


@dataclass(frozen=True)
class RunData:
    """One run, as the report sees it."""

    run_id: str
    path: Path
    config: dict[str, Any]
    epochs: list[dict[str, Any]]  # metrics.jsonl rows of training epochs, in file order
    lines: list[int]  # each epoch row's line number in metrics.jsonl (1-based)
    final: dict[str, dict[str, Any]]  # split -> metrics of the final evaluation
    summary: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, Any] = field(default_factory=dict)
    predictions: Predictions | None = None  # of the test split

    @property
    def train(self) -> dict[str, Any]:
        return dict(self.config.get("train") or {})

    @property
    def kind(self) -> str:
        """node | edge | link (what was predicted)."""
        target = self.config.get("target") or {}
        return str(target.get("kind") or self.train.get("task") or "node")

    @property
    def primary(self) -> str:
        return PRIMARY.get(self.kind, "acc")

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.config.get("classes") or []]

    @property
    def status(self) -> str:
        return str(self.summary.get("status") or ("finished" if self.final else "running"))

    @property
    def title(self) -> str:
        t = self.train
        return f"{t.get('method', '?')} · {t.get('task', self.kind)} · {t.get('target', '?')}"

    def stage_names(self) -> list[str]:
        seen = list(dict.fromkeys(str(r.get("stage")) for r in self.epochs))
        return sorted(seen, key=lambda s: (STAGE_ORDER.index(s) if s in STAGE_ORDER else 99, s))


def _read_json(path: Path, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise UserError(f"{path} is missing: is {path.parent} a run directory?")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def read_metrics(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of metrics.jsonl; a bad line is an error naming file and line."""
    if not path.is_file():
        return []
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}, line {n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "stage" not in row:
            raise UserError(f"{path}, line {n}: expected an object with field 'stage'")
        rows.append((n, row))
    return rows


def read_run(path: Path) -> RunData:
    """Read a run directory; only config.json is required."""
    path = Path(path)
    config = _read_json(path / "config.json", required=True)
    rows = read_metrics(path / "metrics.jsonl")
    epochs = [(n, r) for n, r in rows if r["stage"] != "final"]
    final: dict[str, dict[str, Any]] = {}
    for _, r in rows:
        if r["stage"] == "final":  # a resumed run may evaluate again: the last row wins
            final[str(r.get("split"))] = {k: v for k, v in r.items()
                                          if k not in ("stage", "split", "time")}
    return RunData(run_id=path.name, path=path, config=config, epochs=[r for _, r in epochs],
                   lines=[n for n, _ in epochs], final=final,
                   summary=_read_json(path / "summary.json", required=False),
                   stages=_read_json(path / "stages.json", required=False),
                   predictions=load_predictions(path, "test"))


def resolve_run(name: str, runs_root: Path) -> Path:
    """A run given as its id (under ``runs_root``), a path to its folder, or ``latest``."""
    as_path = Path(name)
    if (as_path / "config.json").is_file():
        return as_path
    root = Path(runs_root)
    known = sorted(p.parent.name for p in root.glob("*/config.json")) if root.is_dir() else []
    if name == "latest":
        if not known:
            raise UserError(f"no runs in {root}: `lmgnn train ...` makes one")
        # run ids start with a UTC timestamp: the newest sorts last
        return root / known[-1]
    if (root / name / "config.json").is_file():
        return root / name
    hint = f"; runs there: {', '.join(known[-5:])}" if known else ""
    raise UserError(f"no run {name!r} in {root} (nor a run folder at that path){hint}")


def number(value: Any) -> float | None:
    """A finite float, or None (missing, text, NaN, infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None
