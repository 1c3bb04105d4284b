"""`lmgnn db start|stop|status`: a local Neo4j without Docker, and what is in it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.config import Settings, load_settings
from lmgnn.db import connect, graph_counts, server
from lmgnn.db.connection import server_info

app = typer.Typer(help="Run a local Neo4j (no Docker needed) and inspect it.",
                  no_args_is_help=True)

DataDirOpt = Annotated[Path | None, typer.Option(
    "--data-dir", help="where the local server keeps its data and logs "
    "[env: LMGNN_NEO4J_DATA_DIR; default ~/.local/share/lmgnn/neo4j]", show_default=False)]


@app.command()
def start(uri: UriOpt = None, data_dir: DataDirOpt = None) -> None:
    """Start the local Neo4j 5.26 server (built once with Maven); returns when Bolt answers.

    Nothing is started when NEO4J_URI already points at a running server.
    """
    settings = load_settings(uri=uri, data_dir=data_dir)
    was_running = server.bolt_answers(settings)
    with console.status(f"starting Neo4j {server.NEO4J_VERSION} at {settings.uri} ..."):
        settings = server.start(settings)
    uri, data = escape(settings.uri), escape(str(settings.data_dir))  # user values: plain text
    if was_running:
        console.print(f"Neo4j already answers at {uri}: nothing started.")
    else:
        console.print(f"[green]Neo4j is up[/] at {uri} (data: {data}; "
                      f"Browser: http://127.0.0.1:{settings.http_port}/browser/)")
    console.print(f"password: from {settings.sources.get('password', 'nowhere')}",
                  markup=False)
    _print_style(settings)


def _print_style(settings: Settings) -> None:
    """The Browser style of the stored graph, as the one line to paste (nothing without one)."""
    from lmgnn.browser.style import style_line
    from lmgnn.errors import ConnectionFailed
    from lmgnn.spec_store import stored_spec

    try:
        with connect(settings) as (driver, db):
            spec = stored_spec(driver, db)
    except ConnectionFailed:
        return
    if spec is None:
        console.print("Browser style: `lmgnn db start` prints one once a graph is loaded.")
        return
    console.print(f"Browser style for graph {escape(spec.name)!r} (captions from text, "
                  "predicted links in red): paste this line into Browser's editor and run it:")
    console.print(style_line(spec), markup=False, highlight=False, soft_wrap=True)


@app.command()
def stop(uri: UriOpt = None, data_dir: DataDirOpt = None) -> None:
    """Stop the local server cleanly; its data stays in the data directory."""
    settings = load_settings(uri=uri, data_dir=data_dir)
    with console.status("stopping Neo4j ..."):
        stopped = server.stop(settings)
    console.print("Neo4j stopped." if stopped
                  else f"no local Neo4j running from {settings.data_dir}: nothing to stop.",
                  markup=False)


@app.command()
def status(uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None) -> None:
    """Server version, edition, address, and node and relationship counts."""
    settings = load_settings(uri=uri, user=user, database=database)
    with connect(settings) as (driver, db):
        info, counts = server_info(driver, db), graph_counts(driver, db)
    table = Table(show_header=False, box=None)
    for key, value in [("server", f"{info['name']} {info['version']} {info['edition']}"),
                       ("address", settings.uri), ("database", db),
                       ("nodes", f"{counts['nodes']:,}"),
                       ("relationships", f"{counts['relationships']:,}")]:
        table.add_row(f"[bold]{key}[/]", Text(value))
    console.print(table)
