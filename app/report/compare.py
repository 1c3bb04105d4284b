"""Several runs side by side: one table (a column per run) and validation curves overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmgnn.report import plots
from lmgnn.report.data import STAGE_ORDER, RunData
from lmgnn.report.html import esc, image, table, td
from lmgnn.report.sections import metric_order

SETUP = ("method", "task", "target", "status", "graph")


def _setup(run: RunData, key: str) -> Any:
    if key == "status":
        return run.status
    if key == "graph":
        return run.config.get("graph")
    return run.train.get(key)


def _differing_options(runs: Sequence[RunData]) -> list[str]:
    keys = sorted({k for r in runs for k in r.train} - set(SETUP))
    return [k for k in keys if len({repr(r.train.get(k)) for r in runs}) > 1]


def runs_table(runs: Sequence[RunData]) -> str:
    """Rows: what was trained, seconds per stage, final metrics per split, and (with several
    runs) the options in which they differ; one column per run."""
    header = ["", *[r.run_id for r in runs]]
    rows = [[td(k, left=True)] + [td(_setup(r, k), left=True) for r in runs] for k in SETUP]
    stages = sorted({s for r in runs for s in r.stage_names()},
                    key=lambda s: (STAGE_ORDER.index(s) if s in STAGE_ORDER else 99, s))
    for stage in stages:
        rows.append([td(f"{stage}: seconds", left=True)] + [
            td(_seconds(r, stage) if stage in r.stage_names() else None) for r in runs])
    primary = runs[0].primary
    for split in ("test", "valid"):
        keys = metric_order({k for r in runs for k in r.final.get(split, {})}, primary)
        for k in keys:
            rows.append([td(f"{split} {k}", left=True)] + [
                td(r.final[split][k], run=r.run_id, split=split, metric=k)
                if k in r.final.get(split, {}) else td(None) for r in runs])
    if len(runs) > 1:
        for k in _differing_options(runs):
            rows.append([td(k, left=True)] + [td(_plain(r.train.get(k)), left=True)
                                              for r in runs])
    return "<h2>Runs side by side</h2>" + table(header, rows, left=len(header), cls="runs")


def _seconds(run: RunData, stage: str) -> str:
    return f"{sum(float(e.get('seconds') or 0) for e in run.epochs if e.get('stage') == stage):.1f}"


def _plain(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None
                                                                          else str(value))


def overlay_curves(runs: Sequence[RunData], out: Path) -> str:
    """One figure per validation metric the runs share (node runs and link runs apart)."""
    html = []
    for metric in dict.fromkeys(r.primary for r in runs):
        group = {r.run_id: r.epochs for r in runs if r.primary == metric}
        png = plots.compare_curves(group, metric, out / f"compare-valid_{metric}.png")
        html.append(image(png, f"validation {metric} of {len(group)} runs"))
    return "<h2>Validation curves</h2>" + "".join(html) + "".join(
        f'<p class="meta"><a href="#{esc(r.run_id)}">{esc(r.run_id)}</a>: {esc(r.title)}</p>'
        for r in runs)
