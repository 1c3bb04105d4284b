"""Shared CLI plumbing: the console, connection options, and user-error handling."""

from __future__ import annotations

from typing import Annotated, Any

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


_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH"}


def _click_style(display_type: Any) -> Any:
    """Wrap Typer's type column: ``--limit INTEGER``, ``--method lm|gnn|lmgnn`` and bare
    flags, as click writes them, instead of ``<int>``, ``<lm|gnn|lmgnn>`` and ``<bool>``;
    arguments are named by their own column."""

    def type_column(param: Any, ctx: Any) -> str | None:
        if param.metavar is not None:
            return str(param.metavar)
        if param.param_type_name == "argument" or getattr(param, "is_flag", False):
            return None
        shown = display_type(param, ctx)
        if not shown:
            return shown
        label = str(shown).removeprefix("<").removesuffix(">")
        many = label.endswith("...") or label.startswith("list[")
        label = label.removesuffix("...").removeprefix("list[").removesuffix("]")
        return _TYPE_NAMES.get(label, label.upper() if label.isidentifier() else label) + (
            "..." if many else "")

    type_column.wrapped = display_type  # type: ignore[attr-defined]
    return type_column


def click_style_types() -> None:
    """The one place `--help`'s type column is set, for every command (idempotent)."""
    from typer.core import TyperArgument, TyperOption

    for cls in (TyperOption, TyperArgument):
        current = cls.display_type_rich
        original = getattr(current, "wrapped", current)
        cls.display_type_rich = _click_style(original)  # type: ignore[method-assign]
