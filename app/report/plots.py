"""The report's figures: matplotlib through the Agg canvas (no display, no pyplot state).

Each function draws one figure from plain numbers and saves it as a PNG; figures are built
with ``matplotlib.figure.Figure`` directly, so nothing leaks between calls or threads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lmgnn.report.evaluate import Calibration

STAGE_COLOURS = {"lm": "#7c3aed", "gnn": "#0891b2", "joint": "#d97706", "train": "#475569"}
POS, NEG = "#16a34a", "#dc2626"
DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, format="png", dpi=DPI)
    tmp.replace(path)
    return path


def _short(name: str, width: int = 16) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def training_curves(epochs: Sequence[dict], metric: str, path: Path, title: str) -> Path:
    """Loss (left) and validation ``metric`` (right) per epoch, coloured by stage; the x axis
    runs through the stages in order, so a three-stage run reads left to right."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    loss_ax, metric_ax = fig.subplots(1, 2)
    ticks: list[str] = []
    for x, row in enumerate(epochs):
        stage = str(row.get("stage"))
        colour = STAGE_COLOURS.get(stage, "#64748b")
        ticks.append(f"{stage} {row.get('epoch', '')}")
        if isinstance(row.get("loss"), int | float):
            loss_ax.plot([x], [row["loss"]], "o", color=colour)
        if isinstance(row.get(f"valid_{metric}"), int | float):
            metric_ax.plot([x], [row[f"valid_{metric}"]], "o", color=colour)
    for stage in dict.fromkeys(str(r.get("stage")) for r in epochs):
        xs = [i for i, r in enumerate(epochs) if str(r.get("stage")) == stage]
        colour = STAGE_COLOURS.get(stage, "#64748b")
        for ax, key in ((loss_ax, "loss"), (metric_ax, f"valid_{metric}")):
            pts = [(x, epochs[x][key]) for x in xs if isinstance(epochs[x].get(key), int | float)]
            if pts:
                ax.plot(*zip(*pts, strict=True), "-", color=colour, label=stage)
    for ax, label in ((loss_ax, "training loss"), (metric_ax, f"validation {metric}")):
        ax.set_title(label)
        ax.set_xticks(range(len(ticks)), ticks, rotation=45, ha="right", fontsize=8)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, title="stage", title_fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def compare_curves(series: Mapping[str, Sequence[dict]], metric: str, path: Path) -> Path:
    """Validation ``metric`` per epoch of several runs on one axis (epochs through stages)."""
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    for run_id, epochs in series.items():
        pts = [(i, r[f"valid_{metric}"]) for i, r in enumerate(
            [r for r in epochs if r.get("split") == "valid"])
            if isinstance(r.get(f"valid_{metric}"), int | float)]
        if pts:
            ax.plot(*zip(*pts, strict=True), "o-", label=_short(run_id, 40))
    ax.set_xlabel("validated epoch, through the stages")
    ax.set_title(f"validation {metric}")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return _save(fig, path)


def confusion_matrix(matrix: np.ndarray, classes: Sequence[str], path: Path) -> Path:
    """Row-normalised confusion matrix (row = true class), counts written in small ones."""
    c = len(matrix)
    size = min(2.5 + 0.45 * c, 12)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    ax = fig.subplots()
    rows = matrix.sum(1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true class")
    names = [_short(n) for n in classes] if len(classes) == c else [str(i) for i in range(c)]
    ax.set_xticks(range(c), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(c), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if c <= 20:
        for i in range(c):
            for j in range(c):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_title("confusion matrix (test)")
    return _save(fig, path)


def reliability(cal: Calibration, path: Path) -> Path:
    """Accuracy per confidence bin against the diagonal, and how many items fall in each."""
    fig = Figure(figsize=(5, 5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    centres = (cal.edges[:-1] + cal.edges[1:]) / 2
    width = cal.edges[1] - cal.edges[0]
    filled = cal.count > 0
    top.bar(centres[filled], cal.accuracy[filled], width=width * 0.9, color="#0891b2",
            label="accuracy")
    top.plot([0, 1], [0, 1], "--", color="#64748b", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"reliability (test), ECE {cal.ece:.4f}")
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(centres, cal.count, width=width * 0.9, color="#94a3b8")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("confidence of the predicted class")
    bottom.set_ylabel("items")
    return _save(fig, path)


def score_distributions(pos: np.ndarray, neg: np.ndarray, path: Path) -> Path:
    """Histograms (densities) of true pairs' scores and their sampled negatives' scores."""
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)].ravel()
    both = np.concatenate([pos, neg])
    if both.size:
        lo, hi = float(both.min()), float(both.max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 41).tolist()
        ax.hist(neg, bins=bins, density=True, alpha=0.55, color=NEG,
                label=f"negatives ({neg.size:,})")
        ax.hist(pos, bins=bins, density=True, alpha=0.55, color=POS,
                label=f"positives ({pos.size:,})")
        ax.legend(fontsize=8)
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.set_title("score distributions (test)")
    return _save(fig, path)


def hits_at_k(ks: np.ndarray, hits: np.ndarray, path: Path) -> Path:
    """Share of true pairs ranked within the top k of their candidates, k = 1..K+1."""
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(ks, hits, "-", color="#0891b2")
    for k in (1, 10):
        if k <= len(ks):
            ax.plot([k], [hits[k - 1]], "o", color="#d97706")
            ax.annotate(f"Hits@{k} {hits[k - 1]:.3f}", (k, hits[k - 1]),
                        textcoords="offset points", xytext=(6, -12), fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k (positive + sampled negatives ranked)")
    ax.set_ylabel("Hits@k")
    ax.set_title("Hits@k (test)")
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)
