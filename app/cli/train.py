"""`lmgnn train` and `lmgnn runs`: train a method on a task; list recorded runs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.config import load_settings
from lmgnn.db import connect

RunsOpt = Annotated[Path | None, typer.Option(
    "--runs-dir", help="where runs are saved [env: LMGNN_RUNS_DIR; default ./runs]",
    show_default=False)]


def runs_dir(path: Path | None) -> Path:
    return path or Path(os.environ.get("LMGNN_RUNS_DIR", "runs"))


def train(
    method: Annotated[str, typer.Option(help="lm | gnn | lmgnn")] = "lmgnn",
    task: Annotated[str, typer.Option(help="node | edge | link")] = "node",
    target: Annotated[str, typer.Option(
        help="node: Label.property; edge/link: TYPE or Src-TYPE->Dst")] = "",
    exclude: Annotated[list[str] | None, typer.Option(
        help="relationship hidden from the model (repeatable), e.g. PUBLISHED_IN")] = None,
    stages: Annotated[str, typer.Option(help="lmgnn stages to run: any of lm,gnn,joint")
                      ] = "lm,gnn,joint",
    epochs: Annotated[int, typer.Option(help="epochs per stage")] = 5,
    lm_epochs: Annotated[int | None, typer.Option(help="stage-1 epochs")] = None,
    joint_epochs: Annotated[int | None, typer.Option(help="stage-3 epochs")] = None,
    max_steps: Annotated[int | None, typer.Option(help="cap on steps per epoch")] = None,
    lm_path: Annotated[str | None, typer.Option(
        help="HF model directory (default: packaged all-MiniLM-L6-v2)")] = None,
    pooling: Annotated[str, typer.Option(help="cls | mean")] = "mean",
    max_length: Annotated[int, typer.Option(help="tokens per text")] = 32,
    conv: Annotated[str, typer.Option(help="sage | hgt")] = "sage",
    hidden: int = 128,
    layers: int = 2,
    fanout: Annotated[int, typer.Option(help="neighbours per node, relation and hop")] = 10,
    batch_size: int = 256,
    lm_batch_size: int = 32,
    lm_lr: float = 5e-5,
    gnn_lr: float = 3e-3,
    lm_grad_nodes: Annotated[int, typer.Option(
        help="stage 3: nodes per batch that get LM gradients")] = 32,
    refresh_every: Annotated[int, typer.Option(
        help="stage 3: re-encode cached embeddings every N epochs")] = 1,
    score: Annotated[str, typer.Option(help="link scorer: distmult | dot")] = "distmult",
    loss: Annotated[str, typer.Option(help="link loss: bce | contrastive")] = "contrastive",
    negatives: Annotated[str, typer.Option(help="uniform | in-batch")] = "uniform",
    num_negatives: Annotated[int, typer.Option(
        help="link task: uniform negatives per positive in training")] = 16,
    eval_negatives: Annotated[int, typer.Option(
        help="link task: sampled negatives per positive for valid/test MRR")] = 100,
    full_rank_max: Annotated[int, typer.Option(
        help="link task: also rank test edges against all targets when there are at most "
             "this many (0: off)")] = 50_000,
    eval_max: Annotated[int, typer.Option(
        help="valid/test items evaluated, a seeded sample (0: all)")] = 2000,
    patience: int = 3,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda[:i]")] = "auto",
    resume: Annotated[str | None, typer.Option(
        help="run id to resume from its last checkpoint (other options are ignored)")] = None,
    runs: RunsOpt = None,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
) -> None:
    """Train lm, gnn or lmgnn on a node / edge / link task of the stored graph."""
    from lmgnn.train import TrainConfig
    from lmgnn.train import train as run_training

    config = TrainConfig(
        method=method, task=task, target=target or "-", seed=seed, exclude=list(exclude or []),
        stages=[s.strip() for s in stages.split(",") if s.strip()], lm_path=lm_path,
        pooling=pooling, max_length=max_length, lm_lr=lm_lr, lm_batch_size=lm_batch_size,
        conv=conv, hidden=hidden, layers=layers, fanout=fanout, gnn_lr=gnn_lr,
        batch_size=batch_size, score=score, loss=loss, negatives=negatives, epochs=epochs,
        lm_epochs=lm_epochs, joint_epochs=joint_epochs, max_steps_per_epoch=max_steps,
        lm_grad_nodes=lm_grad_nodes, refresh_every=refresh_every, patience=patience,
        num_negatives=num_negatives, eval_negatives=eval_negatives,
        full_rank_max=full_rank_max, eval_max=eval_max or None, device=device)
    if not target and not resume:
        from lmgnn.errors import UserError

        raise UserError("--target is required, e.g. --target Product.category or "
                        "--target Query-PURCHASED->Product")
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)  # "property not yet set"
    settings = load_settings(uri=uri, user=user, database=database)
    with connect(settings) as (driver, db):
        result = run_training(config, driver, db, runs_dir(runs), resume=resume)
    console.print(f"[green]run {result.run_id}[/] saved in {result.path}")
    table = Table("metric", "valid", "test")  # one row a metric: fits any terminal
    for key in sorted(result.test):
        table.add_row(key, _fmt(result.valid.get(key)), _fmt(result.test.get(key)))
    console.print(table)


def runs(uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None) -> None:
    """List training runs recorded in Neo4j as (:ModelRun), newest first, with test metrics."""
    from lmgnn.train import list_runs

    settings = load_settings(uri=uri, user=user, database=database)
    with connect(settings) as (driver, db):
        rows = list_runs(driver, db)
    if not rows:
        console.print("no runs recorded yet: `lmgnn train ...` records one")
        return
    metric_keys = sorted({k for r in rows for k in r if k.startswith("test_")
                          and k != "test_count"})
    width = max(len(str(r.get("run_id"))) for r in rows)
    table = Table(Column("run_id", no_wrap=True, min_width=width), "method", "task", "target",
                  "status", *metric_keys)
    for r in rows:
        table.add_row(str(r.get("run_id")), str(r.get("method")), str(r.get("task")),
                      str(r.get("target")), str(r.get("status")),
                      *[_fmt(r.get(k)) for k in metric_keys])
    console.print(table)


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))
