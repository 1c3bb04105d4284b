"""`lmgnn runs`: training runs recorded in Neo4j as (:ModelRun), as a list or side by side."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Column, Table

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.errors import UserError

SETUP = ("method", "task", "target", "status", "seed")


def runs(
    sort: Annotated[str | None, typer.Option(
        "--sort", help="order by this metric, best first, e.g. test_acc, valid_mrr "
        "(plain acc / mrr mean test_...)", show_default=False)] = None,
    compare: Annotated[bool, typer.Option(
        "--compare", help="one column per run, one row per setting and metric")] = False,
    limit: Annotated[int, typer.Option(help="runs to show (0: all)")] = 0,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
) -> None:
    """List training runs, newest first (or best first with --sort), with their metrics."""
    from lmgnn.config import load_settings
    from lmgnn.db import connect
    from lmgnn.train.runs import list_runs

    settings = load_settings(uri=uri, user=user, database=database)
    with connect(settings) as (driver, db):
        rows = list_runs(driver, db)
    if not rows:
        console.print("no runs recorded yet: `lmgnn train ...` records one")
        return
    if sort:
        rows = sort_runs(rows, sort)
    if limit > 0:
        rows = rows[:limit]
    console.print(side_by_side(rows) if compare else listing(rows))


def metric_keys(rows: list[dict[str, Any]], prefixes: tuple[str, ...] = ("test_",)) -> list[str]:
    return sorted({k for r in rows for k in r if k.startswith(prefixes)
                   and not k.endswith("_count")})


def sort_runs(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Best first (every recorded metric is higher-is-better); runs without it go last."""
    known = metric_keys(rows, ("test_", "valid_"))
    key = metric if metric in known else f"test_{metric}".replace("@", "_at_")
    if key not in known:
        raise UserError(f"no run has metric {metric!r}; recorded: {', '.join(known) or 'none'}")
    return sorted(rows, key=lambda r: (not isinstance(r.get(key), int | float),
                                       -float(r[key]) if isinstance(r.get(key), int | float)
                                       else 0.0))


def listing(rows: list[dict[str, Any]]) -> Table:
    keys = metric_keys(rows)
    width = max(len(str(r.get("run_id"))) for r in rows)
    table = Table(Column("run_id", no_wrap=True, min_width=width), "method", "task", "target",
                  "status", *keys)
    for r in rows:
        table.add_row(str(r.get("run_id")), *[fmt(r.get(k)) for k in SETUP[:4]],
                      *[fmt(r.get(k)) for k in keys])
    return table


def side_by_side(rows: list[dict[str, Any]]) -> Table:
    """A column per run: settings, then test and valid metrics, then the report's path."""
    table = Table("", *[Column(str(r.get("run_id")), overflow="fold") for r in rows])
    for key in (*SETUP, *metric_keys(rows), *metric_keys(rows, ("valid_",)), "report"):
        if any(r.get(key) is not None for r in rows):
            table.add_row(key, *[fmt(r.get(key)) for r in rows])
    return table


def fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))
