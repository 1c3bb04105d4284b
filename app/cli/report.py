"""`lmgnn report RUN [RUN ...]`: an HTML report of one run, or one page comparing several."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console, err_console
from lmgnn.cli.train import RunsOpt, runs_dir
from lmgnn.errors import ConnectionFailed


def report(
    runs: Annotated[list[str], typer.Argument(
        help="run ids (in --runs-dir), run folders, or `latest`; several make one comparison",
        show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", help="folder to write instead of runs/RUN/report/ (or runs/compare/...)",
        show_default=False)] = None,
    record: Annotated[bool, typer.Option(
        "--record/--no-record", help="put the report's path on the runs' (:ModelRun)")] = True,
    runs_root: RunsOpt = None,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
) -> None:
    """Training curves per stage, final metrics, and (when the run saved its test
    predictions) confusion matrix, per-class scores and calibration, or score distributions
    and Hits@k; one self-contained index.html with its PNGs beside it."""
    from lmgnn.report import build_report, resolve_run

    root = runs_dir(runs_root)
    result = build_report([resolve_run(r, root) for r in runs], out)
    n = len(result.images)
    console.print(f"[green]report[/] {escape(str(result.path))} "
                  f"({n} plot{'' if n == 1 else 's'})", soft_wrap=True)
    if record:
        record_path(result.path, [r.run_id for r in result.runs], uri, user, database)


def record_path(path: Path, run_ids: list[str], uri: str | None = None, user: str | None = None,
                database: str | None = None) -> None:
    """Record the report on the runs' (:ModelRun); without a database, say so and go on."""
    from lmgnn.config import load_settings
    from lmgnn.db import connect
    from lmgnn.report.record import record_report

    try:
        with connect(load_settings(uri=uri, user=user, database=database)) as (driver, db):
            found = record_report(driver, db, run_ids, str(path.resolve()))
    except ConnectionFailed as exc:
        err_console.print(f"[yellow]not recorded on (:ModelRun):[/] {exc}", highlight=False)
        return
    if found < len(run_ids):
        err_console.print(f"[yellow]{len(run_ids) - found} of {len(run_ids)} runs are not in "
                          "the graph (no (:ModelRun)): path not recorded for them[/]")
