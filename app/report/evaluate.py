"""Numbers behind the report's per-item plots, from saved predictions (numpy only).

Conventions match ``lmgnn.models.metrics``: class ids -1 are unlabelled and ignored; a
positive's rank among its negatives counts ties as half a loss and a NaN score as the worst.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassScores:
    """Per-class precision, recall, F1 and support (true items), from a confusion matrix."""

    precision: np.ndarray  # (C,)
    recall: np.ndarray  # (C,)
    f1: np.ndarray  # (C,)
    support: np.ndarray  # (C,) int


@dataclass(frozen=True)
class Calibration:
    """Reliability diagram: equal-width confidence bins of the predicted class."""

    edges: np.ndarray  # (B + 1,)
    confidence: np.ndarray  # (B,) mean confidence per bin (NaN when empty)
    accuracy: np.ndarray  # (B,) accuracy per bin (NaN when empty)
    count: np.ndarray  # (B,) items per bin
    ece: float  # expected calibration error: count-weighted |accuracy - confidence|


def labelled(y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = y >= 0
    return y[keep], probs[keep]


def confusion(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class (argmax)."""
    y, probs = labelled(y, probs)
    c = probs.shape[1]
    matrix = np.zeros((c, c), dtype=np.int64)
    np.add.at(matrix, (y, probs.argmax(1)), 1)
    return matrix


def class_scores(matrix: np.ndarray) -> ClassScores:
    tp = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(0), matrix.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(predicted + support > 0, 2 * tp / (predicted + support), np.nan)
    return ClassScores(precision, recall, f1, support.astype(np.int64))


def calibration(y: np.ndarray, probs: np.ndarray, bins: int = 10) -> Calibration:
    y, probs = labelled(y, probs)
    conf, correct = probs.max(1), (probs.argmax(1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=conf, minlength=bins) / count
        acc = np.bincount(which, weights=correct, minlength=bins) / count
    filled = count > 0
    ece = float((count[filled] * np.abs(acc[filled] - mean_conf[filled])).sum()
                / max(int(count.sum()), 1))
    return Calibration(edges, np.where(filled, mean_conf, np.nan), np.where(filled, acc, np.nan),
                       count, ece)


def ranks(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """1-based rank of each positive (N,) among its negatives (N, K); ties count half."""
    p = pos[:, None]
    beaten = (neg > p) | np.isnan(p) | np.isnan(neg)
    return 1 + beaten.sum(1) + 0.5 * ((neg == p) & ~beaten).sum(1)


def hits_curve(rank: np.ndarray, max_k: int) -> tuple[np.ndarray, np.ndarray]:
    """k = 1..max_k and the share of positives ranked within k (Hits@k)."""
    ks = np.arange(1, max_k + 1)
    if not len(rank):
        return ks, np.full(len(ks), np.nan)
    return ks, (rank[None, :] <= ks[:, None]).mean(1)


def mrr(rank: np.ndarray) -> float:
    return float((1.0 / rank).mean()) if len(rank) else float("nan")
