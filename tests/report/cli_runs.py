"""Real, tiny training runs through the CLI (`lmgnn load synthetic`, `lmgnn train`) with a
tiny random BERT: a three-stage lmgnn node classifier and a GNN link predictor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.config import Settings

ENV_KEYS = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE")


@dataclass(frozen=True)
class ShopRuns:
    root: Path  # the runs folder
    node: Path  # run folder of `lmgnn train --method lmgnn --task node`
    link: Path  # run folder of `lmgnn train --method gnn --task link`
    env: dict[str, str]  # points `lmgnn` commands at the test server


def cli_env(settings: Settings) -> dict[str, str]:
    return {"NEO4J_URI": settings.uri, "NEO4J_USER": settings.user,
            "NEO4J_PASSWORD": settings.password or "", "NEO4J_DATABASE": settings.database,
            "COLUMNS": "200"}


def invoke(args: list[str], env: dict[str, str], code: int = 0) -> str:
    """The command's output; with ``code`` != 0, plus the error `lmgnn` would print."""
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    return result.output + (f"error: {result.exception}" if code else "")


def train_run(args: list[str], root: Path, env: dict[str, str]) -> Path:
    out = invoke(["train", *args, "--runs-dir", str(root)], env)
    run_id = re.search(r"run (\S+) saved in", out)
    assert run_id, out
    return root / run_id.group(1)


def train_shop(settings: Settings, lm_dir: Path, root: Path, node: bool = True) -> ShopRuns:
    """`lmgnn load synthetic --replace` (a clean graph of 240 products), then the trainings
    (about a minute on two shared cores)."""
    env = cli_env(settings)
    invoke(["load", "synthetic", "--replace", "--products", "240", "--queries", "160",
            "--no-progress"], env)
    tiny = ["--lm-path", str(lm_dir), "--max-length", "16", "--hidden", "16",
            "--batch-size", "64", "--epochs", "2"]
    node_run = train_run(["--method", "lmgnn", "--task", "node", "--target",
                          "Product.category", *tiny], root, env) if node else root / "-"
    link_run = train_run(["--method", "gnn", "--task", "link", "--target", "PURCHASED",
                          "--eval-negatives", "20", *tiny], root, env)
    return ShopRuns(root, node_run, link_run, env)
