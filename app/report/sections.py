"""The report's sections, each from one run's data: metrics, curves, per-item evaluation.

Each function returns HTML and saves the PNGs it shows into ``out`` (named with ``prefix`` so
that one comparison folder can hold several runs' figures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lmgnn.report import evaluate, plots
from lmgnn.report.data import RunData, number
from lmgnn.report.html import esc, image, note, table, td

EPOCH_COLUMNS = ("loss", "seconds", "seeds_per_s", "texts_per_s")


def metric_order(keys: set[str], primary: str) -> list[str]:
    """Primary metric first, then the rest alphabetically, item counts last."""
    return sorted(keys, key=lambda k: (k != primary, k in ("count", "steps"), k))


def final_metrics(run: RunData) -> str:
    if not run.final:
        return note("No final evaluation yet: the run has not finished.")
    keys = metric_order({k for m in run.final.values() for k in m}, run.primary)
    splits = [s for s in ("valid", "test") if s in run.final] + sorted(
        s for s in run.final if s not in ("valid", "test"))
    rows = [[td(k, left=True)] + [td(run.final[s][k], run=run.run_id, split=s, metric=k)
                                  if k in run.final[s] else td(None) for s in splits]
            for k in keys]
    return "<h3>Final evaluation</h3>" + table(["metric", *splits], rows, cls="final")


def training_curves(run: RunData, out: Path, prefix: str) -> str:
    if not run.epochs:
        return "<h3>Training curves</h3>" + note("metrics.jsonl has no epochs yet.")
    png = plots.training_curves(run.epochs, run.primary, out / f"{prefix}curves.png",
                                f"{run.run_id}: {run.title}")
    return "<h3>Training curves</h3>" + image(png, f"training curves of {run.run_id}")


def epoch_table(run: RunData) -> str:
    if not run.epochs:
        return ""
    valid_keys = metric_order({k for r in run.epochs for k in r if k.startswith("valid_")},
                              f"valid_{run.primary}")
    columns = [c for c in EPOCH_COLUMNS if any(c in r for r in run.epochs)] + valid_keys
    best = {(s, row.get("epoch")) for s, row in run.stages.items() if isinstance(row, dict)}
    rows = []
    for line, r in zip(run.lines, run.epochs, strict=True):
        mark = "best" if (r.get("stage"), r.get("epoch")) in best and r.get("split") == "valid" \
            else ""
        rows.append([td(r.get("stage"), left=True, cls=mark), td(r.get("epoch")),
                     td(r.get("split"), left=True)]
                    + [td(r[c], run=run.run_id, line=line, metric=c) if c in r else td(None)
                       for c in columns])
    caption = ("<p class='meta'>One row per epoch (metrics.jsonl); bold: the epoch each stage "
               "kept (stages.json).</p>")
    return ("<details><summary>Epochs (metrics.jsonl)</summary>" + caption
            + table(["stage", "epoch", "split", *columns], rows, left=3, cls="epochs")
            + "</details>")


def per_item(run: RunData, out: Path, prefix: str) -> str:
    """Confusion, per-class scores and calibration, or score distributions and Hits@k: only
    when the run saved its test predictions."""
    p = run.predictions
    if p is None:
        return "<h3>Test predictions</h3>" + note(
            f"No per-item test predictions in {run.path / 'predictions' / 'test.npz'}: the "
            "confusion matrix, per-class scores and reliability diagram (classifiers) or the "
            "score distributions and Hits@k curve (link prediction) need them. Runs whose "
            "trainer saves them (lmgnn.report.save_eval_predictions) get these plots.")
    if p.kind == "classification":
        return _classification(run, p["y"], p["probs"], out, prefix)
    return _links(p["pos"], p["neg"], out, prefix)


def _classification(run: RunData, y: np.ndarray, probs: np.ndarray, out: Path,
                    prefix: str) -> str:
    n = int((y >= 0).sum())
    if not n:
        return "<h3>Test predictions</h3>" + note("predictions/test.npz has no labelled items.")
    matrix = evaluate.confusion(y, probs)
    classes = run.classes if len(run.classes) == len(matrix) else [str(i) for i in
                                                                    range(len(matrix))]
    scores = evaluate.class_scores(matrix)
    cal = evaluate.calibration(y, probs)
    rows = [[td(c, left=True), td(_num(scores.precision[i])), td(_num(scores.recall[i])),
             td(_num(scores.f1[i])), td(int(scores.support[i]))]
            for i, c in enumerate(classes)]
    accuracy = float(np.trace(matrix) / max(matrix.sum(), 1))
    return ("<h3>Test predictions</h3>"
            f"<p>{n:,} labelled test items; accuracy {accuracy:.4f}, expected calibration "
            f"error {cal.ece:.4f}.</p>"
            + image(plots.confusion_matrix(matrix, classes, out / f"{prefix}confusion.png"),
                    "confusion matrix")
            + "<h3>Per class</h3>"
            + table(["class", "precision", "recall", "F1", "support"], rows, cls="classes")
            + image(plots.reliability(cal, out / f"{prefix}reliability.png"),
                    "reliability diagram"))


def _links(pos: np.ndarray, neg: np.ndarray, out: Path, prefix: str) -> str:
    if not len(pos):
        return "<h3>Test predictions</h3>" + note("predictions/test.npz has no test pairs.")
    rank = evaluate.ranks(pos, neg)
    ks, hits = evaluate.hits_curve(rank, neg.shape[1] + 1)
    return ("<h3>Test predictions</h3>"
            f"<p>{len(pos):,} test pairs, each ranked against {neg.shape[1]:,} sampled "
            f"negatives; MRR {evaluate.mrr(rank):.4f}.</p>"
            + image(plots.score_distributions(pos, neg, out / f"{prefix}scores.png"),
                    "score distributions")
            + image(plots.hits_at_k(ks, hits, out / f"{prefix}hits.png"), "Hits@k curve"))


def _num(value: Any) -> float | None:
    return number(float(value))


def config_details(run: RunData) -> str:
    rows = [[td(k, left=True), td(_plain(v), left=True)] for k, v in sorted(run.train.items())]
    return ("<details><summary>Training configuration (config.json)</summary>"
            + table(["option", "value"], rows, left=2) + "</details>")


def _plain(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None
                                                                          else str(value))


def run_section(run: RunData, out: Path, prefix: str, heading: bool) -> str:
    head = (f'<h2 id="{esc(run.run_id)}">{esc(run.run_id)}</h2><p>{esc(run.title)} · '
            f"{esc(run.status)}</p>") if heading else ""
    return (f'<section class="run" data-run="{esc(run.run_id)}">'
            + head + final_metrics(run) + training_curves(run, out, prefix) + epoch_table(run)
            + per_item(run, out, prefix) + config_details(run) + "</section>")
