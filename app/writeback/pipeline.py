"""``lmgnn writeback`` and ``lmgnn predict``: a run's inference streamed into its sinks.

writeback: every node of the task's label (node task: class + probability, and embeddings), or
every stored relationship (edge task), or every source node (link task: top-k new links), plus
embeddings of each node type for the vector indexes; one sampler pass per label feeds all the
sinks of that label. predict: the same for nodes added after training only, appended to the
run's outputs (nothing else is touched) or just returned for printing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import Tensor

from lmgnn.errors import UserError
from lmgnn.train import distributed
from lmgnn.writeback.batches import EmbeddingBatch, LinkBatch, NodeClassBatch, top_class
from lmgnn.writeback.inference import (
    LoadedRun,
    class_probabilities,
    edge_class_batches,
    link_batches,
    load_run,
    node_representations,
)
from lmgnn.writeback.writer import (
    EdgeClassSink,
    EmbeddingSink,
    LinkSink,
    NodeClassSink,
    Sink,
    WriteStats,
)


@dataclass
class WritebackOptions:
    """What to write and how big the batches are."""

    top_k: int = 10  # link task: predicted links per source node
    embeddings: bool = True  # embeddings (+ vector index) of every node type
    distribution: bool = False  # node task: the whole class distribution too
    batch_size: int = 512  # nodes or edges per inference batch
    batch_rows: int = 10_000  # items per write transaction (embeddings: a fifth)
    device: str = "auto"
    sampler: str = "auto"  # graph reads: auto | snapshot | cypher (lmgnn.sampler)
    glem_model: str = "gnn"  # glem runs: which model predicts, gnn or lm

    def __post_init__(self) -> None:
        for name in ("top_k", "batch_size", "batch_rows"):
            if getattr(self, name) < 1:
                raise UserError(f"{name.replace('_', '-')} must be at least 1")


@dataclass
class Prediction:
    """One new node's prediction, for printing (predict without writing)."""

    label: str
    nid: int
    predicted: Any = None
    probability: float | None = None
    links: list[tuple[int, float]] = field(default_factory=list)


def writeback(driver: neo4j.Driver, database: str, runs_root: str | Path, run_id: str,
              options: WritebackOptions | None = None, *, progress: bool = True,
              loaded: LoadedRun | None = None) -> list[WriteStats]:
    """Write everything a run predicts; re-running replaces the run's predictions."""
    o = options or WritebackOptions()
    loaded = loaded or load_run(driver, database, runs_root, run_id, device=o.device,
                               sampler=o.sampler, glem_model=o.glem_model)
    return _run(driver, database, loaded, o, progress, only_new=False)


def predict_new(driver: neo4j.Driver, database: str, runs_root: str | Path, run_id: str,
                options: WritebackOptions | None = None, *, write: bool = False,
                progress: bool = True, loaded: LoadedRun | None = None
                ) -> tuple[list[Prediction], list[WriteStats]]:
    """Score the nodes added after training (without retraining); append them if ``write``."""
    o = options or WritebackOptions()
    loaded = loaded or load_run(driver, database, runs_root, run_id, device=o.device,
                               sampler=o.sampler, glem_model=o.glem_model)
    predictions: list[Prediction] = []
    stats = _run(driver, database, loaded, o, progress, only_new=True, write=write,
                 collect=predictions.append)
    return predictions, stats


# ---- one pass per label ------------------------------------------------------------------------
def _run(driver: neo4j.Driver, database: str, loaded: LoadedRun, o: WritebackOptions,
         show: bool, *, only_new: bool, write: bool = True,
         collect: Callable[[Prediction], None] | None = None) -> list[WriteStats]:
    spec, run_id, target = loaded.spec, loaded.run_id, loaded.target
    common: dict[str, Any] = {"append": only_new}
    stats: list[WriteStats] = []
    with _progress(show) as bar:
        for label in spec.nodes:
            nids = loaded.new_nodes(label) if only_new else torch.arange(loaded.counts[label])
            classify = target.kind == "node" and target.label == label
            if not nids.numel() or not (classify or o.embeddings):
                continue
            nids = distributed.shard(nids)  # distributed: this rank's contiguous node range
            sinks: list[tuple[str, Sink]] = []
            if write and classify:
                sinks.append(("class", NodeClassSink(
                    driver, database, spec, run_id, label, classes=loaded.classes,
                    target=target.prop, distribution=o.distribution, batch_rows=o.batch_rows,
                    **common)))
            if write and o.embeddings:
                sinks.append(("emb", EmbeddingSink(
                    driver, database, spec, run_id, label,
                    batch_rows=max(1, o.batch_rows // 5), **common)))
            job = bar.add_task(f"{label}: {'classes + ' if classify else ''}embeddings",
                               total=int(nids.numel()))
            with ExitStack() as stack:
                for _, sink in sinks:
                    stack.enter_context(sink)
                for chunk, h in node_representations(loaded, label, nids, o.batch_size):
                    probs = class_probabilities(loaded, h) if classify else None
                    for role, sink in sinks:
                        if role == "class":
                            assert probs is not None  # a class sink only where classify
                            sink.add(NodeClassBatch(chunk, probs))
                        else:
                            sink.add(EmbeddingBatch(chunk, h))
                    if collect and probs is not None:
                        _collect_classes(collect, loaded, label, chunk, probs)
                    bar.advance(job, int(chunk.numel()))
            stats += [s.stats for _, s in sinks if s.stats]
        if target.kind == "link":
            stats += _links(driver, database, loaded, o, bar, only_new, write, collect)
        elif target.kind == "edge" and not only_new:
            stats += _edge_classes(driver, database, loaded, o, bar)
    return stats


def _links(driver: neo4j.Driver, database: str, loaded: LoadedRun, o: WritebackOptions,
           bar: Progress, only_new: bool, write: bool,
           collect: Callable[[Prediction], None] | None) -> list[WriteStats]:
    assert loaded.target.relation is not None  # a link task has its relation
    src_t = loaded.target.relation[0]
    sources = loaded.new_nodes(src_t) if only_new else torch.arange(loaded.counts[src_t])
    if not sources.numel():
        return []
    sources = distributed.shard(sources)
    job = bar.add_task(f"{src_t}: top-{o.top_k} links", total=int(sources.numel()))

    def batches() -> Iterator[LinkBatch]:
        for batch in link_batches(loaded, o.top_k, sources=sources, batch_size=o.batch_size):
            if collect:
                for s, dsts, scores in zip(batch.src.tolist(), batch.dst.tolist(),
                                           batch.score.tolist(), strict=True):
                    collect(Prediction(src_t, s, links=[(d, sc) for d, sc in
                                                        zip(dsts, scores, strict=True)
                                                        if d >= 0]))
            bar.advance(job, int(batch.src.numel()))
            yield batch

    if not write:
        for _ in batches():
            pass
        return []
    sink = LinkSink(driver, database, loaded.spec, loaded.run_id, loaded.target.relation,
                    batch_rows=o.batch_rows, append=only_new)
    with sink:
        for batch in batches():
            sink.add(batch)
    return [sink.stats] if sink.stats else []


def _edge_classes(driver: neo4j.Driver, database: str, loaded: LoadedRun,
                  o: WritebackOptions, bar: Progress) -> list[WriteStats]:
    relation = loaded.target.relation
    assert relation is not None  # an edge task has its relation
    job = bar.add_task(f"{relation[1]}: edge classes", total=None)
    sink = EdgeClassSink(driver, database, loaded.spec, loaded.run_id, relation,
                         classes=loaded.classes, target=loaded.target.prop,
                         batch_rows=o.batch_rows)
    with sink:
        for batch in edge_class_batches(loaded, o.batch_size):
            sink.add(batch)
            bar.advance(job, int(batch.src.numel()))
    return [sink.stats] if sink.stats else []


def _collect_classes(collect: Callable[[Prediction], None], loaded: LoadedRun, label: str,
                     chunk: Tensor, probs: Tensor) -> None:
    index, prob = top_class(probs)
    for nid, i, p in zip(chunk.tolist(), index, prob, strict=True):
        collect(Prediction(label, nid, predicted=loaded.classes[i], probability=p))


def _progress(show: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), disable=not (show and distributed.is_main()),
                    transient=True)
