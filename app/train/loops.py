"""One training epoch and one evaluation pass, for every task and representation mode.

Modes (how a batch's node representations are computed): ``text`` (the LM on the batch's
texts; no message passing), ``cached`` (the GNN over cached frozen LM vectors), ``joint`` (the
GNN over cached vectors, with the rows the loader's ``JointTexts`` picked re-encoded by the LM
with gradients). Batches come from the run's loaders (``lmgnn.train.batches``): node tasks use
``batch[label].y[:batch_size]``; link and edge tasks ``batch[et].edge_label_index`` /
``edge_label``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, cast

import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch_geometric.data import HeteroData

from lmgnn.errors import UserError
from lmgnn.models import (
    LinkScorer,
    autocast,
    classification_metrics,
    in_batch_negative_scores,
    link_loss,
    ranking_metrics,
    roc_auc,
    to_device,
)
from lmgnn.models.heads import LossKind
from lmgnn.spec import EdgeType
from lmgnn.train import distributed
from lmgnn.train.budget import Deadline
from lmgnn.train.model import TaskModel, Vectors

Mode = Literal["text", "cached", "joint"]


@dataclass
class TaskSpec:
    """What the loops need to know about the task."""

    kind: Literal["node", "edge", "link"]
    label: str | None = None  # node task
    relation: EdgeType | None = None  # edge / link task
    num_classes: int = 0
    loss: str = "contrastive"
    negatives: str = "uniform"


@dataclass
class EpochStats:
    loss: float = 0.0
    steps: int = 0
    seeds: int = 0  # target nodes / edges trained on
    texts: int = 0  # texts through the LM with gradients
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def add(self, loss: torch.Tensor, seeds: int, texts: int) -> None:
        self.loss += float(loss.detach())
        self.steps += 1
        self.seeds += seeds
        self.texts += texts

    def as_dict(self) -> dict[str, float]:
        s = max(self.seconds, 1e-9)
        return {"loss": self.loss / max(self.steps, 1), "steps": self.steps,
                "seconds": round(self.seconds, 3), "seeds_per_s": round(self.seeds / s, 2),
                "texts_per_s": round(self.texts / s, 2)}


def optimizer_step(loss: torch.Tensor, params: Iterable[torch.nn.Parameter],
                   optimizer: torch.optim.Optimizer, where: str, step: int) -> None:
    """Backward, clip to norm 1, step; a non-finite loss stops the run with a clear error
    instead of training on (and evaluating) NaN weights. In a distributed run the ranks add
    their losses first, so a NaN on one rank stops every rank at the same step (a rank that
    stopped alone would leave the others waiting in DDP's all-reduce)."""
    value = distributed.sum_all([float(loss.detach())])[0]
    if not math.isfinite(value):
        raise UserError(f"{where}: loss is {value} at step {step}; training diverged. Lower "
                        "the learning rate (lmgnn train --lm-lr / --gnn-lr) and start a new "
                        "run.")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(params), 1.0)
    optimizer.step()


def progress(description: str) -> Progress:
    """A transient bar (rank 0's only, in a distributed run)."""
    return Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True,
                    disable=not distributed.is_main())


# ---- representations ------------------------------------------------------------------------
def _node_rows(batch: HeteroData, mode: Mode, model: TaskModel, cache: Vectors,
               rows: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
    """Representations for the rows each type needs; returns (type -> (len(rows), dim), texts
    encoded with gradients)."""
    if mode == "text":
        out, texts = {}, 0
        for label, r in rows.items():
            out[label] = model.lm_repr(label, batch, r)
            texts += 0 if label in model.id_embedding else int(r.numel())
        return out, texts
    texts = 0
    if mode == "joint" and model.training:
        texts = sum(int(batch[t].lm_rows.numel()) for t in batch.node_types
                    if "lm_rows" in batch[t])
    h = model.gnn_repr(batch, cache)
    return {label: h[label][r.to(h[label].device)] for label, r in rows.items()}, texts


def _split_link_batch(batch: HeteroData, et: EdgeType) -> tuple[torch.Tensor, torch.Tensor]:
    eli, lab = batch[et].edge_label_index, batch[et].edge_label
    return eli[:, lab == 1], eli[:, lab == 0]


def _link_scores(task: TaskSpec, batch: HeteroData, mode: Mode, model: TaskModel,
                 cache: Vectors) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(positive scores (B,), shared-negative scores (B, K), paired negative scores, texts)."""
    et = task.relation
    assert et is not None  # a link task has its relation
    scorer = cast(LinkScorer, model.head)
    src_t, _, dst_t = et
    pos, neg = _split_link_batch(batch, et)
    neg_dst = torch.unique(neg[1])
    if src_t == dst_t:
        rows = {src_t: torch.cat([pos[0], pos[1], neg_dst, neg[0]])}
    else:
        rows = {src_t: torch.cat([pos[0], neg[0]]), dst_t: torch.cat([pos[1], neg_dst, neg[1]])}
    uniq = {t: torch.unique(r) for t, r in rows.items()}
    reps, texts = _node_rows(batch, mode, model, cache, uniq)

    def pick(t: str, local: torch.Tensor) -> torch.Tensor:
        return reps[t][torch.searchsorted(uniq[t], local).to(reps[t].device)]

    s, d = pick(src_t, pos[0]), pick(dst_t, pos[1])
    pos_scores = model.head(s, d, et)
    if task.negatives == "in_batch" and s.size(0) > 1:
        neg_scores = in_batch_negative_scores(scorer.all_pairs(s, d, et))
    else:
        neg_scores = scorer.all_pairs(s, pick(dst_t, neg_dst), et)
    paired = model.head(pick(src_t, neg[0]), pick(dst_t, neg[1]), et)
    return pos_scores, neg_scores, paired, texts


def _classify(task: TaskSpec, batch: HeteroData, mode: Mode, model: TaskModel,
              cache: Vectors) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(logits, labels, texts) of the batch's labelled targets."""
    if task.kind == "node":
        label = task.label
        assert label is not None  # a node task has its label
        bs = int(batch[label].batch_size)
        y = batch[label].y[:bs]
        rows = torch.arange(bs)[y.cpu() >= 0]
        reps, texts = _node_rows(batch, mode, model, cache, {label: rows})
        return _head(model, mode)(reps[label]), y[rows.to(y.device)], texts
    et = task.relation
    assert et is not None  # an edge task has its relation
    eli, y = batch[et].edge_label_index, batch[et].edge_label
    keep = y >= 0
    eli, y = eli[:, keep], y[keep]
    src_t, _, dst_t = et
    if src_t == dst_t:
        uniq = {src_t: torch.unique(eli.flatten())}
    else:
        uniq = {src_t: torch.unique(eli[0]), dst_t: torch.unique(eli[1])}
    reps, texts = _node_rows(batch, mode, model, cache, uniq)
    s = reps[src_t][torch.searchsorted(uniq[src_t], eli[0])]
    d = reps[dst_t][torch.searchsorted(uniq[dst_t], eli[1])]
    return _head(model, mode)(s, d), y, texts


def _head(model: TaskModel, mode: Mode) -> torch.nn.Module:
    """The classifier of ``mode``: lmgnn's text head (stage lm_task) on LM vectors, else the
    task head."""
    return model.text_head if mode == "text" and model.text_head is not None else model.head


# ---- epoch / evaluation ----------------------------------------------------------------------
def train_epoch(task: TaskSpec, model: TaskModel, batches: Iterable[HeteroData], mode: Mode,
                cache: Vectors, optimizer: torch.optim.Optimizer, device: torch.device,
                total: int | None = None, description: str = "train",
                step: distributed.Step | None = None, deadline: Deadline | None = None,
                on_step: Callable[[], None] | None = None) -> EpochStats:
    """``step``: the DDP wrapper of ``model`` in a distributed run
    (``lmgnn.train.distributed.wrap``); every loss is computed inside it. ``deadline``: the
    stage's (``--budget``); the epoch ends early once it passes. ``on_step``: after every
    optimiser step (a learning-rate schedule)."""
    model.train()
    stats = EpochStats()
    start = time.perf_counter()
    run = step or distributed.direct
    with progress(description) as bar:
        job = bar.add_task(description, total=total, rate="")
        for batch in batches:
            batch = to_device(batch, device)
            loss, seeds, texts = run(functools.partial(_batch_loss, task, batch, mode, model,
                                                       cache, device))
            if loss is None:
                continue
            optimizer_step(loss, model.parameters(), optimizer, description, stats.steps)
            if on_step is not None:
                on_step()
            stats.add(loss, seeds, texts)
            elapsed = time.perf_counter() - start
            bar.update(job, advance=1, rate=f"{stats.seeds / max(elapsed, 1e-9):.1f} seeds/s")
            if deadline is not None and deadline.passed():
                stats.extra["stopped_at_deadline"] = 1
                break
    stats.seconds = time.perf_counter() - start
    return stats


def _batch_loss(task: TaskSpec, batch: HeteroData, mode: Mode, model: TaskModel,
                cache: Vectors, device: torch.device) -> tuple[torch.Tensor | None, int, int]:
    """(loss, seeds, texts) of one training batch; loss None: no labelled target in it. A
    distributed run steps anyway, on a zero loss: every rank joins every gradient all-reduce."""
    with autocast(device):
        if task.kind == "link":
            pos, neg, _, texts = _link_scores(task, batch, mode, model, cache)
            return link_loss(pos.float(), neg.float(), cast(LossKind, task.loss)), \
                pos.numel(), texts
        logits, y, texts = _classify(task, batch, mode, model, cache)
        if y.numel() == 0:
            return (logits.float().sum() * 0.0 if distributed.active() else None), 0, texts
        return class_loss(task, batch, logits, y), y.numel(), texts


def class_loss(task: TaskSpec, batch: HeteroData, logits: torch.Tensor, y: torch.Tensor
               ) -> torch.Tensor:
    """Cross-entropy on the batch's labels. A batch whose loader set per-seed targets
    (``batch[label].soft_y`` (B, C) and ``.loss_weight`` (B,), or the same on the relation of
    an edge task, e.g. GLEM's gold + pseudo-labels) gets ``sum_i weight_i * CE(logits_i,
    soft_y_i)`` over the same rows (``y >= 0``) instead."""
    store = batch[task.label] if task.kind == "node" else batch[task.relation]
    if "soft_y" not in store:
        return F.cross_entropy(logits.float(), y)
    keep = store.y[:int(store.batch_size)] >= 0 if task.kind == "node" \
        else store.edge_label >= 0
    soft, weight = store.soft_y[keep].float(), store.loss_weight[keep].float()
    return -(weight * (soft * F.log_softmax(logits.float(), dim=-1)).sum(-1)).sum()


def eval_mode(model: TaskModel) -> Mode:
    """Evaluation reads the cache (no LM gradients): ``cached`` with a GNN, else ``text``
    (lmgnn's stage lm_task evaluates in ``text`` mode: ``evaluate(..., mode="text")``)."""
    return "cached" if model.gnn is not None else "text"


@torch.no_grad()
def evaluate(task: TaskSpec, model: TaskModel, batches: Iterable[HeteroData],
             cache: Vectors, device: torch.device,
             outputs: dict[str, torch.Tensor] | None = None, mode: Mode | None = None
             ) -> dict[str, float]:
    """Metrics over all batches: acc / macro_f1 (+ roc_auc for 2 classes), or MRR, Hits@1/10
    against the sampled negatives and ROC-AUC of positives vs their paired negatives.

    ``outputs`` (a dict to fill): the per-item results for reports, ``y`` and ``probs`` of a
    classifier or ``pos`` (N,) and ``neg`` (N, K) scores of a link task. ``mode``: default
    ``eval_mode(model)``."""
    model.eval()
    mode = mode or eval_mode(model)
    if task.kind == "link":
        task = dataclasses.replace(task, negatives="uniform")  # the eval batches' negatives
        ranks_pos, ranks_neg, auc_s, auc_y = [], [], [], []
        pos_all: list[torch.Tensor] = []
        neg_all: list[torch.Tensor] = []
        for batch in batches:
            batch = to_device(batch, device)
            with autocast(device):
                pos, neg, paired, _ = _link_scores(task, batch, mode, model, cache)
            m = ranking_metrics(pos.float().cpu(), neg.float().cpu())
            ranks_pos.append(m["mrr"] * pos.numel())
            ranks_neg.append((m["hits@1"] * pos.numel(), m["hits@10"] * pos.numel(),
                              pos.numel()))
            auc_s += [pos.float().cpu(), paired.float().cpu()]
            auc_y += [torch.ones(pos.numel()), torch.zeros(paired.numel())]
            pos_all.append(pos.float().cpu())
            neg_all.append(neg.float().cpu())
        n = sum(x[2] for x in ranks_neg)
        if outputs is not None and n:
            k = min(x.size(1) for x in neg_all)  # a batch may lose a clashing negative or two
            outputs["pos"] = torch.cat(pos_all)
            outputs["neg"] = torch.cat([x[:, :k] for x in neg_all])
        if not n:
            return {"mrr": float("nan"), "hits@1": float("nan"), "hits@10": float("nan")}
        return {"mrr": sum(ranks_pos) / n, "hits@1": sum(x[0] for x in ranks_neg) / n,
                "hits@10": sum(x[1] for x in ranks_neg) / n,
                "roc_auc": roc_auc(torch.cat(auc_s), torch.cat(auc_y)), "count": n}
    logits_all, y_all = [], []
    for batch in batches:
        batch = to_device(batch, device)
        with autocast(device):
            logits, y, _ = _classify(task, batch, mode, model, cache)
        logits_all.append(logits.float().cpu())
        y_all.append(y.cpu())
    logits, y = torch.cat(logits_all), torch.cat(y_all)
    if outputs is not None:
        outputs["y"], outputs["probs"] = y, torch.softmax(logits, dim=-1)
    return {**classification_metrics(logits, y, task.num_classes), "count": int(y.numel())}
