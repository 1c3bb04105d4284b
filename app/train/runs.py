"""Run directories and `(:ModelRun)` nodes: what training leaves behind for people and writeback.

Layout of ``runs/<run_id>/`` (writeback reloads it; documented in docs/architecture.md)::

    config.json          TrainConfig.to_dict() plus graph name, classes, node counts
    metrics.jsonl        one JSON object per epoch/evaluation: {stage, epoch, split, ...metrics}
    checkpoints/last.pt  resumable state (lmgnn.train.checkpoint); removed when the run
                         finishes unless keep_checkpoint
    lm/                  the fine-tuned text encoder, HF format (methods lm, lmgnn)
    model.json           how to rebuild the model (lmgnn.train.model_files)
    model.pt             its weights but the LM's (GNN, head, id embeddings)
    summary.json         final test/valid metrics, status, stages, embedding state
"""

from __future__ import annotations

import json
import re
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
from lmgnn.train import distributed

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def new_run_id(method: str) -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{method}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """A run id is a plain folder name (letters, digits, ``_.-``), checked before any path is
    built from it: ``--run ../elsewhere`` never reaches outside the runs folder."""
    if not _RUN_ID.match(run_id or "") or run_id in (".", ".."):
        raise UserError(f"run id {run_id!r}: use letters, digits, '_', '.', '-' only "
                        "(see `lmgnn runs`)")
    return run_id


@dataclass
class RunResult:
    """What ``lmgnn.train.train`` returns for any method."""

    run_id: str
    path: Path
    valid: dict[str, float]
    test: dict[str, float]
    stages: dict[str, dict[str, float]]


@dataclass(frozen=True)
class RunDir:
    """One run's folder; every write is whole-file (temp file + rename), so a crash mid-write
    never leaves a truncated config, checkpoint or summary. In a distributed run rank 0 owns
    the folder: the other ranks read it (a shared filesystem across machines) and their
    writes are no-ops."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, root: Path, run_id: str, config: dict[str, Any]) -> RunDir:
        path = Path(root) / check_run_id(run_id)
        if (path / "config.json").exists():
            raise UserError(f"run {run_id} already exists in {root}: use --resume {run_id}")
        run = cls(path)
        fresh_root = not Path(root).exists()
        (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        # weights and vectors may encode private text: 0700 keeps every file below from other
        # users whatever its mode (the runs folder too, when this creates it)
        path.chmod(0o700)
        if fresh_root:
            Path(root).chmod(0o700)
        run.write_json("config.json", config)
        return run

    @staticmethod
    def check_new(root: Path, run_id: str) -> None:
        """Refuse an invalid or taken run id before any work starts."""
        if (Path(root) / check_run_id(run_id) / "config.json").exists():
            raise UserError(f"run {run_id} already exists in {root}: use --resume {run_id}")

    @classmethod
    def open(cls, root: Path, run_id: str) -> RunDir:
        path = Path(root) / check_run_id(run_id)
        if not (path / "config.json").is_file():
            known = sorted(p.parent.name for p in Path(root).glob("*/config.json")) if Path(
                root).is_dir() else []
            raise UserError(f"no run {run_id!r} in {root}" +
                            (f"; runs there: {', '.join(p for p in known[-5:])}" if known else ""))
        return cls(path)

    # ---- files --------------------------------------------------------------------------
    def write_json(self, name: str, data: dict[str, Any]) -> None:
        if not distributed.is_main():
            return
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
        tmp.replace(self.path / name)

    def read_json(self, name: str) -> dict[str, Any]:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    @property
    def config(self) -> dict[str, Any]:
        return self.read_json("config.json")

    def log_metrics(self, row: dict[str, Any]) -> None:
        if not distributed.is_main():
            return
        with (self.path / "metrics.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"time": round(time.time(), 3), **row}, default=float) + "\n")

    def metrics(self) -> list[dict[str, Any]]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def save_torch(self, name: str, obj: Any) -> None:
        if not distributed.is_main():
            return
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        torch.save(obj, tmp)
        tmp.replace(target)

    def load_torch(self, name: str) -> Any:
        """Tensors and plain containers only (``weights_only=True``): a crafted file cannot
        run code."""
        path = self.path / name
        if not path.exists():
            return None
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # unpickling refused or a damaged file
            raise UserError(f"{path}: not a weights file lmgnn wrote ({type(exc).__name__}); "
                            "start a new run") from None


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
    """Create or update the run's `(:ModelRun)` node (idempotent: MERGE on run_id); rank 0's
    job in a distributed run."""
    if not distributed.is_main():
        return
    driver.execute_query(cypher.load("train/run_constraint"), database_=database)
    driver.execute_query(cypher.load("train/record_run"), run_id=run_id, props=_flat(props),
                         database_=database)


def list_runs(driver: neo4j.Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher.load("train/list_runs"), database_=database,
                                         routing_="r")
    return [dict(r["run"]) for r in records]
