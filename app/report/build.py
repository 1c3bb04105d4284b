"""Write a report: one run's (``runs/<id>/report/``) or several runs' comparison
(``runs/compare/<ids>/``): ``index.html`` plus the PNGs it shows.

The folder is built beside its final place and swapped in whole, so a crash or a failed plot
never leaves half a report, and re-running replaces the old one.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lmgnn import __version__
from lmgnn.errors import UserError
from lmgnn.report import compare, sections
from lmgnn.report.data import RunData, read_run
from lmgnn.report.html import page


@dataclass(frozen=True)
class Report:
    path: Path  # index.html
    runs: tuple[RunData, ...]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def images(self) -> list[Path]:
        return sorted(self.folder.glob("*.png"))


def report_folder(runs: Sequence[RunData]) -> Path:
    """Where a report goes: inside the run, or for several runs under ``<root>/compare/``."""
    if len(runs) == 1:
        return runs[0].path / "report"
    ids = [r.run_id for r in runs]
    digest = hashlib.sha1("\n".join(ids).encode()).hexdigest()[:8]
    return runs[0].path.parent / "compare" / f"{ids[0]}+{len(ids) - 1}-{digest}"


def _html(runs: Sequence[RunData], out: Path) -> str:
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · lmgnn {__version__}"
    if len(runs) == 1:
        run = runs[0]
        return page(f"lmgnn run {run.run_id}", f"{run.title} · {run.status} · {stamp}",
                    [sections.run_section(run, out, "", heading=False)])
    body = [compare.runs_table(runs), compare.overlay_curves(runs, out)]
    body += [sections.run_section(r, out, f"{i + 1}-", heading=True) for i, r in
             enumerate(runs)]
    return page(f"lmgnn: {len(runs)} runs compared", stamp, body)


def build_report(run_paths: Sequence[Path], out: Path | None = None) -> Report:
    """Read the runs, draw and write the report; returns where index.html is."""
    if not run_paths:
        raise UserError("name at least one run")
    runs = tuple(read_run(Path(p)) for p in run_paths)
    if len({r.run_id for r in runs}) < len(runs):
        raise UserError("a run is named twice: " + ", ".join(r.run_id for r in runs))
    final = Path(out) if out else report_folder(runs)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        (work / "index.html").write_text(_html(runs, work), encoding="utf-8")
        old = final.with_name(f".{final.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if final.exists():
            final.rename(old)
        work.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Report(final / "index.html", runs)
