"""The budget plan of one run (``lmgnn.train.budget``) from its parts: what each stage would
do, the LM rates measured here, the plan saved as ``plan.json`` (a resume keeps it) and the
deadlines the stages keep to."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

import torch
from rich.console import Console

from lmgnn.train import distributed
from lmgnn.train.budget import (
    NO_DEADLINE,
    RESERVE,
    Deadline,
    Plan,
    StageWork,
    measure_rates,
    plan_run,
)
from lmgnn.train.cache import base_state
from lmgnn.train.parts import RunParts

console = Console(stderr=True)
PLAN_FILE = "plan.json"
CALIBRATION_TEXTS = 256


def stage_work(parts: RunParts, stage: str) -> StageWork:
    """What ``stage`` would do without a budget: epochs, full-epoch steps, LM texts a step."""
    c, d, t = parts.config, parts.data, parts.data.target
    train_items = d.nodes["train"].numel() if t.kind == "node" else d.pairs["train"].size(1)
    ends = 1 if t.kind == "node" else 2  # texts per item: a node, or an edge's two ends
    valid = d.nodes["valid"].numel() if t.kind == "node" else d.pairs["valid"].size(1)
    eval_items = min(valid, c.eval_max) if c.eval_max else valid
    if stage == "lm_task":
        return StageWork(stage, c.lm_epochs,
                         _capped(c, math.ceil(train_items / c.lm_batch_size)),
                         texts_per_step=c.lm_batch_size * ends, eval_texts=eval_items * ends)
    if stage == "lm_links":
        pairs = sum(p.size(1) for p in parts.link_pairs().values())
        return StageWork(stage, c.lm_epochs,
                         _capped(c, max(1, math.ceil(pairs / c.lm_batch_size))),
                         texts_per_step=2 * c.lm_batch_size)
    steps = _capped(c, math.ceil(train_items / c.batch_size))
    if stage == "joint":
        return StageWork(stage, c.joint_epochs, steps, texts_per_step=c.lm_grad_nodes)
    return StageWork(stage, c.epochs, steps, encodes=1 if parts.lm_tuned else 0)


def _capped(c: object, steps: int) -> int:
    cap = getattr(c, "max_steps_per_epoch", None)
    return min(steps, cap) if cap else steps


def make_plan(parts: RunParts, stages: list[str], spent_s: float = 0.0,
              work: list[StageWork] | None = None) -> Plan | None:
    """The run's plan: read from the run dir when resuming, else measured and planned now for
    the budget left after ``spent_s`` (the run's set-up). None: no budget, or no text.
    ``work``: the stages' work when a method counts it itself (glem: all its LM steps as one
    lm_task, all its GNN steps as one gnn); default ``stage_work`` of each stage."""
    if not parts.config.budget or not stages:
        return None

    def plan() -> Plan | None:  # rank 0 decides (and measures): the others read no file
        if (parts.run.path / PLAN_FILE).exists():  # that rank 0 may be writing right now
            return Plan.from_dict(parts.run.read_json(PLAN_FILE))
        return _new_plan(parts, stages, spent_s, work)
    return distributed.on_main(plan)


def _new_plan(parts: RunParts, stages: list[str], spent_s: float,
              work: list[StageWork] | None = None) -> Plan | None:
    c = parts.config
    texts = _calibration_texts(parts)
    if not texts:  # no text in the graph: nothing for the LM to do
        return None
    rates = measure_rates(parts.lm, texts, c.lm_batch_size)
    base_cached = parts.cache.has(base_state(c, parts.graph_version))
    plan = plan_run(work or [stage_work(parts, s) for s in stages], rates,
                    sum(parts.cache.counts.values()), max(c.budget * 60 - spent_s, 60.0),
                    base_cached=base_cached, refresh_every=c.refresh_every)
    parts.run.write_json(PLAN_FILE, plan.to_dict())
    return plan


def announce(plan: Plan) -> None:
    for line in plan.describe():
        console.print(line, markup=False)
    latest = sum(s.limit for s in plan.stages)  # the deadlines' end
    end = datetime.now() + timedelta(seconds=latest)
    console.print(f"estimated end: {end:%H:%M} at the latest ({latest / 60:.0f} min of "
                  f"the {plan.budget_s / 60:.0f}-minute budget; --budget 0: no limit)",
                  markup=False)


def deadlines(plan: Plan | None, stages: list[str], first: int,
              budget_s: float = 0.0) -> dict[str, Deadline]:
    """Per stage still to run (from index ``first``), its deadline counted from now: the
    cumulative planned end, so time one stage leaves goes to the next. Without a plan (a
    graph without text) every stage shares the budget's end."""
    if plan is None:
        if not budget_s:
            return {}
        end = Deadline.after(budget_s * (1 - RESERVE))
        return {name: end for name in stages[first:]}
    now, total, out = time.monotonic(), 0.0, {}
    for name in stages[first:]:
        s = plan.stage(name)
        if s is None:
            continue
        total += s.limit
        out[name] = Deadline(now + total)
    return out


def deadline_of(parts: RunParts, stage: str) -> Deadline:
    return parts.deadlines.get(stage, NO_DEADLINE)


def _calibration_texts(parts: RunParts) -> list[str]:
    """A seeded sample of the texts the LM stages read: the target's node types when they
    have text (their lengths set the cost), else every text type, by node count."""
    t, counts = parts.data.target, parts.cache.counts
    ends: list[str] = [str(t.label)] if t.kind == "node" else \
        [str(t.relation[0]), str(t.relation[2])]  # type: ignore[index]
    labels = [e for e in dict.fromkeys(ends) if counts.get(e)] or \
        [label for label, n in counts.items() if n]
    total = sum(counts[label] for label in labels)
    gen = torch.Generator().manual_seed(parts.config.seed)
    out: list[str] = []
    for label in labels:
        k = max(1, round(CALIBRATION_TEXTS * counts[label] / max(total, 1)))
        ids = torch.sort(torch.randperm(counts[label], generator=gen)[:k]).values
        out += [x for x in parts.samplers.node_texts(label, ids) if x]
    return out
