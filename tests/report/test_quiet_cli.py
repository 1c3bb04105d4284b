"""What a user sees: `--help` with click-style types (no `<str>`/`<bool>`), `[env: ...]`
hints kept, and no library warnings from torch, transformers or torch_geometric."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lmgnn.cli.main import app

COMMANDS = [[], ["load"], ["train"], ["runs"], ["report"], ["writeback"], ["predict"],
            ["query"], ["demo"], ["db"], ["db", "start"], ["db", "stop"], ["db", "status"]]
TYPER_TYPES = re.compile(r"<(str|bool|int|float|path|list\[[^\]]*\]|Path)>")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "lmgnn")
def test_help_shows_click_style_types(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert not TYPER_TYPES.search(result.output), result.output
    if command in (["runs"], ["report"]):
        assert "[env: NEO4J_URI]" in result.output and "TEXT" in result.output


def test_report_help_names_its_folder_and_kinds() -> None:
    out = CliRunner().invoke(app, ["report", "--help"], env={"COLUMNS": "200"}).output
    assert "runs/RUN/report/" in out and "--no-record" in out


@pytest.mark.parametrize("command", [["train", "--help"], ["report", "--help"]])
def test_the_installed_command_prints_no_library_warnings(command: list[str]) -> None:
    """A fresh interpreter, as `lmgnn ...` runs: warnings at import time would show here."""
    env = {**os.environ, "PYTHONWARNINGS": "default", "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "lmgnn", *command], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Usage: " in proc.stdout and "Warning" not in proc.stdout
