"""The --budget planner: rates measured on a fake clock, plans that fit, deadlines kept."""

from __future__ import annotations

import pytest
import torch

from lmgnn.models import TextEncoder
from lmgnn.train.budget import (
    RESERVE,
    Deadline,
    Plan,
    Rates,
    StageWork,
    measure_rates,
    plan_run,
)


class FakeClock:
    """Advances by a fixed amount at every reading: a machine of known speed."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_measured_rates_follow_the_clock_and_change_no_weight(tiny_lm_dir) -> None:
    lm = TextEncoder.from_pretrained(tiny_lm_dir, max_length=16)
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    rng_before = torch.get_rng_state()
    # every clock reading advances 0.5 s: each timed pass lasts 0.5 s
    rates = measure_rates(lm, ["red lego", "blue novel", "a hose"], batch_size=8,
                          clock=FakeClock(0.5), steps=2, infer_batch=64)
    assert rates.train == pytest.approx(2 * 8 / (2 * 0.5))
    assert rates.infer == pytest.approx(64 / 0.5)
    assert all(torch.equal(before[k], v) for k, v in lm.state_dict().items())
    assert all(p.grad is None for p in lm.parameters())
    assert torch.equal(torch.get_rng_state(), rng_before)


ARXIV_LIKE = [  # a 30k-node graph: the LM stage would be 3 epochs of 900 steps of 32 texts
    StageWork("lm_task", epochs=3, steps_per_epoch=900, texts_per_step=32, eval_texts=2000),
    StageWork("gnn", epochs=200, steps_per_epoch=112, encodes=1),
    StageWork("joint", epochs=3, steps_per_epoch=112, texts_per_step=32),
]
CPU = Rates(train=47.0, infer=200.0)  # two cores, 32 tokens (shared/NOTES.md)


def test_a_cpu_plan_fits_the_budget_and_keeps_every_validation() -> None:
    plan = plan_run(ARXIV_LIKE, CPU, text_nodes=30_000, budget_s=45 * 60)
    assert plan.seconds <= 45 * 60 * (1 - RESERVE) + 1
    lm = plan.stage("lm_task")
    joint = plan.stage("joint")
    assert lm is not None and joint is not None
    assert lm.epochs == 3 and 1 <= lm.steps_per_epoch < 900  # fewer steps, same validations
    # the stage's planned time is its steps at the measured rate plus its validations
    assert lm.seconds == pytest.approx(3 * (lm.steps_per_epoch * 32 / 47 + 2000 / 200))
    encode = 30_000 / 200
    assert joint.seconds >= encode  # at least the final refresh
    assert joint.refresh_every >= 1
    ends = plan.ends()
    assert ends["lm_task"] < ends["gnn"] < ends["joint"] <= 45 * 60 * (1 - RESERVE) + 1


def test_a_fast_machine_gets_the_whole_schedule() -> None:
    gpu = Rates(train=5_000.0, infer=40_000.0)
    plan = plan_run(ARXIV_LIKE, gpu, text_nodes=30_000, budget_s=45 * 60)
    for stage in ("lm_task", "joint"):
        s = plan.stage(stage)
        assert s is not None and s.steps_per_epoch == next(
            w.steps_per_epoch for w in ARXIV_LIKE if w.stage == stage)
        assert not s.note
    joint = plan.stage("joint")
    assert joint is not None and joint.refresh_every == 1


def test_a_stage_whose_work_fits_keeps_its_share_as_its_deadline() -> None:
    """A GLEM test's LM pre-training, planned at its measured speed inside a 600-minute budget,
    was cut after epoch 0 of 2 because that epoch ran slower than the calibration steps: the
    deadline was the estimate. Now the estimate is what is printed, the share the deadline."""
    gpu = Rates(train=5_000.0, infer=40_000.0)
    plan = plan_run(ARXIV_LIKE, gpu, text_nodes=30_000, budget_s=45 * 60)
    usable = 45 * 60 * (1 - RESERVE)
    for stage in ("lm_task", "joint"):
        s = plan.stage(stage)
        assert s is not None and s.seconds < s.allowed == s.limit
    assert plan.seconds < usable
    assert plan.ends()["joint"] == pytest.approx(usable)  # every share, then the reserve
    assert Plan.from_dict(plan.to_dict()) == plan


def test_the_plan_scales_with_the_budget_and_round_trips() -> None:
    small = plan_run(ARXIV_LIKE, CPU, text_nodes=30_000, budget_s=20 * 60)
    large = plan_run(ARXIV_LIKE, CPU, text_nodes=30_000, budget_s=60 * 60)
    s, big = small.stage("lm_task"), large.stage("lm_task")
    assert s is not None and big is not None and s.steps_per_epoch < big.steps_per_epoch
    assert Plan.from_dict(large.to_dict()) == large


def test_a_budget_too_small_still_plans_one_step_and_says_so() -> None:
    plan = plan_run(ARXIV_LIKE, CPU, text_nodes=1_000, budget_s=60)
    lm = plan.stage("lm_task")
    assert lm is not None and lm.steps_per_epoch == 1 and "too small" in lm.note


def test_deadline_on_a_fake_clock() -> None:
    clock = FakeClock(1.0)
    deadline = Deadline.after(3.0, clock)  # reads 1.0: due at 4.0
    assert deadline.left() == pytest.approx(2.0)  # reads 2.0
    assert not deadline.passed()  # reads 3.0
    assert deadline.passed()  # reads 4.0
    assert not Deadline.after(None, clock).passed()


def test_stages_the_budget_cannot_pay_for_are_dropped_with_the_reason() -> None:
    overloaded = Rates(train=1.0, infer=5.0)  # measured on a machine at load 15
    plan = plan_run(ARXIV_LIKE, overloaded, text_nodes=30_000, budget_s=45 * 60,
                    base_cached=True)
    assert [s.stage for s in plan.stages] == ["gnn"]
    assert set(plan.skipped) == {"lm_task", "joint"}
    assert "over half the budget" in plan.skipped["lm_task"]
    assert "refresh" in plan.skipped["joint"]
    gnn = plan.stage("gnn")
    assert gnn is not None and gnn.seconds == pytest.approx(45 * 60 * (1 - RESERVE))
    assert not plan.warnings  # the packaged LM's vectors are cached: nothing to encode
    uncached = plan_run(ARXIV_LIKE, overloaded, text_nodes=30_000, budget_s=45 * 60,
                        base_cached=False)
    assert uncached.warnings and "beyond the budget" in uncached.warnings[0]
    assert any("skipped" in line for line in uncached.describe())
    assert Plan.from_dict(uncached.to_dict()) == uncached


def test_a_config_from_before_the_budget_keeps_its_meaning() -> None:
    """config.json of older runs: LM stage epochs unset meant --epochs, and no budget."""
    from lmgnn.train.config import TrainConfig

    old = TrainConfig.from_dict({"target": "Product.category", "method": "lmgnn", "epochs": 4,
                                 "lm_epochs": None, "joint_epochs": None, "max_length": 32,
                                 "stages": ["lm_links", "gnn", "joint"]})
    assert (old.lm_epochs, old.joint_epochs, old.budget) == (4, 4, 0.0)
    assert old.tokens == 32 and [str(s) for s in old.lmgnn_stages] == ["lm_links", "gnn", "joint"]
