"""`lmgnn train`: train a method on a task; every option is a `TrainConfig` field."""

from __future__ import annotations

import inspect
import logging
import os
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import typer
from rich.table import Table

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.config import load_settings
from lmgnn.db import connect
from lmgnn.errors import UserError
from lmgnn.train import distributed
from lmgnn.train.config import TrainConfig, read_config_file

NprocOpt = Annotated[int, typer.Option(
    "--nproc", min=1, help="data-parallel processes on this machine (torch.distributed: "
    "DDP, gloo on CPU, NCCL on GPUs); across machines use `torchrun ... -m lmgnn train`")]
RunsOpt = Annotated[Path | None, typer.Option(
    "--runs-dir", help="where runs are saved [env: LMGNN_RUNS_DIR; default ./runs]",
    show_default=False)]


def runs_dir(path: Path | None) -> Path:
    return path or Path(os.environ.get("LMGNN_RUNS_DIR", "runs"))


def _config_options() -> list[inspect.Parameter]:
    """One CLI option per ``TrainConfig`` field: its type, default and help text come from
    the dataclass (the single copy of every default)."""
    hints = get_type_hints(TrainConfig)
    params = []
    for f in fields(TrainConfig):
        hint = hints[f.name]
        if f.default is not MISSING:
            default = f.default
        else:
            assert f.default_factory is not MISSING  # every TrainConfig field has a default
            default = f.default_factory()
        name = f"--{f.name.replace('_', '-')}"
        if f.name == "max_steps_per_epoch":
            name = "--max-steps"  # the short name users know
        if get_origin(hint) is list:
            shown = ",".join(map(str, default)) or "none"
            annotation: Any = Annotated[list[str] | None, typer.Option(
                name, help=f"{f.metadata['help']} [default: {shown}]", show_default=False)]
            default = None
        elif hint is bool:
            annotation = Annotated[bool, typer.Option(
                f"{name}/--no-{name[2:]}", help=f.metadata["help"])]
        elif set(get_args(hint)) == {int, str}:  # `auto` or a number: parsed by TrainConfig
            annotation = Annotated[str, typer.Option(name, help=f.metadata["help"])]
            default = str(default)
        else:
            annotation = Annotated[hint, typer.Option(name, help=f.metadata["help"])]
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default, annotation=annotation))
    return params


def _train(ctx: typer.Context, **options: Any) -> None:
    """``train``'s body: file options, then command-line options over them."""
    from lmgnn.train import TrainConfig
    from lmgnn.train import train as run_training

    config_file, resume, runs = options.pop("config"), options.pop("resume"), options.pop("runs")
    uri, user, database = options.pop("uri"), options.pop("user"), options.pop("database")
    nproc = options.pop("nproc")
    given = {k for k in options if _given(ctx, k)}
    values = {k: v for k, v in options.items() if v is not None or k not in _LISTS}
    if config_file:
        values = {**values, **read_config_file(config_file),
                  **{k: options[k] for k in given}}
    for k in _LISTS:
        if values.get(k) is None:
            values.pop(k, None)
    if resume:
        config = None
    else:
        if not values.get("target") and not values.get("task_target"):
            raise UserError("--target is required, e.g. --target Product.category or "
                            "--target Query-PURCHASED->Product")
        config = TrainConfig.from_dict(values)
    if nproc > 1 and not distributed.launched():  # checked options, now the ranks
        distributed.launch(nproc, sys.argv[1:])
        return
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)  # "property not yet set"
    settings = load_settings(uri=uri, user=user, database=database)
    with connect(settings) as (driver, db):
        result = run_training(config or TrainConfig(target="-"), driver, db, runs_dir(runs),
                              resume=resume)
    if not distributed.is_main():
        return
    console.print(f"run {result.run_id} saved in {result.path}", style="green", markup=False)
    table = Table("metric", "valid", "test")  # one row a metric: fits any terminal
    for key in sorted(result.test):
        table.add_row(key, _fmt(result.valid.get(key)), _fmt(result.test.get(key)))
    console.print(table)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set option ``name`` (command line or environment), not its default.
    Compared by name: typer ships its own copy of click's ``ParameterSource``."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


_LISTS = {f.name for f in fields(TrainConfig) if get_origin(get_type_hints(TrainConfig)[f.name])
          is list}
_EXTRA = [
    inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
    *_config_options(),
    inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=Annotated[Path | None, typer.Option(
                          "--config", help="YAML file of training options (keys as the "
                          "option names with _); command-line options override it",
                          show_default=False)]),
    inspect.Parameter("resume", inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=Annotated[str | None, typer.Option(
                          help="run id to resume from its last checkpoint (its stored options "
                          "are used)", show_default=False)]),
    inspect.Parameter("runs", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=RunsOpt),
    inspect.Parameter("uri", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=UriOpt),
    inspect.Parameter("user", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=UserOpt),
    inspect.Parameter("database", inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=DatabaseOpt),
    inspect.Parameter("nproc", inspect.Parameter.KEYWORD_ONLY, default=1, annotation=NprocOpt),
]


def train(ctx: typer.Context, **options: Any) -> None:
    """Train lm, gnn or lmgnn on a node / edge / link task of the stored graph.

    Every option's default lives in `TrainConfig`; `--config FILE` reads the same keys from
    YAML and command-line options override the file. Valid/test metrics are computed on a
    seeded sample of `--eval-max` items that stays the same every epoch.
    """
    _train(ctx, **options)


train.__signature__ = inspect.Signature(_EXTRA)  # type: ignore[attr-defined]


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))
