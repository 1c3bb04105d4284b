"""Training configuration: one validated dataclass, unknown keys rejected (a misspelt option is
an error, not silently ignored), serialised into the run's config.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from lmgnn.errors import UserError

Method = Literal["lm", "gnn", "lmgnn"]
TaskKind = Literal["node", "edge", "link"]
METHODS = ("lm", "gnn", "lmgnn")
TASKS = ("node", "edge", "link")
STAGES = ("lm", "gnn", "joint")  # the three lmgnn stages, in order


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs besides the database.

    ``target``: node task ``Label.property`` (or ``Label``: the spec's target); edge task a
    relationship (``TYPE`` or ``Src-TYPE->Dst``) with a spec ``label``; link task a relationship.
    """

    method: Method
    task: TaskKind
    target: str
    seed: int = 0
    exclude: list[str] = field(default_factory=list)  # relations hidden from the GNN and stage 1
    stages: list[str] = field(default_factory=lambda: list(STAGES))  # lmgnn stages to run
    # language model
    lm_path: str | None = None  # None: packaged all-MiniLM-L6-v2
    pooling: str = "mean"
    max_length: int = 32
    lm_lr: float = 5e-5
    lm_batch_size: int = 32
    # GNN
    conv: str = "sage"
    hidden: int = 128
    layers: int = 2
    fanout: int = 10
    heads: int = 2
    dropout: float = 0.2
    gnn_lr: float = 3e-3
    batch_size: int = 256
    # link prediction
    score: str = "distmult"
    loss: str = "contrastive"
    negatives: str = "uniform"  # uniform | in-batch
    num_negatives: int = 16
    eval_negatives: int = 100
    # schedule
    epochs: int = 5  # per stage (lm, gnn, joint); method lm/gnn use it directly
    lm_epochs: int | None = None  # stage 1 epochs (default: epochs)
    joint_epochs: int | None = None  # stage 3 epochs (default: epochs)
    max_steps_per_epoch: int | None = None  # bound CPU time (None: whole train split)
    lm_grad_nodes: int = 32  # stage 3: nodes per batch that get LM gradients
    refresh_every: int = 1  # stage 3: re-encode the embedding cache every N epochs
    patience: int = 3  # early stopping on the validation metric
    device: str = "auto"
    eval_max: int | None = 2000  # cap on valid/test items evaluated (None: all)
    full_rank_max: int = 50_000  # link task: filtered full ranking if targets <= this (0: off)

    def __post_init__(self) -> None:
        _one_of("method", self.method, METHODS)
        _one_of("task", self.task, TASKS)
        _one_of("pooling", self.pooling, ("cls", "mean"))
        _one_of("conv", self.conv, ("sage", "hgt"))
        _one_of("score", self.score, ("distmult", "dot"))
        _one_of("loss", self.loss, ("bce", "contrastive"))
        _one_of("negatives", self.negatives, ("uniform", "in-batch"))
        for stage in self.stages:
            _one_of("stage", stage, STAGES)
        for name in ("max_length", "hidden", "layers", "batch_size", "lm_batch_size", "epochs",
                     "lm_grad_nodes", "refresh_every", "num_negatives", "eval_negatives"):
            if getattr(self, name) < 1:
                raise UserError(f"training option {name} must be >= 1, got {getattr(self, name)}")
        if self.fanout < 0:
            raise UserError(f"training option fanout must be >= 0, got {self.fanout}")
        if not self.target:
            raise UserError("name the task target, e.g. Product.category or PURCHASED")

    @property
    def stage1_epochs(self) -> int:
        return self.lm_epochs if self.lm_epochs is not None else self.epochs

    @property
    def stage3_epochs(self) -> int:
        return self.joint_epochs if self.joint_epochs is not None else self.epochs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
