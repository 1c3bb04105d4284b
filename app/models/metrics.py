"""Evaluation metrics, computed on CPU tensors: classification and ranking.

Ranking counts ties as half a loss (neither optimistic nor pessimistic), so a constant scorer
gets the rank of a random guess, not rank 1; a NaN score loses to everything.
"""

from __future__ import annotations

import torch


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float((pred == y).float().mean()) if y.numel() else float("nan")


def macro_f1(pred: torch.Tensor, y: torch.Tensor, num_classes: int) -> float:
    """Unweighted mean F1 over the classes present in labels or predictions."""
    scores = []
    for c in range(num_classes):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else float("nan")


def ranks(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """1-based rank of each positive (B,) among its negatives (B, K); ties count half."""
    if neg.dim() == 1:
        neg = neg.unsqueeze(0).expand(pos.size(0), -1)
    pos = pos.unsqueeze(1)
    # a NaN score is the worst one: a diverged model must not rank its positives first
    beaten = (neg > pos) | torch.isnan(pos) | torch.isnan(neg)
    return 1 + beaten.sum(1).float() + 0.5 * ((neg == pos) & ~beaten).sum(1).float()


def ranking_metrics(pos: torch.Tensor, neg: torch.Tensor) -> dict[str, float]:
    """MRR and Hits@1/10 of positives against sampled negatives."""
    if pos.numel() == 0:
        return {"mrr": float("nan"), "hits@1": float("nan"), "hits@10": float("nan")}
    r = ranks(pos.float(), neg.float())
    return {"mrr": float((1.0 / r).mean()), "hits@1": float((r <= 1).float().mean()),
            "hits@10": float((r <= 10).float().mean())}


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Binary ROC-AUC (Mann-Whitney U with tie-averaged ranks); NaN with one class only."""
    labels = labels.bool()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = torch.argsort(scores.float())
    sorted_scores = scores.float()[order]
    rank = torch.empty_like(sorted_scores)
    rank[order] = torch.arange(1, len(scores) + 1, dtype=torch.float)
    # average ranks of ties
    uniq, inverse = torch.unique(sorted_scores, return_inverse=True)
    sums = torch.zeros(len(uniq)).index_add_(0, inverse, torch.arange(1, len(scores) + 1,
                                                                       dtype=torch.float))
    counts = torch.zeros(len(uniq)).index_add_(0, inverse, torch.ones(len(scores)))
    rank[order] = (sums / counts)[inverse]
    u = rank[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def classification_metrics(logits: torch.Tensor, y: torch.Tensor,
                           num_classes: int) -> dict[str, float]:
    pred = logits.argmax(-1)
    out = {"acc": accuracy(pred, y), "macro_f1": macro_f1(pred, y, num_classes)}
    if num_classes == 2 and y.numel():
        out["roc_auc"] = roc_auc(logits[:, 1] - logits[:, 0], y)
    return out
