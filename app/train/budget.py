"""``--budget``: plan a run's LM work to fit a time budget, then keep to it.

LM steps cost what the hardware makes them cost (two CPU cores: ~47 texts/s with gradients,
~200 without at 32 tokens; a GPU one or two orders of magnitude more), so a plan counted in
epochs is a day on one machine and a minute on another. The trainer therefore

1. measures LM texts/s on this machine with the run's own LM, texts and batch size
   (``measure_rates``: a few forward + backward passes that change no weights);
2. plans (``plan_run``): the cost of every cache encode (text nodes / inference rate) is
   reserved first, the rest is shared between the stages (lmgnn: LM stage 45%, gnn 25%,
   joint 30%; a method with one stage gets all of it); LM stages get the steps that fit their
   share (fewer steps per epoch, the same number of validations), the joint stage as many
   cache refreshes as a third of its share pays for (at least its final one);
3. prints the plan and the estimated end, and gives every stage a deadline (the cumulative end
   of the plan up to it: time a stage leaves unused goes to the next); a stage stops at its
   deadline, mid-epoch if it must (``Deadline``), so the run ends near the budget.

The gnn stage (no LM gradients) is not cut into steps: it trains until validation stops
improving, within its deadline. ``budget`` 0 turns planning off (epochs only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch

from lmgnn.models import TextEncoder
from lmgnn.train import distributed

Clock = Callable[[], float]
LM_STAGES = ("lm_task", "lm_links", "joint")
SHARES = {"lm_task": 0.45, "lm_links": 0.45, "gnn": 0.25, "joint": 0.3}
RESERVE = 0.1  # of the budget: snapshot, final evaluation, saving, the noise of a shared box
MAX_ENCODE_SHARE = 0.5  # an LM stage is dropped when re-encoding after it costs more
JOINT_MIN_REFRESHES = 1.25  # the joint stage is dropped when its share pays less than this
REFRESH_SHARE = 1 / 3  # of the joint stage's time, at most, for its cache refreshes
GNN_STEP_GUESS = 0.25  # a joint step's GNN part, as a fraction of its LM part (until measured)


@dataclass(frozen=True)
class Rates:
    """LM throughput on this machine: texts/s with gradients and without."""

    train: float
    infer: float


def measure_rates(lm: TextEncoder, texts: Sequence[str], batch_size: int,
                  clock: Clock = time.perf_counter, steps: int = 2,
                  infer_batch: int = 128) -> Rates:
    """Time ``steps`` forward + backward passes of ``batch_size`` texts and one inference pass
    of ``infer_batch`` texts, after a warm-up of each. Gradients are dropped and the RNG is
    restored: the model and the run's random stream are as they were."""
    if not texts:
        raise ValueError("measure_rates needs texts")
    pool = list(texts)

    def take(n: int, offset: int) -> list[str]:
        return [pool[(offset + i) % len(pool)] for i in range(n)]

    was_training = lm.training
    devices = [lm.device] if lm.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        lm.train()
        train_s = 0.0
        for step in range(steps + 1):
            t0 = clock()
            lm.embed(take(batch_size, step * batch_size)).float().pow(2).mean().backward()
            _sync(lm)
            if step:  # the first pass warms caches and allocators up
                train_s += clock() - t0
        lm.zero_grad(set_to_none=True)
        lm.encode(take(infer_batch, 0), batch_size=infer_batch)
        t0 = clock()
        lm.encode(take(infer_batch, infer_batch), batch_size=infer_batch)
        _sync(lm)
        infer_s = clock() - t0
    lm.train(was_training)
    return Rates(train=steps * batch_size / max(train_s, 1e-9),
                 infer=infer_batch / max(infer_s, 1e-9))


def _sync(lm: TextEncoder) -> None:
    if lm.device.type == "cuda":
        torch.cuda.synchronize(lm.device)


@dataclass(frozen=True)
class StageWork:
    """What a stage would do without a budget, and what one step of it costs in LM texts."""

    stage: str
    epochs: int
    steps_per_epoch: int  # a full epoch
    texts_per_step: float = 0.0  # LM texts with gradients per step (0: no LM gradients)
    eval_texts: int = 0  # LM texts encoded by one validation (mode text)
    encodes: int = 0  # full cache encodes the stage needs besides refreshes (gnn after LM tuning)


@dataclass(frozen=True)
class StagePlan:
    stage: str
    epochs: int
    steps_per_epoch: int
    seconds: float  # planned
    refresh_every: int = 1  # joint
    note: str = ""
    # the stage's share of the budget when its work fits in less: its deadline, so that a
    # stage running slower than the few calibration steps measured is not cut with budget
    # left (0: the planned seconds are the share)
    allowed: float = 0.0

    @property
    def limit(self) -> float:
        """Seconds the stage may take before its deadline."""
        return max(self.seconds, self.allowed)


@dataclass(frozen=True)
class Plan:
    budget_s: float
    rates: Rates
    encode_s: float  # one full cache encode
    stages: list[StagePlan] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # stage -> why the budget drops it
    warnings: list[str] = field(default_factory=list)

    def stage(self, name: str) -> StagePlan | None:
        return next((s for s in self.stages if s.stage == name), None)

    def ends(self) -> dict[str, float]:
        """Seconds from the start at which each stage should end (its deadline)."""
        out, total = {}, 0.0
        for s in self.stages:
            total += s.limit
            out[s.stage] = total
        return out

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(budget_s=data["budget_s"], rates=Rates(**data["rates"]),
                   encode_s=data["encode_s"],
                   stages=[StagePlan(**s) for s in data["stages"]],
                   skipped=dict(data.get("skipped", {})),
                   warnings=list(data.get("warnings", [])))

    def describe(self) -> list[str]:
        lines = [f"plan for a {self.budget_s / 60:.1f}-minute budget (LM {self.rates.train:.0f}"
                 f" texts/s training, {self.rates.infer:.0f} texts/s encoding; one cache "
                 f"encode {self.encode_s / 60:.1f} min):"]
        for s in self.stages:
            what = f"{s.epochs} epochs x {s.steps_per_epoch} steps"
            if s.stage == "joint":
                what += f", cache refreshed every {s.refresh_every} epochs"
            if s.stage == "gnn":  # no LM gradients: it runs until validation stops improving
                lines.append(f"  gnn: up to {s.epochs} epochs (early stopping), at most "
                             f"{s.seconds / 60:.1f} min")
                continue
            lines.append(f"  {s.stage}: {what}, about {s.seconds / 60:.1f} min"
                         + (f" ({s.note})" if s.note else ""))
        lines += [f"  {stage}: skipped ({why})" for stage, why in self.skipped.items()]
        lines += [f"  warning: {w}" for w in self.warnings]
        return lines


def plan_run(work: Sequence[StageWork], rates: Rates, text_nodes: int, budget_s: float,
             *, base_cached: bool = True, refresh_every: int = 1) -> Plan:
    """Steps per stage that fit ``budget_s`` (see the module docstring). Stages the budget
    cannot pay for are dropped, with the reason: an LM stage whose re-encode alone would take
    over half the budget (the GNN then reads the packaged LM's vectors), a joint stage whose
    share does not pay for one cache refresh."""
    encode_s = text_nodes / max(rates.infer, 1e-9)
    usable = budget_s * (1 - RESERVE)
    work, skipped, warnings = list(work), {}, []
    first = [w for w in work if w.stage in ("lm_task", "lm_links")]
    if first and any(w.stage == "gnn" for w in work) and encode_s > usable * MAX_ENCODE_SHARE:
        for w in first:
            skipped[w.stage] = (f"encoding the {text_nodes:,} texts again after it would take "
                                f"{encode_s / 60:.0f} min, over half the budget; the GNN "
                                "reads the packaged LM's vectors")
        work = [replace(w, encodes=0) for w in work if w not in first]
    while True:
        fixed = sum(w.encodes for w in work) * encode_s
        if not base_cached and any(w.stage == "gnn" for w in work) and \
                not any(w.stage in ("lm_task", "lm_links") for w in work):
            fixed += encode_s  # the packaged LM's vectors, encoded once, kept for later runs
        left = max(usable - fixed, 0.0)
        total_share = sum(SHARES[w.stage] for w in work) or 1.0
        joint = next((w for w in work if w.stage == "joint"), None)
        if joint is None or len(work) == 1 or \
                left * SHARES["joint"] / total_share >= JOINT_MIN_REFRESHES * encode_s:
            break
        skipped["joint"] = (f"one cache refresh takes {encode_s / 60:.0f} min, more than the "
                            "stage's share of the budget pays for")
        work = [w for w in work if w is not joint]
    if fixed > usable:
        warnings.append(f"the cache encodes alone take {fixed / 60:.0f} min, beyond the "
                        "budget (vectors of the packaged LM are kept for later runs)")
    plans = []
    for w in work:
        share = left * SHARES[w.stage] / total_share
        extra = w.encodes * encode_s
        if w.stage == "gnn":
            plans.append(StagePlan("gnn", w.epochs, w.steps_per_epoch, share + extra))
        elif w.stage == "joint":
            plans.append(_plan_joint(w, rates, share, encode_s, refresh_every))
        else:
            plans.append(_plan_lm(w, rates, share, extra))
    return Plan(budget_s, rates, encode_s, plans, skipped, warnings)


def _step_seconds(w: StageWork, rates: Rates) -> float:
    return w.texts_per_step / max(rates.train, 1e-9)


def _plan_lm(w: StageWork, rates: Rates, share: float, extra: float) -> StagePlan:
    """An LM stage: the same validations (one per epoch), fewer steps between them."""
    eval_s = w.eval_texts / max(rates.infer, 1e-9)
    step_s = _step_seconds(w, rates)
    full = w.epochs * (w.steps_per_epoch * step_s + eval_s)
    if full <= share:
        return StagePlan(w.stage, w.epochs, w.steps_per_epoch, full + extra,
                         allowed=share + extra)
    steps = math.floor((share - w.epochs * eval_s) / max(step_s, 1e-9) / w.epochs)
    note = f"budget: {steps * w.epochs:,} of {w.epochs * w.steps_per_epoch:,} steps"
    if steps < 1:
        steps, note = 1, "budget too small even for one step per epoch: one step each"
    return StagePlan(w.stage, w.epochs, min(steps, w.steps_per_epoch),
                     w.epochs * (steps * step_s + eval_s) + extra, note=note)


def _plan_joint(w: StageWork, rates: Rates, share: float, encode_s: float,
                refresh_every: int) -> StagePlan:
    """Joint: refreshes first (at most a third of the share, at least the final one), then
    the steps that fit the rest."""
    step_s = _step_seconds(w, rates) * (1 + GNN_STEP_GUESS)
    wanted = max(1, math.ceil(w.epochs / max(refresh_every, 1)))
    affordable = max(1, math.floor(share * REFRESH_SHARE / max(encode_s, 1e-9)))
    refreshes = min(wanted, affordable)
    every = max(refresh_every, math.ceil(w.epochs / refreshes))
    refreshes = math.ceil(w.epochs / every)
    for_steps = max(share - refreshes * encode_s, 0.0)
    full = w.epochs * w.steps_per_epoch * step_s
    if full <= for_steps:
        return StagePlan("joint", w.epochs, w.steps_per_epoch,
                         full + refreshes * encode_s, refresh_every=every, allowed=share)
    steps = max(1, math.floor(for_steps / max(step_s, 1e-9) / w.epochs))
    note = f"budget: {steps * w.epochs:,} of {w.epochs * w.steps_per_epoch:,} steps, " \
           f"{refreshes} refreshes"
    return StagePlan("joint", w.epochs, min(steps, w.steps_per_epoch),
                     w.epochs * steps * step_s + refreshes * encode_s, refresh_every=every,
                     note=note)


class Deadline:
    """A stage's end time on ``clock``; ``None`` = no deadline (no budget)."""

    def __init__(self, at: float | None, clock: Clock = time.monotonic) -> None:
        self.at, self.clock = at, clock

    @classmethod
    def after(cls, seconds: float | None, clock: Clock = time.monotonic) -> Deadline:
        return cls(None if seconds is None else clock() + seconds, clock)

    def passed(self) -> bool:
        """Whether the deadline has passed; in a distributed run, on any rank (every rank
        asks at the same step, so all stop together)."""
        if self.at is None:
            return False
        hit = self.clock() >= self.at
        return distributed.max_all(1.0 if hit else 0.0) > 0 if distributed.active() else hit

    def left(self) -> float | None:
        return None if self.at is None else self.at - self.clock()


NO_DEADLINE = Deadline(None)

