"""The tasks of a multi-task run (methods meta, multitask): parsed, checked, prepared.

A task is ``KIND:TARGET`` with KIND node, edge or link and TARGET as ``--target`` takes it
(``node:Product.category``, ``edge:JUDGED``, ``link:Query-PURCHASED->Product``). ``--task-target``
repeats, or names a YAML file holding a list of such strings (or ``{kind, target}`` maps,
optionally under a ``tasks:`` key). Each task is resolved against the stored spec by the same
``resolve_target`` as a single-task run, and its seeds and splits come from ``prepare_task``:
a multi-task run shares its splits with single-task runs of the same seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import neo4j
import yaml

from lmgnn.errors import UserError
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.train.config import Method, TaskKind, TrainConfig
from lmgnn.train.task import Target, TaskData, prepare_task, resolve_target


@dataclass(frozen=True)
class TaskDef:
    """One task of a multi-task run, as the user named it."""

    kind: TaskKind
    target: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.target}"


def parse_tasks(entries: list[str]) -> list[TaskDef]:
    """``KIND:TARGET`` strings, or YAML files listing them; duplicates are an error."""
    tasks: list[TaskDef] = []
    for entry in entries:
        text = str(entry).strip()
        if text.endswith((".yaml", ".yml")):
            tasks += _read_file(Path(text))
        else:
            tasks.append(_parse_one(text, "--task-target"))
    seen: set[TaskDef] = set()
    for t in tasks:
        if t in seen:
            raise UserError(f"task {t.name} is named twice")
        seen.add(t)
    if not tasks:
        raise UserError("no task given: --task-target node:Label.prop (repeatable)")
    return tasks


def _parse_one(text: str, where: str) -> TaskDef:
    kind, sep, target = text.partition(":")
    if not sep or kind.strip() not in TaskKind.__members__ or not target.strip():
        raise UserError(f"{where}: task {text!r} must be KIND:TARGET with KIND one of node, "
                        "edge, link, e.g. node:Product.category or link:PURCHASED")
    return TaskDef(TaskKind(kind.strip()), target.strip())


def _read_file(path: Path) -> list[TaskDef]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read the task file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc})") from None
    if isinstance(data, dict) and set(data) == {"tasks"}:
        data = data["tasks"]
    if not isinstance(data, list) or not data:
        raise UserError(f"{path}: expected a list of tasks, e.g. `- node:Product.category`")
    out = []
    for i, item in enumerate(data, 1):
        where = f"{path} task {i}"
        if isinstance(item, dict):
            if set(item) != {"kind", "target"}:
                raise UserError(f"{where}: a task map has exactly the keys kind and target")
            item = f"{item['kind']}:{item['target']}"
        if not isinstance(item, str):
            raise UserError(f"{where}: expected KIND:TARGET, got {item!r}")
        out.append(_parse_one(item, where))
    return out


def task_config(config: TrainConfig, task: TaskDef) -> TrainConfig:
    """The single-task view of ``config`` for one task (what resolve/prepare_task read)."""
    return dataclasses.replace(config, method=Method.gnn, task=task.kind, target=task.target,
                               task_target=[])


def resolve_tasks(spec: GraphSpec, config: TrainConfig) -> list[tuple[TaskDef, Target]]:
    """Every task checked against the spec before anything is written; errors name the task."""
    out = []
    for task in parse_tasks(config.task_target):
        try:
            out.append((task, resolve_target(spec, task_config(config, task))))
        except UserError as exc:
            raise UserError(f"task {task.name}: {exc}") from None
    return out


def held_relations(targets: list[Target]) -> list[EdgeType]:
    """Relations whose valid/test edges are kept out of message passing (edge, link tasks)."""
    out: list[EdgeType] = []
    for t in targets:
        if t.relation is not None and t.relation not in out:
            out.append(t.relation)
    return out


def prepare_tasks(driver: neo4j.Driver, database: str, spec: GraphSpec, config: TrainConfig,
                  tasks: list[TaskDef], counts: dict[str, int]) -> list[TaskData]:
    return [prepare_task(driver, database, spec, task_config(config, t), counts) for t in tasks]


def task_key(target: Target) -> str:
    """Short name of a task in metric keys: ``node_category``, ``link_PURCHASED``."""
    what = target.prop if target.kind == "node" else target.relation[1]  # type: ignore[index]
    return f"{target.kind}_{what}"
