from __future__ import annotations

import math

import pytest
import torch

from lmgnn.models import (
    EdgeClassifier,
    LinkScorer,
    NodeClassifier,
    classification_metrics,
    in_batch_negative_scores,
    link_loss,
    macro_f1,
    ranking_metrics,
    roc_auc,
)

REL = ("Query", "PURCHASED", "Product")


def test_classifier_shapes() -> None:
    assert NodeClassifier(8, 3)(torch.randn(5, 8)).shape == (5, 3)
    assert EdgeClassifier(8, 4)(torch.randn(5, 8), torch.randn(5, 8)).shape == (5, 4)


@pytest.mark.parametrize("kind", ["distmult", "dot"])
def test_link_scorer_pairs_agree_with_all_pairs(kind: str) -> None:
    scorer = LinkScorer(8, [REL], kind=kind)
    with torch.no_grad():
        for p in scorer.rel.values():
            p.mul_(torch.linspace(0.5, 2, 8))
    s, d = torch.randn(4, 8), torch.randn(4, 8)
    assert torch.allclose(scorer(s, d, REL), scorer.all_pairs(s, d, REL).diagonal(), atol=1e-6)


@pytest.mark.parametrize("loss", ["bce", "contrastive"])
def test_training_with_link_loss_separates_true_pairs(loss: str) -> None:
    torch.manual_seed(0)
    emb = torch.nn.Embedding(20, 8)
    scorer = LinkScorer(8, [REL])
    opt = torch.optim.Adam([*emb.parameters(), *scorer.parameters()], lr=0.05)
    src, dst = torch.arange(10), torch.arange(10, 20)
    for _ in range(100):
        s, d = emb(src), emb(dst)
        pos = scorer(s, d, REL)
        neg = in_batch_negative_scores(scorer.all_pairs(s, d, REL))
        opt.zero_grad()
        link_loss(pos, neg, loss).backward()
        opt.step()
    with torch.no_grad():
        s, d = emb(src), emb(dst)
        m = ranking_metrics(scorer(s, d, REL), in_batch_negative_scores(scorer.all_pairs(s, d,
                                                                                         REL)))
    assert m["mrr"] > 0.9


def test_ranking_metrics_by_hand() -> None:
    pos = torch.tensor([3.0, 1.0])
    neg = torch.tensor([[1.0, 2.0], [2.0, 1.0]])  # ranks 1 and 2.5 (a tie counts half)
    m = ranking_metrics(pos, neg)
    assert m["mrr"] == pytest.approx((1 + 1 / 2.5) / 2)
    assert m["hits@1"] == 0.5 and m["hits@10"] == 1.0


def test_constant_scores_rank_like_chance() -> None:
    m = ranking_metrics(torch.zeros(4), torch.zeros(4, 9))
    assert m["hits@1"] == 0.0 and m["mrr"] == pytest.approx(1 / 5.5)


def test_nan_scores_rank_last() -> None:
    """A diverged model (NaN scores) must not look perfect."""
    nan = float("nan")
    m = ranking_metrics(torch.tensor([nan, 2.0]), torch.tensor([[0.0, 1.0], [nan, 1.0]]))
    assert m["mrr"] == pytest.approx((1 / 3 + 1 / 2) / 2) and m["hits@1"] == 0.0


def test_roc_auc_and_f1_by_hand() -> None:
    assert roc_auc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])) == 0.75
    assert roc_auc(torch.tensor([1.0, 1.0]), torch.tensor([0, 1])) == 0.5
    assert math.isnan(roc_auc(torch.tensor([1.0]), torch.tensor([1])))
    pred, y = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 2])
    assert macro_f1(pred, y, 3) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    m = classification_metrics(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]), 2)
    assert m["acc"] == 0.5 and math.isnan(m["roc_auc"])
