"""How a failed `lmgnn` command ends: one line on stderr that says what happened and what to
do, never a traceback, for the failures users meet (their input, Ctrl-C, a server that died).

Every command is safe to re-run: loads MERGE on constrained keys, writeback replaces a run's
outputs, training resumes from its last checkpoint. So the line for an interruption or a lost
server says which re-run completes the work. Messages are printed as plain text (no rich
markup), so values such as ``[/x]`` from user files are shown as they are.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator

from neo4j.exceptions import (
    DatabaseUnavailable,
    IncompleteCommit,
    ServiceUnavailable,
    SessionExpired,
)
from rich.console import Console

from lmgnn.errors import UserError

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130
LOST_SERVER = (ServiceUnavailable, SessionExpired, IncompleteCommit, DatabaseUnavailable)

_RERUN = {
    "load": "re-run the same `lmgnn load` command to complete the load (it skips what is "
            "already stored)",
    "writeback": "re-run the same `lmgnn writeback` command: it replaces the run's partial "
                 "outputs and completes them",
    "predict": "re-run the same `lmgnn predict` command to complete it",
    "train": "`lmgnn train --resume RUN_ID` continues from the last checkpoint (`lmgnn runs` "
             "lists the run ids)",
    "demo": "re-run `lmgnn demo` to complete it",
}


def run(app: Callable[[], object], err: Console, argv: list[str] | None = None) -> None:
    """Call the Typer ``app``; turn user errors, Ctrl-C and a lost server into one line."""
    argv = sys.argv[1:] if argv is None else argv
    # the driver logs a lost connection as an error record; Python's last-resort handler
    # would print it above our line. Configured logging still gets the records.
    logging.getLogger("neo4j").addHandler(logging.NullHandler())
    try:
        app()
    except SystemExit as exc:
        if _caused_by(exc, KeyboardInterrupt):  # Typer turns Ctrl-C into a silent exit 130
            _say(err, "interrupted", rerun_hint(argv))
            sys.exit(EXIT_INTERRUPTED)
        raise
    except BaseException as exc:  # sorted below; the rest is re-raised
        user = _caused_by(exc, UserError)
        if user is not None and user is exc:
            _say(err, "error", str(exc))
            sys.exit(EXIT_ERROR)
        if _caused_by(exc, KeyboardInterrupt):  # also e.g. a BufferError raised while unwinding
            _say(err, "interrupted", rerun_hint(argv))
            sys.exit(EXIT_INTERRUPTED)
        lost = _caused_by(exc, *LOST_SERVER)
        if lost is not None:
            _say(err, "error", f"lost the connection to Neo4j ({type(lost).__name__}): the "
                 f"server stopped or cannot be reached. Once it is up again (`lmgnn db "
                 f"start`), {rerun_hint(argv)}")
            sys.exit(EXIT_ERROR)
        if user is not None:
            _say(err, "error", str(user))
            sys.exit(EXIT_ERROR)
        raise


def rerun_hint(argv: list[str]) -> str:
    command = next((a for a in argv if not a.startswith("-")), "")  # commands come first
    return _RERUN.get(command, "re-running the same command completes the work")


def _say(err: Console, kind: str, message: str) -> None:
    style = "yellow" if kind == "interrupted" else "red"
    err.print(f"{kind}: ", style=style, end="", highlight=False)
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """Every exception behind ``exc``, through both ``__cause__`` and ``__context__``.

    Both, not either: a Ctrl-C that lands while the driver is sending leaves a broken
    message, the rollback on the way out fails with a server error raised ``from`` the
    driver's own errors, and the KeyboardInterrupt survives only as that error's context.
    """
    seen: set[int] = set()
    todo = [exc]
    while todo:
        exc = todo.pop(0)
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        todo += [exc.__cause__, exc.__context__]


def _caused_by(exc: BaseException, *kinds: type[BaseException]) -> BaseException | None:
    return next((e for e in _chain(exc) if isinstance(e, kinds)), None)
