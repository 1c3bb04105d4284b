"""`lmgnn writeback` (a run's predictions into the graph; delete; retention) and `lmgnn predict`
(nodes added after training, scored without retraining)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from lmgnn.cli.common import DatabaseOpt, UriOpt, UserOpt, console
from lmgnn.cli.train import RunsOpt, runs_dir
from lmgnn.config import load_settings
from lmgnn.db import connect
from lmgnn.errors import UserError
from lmgnn.spec_store import require_spec
from lmgnn.train.config import Backend

RunOpt = Annotated[str | None, typer.Option("--run", help="run id (see `lmgnn runs`)",
                                            show_default=False)]
TopKOpt = Annotated[int, typer.Option("--top-k", help="link task: predicted links per source")]
BatchOpt = Annotated[int, typer.Option("--batch-size", help="nodes or edges per inference "
                                                           "batch")]
DeviceOpt = Annotated[str, typer.Option(help="auto, cpu or cuda[:i]")]
GlemModelOpt = Annotated[str, typer.Option(
    "--glem-model", help="glem runs: the model that predicts, gnn (GLEM-GNN) or lm (GLEM-LM: "
    "text only, inductive for new nodes)")]
SamplerOpt = Annotated[Backend, typer.Option(
    help="graph reads: snapshot (topology in RAM), cypher (every hop a query; memory follows "
         "the batch) or auto (snapshot while it fits a quarter of the free RAM)")]


def writeback(
    run: RunOpt = None,
    delete: Annotated[str | None, typer.Option(
        "--delete", help="remove this run's predictions from the graph (and nothing else)",
        show_default=False)] = None,
    keep: Annotated[int | None, typer.Option(
        "--keep", help="retention: afterwards keep only the predictions of the N most "
        "recently written runs", show_default=False)] = None,
    top_k: TopKOpt = 10,
    embeddings: Annotated[bool, typer.Option(
        help="write node embeddings (+ a vector index per label)")] = True,
    distribution: Annotated[bool, typer.Option(
        help="node task: also write the whole class distribution")] = False,
    batch_size: BatchOpt = 512,
    batch_rows: Annotated[int, typer.Option(help="items per write transaction")] = 10_000,
    device: DeviceOpt = "auto",
    sampler: SamplerOpt = Backend.auto,
    glem_model: GlemModelOpt = "gnn",
    runs: RunsOpt = None,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
    nproc: Annotated[int, typer.Option(
        "--nproc", min=1, help="processes scoring disjoint node ranges in parallel "
        "(torch.distributed; across machines: `torchrun ... -m lmgnn writeback ...`)")] = 1,
) -> None:
    """Write a run's predictions into Neo4j: classes + probabilities, embeddings with vector
    indexes, top-k predicted links, edge classes. Re-running replaces them; safe to interrupt."""
    from lmgnn.train import distributed
    from lmgnn.writeback import delete_run, keep_last_runs
    from lmgnn.writeback.pipeline import WritebackOptions
    from lmgnn.writeback.pipeline import writeback as run_writeback

    if not (run or delete or keep is not None):
        raise UserError("give --run ID to write a run's predictions, --delete RUN to remove "
                        "one's, or --keep N to keep only the last N runs")
    options = WritebackOptions(top_k=top_k, embeddings=embeddings, distribution=distribution,
                               batch_size=batch_size, batch_rows=batch_rows, device=device,
                               sampler=str(sampler), glem_model=glem_model)
    if nproc > 1 and not distributed.launched():
        distributed.launch(nproc, sys.argv[1:])
        return
    main = distributed.is_main()  # a rank of `--nproc N`: only rank 0 deletes, keeps, prints
    with connect(load_settings(uri=uri, user=user, database=database)) as (driver, db):
        spec = require_spec(driver, db)
        if delete and main:
            done = delete_run(driver, db, spec, delete)
            console.print(f"deleted {len(done.outputs)} output(s) of run {delete}", markup=False)
        if run:
            stats = run_writeback(driver, db, runs_dir(runs), run, options, progress=main)
            if main:
                console.print(_stats_table(run, stats))
        if keep is not None and main:
            done = keep_last_runs(driver, db, spec, keep)
            console.print(f"retention: kept the last {keep} run(s); deleted predictions of "
                          f"{', '.join(done.runs) or 'none'}", markup=False)


def predict(
    run: RunOpt = None,
    write: Annotated[bool, typer.Option(
        help="append the new nodes' predictions to the run's outputs in the graph")] = False,
    top_k: TopKOpt = 10,
    limit: Annotated[int, typer.Option(help="predictions to print")] = 20,
    batch_size: BatchOpt = 512,
    device: DeviceOpt = "auto",
    sampler: SamplerOpt = Backend.auto,
    glem_model: GlemModelOpt = "gnn",
    runs: RunsOpt = None,
    uri: UriOpt = None, user: UserOpt = None, database: DatabaseOpt = None,
) -> None:
    """Score nodes added to the graph after the run was trained, without retraining (their
    text goes through the run's LM, their neighbours through its GNN)."""
    from lmgnn.writeback.inference import load_run
    from lmgnn.writeback.pipeline import WritebackOptions, predict_new

    if not run:
        raise UserError("give --run ID (see `lmgnn runs`)")
    options = WritebackOptions(top_k=top_k, batch_size=batch_size, device=device,
                               sampler=str(sampler), glem_model=glem_model)
    with connect(load_settings(uri=uri, user=user, database=database)) as (driver, db):
        loaded = load_run(driver, db, runs_dir(runs), run, device=device, sampler=str(sampler),
                          glem_model=glem_model)
        new = {label: int(loaded.new_nodes(label).numel()) for label in loaded.spec.nodes}
        if not any(new.values()):
            console.print(f"no node was added after run {run} was trained: nothing to predict",
                          markup=False)
            return
        console.print("new nodes: " + ", ".join(f"{n} {label}" for label, n in new.items()
                                                if n))
        predictions, stats = predict_new(driver, db, runs_dir(runs), run, options,
                                         write=write, loaded=loaded)
        keys = _keys(driver, db, loaded, predictions[:limit])
    table = Table(title=f"predictions of run {run} for new nodes")
    for column in ("node", "predicted", "probability / score"):
        table.add_column(column)
    for p in predictions[:limit]:
        if p.links:
            assert loaded.target.relation is not None  # links come from a link task
            target = loaded.target.relation[2]
            for rank, (dst, score) in enumerate(p.links[:3], start=1):
                table.add_row(keys.get((p.label, p.nid), str(p.nid)) if rank == 1 else "",
                              f"#{rank} {keys.get((target, dst), dst)}", f"{score:.4f}")
        elif p.predicted is not None:
            table.add_row(keys.get((p.label, p.nid), str(p.nid)), str(p.predicted),
                          f"{p.probability:.3f}")
    console.print(table)
    if write:
        console.print(_stats_table(run, stats))


def _keys(driver, db, loaded, predictions) -> dict[tuple[str, int], str]:
    """User keys of the nodes shown (people do not read _nids)."""
    from lmgnn.writeback.inference import node_keys

    wanted: dict[str, set[int]] = {}
    for p in predictions:
        wanted.setdefault(p.label, set()).add(p.nid)
        if p.links:
            wanted.setdefault(loaded.target.relation[2], set()).update(
                d for d, _ in p.links[:3])
    return node_keys(driver, db, loaded.spec, wanted)


def _stats_table(run: str, stats) -> Table:
    table = Table(title=f"written for run {run}")
    for column in ("output", "items", "transactions", "seconds", "items/s"):
        table.add_column(column, justify="right" if column != "output" else "left")
    for s in stats:
        table.add_row(s.output_id.split("/", 1)[1], f"{s.items:,}", str(s.transactions),
                      f"{s.seconds:.1f}", f"{s.items / max(s.seconds, 1e-9):,.0f}")
    return table
