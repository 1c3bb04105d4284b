"""Removing a run's predictions (``--delete RUN``) and keeping only the last N runs.

What a run wrote is read from its manifest, and every name is rebuilt from the stored spec and
the run id (never taken from the graph as is) before it reaches query text. The ``(:ModelRun)``
node itself belongs to training and stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import neo4j

from lmgnn.errors import UserError
from lmgnn.spec import GraphSpec
from lmgnn.writeback import manifest, naming
from lmgnn.writeback.clear import (
    clear_edge_classes,
    clear_embeddings,
    clear_links,
    clear_node_classes,
)


@dataclass
class Deleted:
    """Outputs removed per run, and those whose labels the current spec no longer knows."""

    runs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def delete_run(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
               *, missing_ok: bool = False) -> Deleted:
    """Remove every property, relationship and vector index a run wrote, then its manifest."""
    outputs = manifest.outputs_of_run(driver, database, run_id)
    if not outputs and not missing_ok:
        known = ", ".join(manifest.runs_written(driver, database)) or "none"
        raise UserError(f"run {run_id!r} has no predictions in the graph; runs with "
                        f"predictions: {known}")
    done = Deleted(runs=[run_id] if outputs else [])
    for output in outputs:
        try:
            _clear(driver, database, spec, run_id, output)
        except UserError:  # the graph was reloaded with another spec: its data is gone anyway
            done.unknown.append(output["id"])
        manifest.forget_output(driver, database, output["id"])
        done.outputs.append(output["id"])
    return done


def keep_last_runs(driver: neo4j.Driver, database: str, spec: GraphSpec, keep: int) -> Deleted:
    """Delete the predictions of all but the ``keep`` most recently written runs."""
    if keep < 0:
        raise UserError(f"--keep must be 0 or more, got {keep}")
    done = Deleted()
    for run_id in manifest.runs_written(driver, database)[keep:]:
        one = delete_run(driver, database, spec, run_id, missing_ok=True)
        done.runs += one.runs
        done.outputs += one.outputs
        done.unknown += one.unknown
    return done


def _clear(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
           output: dict[str, Any]) -> None:
    kind = output.get("kind")
    if kind == "node_class":
        clear_node_classes(driver, database, naming.node_class_names(
            spec, run_id, output["label"], output["target"]))
    elif kind == "embedding":
        clear_embeddings(driver, database, naming.embedding_names(spec, run_id, output["label"]))
    elif kind == "links":
        edge = (output["source"], output["type"], output["target_label"])
        clear_links(driver, database, naming.link_names(spec, run_id, edge))
    elif kind == "edge_class":
        edge = (output["source"], output["type"], output["target_label"])
        clear_edge_classes(driver, database, naming.edge_class_names(
            spec, run_id, edge, output["target"]))
    else:
        raise UserError(f"output {output.get('id')} has unknown kind {kind!r}")
