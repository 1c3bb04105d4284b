"""Run directories and `(:ModelRun)` nodes: what training leaves behind for people and writeback.

Layout of ``runs/<run_id>/`` (writeback reloads it; documented in docs/architecture.md)::

    config.json          TrainConfig.to_dict() plus graph name, classes, node counts
    metrics.jsonl        one JSON object per epoch/evaluation: {stage, epoch, split, ...metrics}
    checkpoints/last.pt  resumable state: stage, epoch, model + optimiser states, best score
    lm/                  the (fine-tuned) text encoder, HF format (save_pretrained)
    gnn.pt               {"state_dict", "init"} of HeteroGNN (absent for method lm)
    head.pt              {"state_dict", "init", "kind"} of the task head
    summary.json         final test/valid metrics, status, seconds and throughput per stage
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import neo4j
import torch

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError


def new_run_id(method: str) -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{method}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunDir:
    """One run's folder; every write is whole-file (temp file + rename), so a crash mid-write
    never leaves a truncated config, checkpoint or summary."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, root: Path, run_id: str, config: dict[str, Any]) -> RunDir:
        path = Path(root) / run_id
        if (path / "config.json").exists():
            raise UserError(f"run {run_id} already exists in {root}: use --resume {run_id}")
        run = cls(path)
        (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        run.write_json("config.json", config)
        return run

    @classmethod
    def open(cls, root: Path, run_id: str) -> RunDir:
        path = Path(root) / run_id
        if not (path / "config.json").is_file():
            known = sorted(p.name for p in Path(root).glob("*/config.json")) if Path(
                root).is_dir() else []
            raise UserError(f"no run {run_id!r} in {root}" +
                            (f"; runs there: {', '.join(p for p in known[-5:])}" if known else ""))
        return cls(path)

    # ---- files --------------------------------------------------------------------------
    def write_json(self, name: str, data: dict[str, Any]) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
        tmp.replace(self.path / name)

    def read_json(self, name: str) -> dict[str, Any]:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    @property
    def config(self) -> dict[str, Any]:
        return self.read_json("config.json")

    def log_metrics(self, row: dict[str, Any]) -> None:
        with (self.path / "metrics.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"time": round(time.time(), 3), **row}, default=float) + "\n")

    def metrics(self) -> list[dict[str, Any]]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def save_torch(self, name: str, obj: Any) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        torch.save(obj, tmp)
        tmp.replace(target)

    def load_torch(self, name: str) -> Any:
        path = self.path / name
        return torch.load(path, map_location="cpu", weights_only=False) if path.exists() \
            else None

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        return self.load_torch("checkpoints/last.pt")

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        self.save_torch("checkpoints/last.pt", state)


# ---- (:ModelRun) --------------------------------------------------------------------------
def _flat(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j properties must be scalars or lists of scalars: nested dicts become key paths."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, dict):
            for k, v in _flat(value).items():
                out[f"{key}_{k}".replace("@", "_at_")] = v
        elif value is None:
            continue
        elif isinstance(value, list | tuple):
            out[key] = json.dumps(value)
        else:
            out[key.replace("@", "_at_")] = value
    return out


def record_run(driver: neo4j.Driver, database: str, run_id: str, props: dict[str, Any]) -> None:
    """Create or update the run's `(:ModelRun)` node (idempotent: MERGE on run_id)."""
    driver.execute_query(cypher.load("train/run_constraint"), database_=database)
    driver.execute_query(cypher.load("train/record_run"), run_id=run_id, props=_flat(props),
                         database_=database)


def list_runs(driver: neo4j.Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher.load("train/list_runs"), database_=database,
                                         routing_="r")
    return [dict(r["run"]) for r in records]
