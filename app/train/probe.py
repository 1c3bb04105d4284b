"""Method ``probe``: a linear model trained on another run's frozen node embeddings.

How SAME (and representation learning generally) judges an encoder: the embeddings are fixed
and only a linear head learns the task: ``Linear`` on a node's embedding (node task), on
``[s, d, s * d]`` (edge task), or a DistMult diagonal on the pair (link task: linear in
``s * d``), trained with the task's usual loss on the usual loaders and splits.

Embeddings come from ``--embeddings RUN``: the encoder run's saved embeddings
(``runs/RUN/embeddings/<held>/<Label>.npy``), computed once, on first use, through the run's
own model and a training-style data path: for edge and link tasks the valid/test edges of the
task's relation are held out of message passing, so a probe never sees the edges it is tested
on. ``graph:RUN`` instead reads the embedding property ``lmgnn writeback`` wrote for RUN (with
every edge visible: fit for node tasks). Both are read in ``_nid`` pages into a memmap; the
probe's batches hold seeds only (no neighbours).

The probe is a run like any other (run dir, ``(:ModelRun)``); its model files are the encoder's
(``model.pt`` = the encoder's weights + the probe's head), so ``lmgnn writeback PROBE`` writes
its predictions through the encoder as for any run. Encoder-shaping options (exclude, layers,
fanout, conv, hidden, LM settings) are taken from RUN.

Resume: a checkpoint after every epoch (the head, its optimiser, the best head so far).
Data-parallel (``--nproc``): each rank trains on its own shard of the seeds under DDP; rank 0
computes the embeddings files once (the others wait and read them), evaluates and writes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, cast

import neo4j
import numpy as np
import torch
from rich.console import Console
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from lmgnn.errors import UserError
from lmgnn.models import LinkScorer, NodeClassifier, pick_device
from lmgnn.models.heads import LinearEdgeClassifier
from lmgnn.report.predictions import save_eval_predictions
from lmgnn.sampler import make_sampler
from lmgnn.sampler.base import NeighbourSampler
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.spec_store import graph_version, require_spec
from lmgnn.train import distributed, loops
from lmgnn.train.batches import RunSamplers, TaskLoaders
from lmgnn.train.cache import VectorCache
from lmgnn.train.checkpoint import Checkpoint, resume_epochs
from lmgnn.train.config import TrainConfig
from lmgnn.train.full_rank import node_representations
from lmgnn.train.meta import budget_deadline
from lmgnn.train.model import ModelShape, TaskModel
from lmgnn.train.model_files import LM_DIR, MODEL_JSON, MODEL_PT, load_model
from lmgnn.train.runs import RunDir, RunResult, new_run_id, record_run
from lmgnn.train.splits import node_property_pages
from lmgnn.train.stages import PRIMARY
from lmgnn.train.task import Target, excluded_relations, prepare_task, resolve_target
from lmgnn.writeback import naming

console = Console(stderr=True, quiet=not distributed.is_main())  # rank 0 speaks
ENCODER_FIELDS = ("exclude", "layers", "fanout", "conv", "hidden", "heads", "lm_path",
                  "pooling", "max_length", "eval_fanout")
HEADS = {"node": "NodeClassifier", "edge": "LinearEdgeClassifier", "link": "LinkScorer"}


class FrozenEmbeddings:
    """Per node type, one float32 ``.npy`` memmap of embeddings by ``_nid`` (``Vectors``)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.arrays = {label: np.load(path, mmap_mode="r") for label, path in files.items()}

    @property
    def dim(self) -> int:
        return int(next(iter(self.arrays.values())).shape[1])

    def __contains__(self, label: str) -> bool:
        return label in self.arrays

    def lookup(self, label: str, n_id: Tensor) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(self.arrays[label][n_id.cpu().numpy()]))


class ProbeModel(TaskModel):
    """A head over frozen embeddings; ``gnn_repr`` looks them up, so the loops' ``cached``
    mode trains and evaluates it unchanged."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__(None, None, head)
        self.gnn = cast(Any, nn.Identity())  # marks "representations come from the cache"

    def gnn_repr(self, batch: HeteroData, cache: Any) -> dict[str, Tensor]:
        return {t: cache.lookup(t, batch[t].n_id).to(batch[t].n_id.device)
                for t in batch.node_types if t in cache}


class SeedSamplers:
    """The probe's data path: batches of seeds only (no hops), for ``TaskLoaders``."""

    def __init__(self, sampler: NeighbourSampler, spec: GraphSpec) -> None:
        self.sampler, self.spec = sampler, spec

    def __getitem__(self, role: str) -> NeighbourSampler:
        return self.sampler

    def evaluation(self, role: str) -> NeighbourSampler:
        return self.sampler

    @property
    def counts(self) -> dict[str, int]:
        return self.sampler.counts


def _write_npy(path: Path, rows: Any, shape: tuple[int, int]) -> Path:
    """Fill a new ``.npy`` from (nids, vectors) pages, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
    arr[:] = np.nan
    for nids, vectors in rows:
        arr[np.asarray(nids)] = np.asarray(vectors, dtype=np.float32)
    arr.flush()
    del arr
    os.replace(tmp, path)
    return path


def run_embeddings(driver: neo4j.Driver, database: str, spec: GraphSpec, source: RunDir,
                   labels: list[str], held: list[EdgeType], device: str = "auto"
                   ) -> FrozenEmbeddings:
    """The encoder run's embeddings of ``labels`` with the valid/test edges of ``held`` out
    of message passing; computed through its model once, then read from its run dir.
    Distributed: every rank fills the vector cache with its share, rank 0 alone embeds and
    writes the files."""
    folder = source.path / "embeddings" / ("all" if not held else
                                           "hold-" + "-".join(et[1] for et in held))
    files = {label: folder / f"{label}.npy" for label in labels}
    todo = distributed.broadcast([label for label, f in files.items() if not f.is_file()])
    if todo:
        loaded = load_model(source.path, device=device)
        samplers = RunSamplers(driver, database, spec, loaded.config,
                               exclude=excluded_relations(spec, loaded.config.exclude),
                               target_kind="link" if held else "node", task_relation=held)
        changed = [t for t in todo if samplers.counts[t] != loaded.counts.get(t)]
        if changed:
            raise UserError(f"run {source.run_id}: {changed} gained or lost nodes since it was "
                            "trained; probe a run trained on the current graph")
        model, cache = loaded.model, None
        if model.gnn is not None:
            if not loaded.embedding_state:
                raise UserError(f"run {source.run_id}: model.json names no embedding state")
            cache = VectorCache(source.path.parent / ".embeddings", spec, loaded.counts)
            cache.refresh(loaded.lm, samplers.node_texts, loaded.embedding_state)
        sampler = samplers["graph" if model.gnn is not None else "text"]

        def embed() -> None:
            for label in todo:
                n = samplers.counts[label]
                reps = node_representations(model, sampler, cache, loaded.device, label,
                                            torch.arange(n))
                first = next(reps, None)
                if first is None:
                    raise UserError(f"run {source.run_id}: no {label} node to embed")
                rows = ((c.numpy(), h.numpy()) for c, h in [first, *reps])
                _write_npy(files[label], rows, (n, int(first[1].size(1))))
        distributed.on_main(embed)
    return FrozenEmbeddings(files)


def graph_embeddings(driver: neo4j.Driver, database: str, spec: GraphSpec, run_id: str,
                     labels: list[str], counts: dict[str, int], folder: Path
                     ) -> FrozenEmbeddings:
    """The embeddings ``lmgnn writeback`` wrote for ``run_id``, read in ``_nid`` pages."""
    files = {}
    for label in labels:
        prop = naming.embedding_names(spec, run_id, label).property
        pages = node_property_pages(driver, database, label, prop, counts[label])
        first = next(pages, None)
        if first is None or any(v is None for v in first[1]):
            raise UserError(f"{label} nodes hold no embeddings of run {run_id} (property "
                            f"{prop}): run `lmgnn writeback {run_id}` first")
        dim = len(first[1][0])

        def rows(first: Any = first, pages: Any = pages, label: str = label) -> Any:
            for nids, values in [first, *pages]:
                if any(v is None for v in values):
                    raise UserError(f"some {label} nodes lack embeddings of run {run_id}: "
                                    f"re-run `lmgnn writeback {run_id}`")
                yield nids.numpy(), np.asarray(values, dtype=np.float32)
        files[label] = _write_npy(folder / f"{label}.npy", rows(), (counts[label], dim))
    return FrozenEmbeddings(files)


def _labels(target: Target) -> list[str]:
    if target.kind == "node":
        return [cast(str, target.label)]
    src, _, dst = cast(EdgeType, target.relation)
    return [src] if src == dst else [src, dst]


def _head(target: Target, dim: int, num_classes: int) -> nn.Module:
    if target.kind == "node":
        return NodeClassifier(dim, num_classes, 0.0)
    if target.kind == "edge":
        return LinearEdgeClassifier(dim, num_classes)
    return LinkScorer(dim, [cast(EdgeType, target.relation)], "distmult")


def train_probe(config: TrainConfig, driver: neo4j.Driver, database: str, runs_root: Path,
                *, run_id: str | None = None, resume: RunDir | None = None) -> RunResult:
    """Train and record one probe run (validated before anything is written), or the rest of
    run ``resume`` from its last checkpoint."""
    spec = require_spec(driver, database)
    name = cast(str, config.embeddings).strip()
    from_graph = name.startswith("graph:")
    source_id = name.removeprefix("graph:")
    source = RunDir.open(runs_root, source_id)
    if not (source.path / MODEL_JSON).is_file():
        raise UserError(f"run {source_id} has no {MODEL_JSON}: probe a finished run")
    if source.config.get("graph") != spec.name:
        raise UserError(f"run {source_id} was trained on graph {source.config.get('graph')!r}, "
                        f"not {spec.name!r}")
    encoder = TrainConfig.from_saved(source.config["train"], f"{source.path}/config.json")
    config = dataclasses.replace(config, **{k: getattr(encoder, k) for k in ENCODER_FIELDS
                                            if hasattr(encoder, k)})
    target = resolve_target(spec, config)
    new_id = resume.run_id if resume is not None else \
        distributed.broadcast(run_id or new_run_id("probe"))  # rank 0's
    if resume is None:
        distributed.on_main(lambda: RunDir.check_new(runs_root, new_id))
    sampler = make_sampler(driver, database, spec, backend="cypher", fanouts=[],
                           seed=config.seed, features="none")
    samplers = SeedSamplers(sampler, spec)
    data = distributed.on_main(lambda: prepare_task(driver, database, spec, config,
                                                    samplers.counts))
    version = graph_version(driver, database)
    run = resume if resume is not None else distributed.on_main(lambda: RunDir.create(
        runs_root, new_id, {
            "train": config.to_dict(), "graph": spec.name, "graph_version": version,
            "classes": data.classes, "counts": samplers.counts,
            "target": data.target.to_dict(), "encoder": source_id}))
    record_run(driver, database, new_id, {
        "method": "probe", "task": str(config.task), "target": config.target,
        "status": "running", "path": str(run.path), "seed": config.seed, "encoder": source_id})
    try:
        held = [target.relation] if target.relation is not None else []
        emb = FrozenEmbeddings(distributed.on_main(lambda: graph_embeddings(
            driver, database, spec, source_id, _labels(target), samplers.counts,
            run.path / "embeddings").files)) if from_graph else \
            run_embeddings(driver, database, spec, source, _labels(target), held,
                           config.device)
        result = _fit(config, run, data, samplers, emb, target)
    except BaseException as exc:
        record_run(driver, database, new_id, {
            "status": "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"})
        raise
    if not config.keep_checkpoint:
        Checkpoint.delete(run)
    record_run(driver, database, new_id, {"status": "finished", "test": result.test,
                                          "valid": result.valid})
    return result


def _fit(config: TrainConfig, run: RunDir, data: Any, samplers: SeedSamplers,
         emb: FrozenEmbeddings, target: Target) -> RunResult:
    torch.manual_seed(config.seed)
    device = distributed.device_for(pick_device(config.device))
    model = ProbeModel(_head(target, emb.dim, data.num_classes)).to(device)
    task = loops.TaskSpec(kind=target.kind, label=target.label,  # type: ignore[arg-type]
                          relation=target.relation, num_classes=data.num_classes,
                          loss=str(config.loss), negatives=str(config.negatives))
    loaders = TaskLoaders(cast(RunSamplers, samplers), data, config)
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=config.gnn_lr)
    primary = PRIMARY[target.kind]
    state = resume_epochs(run, model.head, optimizer)  # a resume: after the last epoch
    first, bad, best, best_state, best_row = (state.next_epoch, state.bad_epochs, state.best,
                                              state.best_state, state.best_row)
    if state.resumed:
        console.print(f"resuming run {run.run_id} at probe epoch {first}")
    deadline = budget_deadline(config)
    step = distributed.wrap(model.head)  # DDP in a distributed run
    for epoch in range(first, config.epochs):
        if bad >= config.patience:  # stopped early just before an interruption
            break
        if distributed.broadcast(deadline.passed()):  # rank 0 decides for every rank
            break
        loader = loaders.train("graph", epoch)
        stats = distributed.merge_stats(loops.train_epoch(
            task, model, loader, "cached", emb, optimizer, device, len(loader),
            f"probe epoch {epoch}", step=step))
        valid = distributed.on_main(lambda: loops.evaluate(
            task, model, loaders.evaluate("graph", "valid"), emb, device))
        row = {"stage": "probe", "epoch": epoch, "split": "valid", **stats.as_dict(),
               **{f"valid_{k}": v for k, v in valid.items()}}
        run.log_metrics(row)
        score = valid.get(primary, -math.inf)
        if score > best:
            best, bad, best_row = score, 0, row
            best_state = {"weights": {k: v.detach().cpu().clone()
                                      for k, v in model.head.state_dict().items()}}
        else:
            bad += 1
        Checkpoint(stage_index=0, next_epoch=epoch + 1, model=model.head.state_dict(),
                   lm_scorer={}, cache_state=None, rng=torch.get_rng_state(),
                   optimizer=optimizer.state_dict(), best=best, best_state=best_state,
                   bad_epochs=bad, summary=best_row).save(run)
    distributed.release()
    if best_state is not None:
        model.head.load_state_dict(best_state["weights"])
    return distributed.on_main(lambda: _final(run, model, task, loaders, emb, device, target,
                                              data, best_row))


def _final(run: RunDir, model: ProbeModel, task: loops.TaskSpec, loaders: TaskLoaders,
           emb: FrozenEmbeddings, device: torch.device, target: Target, data: Any,
           best_row: dict[str, Any]) -> RunResult:
    """Rank 0's part: test and valid metrics with their predictions, model files, summary."""
    results = {}
    for split in ("valid", "test"):
        outputs: dict[str, Tensor] = {}
        results[split] = loops.evaluate(task, model, loaders.evaluate("graph", split), emb,
                                        device, outputs)
        if outputs:
            save_eval_predictions(run.path, split, **outputs)
        run.log_metrics({"stage": "final", "split": split, **results[split]})
    _save_model_files(run, model.head, target, data)
    stages: dict[str, Any] = {"probe": best_row}
    run.write_json("stages.json", stages)
    run.write_json("summary.json", {"run_id": run.run_id, "status": "finished",
                                    "valid": results["valid"], "test": results["test"],
                                    "stages": stages, "encoder": run.config["encoder"]})
    return RunResult(run.run_id, run.path, results["valid"], results["test"], stages)


def _save_model_files(run: RunDir, head: nn.Module, target: Target, data: Any) -> None:
    """The encoder's model files with the probe's head: ``lmgnn writeback`` loads them as any
    run's (the encoder recomputes the embeddings, the probe's head predicts)."""
    source = RunDir.open(run.path.parent, run.config["encoder"])
    meta = json.loads((source.path / MODEL_JSON).read_text(encoding="utf-8"))
    shape = ModelShape.from_dict(meta["shape"])
    shape.head, shape.num_classes = HEADS[target.kind], data.num_classes
    shape.relation = list(target.relation) if target.relation else None
    shape.score = "distmult"
    weights = {k: v for k, v in (source.load_torch(MODEL_PT) or {}).items()
               if not k.startswith("head.")}
    weights.update({f"head.{k}": v.detach().cpu() for k, v in head.state_dict().items()})
    run.save_torch(MODEL_PT, weights)
    lm = dict(meta["lm"])
    if lm.get("dir"):  # the encoder's fine-tuned LM stays in its run dir
        lm["path"], lm["dir"] = str((source.path / LM_DIR).resolve()), None
    run.write_json(MODEL_JSON, {**meta, "shape": shape.to_dict(), "lm": lm,
                                "target": target.to_dict(), "classes": data.classes})
