"""`lmgnn load SPEC.yaml | synthetic`: files -> validated -> Neo4j (one graph per database)."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.config import load_settings
from lmgnn.db import connect
from lmgnn.loaders import LoadReport, load_graph
from lmgnn.loaders.synthetic import generate
from lmgnn.spec import load_spec

SYNTHETIC = "synthetic"
_SYN = "Synthetic shop (SPEC = synthetic)"


def load(
    spec: Annotated[str, typer.Argument(
        help="graph spec YAML, or `synthetic` to generate and load the synthetic shop graph",
        show_default=False)],
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="folder the spec's file paths are relative to (default: the spec's "
        "folder)", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="validate every file and report what would be loaded; write "
        "nothing (needs no server)")] = False,
    replace: Annotated[bool, typer.Option(
        "--replace", help="delete everything in the database (another graph included) once "
        "the files are valid, then load")] = False,
    bulk: Annotated[bool, typer.Option(
        "--bulk", help="import a new graph with Neo4j's offline importer (stops and restarts "
        "the local server; far faster for large graphs); a database that holds nodes without "
        "--replace, or a server lmgnn did not start, is loaded online instead")] = False,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
    products: Annotated[int, typer.Option(help="number of products",
                                          rich_help_panel=_SYN)] = 5_000,
    queries: Annotated[int, typer.Option(help="number of queries",
                                         rich_help_panel=_SYN)] = 3_000,
    seed: Annotated[int, typer.Option(help="random seed", rich_help_panel=_SYN)] = 0,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="keep the generated files here (default: a temporary folder, "
        "deleted afterwards)", rich_help_panel=_SYN, show_default=False)] = None,
    uri: UriOpt = None,
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Load a graph described by a spec (CSV, CSV.gz, Parquet files) into Neo4j.

    Every file is validated before the first write; errors name file, row and field. Loading
    the same files again changes nothing. `lmgnn load synthetic` generates a query-purchase-
    product graph first (see loaders/synthetic.py for its generative model).
    """
    with ExitStack() as stack:
        if spec == SYNTHETIC:
            if out_dir is None:
                out_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(
                    prefix="lmgnn-synthetic-")))
            with console.status(f"generating {products:,} products and {queries:,} queries "
                                f"(seed {seed}) in {out_dir} ..."):
                spec_path = generate(out_dir, products=products, queries=queries, seed=seed)
            data_dir = data_dir or out_dir
        else:
            spec_path = Path(spec)
        graph = load_spec(spec_path)
        folder = data_dir or spec_path.parent
        if dry_run:
            report = load_graph(graph, folder, None, "", dry_run=True, progress=progress)
        elif bulk:
            from lmgnn.loaders.bulk import bulk_load

            report = bulk_load(graph, folder, load_settings(uri=uri, user=user,
                                                            database=database),
                               progress=progress, replace=replace,
                               say=lambda note: console.print(note, markup=False))
        else:
            settings = load_settings(uri=uri, user=user, database=database)
            with connect(settings) as (driver, db):
                report = load_graph(graph, folder, driver, db, progress=progress,
                                    replace=replace)
    _print_report(report)


def _print_report(report: LoadReport) -> None:
    dry = report.dry_run
    table = Table(title=f"graph {report.graph!r}" + (" (dry run: nothing written)" if dry
                                                     else ""))
    table.add_column("type")
    table.add_column("in files" if dry else "in Neo4j", justify="right")
    for label, n in report.nodes.items():
        table.add_row(f"(:{label})", f"{n:,}")
    for rel, n in report.relationships.items():
        table.add_row(rel, f"{n:,}")
    console.print(table)
    if dry:
        console.print(f"[green]valid[/]: {report.rows_read:,} rows checked in "
                      f"{report.seconds:.1f}s")
    else:
        console.print(f"[green]loaded[/]: {report.created_nodes:,} nodes and "
                      f"{report.created_relationships:,} relationships created "
                      f"({report.rows_read:,} rows) in {report.seconds:.1f}s")
