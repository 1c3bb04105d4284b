"""A run's model on disk, and ``load_model``: the run's files alone rebuild LM, GNN and head.

Files (nanoGPT-style: plain data, no pickled objects): ``model.json`` (``ModelShape``, the LM's
settings, classes, target, node counts at training time, the vector-cache state the model was
evaluated with), ``model.pt`` (every weight but the LM's, loaded with ``weights_only=True``)
and ``lm/`` (the fine-tuned LM in Hugging Face format; method gnn keeps the LM it read, named
by ``lm.path``). Loading touches neither the graph nor global RNGs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lmgnn.errors import UserError
from lmgnn.models import TextEncoder, pick_device
from lmgnn.train.config import TrainConfig
from lmgnn.train.model import ModelShape, TaskModel, build_model
from lmgnn.train.runs import RunDir
from lmgnn.train.task import Target

MODEL_JSON, MODEL_PT, LM_DIR = "model.json", "model.pt", "lm"


def save_model(run: RunDir, model: TaskModel, shape: ModelShape, lm: TextEncoder,
               config: TrainConfig, *, target: Target, classes: list, counts: dict[str, int],
               embedding_state: str | None) -> None:
    """Write ``lm/`` (when the method fine-tunes it), ``model.pt`` and ``model.json``."""
    tuned = str(config.method) != "gnn"
    if tuned:
        lm.save(run.path / LM_DIR)
    run.save_torch(MODEL_PT, model.weights())
    run.write_json(MODEL_JSON, {
        "shape": shape.to_dict(),
        "lm": {"dir": LM_DIR if tuned else None, "path": config.lm_path,
               "pooling": str(config.pooling), "max_length": config.tokens},
        "target": target.to_dict(), "classes": classes, "counts": counts,
        "embedding_state": embedding_state})


@dataclass
class LoadedModel:
    """A finished run's model in eval mode, with what inference needs to know about it."""

    run_id: str
    path: Path
    config: TrainConfig
    target: Target
    classes: list[Any]
    counts: dict[str, int]  # nodes per label when the run was trained
    embedding_state: str | None
    lm: TextEncoder
    model: TaskModel
    device: torch.device


def load_model(run_path: str | Path, *, device: str = "auto") -> LoadedModel:
    """Rebuild a finished run's model from its directory (no trainer, no graph access)."""
    run = RunDir(Path(run_path))
    meta_path = run.path / MODEL_JSON
    if not meta_path.is_file():
        raise UserError(f"run {run.run_id} has no {MODEL_JSON} in {run.path}: it has not "
                        f"finished (finish it with `lmgnn train --resume {run.run_id}`)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    config = TrainConfig.from_saved(run.config["train"], f"{run.path}/config.json")
    lm_info = meta["lm"]
    lm_dir = run.path / lm_info["dir"] if lm_info["dir"] else lm_info["path"]
    with torch.random.fork_rng(devices=[]):  # module init draws numbers: not from the caller's
        lm = TextEncoder.from_pretrained(lm_dir, pooling=lm_info["pooling"],
                                         max_length=lm_info["max_length"])
        model = build_model(ModelShape.from_dict(meta["shape"]), lm)
    weights = run.load_torch(MODEL_PT)
    if weights is None:
        raise UserError(f"run {run.run_id} has no {MODEL_PT} in {run.path}")
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith("lm.")]
    if missing or unexpected:
        raise UserError(f"{run.path / MODEL_PT} does not fit {MODEL_JSON}: missing "
                        f"{missing[:3]}, unexpected {unexpected[:3]}")
    dev = pick_device(device)
    model.to(dev).eval()
    lm.to(dev).eval()
    return LoadedModel(run.run_id, run.path, config, Target.from_dict(meta["target"]),
                       list(meta["classes"]), {k: int(v) for k, v in meta["counts"].items()},
                       meta["embedding_state"], lm, model, dev)
