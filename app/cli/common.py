"""Shared CLI plumbing: the console, connection options, and user-error handling."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

UriOpt = Annotated[str | None, typer.Option("--uri", help="Bolt URI [env: NEO4J_URI]",
                                            rich_help_panel="Connection", show_default=False)]
UserOpt = Annotated[str | None, typer.Option("--user", help="Neo4j user [env: NEO4J_USER]",
                                             rich_help_panel="Connection", show_default=False)]
DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="database name [env: NEO4J_DATABASE]", rich_help_panel="Connection",
    show_default=False)]
