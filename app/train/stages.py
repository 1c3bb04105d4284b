"""The stages of the methods; each trains one set of parameters with its own optimiser.

- ``lm_task`` (method lm): LM + head on the task, mode ``text``.
- ``lm_links`` (lmgnn stage 1): graph-aware LM fine-tuning (``lmgnn.train.lm_links``).
- ``gnn`` (method gnn; lmgnn stage 2): GNN + head over cached LM vectors, mode ``cached``.
- ``joint`` (lmgnn stage 3): LM + GNN + head, mode ``joint``; the cache is re-encoded with the
  updated LM every ``refresh_every`` epochs. It replaces the gnn stage's model only if it
  validates better.

Every epoch ends with a validation pass over the fixed evaluation batches, a line in
``metrics.jsonl`` and a checkpoint; the best-validated weights are kept (early stopping).
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
from rich.console import Console

from lmgnn.train import distributed, loops, planning
from lmgnn.train.batches import Role
from lmgnn.train.checkpoint import Checkpoint
from lmgnn.train.config import Method, TrainConfig
from lmgnn.train.lm_links import LinkTextBatches, lm_links_epoch
from lmgnn.train.parts import RunParts

console = Console(stderr=True, quiet=not distributed.is_main())  # rank 0 speaks
PRIMARY = {"node": "acc", "edge": "acc", "link": "mrr"}
MODE: dict[str, loops.Mode] = {"lm_task": "text", "gnn": "cached", "joint": "joint"}


def plan_stages(config: TrainConfig) -> list[str]:
    """Stage names in order: lm -> [lm_task], gnn -> [gnn], lmgnn -> ``lmgnn_stages`` (by
    default lm_task, gnn, joint; lm_links instead of lm_task for link tasks)."""
    if config.method is Method.lm:
        return ["lm_task"]
    if config.method is Method.gnn:
        return ["gnn"]
    return [str(s) for s in config.lmgnn_stages]


def stage_epochs(config: TrainConfig, stage: str) -> int:
    return {"lm_task": config.lm_epochs, "lm_links": config.lm_epochs,
            "joint": config.joint_epochs}.get(stage, config.epochs)


def stage_steps(parts: RunParts, stage: str) -> int | None:
    """Training steps per epoch: the budget plan's, capped by ``max_steps_per_epoch``
    (None: the whole train split)."""
    planned = parts.plan.stage(stage) if parts.plan is not None else None
    caps = [n for n in (planned.steps_per_epoch if planned else None,
                        parts.config.max_steps_per_epoch) if n]
    return min(caps) if caps else None


def stage_patience(config: TrainConfig, stage: str) -> int:
    return config.patience if stage == "gnn" else config.lm_patience


def lm_schedule(optimizer: torch.optim.Optimizer, total_steps: int
                ) -> torch.optim.lr_scheduler.LambdaLR:
    """LM fine-tuning's usual schedule: linear warm-up over the first 6% of the planned
    steps (at most 200), then linear decay to a tenth at the planned end."""
    warm = max(1, min(200, int(0.06 * total_steps)))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.1, 1 - 0.9 * (step - warm) / max(1, total_steps - warm))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def make_optimizer(parts: RunParts, stage: str) -> torch.optim.Optimizer:
    c, lm, model = parts.config, parts.lm, parts.model
    if stage == "lm_links":
        return torch.optim.AdamW([*lm.parameters(), *parts.lm_scorer.parameters()], lr=c.lm_lr)
    lm_params = {id(p) for p in lm.parameters()}
    rest = [p for p in model.parameters() if id(p) not in lm_params]
    if stage == "lm_task":
        if model.text_head is not None:  # lmgnn: the GNN and its head wait for stage gnn
            rest = list(model.text_head.parameters())
        return torch.optim.AdamW([{"params": list(lm.parameters()), "lr": c.lm_lr},
                                  {"params": rest, "lr": c.gnn_lr}])
    if stage == "gnn":
        return torch.optim.AdamW(rest, lr=c.gnn_lr, weight_decay=1e-4)
    return torch.optim.AdamW([{"params": list(lm.parameters()), "lr": c.lm_lr},
                              {"params": rest, "lr": c.gnn_lr / 3}])


def snapshot(parts: RunParts) -> dict[str, Any]:
    """The model's weights (LM included) on CPU and the cache state they read."""
    return {"weights": {k: v.detach().cpu().clone() for k, v in
                        parts.model.state_dict().items()},
            "cache_state": parts.cache.state}


def restore(parts: RunParts, best_state: dict[str, Any]) -> None:
    parts.model.load_state_dict(best_state["weights"])
    state = best_state.get("cache_state")
    if state and state != parts.cache.state:  # the vectors of the best LM
        parts.refresh_cache(state)


def checkpoint(parts: RunParts, stage_index: int, next_epoch: int,
               optimizer: torch.optim.Optimizer | None = None, best: float | None = None,
               best_state: dict[str, Any] | None = None, bad: int = 0,
               summary: dict[str, Any] | None = None,
               scheduler: dict[str, Any] | None = None) -> None:
    Checkpoint(stage_index=stage_index, next_epoch=next_epoch,
               model=parts.model.state_dict(), lm_scorer=parts.lm_scorer.state_dict(),
               cache_state=parts.cache.state, rng=torch.get_rng_state(),
               optimizer=optimizer.state_dict() if optimizer is not None else None,
               best=best, best_state=best_state, bad_epochs=bad, summary=summary,
               scheduler=scheduler,
               cuda_rng=torch.cuda.get_rng_state_all() if torch.cuda.is_available()
               else None,
               extra=parts.checkpoint_extra() if parts.checkpoint_extra else None
               ).save(parts.run)


def run_lm_links(parts: RunParts, start_epoch: int, stage_index: int,
                 ckpt: Checkpoint | None) -> dict[str, Any]:
    """Stage lm_links: one checkpoint per epoch; no validation (the task is another)."""
    c = parts.config
    relations = parts.link_pairs()
    if not relations:
        console.print("stage lm_links skipped: no relation has text at both ends")
        return {"skipped": 1}
    optimizer = make_optimizer(parts, "lm_links")
    batches = LinkTextBatches(parts.samplers, relations, c.lm_batch_size, c.seed,
                              stage_steps(parts, "lm_links"))
    epochs = stage_epochs(c, "lm_links")
    schedule = lm_schedule(optimizer, epochs * len(batches.plan(0)))  # before the state loads
    if ckpt is not None and ckpt.optimizer:
        optimizer.load_state_dict(ckpt.optimizer)
        if ckpt.scheduler:
            schedule.load_state_dict(ckpt.scheduler)
    deadline = planning.deadline_of(parts, "lm_links")
    summary: dict[str, Any] = {}
    step = distributed.wrap(parts.lm, parts.lm_scorer)
    for epoch in range(start_epoch, epochs):
        if epoch > start_epoch and deadline.passed():
            console.print(f"lm_links: budget deadline reached after epoch {epoch - 1}")
            break
        stats = distributed.merge_stats(lm_links_epoch(
            parts.lm, parts.lm_scorer, batches, optimizer, epoch=epoch, device=parts.device,
            step=step, deadline=deadline if epoch > start_epoch else None,
            on_step=schedule.step))
        summary = {"stage": "lm_links", "epoch": epoch, "split": "train", **stats.as_dict()}
        parts.run.log_metrics(summary)
        console.print(line(summary))
        checkpoint(parts, stage_index, epoch + 1, optimizer, scheduler=schedule.state_dict())
    return summary


def run_supervised(parts: RunParts, stage: str, start_epoch: int, stage_index: int,
                   ckpt: Checkpoint | None, prior: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """Stages lm_task, gnn and joint: train with early stopping, keep the best-validated model.

    ``prior``: for ``joint``, the gnn stage's summary row; its model is the one to beat."""
    c, primary, mode = parts.config, PRIMARY[parts.data.target.kind], MODE[stage]
    role: Role = "text" if mode == "text" else "graph"
    optimizer = make_optimizer(parts, stage)
    epochs, patience = stage_epochs(c, stage), stage_patience(c, stage)
    steps = stage_steps(parts, stage)
    deadline = planning.deadline_of(parts, stage)
    planned = parts.plan.stage(stage) if parts.plan is not None else None
    refresh_every = planned.refresh_every if planned is not None else c.refresh_every
    if stage == "joint" and deadline.passed() and start_epoch == 0:
        console.print("joint: skipped, the budget's deadline passed before it could start")
        return {**(prior or {}), "stage": stage, "kept": (prior or {}).get("stage"),
                "skipped": 1}
    per_epoch = len(parts.loaders.train(role, start_epoch, joint=mode == "joint", steps=steps))
    # gnn: halve the learning rate when validation stalls; LM stages: warm-up + linear decay
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=0.5, patience=max(1, patience // 3)) \
        if stage == "gnn" else None
    schedule = None if stage == "gnn" else lm_schedule(optimizer, epochs * per_epoch)
    best, best_state, bad = -math.inf, None, 0
    summary: dict[str, Any] = {}
    if ckpt is not None and ckpt.optimizer is not None:
        optimizer.load_state_dict(ckpt.optimizer)
        if ckpt.scheduler:
            (plateau or schedule).load_state_dict(ckpt.scheduler)  # type: ignore[union-attr]
        best = ckpt.best if ckpt.best is not None else -math.inf
        best_state, bad, summary = ckpt.best_state, ckpt.bad_epochs, ckpt.summary or {}
    elif prior and f"valid_{primary}" in prior:
        best, best_state = prior[f"valid_{primary}"], snapshot(parts)
        summary = {**prior, "stage": stage, "kept": prior.get("stage")}
    step = distributed.wrap(parts.model)  # DDP in a distributed run
    for epoch in range(start_epoch, epochs):
        if bad >= patience:  # stopped early just before an interruption
            break
        if epoch > start_epoch and deadline.passed():
            console.print(f"{stage}: budget deadline reached after epoch {epoch - 1} "
                          f"(best valid {primary} {best:.4f})")
            break
        t0 = time.perf_counter()
        encoded = _ensure_inputs(parts, stage) if epoch == start_epoch else 0
        enc_s = time.perf_counter() - t0
        loader = parts.loaders.train(role, epoch, joint=mode == "joint", steps=steps)
        stats = distributed.merge_stats(loops.train_epoch(
            parts.task, parts.model, loader, mode, parts.cache, optimizer, parts.device,
            len(loader), f"{stage} epoch {epoch}", step=step,
            deadline=deadline if epoch > start_epoch else None,  # a stage's first epoch ends
            on_step=schedule.step if schedule is not None else None))
        last = epoch + 1 == epochs or deadline.passed()
        if mode == "joint" and ((epoch + 1) % refresh_every == 0 or last):
            t_enc = time.perf_counter()  # re-encode with the updated LM: next epoch's inputs
            encoded += parts.refresh_cache(f"{parts.run.run_id}-joint-{epoch + 1}", fresh=True)
            enc_s += time.perf_counter() - t_enc
        # rank 0 evaluates the fixed batches (as one process would); every rank gets the
        # result, so early stopping decides the same everywhere
        valid = distributed.on_main(lambda: loops.evaluate(
            parts.task, parts.model, parts.loaders.evaluate(role, "valid"), parts.cache,
            parts.device, mode="text" if mode == "text" else None))
        row = {"stage": stage, "epoch": epoch, "split": "valid", **stats.as_dict(),
               "encode_seconds": round(enc_s, 3), "texts_encoded": encoded,
               "epoch_seconds": round(time.perf_counter() - t0, 3),
               **{f"valid_{k}": v for k, v in valid.items()}}
        parts.run.log_metrics(row)
        console.print(line(row))
        score = valid.get(primary, -math.inf)
        if score > best:
            best, bad, best_state, summary = score, 0, snapshot(parts), row
        else:
            bad += 1
        if plateau is not None:
            plateau.step(score)
        checkpoint(parts, stage_index, epoch + 1, optimizer, best, best_state, bad, summary,
                   scheduler=(plateau or schedule).state_dict())  # type: ignore[union-attr]
        if bad >= patience:
            console.print(f"{stage}: early stop after epoch {epoch} "
                          f"(best valid {primary} {best:.4f})")
            break
    if best_state is not None:
        restore(parts, best_state)
    return summary


def _ensure_inputs(parts: RunParts, stage: str) -> int:
    """Make the cache hold the vectors this stage reads; returns texts encoded (0: reused).
    The joint stage starts from the gnn stage's vectors (or the same state, if it ran alone)."""
    if stage == "lm_task" or (stage == "joint" and parts.cache.state is not None):
        return 0
    state = parts.gnn_input_state()
    return 0 if state == parts.cache.state else parts.refresh_cache(state)


def line(row: dict[str, Any]) -> str:
    keep = ("stage", "epoch", "loss", "seconds", "seeds_per_s", "texts_per_s", "valid_acc",
            "valid_macro_f1", "valid_mrr", "valid_hits@1", "valid_hits@10")
    return "  ".join(f"{k}={row[k]:.4g}" if isinstance(row[k], float) else f"{k}={row[k]}"
                     for k in keep if k in row)
