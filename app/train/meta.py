"""Methods ``meta`` (SAME: Buffelli & Vandin, meta-learning for multi-task node embeddings) and
``multitask`` (the summed-loss baseline): one GNN encoder, one head per task.

Both read the graph like method ``gnn``: batches from ``NodeLoader`` / ``EdgeLoader`` over the
run's ``RunSamplers`` (the valid/test edges of every edge/link task held out of message
passing), inputs from the ``VectorCache`` of frozen LM vectors of text types and learnt
embeddings of the others.

An *episode* holds, per task, a support batch and a target batch, drawn from two disjoint
halves of the task's training seeds. ``meta``: for each task the inner loop takes
``inner_steps`` SGD steps on the support loss with ``torch.func.functional_call`` (the
module's own parameters are never touched): ``isame`` adapts every parameter (MAML), ``esame``
only that task's head (ANIL); the outer step (AdamW, ``outer_lr``) follows the gradient of the
sum of the adapted models' target losses, second order through the inner steps.
``episode_swap``: each task's loss is the mean of two such losses, the roles of the two sets
swapped, so every seed of the episode counts in the outer loss (at twice the cost).
``multitask``: per step one batch per task, AdamW on the sum of the losses.

Model selection: mean over tasks of the primary validation metric of the (unadapted) heads;
the encoder is then judged by linear probes on its frozen embeddings (``lmgnn.train.probe``).
The run saves the first task's model in the usual files (so ``lmgnn writeback`` writes its
embeddings with vector indexes, and the first task's predictions), every head in
``heads.pt`` and the task list in ``tasks.json``.

Resume: a checkpoint (``lmgnn.train.checkpoint``) after every epoch; an epoch's batches depend
on the seed and the epoch alone (``Stream.start``), so a resumed run continues exactly.

Data-parallel (``--nproc``): every rank draws its own disjoint shard of each stream's seeds
(the loaders shard by rank), so an outer step averages ``N`` episodes, one per rank. DDP's
hooks do not follow the second-order backward through ``functional_call``, so the outer
gradients are averaged with one all-reduce before the optimiser step
(``distributed.average_gradients``); rank 0 evaluates, checkpoints and writes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import neo4j
import torch
import torch.nn.functional as F
from rich.console import Console
from torch import Tensor, nn
from torch.func import functional_call
from torch_geometric.data import HeteroData

from lmgnn.errors import UserError
from lmgnn.models import TextEncoder, link_loss, pick_device, to_device
from lmgnn.models.heads import LossKind
from lmgnn.models.text_encoder import Pooling
from lmgnn.sampler import node_counts
from lmgnn.sampler.features import feature_stats
from lmgnn.spec_store import graph_version, require_spec
from lmgnn.train import distributed, loops, resolve
from lmgnn.train.batches import Loader, RunSamplers, TaskLoaders
from lmgnn.train.budget import Deadline
from lmgnn.train.cache import VectorCache, base_state
from lmgnn.train.checkpoint import Checkpoint, resume_epochs
from lmgnn.train.config import MetaVariant, Method, TrainConfig
from lmgnn.train.model import ModelShape, TaskModel, Vectors, build_model, model_shape
from lmgnn.train.model_files import save_model
from lmgnn.train.multitask import (
    TaskDef,
    held_relations,
    prepare_tasks,
    resolve_tasks,
    task_config,
    task_key,
)
from lmgnn.train.runs import RunDir, RunResult, new_run_id, record_run
from lmgnn.train.stages import PRIMARY
from lmgnn.train.task import TaskData, excluded_relations

console = Console(stderr=True, quiet=not distributed.is_main())  # rank 0 speaks


# ---- the model -------------------------------------------------------------------------------
class MultiTaskModel(nn.Module):
    """A shared ``HeteroGNN`` and one head per task; ``forward(i, batch, cache)`` is task
    ``i``'s loss on ``batch``, so ``functional_call`` can run it with adapted parameters."""

    def __init__(self, gnn: nn.Module, heads: list[nn.Module], tasks: list[loops.TaskSpec]
                 ) -> None:
        super().__init__()
        self.gnn, self.heads, self.tasks = gnn, nn.ModuleList(heads), tasks

    def view(self, i: int) -> TaskModel:
        """Task ``i`` as a single-task model (the loops' and the model files' view)."""
        return TaskModel(None, cast(Any, self.gnn), self.heads[i])

    def forward(self, i: int, batch: HeteroData, cache: Vectors) -> Tensor:
        return task_loss(self.tasks[i], self.view(i), batch, cache)

    def head_names(self, i: int) -> list[str]:
        return [f"heads.{i}.{n}" for n, _ in self.heads[i].named_parameters()]


def task_loss(task: loops.TaskSpec, model: TaskModel, batch: HeteroData, cache: Vectors
              ) -> Tensor:
    """The training loss of one task's batch (the same losses as single-task training)."""
    if task.kind == "link":
        pos, neg, _, _ = loops._link_scores(task, batch, "cached", model, cache)
        return link_loss(pos.float(), neg.float(), cast(LossKind, task.loss))
    logits, y, _ = loops._classify(task, batch, "cached", model, cache)
    if y.numel() == 0:
        return logits.sum() * 0.0  # no labelled seed: no signal, but a graph to differentiate
    return F.cross_entropy(logits.float(), y)


def adapt(model: MultiTaskModel, i: int, support: HeteroData, cache: Vectors, *,
          names: list[str], steps: int, lr: float, create_graph: bool = True
          ) -> tuple[dict[str, Tensor], list[float]]:
    """Inner loop: ``steps`` SGD steps of task ``i``'s support loss on the parameters
    ``names``, functionally (the module keeps its own). Returns the adapted parameters and the
    support loss before each step."""
    params = dict(model.named_parameters())
    fast: dict[str, Tensor] = {n: params[n] for n in names}
    losses = []
    for _ in range(steps):
        loss = functional_call(model, fast, (i, support, cache))
        losses.append(float(loss.detach()))
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph,
                                    allow_unused=True)
        fast = {n: p if g is None else p - lr * g
                for (n, p), g in zip(fast.items(), grads, strict=True)}
    return fast, losses


def adapted_names(model: MultiTaskModel, i: int, variant: MetaVariant) -> list[str]:
    """iSAME: every parameter; eSAME: task ``i``'s head only."""
    if variant is MetaVariant.isame:
        return [n for n, _ in model.named_parameters()]
    return model.head_names(i)


# ---- batches ---------------------------------------------------------------------------------
class Stream:
    """Training batches of one loader, pass after pass (``set_epoch`` each pass).

    ``start(epoch, episodes)`` begins the run's epoch ``epoch`` with a fresh pass at loader
    epoch ``epoch * episodes`` (an epoch of ``episodes`` steps takes at most that many
    passes): the batches of an epoch depend on the seed and the epoch alone, so a run resumed
    at an epoch's start draws exactly what it would have drawn."""

    def __init__(self, loader: Loader) -> None:
        self.loader, self.epoch = loader, 0
        self._it: Iterator[HeteroData] | None = None

    def start(self, epoch: int, episodes: int) -> None:
        self.close()
        self.epoch = epoch * max(episodes, 1)

    def next(self) -> HeteroData:
        for _ in range(2):  # a fresh pass yields at least one batch of a non-empty split
            if self._it is None:
                self.loader.set_epoch(self.epoch)
                self._it = iter(self.loader)
            try:
                return next(self._it)
            except StopIteration:
                self._it, self.epoch = None, self.epoch + 1
        raise UserError("a task has no training seeds left to sample")

    def close(self) -> None:
        if self._it is not None:
            cast(Any, self._it).close()  # stops the prefetch thread
            self._it = None


def split_train(data: TaskData, seed: int) -> tuple[TaskData, TaskData]:
    """Two disjoint halves of the training seeds: the support and the target sets."""
    gen = torch.Generator().manual_seed(seed * 7_919 + 17)
    if data.target.kind == "node":
        ids = data.nodes["train"]
        perm = torch.randperm(ids.numel(), generator=gen)
        return tuple(dataclasses.replace(data, nodes={**data.nodes, "train": ids[perm[k::2]]})
                     for k in (0, 1))  # type: ignore[return-value]
    pairs, labels = data.pairs["train"], data.pair_labels.get("train")
    perm = torch.randperm(pairs.size(1), generator=gen)
    out = []
    for k in (0, 1):
        keep = perm[k::2]
        out.append(dataclasses.replace(
            data, pairs={**data.pairs, "train": pairs[:, keep]},
            pair_labels={**data.pair_labels, "train": labels[keep]} if labels is not None
            else data.pair_labels))
    return out[0], out[1]


# ---- the run ---------------------------------------------------------------------------------
@dataclasses.dataclass
class MetaParts:
    config: TrainConfig
    driver: neo4j.Driver
    database: str
    run: RunDir
    names: list[str]  # task keys, e.g. node_category
    datas: list[TaskData]
    model: MultiTaskModel
    cache: VectorCache
    evals: list[TaskLoaders]
    support: list[Stream]
    target: list[Stream]  # meta only
    device: torch.device
    tasks: list[TaskDef]
    shapes: list[ModelShape]
    lm: TextEncoder
    counts: dict[str, int]
    backend: str

    def close(self) -> None:
        for s in self.support + self.target:
            s.close()


def train_meta(config: TrainConfig, driver: neo4j.Driver, database: str, runs_root: Path,
               *, run_id: str | None = None, resume: RunDir | None = None) -> RunResult:
    """One meta or multitask run, end to end (validated before anything is written), or the
    rest of run ``resume`` from its last checkpoint."""
    parts = build_meta(config, driver, database, runs_root, run_id=run_id, resume=resume)
    run, model, cache, c = parts.run, parts.model, parts.cache, parts.config
    try:
        result = _train(parts)
    except BaseException as exc:
        record_run(driver, database, run.run_id, {
            "status": "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"})
        raise
    finally:
        parts.close()
    first = parts.tasks[0]
    save_model(run, model.view(0), parts.shapes[0], parts.lm, task_config(c, first),
               target=parts.datas[0].target, classes=parts.datas[0].classes,
               counts=parts.counts, embedding_state=cache.state)
    run.save_torch("heads.pt", {f"heads.{k}": v.detach().cpu()
                                for k, v in model.heads.state_dict().items()})
    run.write_json("tasks.json", {"tasks": run.config["tasks"],
                                  "shapes": [s.to_dict() for s in parts.shapes]})
    summary = {"run_id": run.run_id, "status": "finished", "valid": result.valid,
               "test": result.test, "stages": result.stages, "embedding_state": cache.state,
               "sampler": parts.backend, "tasks": parts.names}
    run.write_json("summary.json", summary)
    if not c.keep_checkpoint:
        Checkpoint.delete(run)
    record_run(driver, database, run.run_id, {
        "status": "finished", "test": result.test, "valid": result.valid})
    return result


def build_meta(config: TrainConfig, driver: neo4j.Driver, database: str, runs_root: Path,
               *, run_id: str | None = None, resume: RunDir | None = None) -> MetaParts:
    """Check the tasks, write their splits, create the run (or reopen ``resume``), build
    model, cache and streams. Rank 0 resolves, writes and creates; every rank builds."""
    spec = require_spec(driver, database)
    exclude = excluded_relations(spec, config.exclude)
    tasks = resolve_tasks(spec, config)
    targets = [t for _, t in tasks]
    names = [task_key(t) for t in targets]
    if len(set(names)) != len(names):
        raise UserError(f"two tasks share a name ({names}): give each its own target")
    new_id = resume.run_id if resume is not None else \
        distributed.broadcast(run_id or new_run_id(str(config.method)))  # rank 0's
    if resume is None:
        distributed.on_main(lambda: RunDir.check_new(runs_root, new_id))
    version = graph_version(driver, database)
    held = held_relations(targets)
    config = distributed.on_main(lambda: resolve.resolve_eval_fanout(config, driver, database))
    # splits first: a snapshot sampler reads the edges' `_split` when it is made, and holds
    # the valid/test edges of a relation out only if they are written by then
    counts = node_counts(driver, database, spec)
    datas = distributed.on_main(lambda: prepare_tasks(
        driver, database, spec, config, [t for t, _ in tasks], counts))
    samplers = RunSamplers(driver, database, spec, config, exclude=exclude,
                           target_kind="link" if held else "node", task_relation=held)
    config = distributed.on_main(lambda: resolve.resolve_max_length(
        config, samplers.node_texts, {t: n for t, n in samplers.counts.items()
                                      if spec.nodes[t].text}))
    run = resume if resume is not None else distributed.on_main(lambda: RunDir.create(
        runs_root, new_id, {
        "train": config.to_dict(), "graph": spec.name, "graph_version": version,
        "classes": datas[0].classes, "counts": samplers.counts,
        "target": datas[0].target.to_dict(), "tasks": [
            {"name": n, "task": t.name, "target": d.target.to_dict(), "classes": d.classes}
            for n, (t, _), d in zip(names, tasks, datas, strict=True)]}))
    record_run(driver, database, run.run_id, {
        "method": str(config.method), "task": "multi", "target": config.target,
        "status": "running", "path": str(run.path), "seed": config.seed, "tasks": names})
    device = distributed.device_for(pick_device(config.device))  # cuda:LOCAL_RANK (torchrun)
    torch.manual_seed(config.seed)
    lm = TextEncoder.from_pretrained(config.lm_path, pooling=cast(Pooling, str(config.pooling)),
                                     max_length=config.tokens).to(device)
    shapes, heads, specs, gnn = [], [], [], None
    for (task, target), data in zip(tasks, datas, strict=True):
        shape = model_shape(spec, task_config(config, task), samplers.counts, target,
                            data.num_classes, lm.hidden_size, exclude)
        built = build_model(shape, None)
        gnn = gnn if gnn is not None else built.gnn
        shapes.append(shape)
        heads.append(built.head)
        specs.append(loops.TaskSpec(kind=target.kind, label=target.label,  # type: ignore[arg-type]
                                    relation=target.relation, num_classes=data.num_classes,
                                    loss=str(config.loss), negatives=str(config.negatives)))
    assert gnn is not None  # at least one task (parse_tasks)
    model = MultiTaskModel(gnn, heads, specs).to(device)
    distributed.sync_parameters(model)  # every rank starts from rank 0's weights
    gnn.set_feature_stats(feature_stats(driver, database, spec))
    cache = VectorCache(runs_root / ".embeddings", spec, samplers.counts)
    cache.refresh(lm, samplers.node_texts, base_state(config, version))
    gnn.set_input_stats(cache.stats())
    meta = config.method is Method.meta
    parts = MetaParts(config, driver, database, run, names, datas, model, cache,
                      [TaskLoaders(samplers, d, config) for d in datas], [], [], device,
                      [t for t, _ in tasks], shapes, lm, samplers.counts, samplers.backend)
    for d in datas:
        if meta:
            s, t = split_train(d, config.seed)
            parts.support.append(_stream(samplers, s, config, config.support_size))
            parts.target.append(_stream(samplers, t, config, config.target_size))
        else:
            parts.support.append(_stream(samplers, d, config,
                                         config.support_size + config.target_size))
    return parts


def _stream(samplers: RunSamplers, data: TaskData, config: TrainConfig, size: int) -> Stream:
    c = dataclasses.replace(config, batch_size=size, max_steps_per_epoch=None)
    return Stream(TaskLoaders(samplers, data, c).train("graph", 0))


def _train(parts: MetaParts) -> RunResult:
    c, model = parts.config, parts.model
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(params, lr=c.outer_lr, weight_decay=1e-4)
    state = resume_epochs(parts.run, model, optimizer)  # a resume: after the last epoch
    first, bad, best, best_state, best_row = (state.next_epoch, state.bad_epochs, state.best,
                                              state.best_state, state.best_row)
    if state.resumed:
        console.print(f"resuming run {parts.run.run_id} at {c.method} epoch {first}")
    deadline = budget_deadline(c)
    for epoch in range(first, c.epochs):
        if bad >= c.patience:  # stopped early just before an interruption
            break
        if distributed.broadcast(deadline.passed()):  # rank 0 decides for every rank
            console.print(f"{c.method}: --budget spent after {epoch} epochs")
            break
        t0 = time.perf_counter()
        model.train()
        for s in parts.support + parts.target:
            s.start(epoch, c.episodes)
        losses = [0.0] * len(parts.names)
        for step in range(c.episodes):
            total = _episode(parts, losses)
            outer_step(total, params, optimizer, f"{c.method} epoch {epoch}", step)
        losses = [v / distributed.world_size() for v in distributed.sum_all(losses)]
        valid = distributed.on_main(lambda: _evaluate(parts, "valid"))
        score = _score(parts, valid)
        row = {"stage": str(c.method), "epoch": epoch, "split": "valid",
               "loss": sum(losses) / max(c.episodes, 1), "seconds":
               round(time.perf_counter() - t0, 3), "valid_score": score,
               **{f"loss_{n}": v / max(c.episodes, 1) for n, v in zip(parts.names, losses,
                                                                      strict=True)},
               **{f"valid_{k}": v for k, v in valid.items()}}
        parts.run.log_metrics(row)
        console.print(f"{c.method} epoch={epoch} loss={row['loss']:.4g} "
                      f"valid_score={score:.4f} seconds={row['seconds']}")
        if score > best:
            best, bad, best_row = score, 0, row
            best_state = {"weights": {k: v.detach().cpu().clone()
                                      for k, v in model.state_dict().items()},
                          "cache_state": parts.cache.state}
        else:
            bad += 1
        _checkpoint(parts, epoch + 1, optimizer, best, best_state, bad, best_row)
    if best_state is not None:
        model.load_state_dict(best_state["weights"])
    results = distributed.on_main(lambda: {split: _evaluate(parts, split)
                                           for split in ("valid", "test")})
    for split, metrics in results.items():
        parts.run.log_metrics({"stage": "final", "split": split, **metrics})
    stages: dict[str, Any] = {str(c.method): best_row}
    parts.run.write_json("stages.json", stages)
    return RunResult(parts.run.run_id, parts.run.path, results["valid"], results["test"],
                     stages)


def outer_step(loss: Tensor, params: list[nn.Parameter], optimizer: torch.optim.Optimizer,
               where: str, step: int) -> None:
    """Backward (second order through the inner loop for meta), gradients averaged over
    ranks, clip to norm 1, step; a non-finite loss on any rank stops every rank."""
    value = distributed.sum_all([float(loss.detach())])[0]
    if not math.isfinite(value):
        raise UserError(f"{where}: loss is {value} at step {step}; training diverged. Lower "
                        "--outer-lr (or --inner-lr) and start a new run.")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    distributed.average_gradients(params)
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()


def _checkpoint(parts: MetaParts, next_epoch: int, optimizer: torch.optim.Optimizer,
                best: float, best_state: dict[str, Any] | None, bad: int,
                best_row: dict[str, Any]) -> None:
    """The run's state after an epoch, in the one checkpoint format (rank 0 writes)."""
    Checkpoint(stage_index=0, next_epoch=next_epoch, model=parts.model.state_dict(),
               lm_scorer={}, cache_state=parts.cache.state, rng=torch.get_rng_state(),
               optimizer=optimizer.state_dict(), best=best, best_state=best_state,
               bad_epochs=bad, summary=best_row,
               cuda_rng=torch.cuda.get_rng_state_all() if torch.cuda.is_available()
               else None).save(parts.run)


def budget_deadline(config: TrainConfig) -> Deadline:
    """When the epochs stop: ``--budget`` minutes from now (0: no limit)."""
    return Deadline.after(60 * config.budget if config.budget else None)


def _episode(parts: MetaParts, losses: list[float]) -> Tensor:
    """One episode's outer loss: the sum over tasks of target losses after adaptation
    (meta), or of the batch losses (multitask); ``losses`` accumulates each task's."""
    c, model, device = parts.config, parts.model, parts.device
    total: Tensor | None = None
    for i in range(len(parts.names)):
        support = to_device(parts.support[i].next(), device)
        if c.method is Method.meta:
            target = to_device(parts.target[i].next(), device)
            roles = [(support, target), (target, support)] if c.episode_swap else \
                [(support, target)]
            losses_i = [_adapted_loss(parts, i, s, t) for s, t in roles]
            loss = torch.stack(losses_i).mean()
        else:
            loss = model(i, support, parts.cache)
        losses[i] += float(loss.detach())
        total = loss if total is None else total + loss
    assert total is not None
    return total


def _adapted_loss(parts: MetaParts, i: int, support: HeteroData, target: HeteroData
                  ) -> Tensor:
    """Task ``i``'s loss on ``target`` after the inner loop adapted to ``support``."""
    c, model = parts.config, parts.model
    fast, _ = adapt(model, i, support, parts.cache,
                    names=adapted_names(model, i, c.meta_variant), steps=c.inner_steps,
                    lr=c.inner_lr)
    return functional_call(model, fast, (i, target, parts.cache))


def _evaluate(parts: MetaParts, split: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, name in enumerate(parts.names):
        metrics = loops.evaluate(parts.model.tasks[i], parts.model.view(i),
                                 parts.evals[i].evaluate("graph", split), parts.cache,
                                 parts.device)
        out.update({f"{name}_{k}": v for k, v in metrics.items()})
    return out


def _score(parts: MetaParts, metrics: dict[str, float]) -> float:
    """Mean over tasks of the primary metric (acc, or MRR for links)."""
    values = [metrics.get(f"{n}_{PRIMARY[t.kind]}", float("nan"))
              for n, t in zip(parts.names, parts.model.tasks, strict=True)]
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else -math.inf
