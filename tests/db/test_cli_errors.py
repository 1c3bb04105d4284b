"""Issue 11: the CLI prints user values as plain text and ends failures in one line."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from neo4j.exceptions import ClientError, ServiceUnavailable
from rich.console import Console

from lmgnn.cli import failures
from lmgnn.cli.query import result_table
from lmgnn.writeback import queries

from ..conftest import free_port
from ..loaders.shop_files import write_shop
from .test_server import lmgnn


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    return {**env, "LMGNN_CONFIG": str(tmp_path / "c.toml"), "COLUMNS": "80", **extra}


def test_markup_in_a_user_value_is_printed_as_is(tmp_path: Path) -> None:
    """A cell `[/x]` made rich raise MarkupError (a traceback) instead of the load error."""
    spec = write_shop(tmp_path, **{
        "purchases.csv": "query_id,product_id,count\nQ1,P1,[/x] [bold]two[/bold]\n"})
    result = lmgnn("load", str(spec), "--dry-run", "--no-progress", env=_env(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == ("error: purchases.csv, row 1, field 'count': expected an integer "
                             "(property 'count' is int), got '[/x] [bold]two[/bold]'\n")


def test_bracketed_text_in_messages_survives(tmp_path: Path) -> None:
    """"under [neo4j] in the config file" lost its "[neo4j]" to rich markup."""
    env = _env(tmp_path, NEO4J_URI=f"bolt://127.0.0.1:{free_port()}")
    result = lmgnn("db", "status", env=env)
    assert result.returncode == 1
    assert "under [neo4j] in the config file" in result.stderr
    assert len(result.stderr.splitlines()) == 1  # one line, not wrapped at 80 columns


def test_result_table_shows_markup_values_as_text() -> None:
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(result_table("titles [/x]", ["title", "[b]col"],
                               [{"title": "[/x] [red]red[/red]", "[b]col": None}]))
    text = console.export_text()
    assert "[/x] [red]red[/red]" in text and "titles [/x]" in text and "[b]col" in text


def test_query_cypher_prints_the_statement_unwrapped(neo4j_db) -> None:
    expected = queries.prepare(neo4j_db.driver, neo4j_db.database, "runs").browser_text()
    assert max(len(line) for line in expected.splitlines()) > 60
    env = {**os.environ, **neo4j_db.env(), "COLUMNS": "60"}
    result = lmgnn("query", "runs", "--cypher", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"


def test_unknown_command_errors_stay_click_errors(tmp_path: Path) -> None:
    """Usage errors keep Typer's own message and exit code 2."""
    result = lmgnn("load", "--no-such-flag", env=_env(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def _ends(app, argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as stop:
        failures.run(app, Console(file=out, width=80), argv)
    return stop.value.code, out.getvalue()


def test_error_raised_while_unwinding_ctrl_c_is_an_interruption() -> None:
    """Ctrl-C in writeback surfaced as a 133-line BufferError traceback."""
    def app() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise BufferError("Existing exports of data: object cannot be re-sized") from None

    code, text = _ends(app, ["writeback", "--run", "r1"])
    assert code == 130
    assert text == ("interrupted: re-run the same `lmgnn writeback` command: it replaces the "
                    "run's partial outputs and completes them\n")


def test_server_error_from_a_rollback_after_ctrl_c_is_an_interruption() -> None:
    """CI: Ctrl-C landed while the driver was sending a batch, the server rejected the broken
    message, and the rollback on the way out raised a ClientError ``from`` the driver's own
    GqlErrors; the KeyboardInterrupt was only that error's ``__context__``."""
    def app() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            gql = ValueError("22G03")  # the driver builds these from the server's reply
            gql.__cause__ = ValueError("22N01: Expected the value 176 to be of type MAP")
            raise ClientError("Illegal value for field \"params\"") from gql

    code, text = _ends(app, ["load", "shop.yaml"])
    assert code == 130
    assert text.startswith("interrupted: re-run the same `lmgnn load` command")


def test_lost_server_is_one_line_with_what_completes_the_work() -> None:
    def app() -> None:
        try:
            raise ConnectionResetError("Connection reset by peer")
        except ConnectionResetError as exc:
            raise ServiceUnavailable("Failed to read from defunct connection\n  details") from exc

    code, text = _ends(app, ["writeback", "--run", "r1", "--uri", "bolt://x"])
    assert code == 1
    assert text.count("\n") == 1 and "Traceback" not in text
    assert text.startswith("error: lost the connection to Neo4j (ServiceUnavailable): the "
                           "server stopped or cannot be reached.")
    assert "re-run the same `lmgnn writeback` command" in text


def test_other_exceptions_keep_their_traceback() -> None:
    """Bugs are not dressed up as user errors."""
    def app() -> None:
        raise ZeroDivisionError("bug")

    with pytest.raises(ZeroDivisionError):
        failures.run(app, Console(file=io.StringIO()), ["load"])


def test_ctrl_c_while_the_cli_is_still_importing_is_one_line(tmp_path: Path) -> None:
    """Ctrl-C in the ~10 s the command modules take to import torch and transformers printed a
    KeyboardInterrupt traceback of 20-50 lines. The signal goes once torch's library is mapped
    into the process, i.e. in the middle of those imports."""
    proc = subprocess.Popen([sys.executable, "-m", "lmgnn", "writeback", "--run", "r1"],
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    maps = Path(f"/proc/{proc.pid}/maps")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError):
            if "libtorch" in maps.read_text():
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == "interrupted: lmgnn was still starting, nothing was done\n"
