"""``train``: one run of method lm / gnn / lmgnn, end to end, resumable.

Order of work: validate everything (target, excluded relations, run id) before anything is
written; write the task's splits; build the run's data path (``RunSamplers``: snapshot or
cypher backend) and modules (``RunParts``); run the remaining stages (``lmgnn.train.stages``),
checkpointing every epoch; evaluate valid and test on the fixed evaluation batches; save the
model (``lmgnn.train.model_files``), the summary and the ``(:ModelRun)`` record.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import neo4j
import torch
from rich.console import Console

from lmgnn.errors import UserError
from lmgnn.models import pick_device
from lmgnn.report.predictions import save_eval_predictions
from lmgnn.sampler import node_counts
from lmgnn.spec_store import graph_version, require_spec
from lmgnn.train import distributed, loops, planning, stages
from lmgnn.train.batches import Role, RunSamplers
from lmgnn.train.checkpoint import Checkpoint
from lmgnn.train.config import Method, TrainConfig
from lmgnn.train.full_rank import full_ranking
from lmgnn.train.model_files import save_model
from lmgnn.train.parts import RunParts, build_parts
from lmgnn.train.resolve import resolve_auto
from lmgnn.train.runs import RunDir, RunResult, new_run_id, record_run
from lmgnn.train.task import excluded_relations, prepare_task, resolve_target

console = Console(stderr=True, quiet=not distributed.is_main())  # rank 0 speaks




def train(config: TrainConfig, driver: neo4j.Driver, database: str, runs_root: str | Path,
          *, run_id: str | None = None, resume: str | None = None) -> RunResult:
    """Train one run (or resume run ``resume`` from its last checkpoint)."""
    started = time.monotonic()  # --budget covers the set-up too
    runs_root = Path(runs_root)
    spec = require_spec(driver, database)
    run = None
    if resume:
        run = RunDir.open(runs_root, resume)
        config = TrainConfig.from_saved(run.config["train"], f"{run.path}/config.json")
        if (run.path / "summary.json").exists():
            raise UserError(f"run {resume} already finished; start a new run instead")
    distributed.init(pick_device(config.device))  # a torchrun rank joins its group
    # `auto` options from the graph (rank 0 reads, every rank gets the same numbers)
    config = distributed.on_main(lambda: resolve_auto(config, driver, database, spec))
    if config.method in (Method.meta, Method.multitask, Method.probe):  # their own loops
        from lmgnn.train.meta import train_meta
        from lmgnn.train.probe import train_probe
        other = train_probe if config.method is Method.probe else train_meta
        return other(config, driver, database, runs_root, run_id=run_id, resume=run)
    # everything a user can get wrong is checked before a run dir or (:ModelRun) exists
    exclude = excluded_relations(spec, config.exclude)
    target = resolve_target(spec, config)
    run_id = distributed.broadcast(run_id or new_run_id(str(config.method)))  # rank 0's
    if run is None:
        distributed.on_main(lambda: RunDir.check_new(runs_root, run_id))
    version = graph_version(driver, database)
    counts = node_counts(driver, database, spec)
    # rank 0 writes missing splits and hands the task's seeds to every rank. Before the
    # samplers: a snapshot reads `_split` once, and a link or edge task's valid/test edges
    # must already be marked when it does, or the first run on a graph trains on them.
    data = distributed.on_main(lambda: prepare_task(driver, database, spec, config, counts))
    samplers = RunSamplers(driver, database, spec, config, exclude=exclude,
                           target_kind=target.kind, task_relation=target.relation)
    if run is None:
        run = distributed.on_main(lambda: RunDir.create(runs_root, run_id, {
            "train": config.to_dict(), "graph": spec.name, "graph_version": version,
            "classes": data.classes, "counts": counts,
            "target": data.target.to_dict()}))
    record_run(driver, database, run.run_id, {
        "method": str(config.method), "task": str(config.task), "target": config.target,
        "status": "running", "path": str(run.path), "seed": config.seed})
    parts = build_parts(config, driver, database, spec, run, data, samplers, exclude,
                        runs_root, run.config.get("graph_version", version))
    parts.started = started
    try:
        if config.method is Method.glem:  # EM rounds of LM and GNN (lmgnn.train.glem)
            from lmgnn.train.glem import run_glem
            return _finish(parts, run_glem(parts))
        return _run_stages(parts)
    except KeyboardInterrupt:
        _mark(parts, "interrupted")
        raise
    except Exception:
        _mark(parts, "failed")
        raise


def _mark(parts: RunParts, status: str) -> None:
    """Record why a run stopped: ``interrupted`` (resumable) or ``failed``."""
    with contextlib.suppress(Exception):  # the server may be what failed: its error matters
        record_run(parts.driver, parts.database, parts.run.run_id, {"status": status})


def _run_stages(parts: RunParts) -> RunResult:
    names = stages.plan_stages(parts.config)
    parts.stage_names = names = [s for s in names if _stage_possible(parts, s)]
    # --budget: steps per stage, deadlines; stages the budget cannot pay for are dropped
    parts.plan = planning.make_plan(parts, names, time.monotonic() - parts.started)
    if parts.plan is not None:
        parts.stage_names = names = [s for s in names if s not in parts.plan.skipped]
    ckpt = Checkpoint.load(parts.run)
    first, start_epoch = 0, 0
    if ckpt is not None:
        parts.model.load_state_dict(ckpt.model)
        parts.lm_scorer.load_state_dict(ckpt.lm_scorer)
        ckpt.restore_rng()
        first, start_epoch = ckpt.stage_index, ckpt.next_epoch
        if ckpt.cache_state:
            parts.refresh_cache(ckpt.cache_state)
        where = names[first] if first < len(names) else "final evaluation"
        console.print(f"resuming run {parts.run.run_id} at {where} epoch {start_epoch}")
    results: dict[str, Any] = parts.run.read_json("stages.json") \
        if (parts.run.path / "stages.json").exists() else {}
    if parts.plan is not None and ckpt is None:
        planning.announce(parts.plan)
    parts.deadlines = planning.deadlines(parts.plan, names, first, parts.config.budget * 60)
    for i in range(first, len(names)):
        stage = names[i]
        resumed = ckpt if (ckpt is not None and i == first) else None
        start = start_epoch if i == first else 0
        if stage == "lm_links":
            results[stage] = stages.run_lm_links(parts, start, i, resumed)
        else:
            results[stage] = stages.run_supervised(
                parts, stage, start, i, resumed, results.get("gnn") if stage == "joint"
                else None)
        parts.run.write_json("stages.json", results)
        stages.checkpoint(parts, i + 1, 0)  # a stage's end: resume starts the next one
    return _finish(parts, results)


def _stage_possible(parts: RunParts, stage: str) -> bool:
    """lmgnn's LM stages need text where their loss reads it: lm_task on the target node
    type(s), lm_links on both ends of some relation; without it the stage is skipped."""
    t, spec = parts.data.target, parts.spec
    if stage == "lm_task" and parts.config.method is Method.lmgnn:
        ends = [t.label] if t.kind == "node" else [t.relation[0], t.relation[2]]  # type: ignore[index]
        if not all(spec.nodes[e].text for e in ends if e):
            console.print("stage lm_task skipped: the target node type has no text")
            return False
    if stage == "lm_links" and not parts.link_pairs():
        console.print("stage lm_links skipped: no relation has text at both ends")
        return False
    return True


def _finish(parts: RunParts, stage_rows: dict[str, Any]) -> RunResult:
    """Valid and test metrics of the final model on the fixed evaluation batches (the same
    batches every epoch's validation used), then the model, summary and record."""
    if parts.model.gnn is not None and parts.cache.state is None:
        parts.refresh_cache(parts.gnn_input_state())
    distributed.release()
    return distributed.on_main(lambda: _final(parts, stage_rows))  # rank 0's job


def _final(parts: RunParts, stage_rows: dict[str, Any]) -> RunResult:
    model, c, t = parts.model, parts.config, parts.data.target
    role: Role = "text" if model.gnn is None else "graph"
    results = {}
    for split in ("valid", "test"):
        outputs: dict[str, torch.Tensor] = {}
        results[split] = loops.evaluate(parts.task, model, parts.loaders.evaluate(role, split),
                                        parts.cache, parts.device, outputs)
        if outputs:  # per-item results, for `lmgnn report`
            save_eval_predictions(parts.run.path, split, **outputs)
        results[split].update(_full_ranking(parts, role, split))
        parts.run.log_metrics({"stage": "final", "split": split, **results[split]})
    save_model(parts.run, model, parts.shape, parts.lm, c, target=t,
               classes=parts.data.classes, counts=parts.counts,
               embedding_state=parts.cache.state if model.gnn is not None else None)
    summary = {"run_id": parts.run.run_id, "status": "finished", "valid": results["valid"],
               "test": results["test"], "stages": stage_rows,
               "embedding_state": parts.cache.state, "sampler": parts.samplers.backend}
    parts.run.write_json("summary.json", summary)
    if not c.keep_checkpoint:
        Checkpoint.delete(parts.run)
    record_run(parts.driver, parts.database, parts.run.run_id, {
        "method": str(c.method), "task": str(c.task), "target": c.target,
        "status": "finished", "path": str(parts.run.path), "seed": c.seed,
        "test": results["test"], "valid": results["valid"]})
    return RunResult(parts.run.run_id, parts.run.path, results["valid"], results["test"],
                     stage_rows)


def _full_ranking(parts: RunParts, role: Role, split: str) -> dict[str, float]:
    """Filtered full-ranking metrics of a link task's ``split`` (the pairs evaluated above),
    when the target type is small enough (``full_rank_max``)."""
    t, c = parts.data.target, parts.config
    if t.kind != "link" or not c.full_rank_max:
        return {}
    assert t.relation is not None  # a link task has its relation
    num_dst = parts.counts[t.relation[2]]
    if num_dst > c.full_rank_max:
        return {}
    known = torch.cat([p for p in parts.data.pairs.values() if p.numel()], dim=1)
    return full_ranking(parts.model, parts.samplers.evaluation(role), parts.cache, parts.device,
                        t.relation, parts.loaders.eval_pairs(split), known,
                        num_dst, c.batch_size)

