"""`lmgnn query`: list and run the documented Cypher queries of cypher/queries/."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.config import load_settings
from lmgnn.db import connect
from lmgnn.writeback import queries


def query(
    name: Annotated[str | None, typer.Argument(help="query to run (see --list)",
                                               show_default=False)] = None,
    list_: Annotated[bool, typer.Option("--list", help="list the queries and their "
                                        "parameters")] = False,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="key=value, repeatable (e.g. --param run=r1 --param limit=10)",
        show_default=False)] = None,
    show_cypher: Annotated[bool, typer.Option(
        "--cypher", help="print the statement and its :params for Neo4j Browser instead of "
        "running it")] = False,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
) -> None:
    """Run a query of the library over the predictions in the graph, printed as a table."""
    if list_ or name is None:
        print_library()
        return
    given = queries.parse_assignments(param or [])
    doc = queries.query_doc(name)  # unknown names fail before connecting
    with connect(load_settings(uri=uri, user=user, database=database)) as (driver, db):
        if show_cypher:  # as is: rich would wrap at the terminal width and break `//` lines
            typer.echo(queries.prepare(driver, db, name, given).browser_text())
            return
        columns, rows = queries.run_query(driver, db, name, given)
    console.print(result_table(doc.title, columns, rows))


def print_library() -> None:
    table = Table(title="Cypher query library (cypher/queries/)", show_lines=True)
    table.add_column("query", style="bold")
    table.add_column("what it shows")
    table.add_column("parameters (--param key=value)")
    for doc in queries.library():
        params = "\n".join(f"{p.signature}: {p.help}" for p in doc.params) or "none"
        table.add_row(doc.name, f"[bold]{doc.title}[/]\n{doc.description}", params)
    console.print(table)


def result_table(title: str, columns: list[str], rows: list[dict[str, Any]]) -> Table:
    """Values are plain text: a title such as ``[/x]`` is shown, not read as rich markup."""
    table = Table(title=Text(title), caption=f"{len(rows)} row{'s' * (len(rows) != 1)}")
    for column in columns:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*(_cell(row[c]) for c in columns))
    return table


def _cell(value: Any) -> Text:
    if value is None:
        return Text("null", style="dim")
    if isinstance(value, float):
        return Text(f"{value:.4g}")
    text = str(value)
    return Text(text if len(text) <= 80 else text[:77] + "...")
