"""Reports of training runs: HTML pages with plots, read from run directories only.

``build_report([run_dir, ...])`` writes ``runs/<id>/report/index.html`` (one run) or a
comparison under ``runs/compare/``; ``save_eval_predictions`` is what a trainer calls to keep
per-item test outputs for the confusion, calibration, score and Hits@k plots.

Names are imported lazily, so a trainer importing ``save_eval_predictions`` does not pull in
matplotlib; the ``TYPE_CHECKING`` block shows them to type checkers and IDEs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmgnn.report.build import Report, build_report
    from lmgnn.report.data import RunData, read_run, resolve_run
    from lmgnn.report.predictions import load_predictions, save_eval_predictions

_WHERE = {"Report": "build", "build_report": "build", "RunData": "data", "read_run": "data",
          "resolve_run": "data", "load_predictions": "predictions",
          "save_eval_predictions": "predictions"}
__all__ = ["Report", "RunData", "build_report", "load_predictions", "read_run", "resolve_run",
           "save_eval_predictions"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'lmgnn.report' has no attribute {name!r}")
    return getattr(import_module(f"lmgnn.report.{_WHERE[name]}"), name)
