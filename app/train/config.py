"""Training configuration: one validated dataclass that owns every default.

Unknown keys are rejected (a misspelt option is an error, not silently ignored); choices are
Enums; each field's ``metadata["help"]`` is the CLI's help text, because ``lmgnn train``
derives its options from these fields (no second copy of the defaults). A run's config is
serialised into its ``config.json``; ``lmgnn train --config run.yaml`` reads the same keys.

Vocabulary (docs/architecture.md): a *method* is what the user picks (lm, gnn, lmgnn); a
*stage* is one trained phase with its own optimiser, epochs and early stopping (``lm_task``,
``lm_links``, ``gnn``, ``joint``); a *mode* is how a batch's node representations are computed
(``text``, ``cached``, ``joint``; see ``lmgnn.train.loops``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from lmgnn.errors import UserError


class Method(StrEnum):
    lm = "lm"
    gnn = "gnn"
    lmgnn = "lmgnn"
    glem = "glem"  # variational-EM co-training of LM and GNN (lmgnn.train.glem)
    meta = "meta"  # SAME meta-learning over several tasks (lmgnn.train.meta)
    multitask = "multitask"  # one encoder, summed task losses (lmgnn.train.meta)
    probe = "probe"  # linear probe on a run's frozen embeddings (lmgnn.train.probe)


class TaskKind(StrEnum):
    node = "node"
    edge = "edge"
    link = "link"


class Stage(StrEnum):
    """The lmgnn stages a user can choose (``--stages``), in the order they run."""

    lm_task = "lm_task"
    lm_links = "lm_links"
    gnn = "gnn"
    joint = "joint"


class Pooling(StrEnum):
    mean = "mean"
    cls = "cls"


class Conv(StrEnum):
    sage = "sage"
    hgt = "hgt"


class Score(StrEnum):
    distmult = "distmult"
    dot = "dot"


class LinkLoss(StrEnum):
    contrastive = "contrastive"
    bce = "bce"


class Negatives(StrEnum):
    uniform = "uniform"
    in_batch = "in_batch"


class MetaVariant(StrEnum):
    isame = "isame"
    esame = "esame"


class GlemStart(StrEnum):
    lm = "lm"
    gnn = "gnn"


class GlemLabels(StrEnum):
    hard = "hard"
    soft = "soft"


class Backend(StrEnum):
    auto = "auto"
    snapshot = "snapshot"
    cypher = "cypher"


AUTO = "auto"
METHODS = tuple(m.value for m in Method)
TASKS = tuple(t.value for t in TaskKind)
STAGES = tuple(s.value for s in Stage)


def _help(*parts: str) -> dict[str, str]:
    """Field metadata: the option's help text (shown by ``lmgnn train --help``)."""
    return {"help": "".join(parts)}


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs besides the database.

    ``target``: node task ``Label.property`` (or ``Label``: the spec's target); edge task a
    relationship (``TYPE`` or ``Src-TYPE->Dst``) with a spec ``label``; link task a relationship.
    """

    target: str = field(default="", metadata=_help(
        "node: Label.property; edge/link: TYPE or Src-TYPE->Dst"))
    method: Method = field(default=Method.lmgnn, metadata=_help(
        "lm (text only), gnn (GNN on frozen LM vectors), lmgnn (stage-wise LM + GNN) or glem "
        "(LM and GNN in turns, teaching each other by pseudo-labels)"))
    task: TaskKind = field(default=TaskKind.node, metadata=_help(
        "node, edge (classification) or link (prediction)"))
    seed: int = field(default=0, metadata=_help(
        "seed of splits, sampling, negatives and initialisation"))
    exclude: list[str] = field(default_factory=list, metadata=_help(
        "relationship hidden from the model and from lm_links (repeatable), e.g. "
        "PUBLISHED_IN"))
    stages: list[Stage] = field(default_factory=list, metadata=_help(
        "lmgnn stages to run (repeatable or comma-separated): lm_task (LM fine-tuned on the "
        "task's labels), lm_links (LM fine-tuned on the graph's text links), gnn, joint; "
        "default: lm_task,gnn,joint for node and edge tasks, lm_links,gnn,joint for links"))
    sampler: Backend = field(default=Backend.auto, metadata=_help(
        "graph reads: snapshot (topology in RAM), cypher (every hop a query; memory follows "
        "the batch) or auto (snapshot while it fits a quarter of the free RAM)"))
    # language model
    lm_path: str | None = field(default=None, metadata=_help(
        "Hugging Face model directory (default: the packaged all-MiniLM-L6-v2)"))
    pooling: Pooling = field(default=Pooling.mean, metadata=_help("LM pooling"))
    max_length: int | str = field(default=AUTO, metadata=_help(
        "tokens per text: auto (the 99th percentile of a sample of the graph's texts, "
        "rounded up to 8, at most 256 or the model's limit; printed and stored in the run's "
        "config) or a number"))
    lm_lr: float = field(default=5e-5, metadata=_help("LM learning rate"))
    lm_batch_size: int = field(default=32, metadata=_help(
        "texts per step in the LM stages (lm_task, lm_links)"))
    # GNN
    conv: Conv = field(default=Conv.sage, metadata=_help("GNN layer"))
    hidden: int = field(default=128, metadata=_help("GNN width"))
    layers: int = field(default=2, metadata=_help("GNN layers (= sampled hops)"))
    fanout: int = field(default=10, metadata=_help(
        "neighbours per node, relation direction and hop in training (-1: all)"))
    eval_fanout: int | str = field(default=AUTO, metadata=_help(
        "the same for validation, test, writeback and predict: auto (all neighbours while "
        "the graph has at most 1M relationships, else --fanout), -1 (all) or a number"))
    heads: int = field(default=2, metadata=_help("attention heads (hgt)"))
    # a time split leaves new nodes with outgoing edges only (arxiv-2023 test papers: 0.2
    # incoming citations, training papers 9.8); with the directions apart that is a missing
    # input term, not fewer neighbours (docs/architecture.md, "Same-type relations")
    undirected: bool = field(default=True, metadata=_help(
        "a relationship between nodes of one label (e.g. Paper-CITES->Paper) passes messages "
        "both ways as one relation, a mean over all neighbours; --no-undirected keeps the "
        "two directions apart"))
    # 0.5, the usual GNN default: mini-batch training overfits fast (arxiv-2023 train loss
    # 0.21 at valid 0.77 with 0.2); 0.5 gave test 0.726 vs 0.692 there, ties on DBLP and shop
    dropout: float = field(default=0.5, metadata=_help(
        "dropout in the GNN layers and the task heads"))
    gnn_lr: float = field(default=3e-3, metadata=_help("GNN and head learning rate"))
    batch_size: int = field(default=256, metadata=_help("seeds (nodes or edges) per batch"))
    # link prediction
    score: Score = field(default=Score.distmult, metadata=_help("link scorer"))
    loss: LinkLoss = field(default=LinkLoss.contrastive, metadata=_help("link loss"))
    negatives: Negatives = field(default=Negatives.uniform, metadata=_help(
        "link training negatives: uniform targets, or the batch's own targets (in_batch)"))
    num_negatives: int = field(default=16, metadata=_help(
        "link task: uniform negative targets per training batch, each positive ranked "
        "against all of them"))
    eval_negatives: int = field(default=100, metadata=_help(
        "link task: uniform negatives per valid/test batch for sampled MRR (fixed: the same "
        "every epoch)"))
    # schedule
    epochs: int = field(default=200, metadata=_help(
        "gnn stage: most epochs; it stops earlier when validation stops improving "
        "(--patience) or its share of --budget is spent"))
    lm_epochs: int = field(default=3, metadata=_help(
        "LM stages (lm_task, lm_links): most epochs, within --budget"))
    joint_epochs: int = field(default=3, metadata=_help(
        "joint stage: most epochs, within --budget"))
    budget: float = field(default=45.0, metadata=_help(
        "minutes for the whole run: LM texts/s are measured in the first steps, the LM "
        "stages' steps and cache refreshes planned to fit (plan and estimated end printed "
        "first), every stage stops at its deadline (0: no limit, epochs only)"))
    max_steps_per_epoch: int | None = field(default=None, metadata=_help(
        "cap on training steps per epoch (default: the whole train split, or what --budget "
        "plans)"))
    lm_grad_nodes: int = field(default=32, metadata=_help(
        "joint: target nodes per batch that get LM gradients"))
    refresh_every: int = field(default=1, metadata=_help(
        "joint: re-encode the vector cache every N epochs"))
    patience: int = field(default=10, metadata=_help(
        "gnn stage: epochs without a better validation score before it stops; the learning "
        "rate halves after a third of that"))
    lm_patience: int = field(default=2, metadata=_help(
        "LM stages (lm_task, joint): validations without a better score before it stops"))
    device: str = field(default="auto", metadata=_help("auto, cpu or cuda[:i]"))
    eval_max: int | None = field(default=2000, metadata=_help(
        "valid/test items evaluated: a seeded sample of this many, the same every epoch and "
        "in the final evaluation (0: all)"))
    keep_checkpoint: bool = field(default=False, metadata=_help(
        "keep checkpoints/last.pt (with the optimiser state) when the run finishes; the "
        "final weights are always kept"))
    full_rank_max: int = field(default=50_000, metadata=_help(
        "link task: also rank test edges against all targets when there are at most this "
        "many (0: off)"))
    # meta
    task_target: list[str] = field(default_factory=list, metadata=_help(
        "meta/multitask: a task (repeatable): node:Label.prop, edge:TYPE, link:Src-TYPE->Dst, "
        "or a YAML file listing them"))
    meta_variant: MetaVariant = field(default=MetaVariant.isame, metadata=_help(
        "meta: isame (inner loop adapts every parameter) or esame (only the task heads)"))
    inner_steps: int = field(default=2, metadata=_help("meta: inner-loop SGD steps per task"))
    inner_lr: float = field(default=0.05, metadata=_help("meta: inner-loop learning rate"))
    outer_lr: float = field(default=3e-3, metadata=_help(
        "meta/multitask: outer (AdamW) learning rate"))
    episodes: int = field(default=40, metadata=_help(
        "meta/multitask: episodes (outer steps) per epoch"))
    support_size: int = field(default=64, metadata=_help(
        "meta: support seeds per task and episode (multitask: its batch)"))
    target_size: int = field(default=64, metadata=_help(
        "meta: target seeds per task and episode"))
    episode_swap: bool = field(default=False, metadata=_help(
        "meta: also adapt on the target set and score the support set (every seed of an "
        "episode then counts in the outer loss; twice the cost)"))
    embeddings: str | None = field(default=None, metadata=_help(
        "probe: RUN (its saved embeddings, computed through its model if missing) or "
        "graph:RUN (its embeddings written back in the graph)"))
    # glem
    glem_rounds: int = field(default=2, metadata=_help(
        "glem: EM rounds (one E-step and one M-step each) after both models are pre-trained "
        "on the gold labels"))
    glem_start: GlemStart = field(default=GlemStart.lm, metadata=_help(
        "glem: which model trains first in a round: lm (E-step, on GNN pseudo-labels) or gnn"))
    glem_alpha: float = field(default=0.5, metadata=_help(
        "glem E-step: loss = (1 - alpha) CE(gold) + alpha CE(GNN pseudo-labels)"))
    glem_beta: float = field(default=0.5, metadata=_help(
        "glem M-step: loss = (1 - beta) CE(gold) + beta CE(LM pseudo-labels)"))
    glem_threshold: float = field(default=0.5, metadata=_help(
        "glem: pseudo-labels below this confidence are not trained on"))
    glem_lm_epochs: int = field(default=1, metadata=_help("glem: LM epochs per E-step"))
    glem_gnn_epochs: int = field(default=2, metadata=_help("glem: GNN epochs per M-step"))
    glem_labels: GlemLabels = field(default=GlemLabels.hard, metadata=_help(
        "glem: hard (the top class) or soft (the whole distribution) pseudo-labels"))

    def __post_init__(self) -> None:
        for f in fields(self):
            kind = _ENUMS.get(f.name)
            if kind is None:
                continue
            value = getattr(self, f.name)
            if f.name == "stages":
                parts = [p.strip() for v in value for p in str(v).split(",") if p.strip()]
                object.__setattr__(self, "stages", [_enum(kind, "stage", p) for p in parts])
            else:
                object.__setattr__(self, f.name, _enum(kind, f.name, value))
        for name in ("max_length", "eval_fanout"):
            object.__setattr__(self, name, _auto_int(name, getattr(self, name)))
        if isinstance(self.max_length, int) and self.max_length < 2:
            raise UserError(f"training option max_length must be >= 2 (or auto), got "
                            f"{self.max_length}")
        if isinstance(self.eval_fanout, int) and (self.eval_fanout < -1 or
                                                  self.eval_fanout == 0):
            raise UserError("training option eval_fanout must be auto, >= 1 or -1 (all), got "
                            f"{self.eval_fanout}")
        if not math.isfinite(self.budget) or self.budget < 0:
            raise UserError(f"training option budget must be >= 0 minutes (0: no limit), got "
                            f"{self.budget}")
        for name in ("hidden", "layers", "batch_size", "lm_batch_size", "epochs", "lm_epochs",
                     "joint_epochs", "lm_grad_nodes", "refresh_every", "num_negatives",
                     "eval_negatives", "patience", "lm_patience", "inner_steps", "episodes",
                     "support_size", "target_size"):
            if getattr(self, name) < 1:
                raise UserError(f"training option {name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_steps_per_epoch",):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"training option {name} must be >= 1 (or unset), got {value}")
        if self.eval_max == 0:
            object.__setattr__(self, "eval_max", None)
        if self.fanout < -1 or self.fanout == 0:
            raise UserError(f"training option fanout must be >= 1 or -1 (all), got {self.fanout}")
        if Stage.lm_task in self.stages and self.task is TaskKind.link:
            raise UserError("stage lm_task needs class labels: for a link task use lm_links")
        if self.method is Method.lmgnn and self.stages and not \
                {Stage.gnn, Stage.joint} & set(self.stages):
            raise UserError("lmgnn: --stages needs gnn or joint (the model it saves is the "
                            "GNN's); for the LM alone use --method lm")
        if self.method in (Method.meta, Method.multitask):
            if not self.task_target:
                raise UserError(f"{self.method}: name its tasks, e.g. --task-target "
                                "node:Product.category --task-target link:PURCHASED")
            if not self.target.strip():
                object.__setattr__(self, "target", " ".join(self.task_target))
        if self.method is Method.probe and not self.embeddings:
            raise UserError("probe: name the run whose embeddings it reads, --embeddings RUN")
        _check_glem(self)
        if not self.target.strip():
            raise UserError("name the task target, e.g. --target Product.category or "
                            "--target Query-PURCHASED->Product")

    @property
    def lmgnn_stages(self) -> list[Stage]:
        """The stages method lmgnn runs: ``stages``, or the task's default."""
        if self.stages:
            return [s for s in Stage if s in self.stages]  # always in pipeline order
        first = Stage.lm_links if self.task is TaskKind.link else Stage.lm_task
        return [first, Stage.gnn, Stage.joint]

    @property
    def tokens(self) -> int:
        """``max_length`` once resolved (the trainer replaces ``auto`` before a run starts)."""
        if not isinstance(self.max_length, int):
            raise ValueError("max_length is still 'auto': resolve it from the texts first")
        return self.max_length

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))  # enums as their plain values

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "training options") -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"{where}: unknown training option(s) {unknown}; "
                            f"known: {sorted(known)}")
        return cls(**_older_defaults(data))

    @classmethod
    def from_saved(cls, data: dict[str, Any], where: str) -> TrainConfig:
        """A run's saved ``config.json`` (resume, predict, probe): an option added after the
        run was saved takes the value the run trained with, not today's default."""
        return cls.from_dict({**_ADDED_LATER, **data}, where)


_ENUMS: dict[str, type[StrEnum]] = {
    "method": Method, "task": TaskKind, "stages": Stage, "sampler": Backend,
    "pooling": Pooling, "conv": Conv, "score": Score, "loss": LinkLoss, "negatives": Negatives,
    "meta_variant": MetaVariant, "glem_start": GlemStart, "glem_labels": GlemLabels}


def _check_glem(c: TrainConfig) -> None:
    """GLEM's options (lmgnn.train.glem): weights and threshold in [0, 1], counts >= 0/1."""
    for name in ("glem_alpha", "glem_beta", "glem_threshold"):
        if not 0.0 <= getattr(c, name) <= 1.0:
            raise UserError(f"training option {name} must be in [0, 1], got {getattr(c, name)}")
    if c.glem_rounds < 0 or c.glem_lm_epochs < 1 or c.glem_gnn_epochs < 1:
        raise UserError("training options glem_rounds >= 0, glem_lm_epochs and "
                        "glem_gnn_epochs >= 1")
    if c.method is Method.glem and c.task is TaskKind.link:
        raise UserError("glem: node or edge classification (--task node|edge); link "
                        "prediction has no classes to pseudo-label")


# options added after runs were saved with them absent -> the behaviour those runs had
_ADDED_LATER: dict[str, Any] = {"undirected": False}


def _older_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A config.json written before ``--budget`` existed keeps its meaning: LM stage epochs
    unset meant ``epochs``, and it trained without a time budget."""
    data = dict(data)
    if "epochs" in data:
        for name in ("lm_epochs", "joint_epochs"):
            if name in data and data[name] is None:
                data[name] = data["epochs"]
        data.setdefault("budget", 0.0)
    return data


def _auto_int(name: str, value: object) -> int | str:
    """``auto`` or an integer (from the command line, a YAML file or config.json)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == AUTO:
        return AUTO
    try:
        return int(text)
    except ValueError:
        raise UserError(f"training option {name} must be auto or an integer, got "
                        f"{value!r}") from None


def _enum(kind: type[StrEnum], name: str, value: object) -> Any:
    try:
        return kind(str(value.value if isinstance(value, StrEnum) else value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise UserError(f"{name} must be one of {allowed}; got {value!r}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Training options from a YAML (or JSON) file: the TrainConfig keys, nothing else."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UserError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of training options, e.g. `epochs: 10`")
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(f"{path}: unknown training option(s) {unknown}; known: {sorted(known)}")
    return data
