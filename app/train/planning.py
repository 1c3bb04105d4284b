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
from lmgnn.train.budget import NO_DEADLINE, Deadline, Plan, StageWork, measure_rates, plan_run
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
        return StageWork(stage, c.lm_epochs, math.ceil(train_items / c.lm_batch_size),
                         texts_per_step=c.lm_batch_size * ends, eval_texts=eval_items * ends)
    if stage == "lm_links":
        pairs = sum(p.size(1) for p in parts.link_pairs().values())
        return StageWork(stage, c.lm_epochs, max(1, math.ceil(pairs / c.lm_batch_size)),
                         texts_per_step=2 * c.lm_batch_size)
    steps = math.ceil(train_items / c.batch_size)
    if stage == "joint":
        return StageWork(stage, c.joint_epochs, steps, texts_per_step=c.lm_grad_nodes)
    return StageWork(stage, c.epochs, steps, encodes=1 if parts.lm_tuned else 0)


def make_plan(parts: RunParts, stages: list[str]) -> Plan | None:
    """The run's plan: read from the run dir when resuming, else measured and planned now
    (None: no budget, or no stage to plan)."""
    c = parts.config
    if not c.budget or not stages:
        return None
    def plan() -> Plan | None:  # rank 0 decides (and measures): the others read no file
        if (parts.run.path / PLAN_FILE).exists():  # that rank 0 may be writing right now
            return Plan.from_dict(parts.run.read_json(PLAN_FILE))
        return _new_plan(parts, stages)
    return distributed.on_main(plan)


def _new_plan(parts: RunParts, stages: list[str]) -> Plan | None:
    c = parts.config
    texts = _calibration_texts(parts)
    rates = measure_rates(parts.lm, texts, c.lm_batch_size) if texts else None
    if rates is None:  # no text in the graph: nothing for the LM to do
        return None
    base_cached = parts.cache.has(base_state(c, parts.graph_version))
    plan = plan_run([stage_work(parts, s) for s in stages], rates,
                    sum(parts.cache.counts.values()), c.budget * 60,
                    base_cached=base_cached, refresh_every=c.refresh_every)
    parts.run.write_json(PLAN_FILE, plan.to_dict())
    return plan


def announce(plan: Plan) -> None:
    for line in plan.describe():
        console.print(line, markup=False)
    end = datetime.now() + timedelta(seconds=plan.seconds)
    console.print(f"estimated end: {end:%H:%M} at the latest ({plan.seconds / 60:.0f} min of "
                  f"the {plan.budget_s / 60:.0f}-minute budget; --budget 0: no limit)",
                  markup=False)


def deadlines(plan: Plan | None, stages: list[str], first: int) -> dict[str, Deadline]:
    """Per stage still to run (from index ``first``), its deadline counted from now: the
    cumulative planned end, so time one stage leaves goes to the next."""
    if plan is None:
        return {}
    now, total, out = time.monotonic(), 0.0, {}
    for name in stages[first:]:
        s = plan.stage(name)
        if s is None:
            continue
        total += s.seconds
        out[name] = Deadline(now + total)
    return out


def deadline_of(parts: RunParts, stage: str) -> Deadline:
    return parts.deadlines.get(stage, NO_DEADLINE)


def _calibration_texts(parts: RunParts) -> list[str]:
    """Real texts of the run's graph (the first ``CALIBRATION_TEXTS`` of each text type)."""
    out: list[str] = []
    for label, n in parts.cache.counts.items():
        if n and len(out) < CALIBRATION_TEXTS:
            ids = torch.arange(min(n, CALIBRATION_TEXTS - len(out)))
            out += [t for t in parts.samplers.node_texts(label, ids) if t]
    return out
