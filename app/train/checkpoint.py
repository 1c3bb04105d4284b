"""The one checkpoint format of a run: ``checkpoints/last.pt``, written after every epoch and
at the end of every stage, loaded with ``torch.load(weights_only=True)``.

``stage_index`` / ``next_epoch`` say where a resume continues; at a stage's end they point at
the next stage's epoch 0 and carry no optimiser (a new stage makes its own). ``best_state`` is
the best-validated weights of the stage in progress (``{"weights", "cache_state"}``: the
vector-cache state they read, so that restoring them restores their inputs too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from lmgnn.train import distributed
from lmgnn.train.runs import RunDir

PATH = "checkpoints/last.pt"


@dataclass
class Checkpoint:
    stage_index: int
    next_epoch: int
    model: dict[str, torch.Tensor]  # TaskModel state (LM included)
    lm_scorer: dict[str, torch.Tensor]  # stage lm_links' relation scorer
    cache_state: str | None
    rng: torch.Tensor
    optimizer: dict[str, Any] | None = None
    best: float | None = None
    best_state: dict[str, Any] | None = None
    bad_epochs: int = 0
    summary: dict[str, Any] | None = None  # the stage's row of its best model so far
    cuda_rng: list[torch.Tensor] | None = None
    scheduler: dict[str, Any] | None = None  # the stage's learning-rate schedule
    extra: dict[str, Any] | None = None  # a method's own state (glem: the other model, rounds)

    def save(self, run: RunDir) -> None:
        run.save_torch(PATH, {f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, run: RunDir) -> Checkpoint | None:
        data = run.load_torch(PATH)
        return cls(**data) if data is not None else None

    def restore_rng(self) -> None:
        torch.set_rng_state(self.rng)
        if self.cuda_rng is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self.cuda_rng)

    @staticmethod
    def delete(run: RunDir) -> None:
        if not distributed.is_main():  # rank 0 owns the run dir
            return
        (run.path / PATH).unlink(missing_ok=True)


@dataclass
class EpochState:
    """Where a single-stage epoch loop (meta, multitask, probe) continues, with its early
    stopping state: from the run's checkpoint on a resume, else from the start."""

    next_epoch: int = 0
    bad_epochs: int = 0
    best: float = -math.inf
    best_state: dict[str, Any] | None = None
    best_row: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False


def resume_epochs(run: RunDir, module: torch.nn.Module,
                  optimizer: torch.optim.Optimizer) -> EpochState:
    """Load the checkpoint's weights, optimiser and RNG into ``module``/``optimizer`` and
    return the loop's state; a fresh run leaves both untouched."""
    ckpt = Checkpoint.load(run)
    if ckpt is None:
        return EpochState()
    module.load_state_dict(ckpt.model)
    if ckpt.optimizer is not None:
        optimizer.load_state_dict(ckpt.optimizer)
    ckpt.restore_rng()
    return EpochState(next_epoch=ckpt.next_epoch, bad_epochs=ckpt.bad_epochs,
                      best=ckpt.best if ckpt.best is not None else -math.inf,
                      best_state=ckpt.best_state, best_row=ckpt.summary or {}, resumed=True)
