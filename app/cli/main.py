"""The `lmgnn` command: the root Typer app and user-error handling (no tracebacks)."""

from __future__ import annotations

import os
import signal


def _stop_while_starting(_signum: int, _frame: object) -> None:
    """Ctrl-C during the imports: nothing has been done yet, so end at once. Not a
    KeyboardInterrupt: raised at an arbitrary point of an import, one can land in a finaliser
    and be swallowed ("Exception ignored in ..."), and the command then runs anyway."""
    os.write(2, b"interrupted: lmgnn was still starting, nothing was done\n")
    os._exit(130)


# the command modules import torch and transformers (~10 s); a SIGINT the parent made us
# ignore (a background job of a script) stays ignored
_STARTING = signal.getsignal(signal.SIGINT) is signal.default_int_handler
if _STARTING:
    signal.signal(signal.SIGINT, _stop_while_starting)
import typer  # noqa: E402

from lmgnn import __version__  # noqa: E402
from lmgnn.cli import db, failures  # noqa: E402
from lmgnn.cli import demo as demo_cli  # noqa: E402
from lmgnn.cli import load as load_cli  # noqa: E402
from lmgnn.cli import query as query_cli  # noqa: E402
from lmgnn.cli import report as report_cli  # noqa: E402
from lmgnn.cli import runs as runs_cli  # noqa: E402
from lmgnn.cli import train as train_cli  # noqa: E402
from lmgnn.cli import writeback as writeback_cli  # noqa: E402
from lmgnn.cli.common import click_style_types, err_console  # noqa: E402

if _STARTING:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # now Ctrl-C: KeyboardInterrupt

app = typer.Typer(
    name="lmgnn",
    help="Train language models and GNNs together on text-rich graphs stored in Neo4j.\n\n"
    "files -> load -> Neo4j -> sampler -> train -> writeback -> Neo4j -> query",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # markdown, not rich markup: "[env: NEO4J_URI]" in a help text is text, not a style tag,
    # and a docstring's single line breaks are re-flowed to the terminal's width
    rich_markup_mode="markdown",
)
click_style_types()  # `--limit INTEGER`, not `<int>`
app.add_typer(db.app, name="db")
app.command("load")(load_cli.load)
app.command("train")(train_cli.train)
app.command("runs")(runs_cli.runs)
app.command("report")(report_cli.report)
app.command("writeback")(writeback_cli.writeback)
app.command("predict")(writeback_cli.predict)
app.command("query")(query_cli.query)
app.command("demo")(demo_cli.demo)


def _version(value: bool) -> None:
    if value:
        print(f"lmgnn {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="print the version and exit")) -> None:
    """lmgnn: LM + GNN training on Neo4j."""


def main() -> None:
    # user errors, Ctrl-C and a lost server end in one plain-text line (lmgnn.cli.failures)
    failures.run(app, err_console)
