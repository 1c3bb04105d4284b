"""A finished run reloaded for inference, and streams of its predictions.

``load_run`` rebuilds the run's model from ``runs/<run_id>/`` alone
(``lmgnn.train.load_model``: no trainer, no split written, no RNG reseeded), then opens the
run's data path: the same ``RunSamplers`` as training, on the backend asked for, with every
relationship in message passing (a prediction uses all the graph knows). Nodes added after
training (``_nid`` at or past the trained count) are served too: their text is encoded on the
fly by the run's LM (only theirs), which is what makes ``lmgnn predict`` inductive. Featureless
node types learnt one embedding per node, so new nodes of those types need a new run.

Every stream walks ``NodeLoader`` / ``EdgeLoader`` batches; only link prediction keeps one
matrix in memory: the target nodes' representations (targets x hidden floats), to rank all of
them per source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import neo4j
import torch
from torch import Tensor

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.models import LinkScorer, autocast, pick_device, to_device
from lmgnn.sampler import EdgeLoader, edge_seeds
from lmgnn.sampler.base import NeighbourSampler
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.spec_store import require_spec
from lmgnn.train import distributed
from lmgnn.train.batches import RunSamplers
from lmgnn.train.cache import InferenceVectors, VectorCache
from lmgnn.train.config import Backend
from lmgnn.train.full_rank import node_representations as represent
from lmgnn.train.model_files import LoadedModel, load_model
from lmgnn.train.runs import RunDir
from lmgnn.train.task import Target, excluded_relations
from lmgnn.writeback.batches import EdgeClassBatch, LinkBatch
from lmgnn.writeback.links import existing_targets, rank_links


@dataclass
class LoadedRun:
    """A run's model in eval mode, with its samplers and vectors, ready to predict."""

    run_id: str
    spec: GraphSpec
    loaded: LoadedModel
    samplers: RunSamplers
    cache: InferenceVectors | None
    driver: neo4j.Driver
    database: str

    @property
    def model(self) -> torch.nn.Module:
        return self.loaded.model

    @property
    def target(self) -> Target:
        return self.loaded.target

    @property
    def classes(self) -> list[Any]:
        return self.loaded.classes

    @property
    def device(self) -> torch.device:
        return self.loaded.device

    @property
    def trained_counts(self) -> dict[str, int]:
        return self.loaded.counts

    @property
    def counts(self) -> dict[str, int]:
        return self.samplers.counts

    @property
    def sampler(self) -> NeighbourSampler:
        """The sampler representations come from: neighbours (GNN) or texts only (lm)."""
        return self.samplers["graph" if self.loaded.model.gnn is not None else "text"]

    def new_nodes(self, label: str) -> Tensor:
        """``_nid``s of ``label`` added after training."""
        return torch.arange(self.trained_counts.get(label, 0), self.counts[label])


def load_run(driver: neo4j.Driver, database: str, runs_root: str | Path, run_id: str, *,
             device: str = "auto", sampler: str = "auto", glem_model: str = "gnn"
             ) -> LoadedRun:
    """Rebuild a finished run's model from its directory; open its data path on the graph.
    ``glem_model``: which model of a glem run predicts, ``gnn`` (the run's model) or ``lm``
    (GLEM-LM in ``glem_lm/``: text only, inductive for new nodes).
    A torchrun rank joins its process group here (``lmgnn writeback --nproc N``)."""
    distributed.init(pick_device(device))
    run = RunDir.open(Path(runs_root), run_id)
    if not (run.path / "summary.json").is_file():
        raise UserError(f"run {run_id} has not finished (no summary.json in {run.path}): "
                        f"finish it with `lmgnn train --resume {run_id}`")
    graph = run.config.get("graph")
    spec = require_spec(driver, database)
    if spec.name != graph:
        raise UserError(f"run {run_id} was trained on graph {graph!r}, but the database holds "
                        f"{spec.name!r}")
    loaded = load_model(_model_dir(run, glem_model),
                        device=str(distributed.device_for(pick_device(device))))
    # the name as given: RunSamplers reads it through str() and make_sampler checks it
    config = dataclasses.replace(loaded.config, sampler=cast(Backend, sampler))
    samplers = RunSamplers(driver, database, spec, config,
                           exclude=excluded_relations(spec, config.exclude),
                           target_kind=loaded.target.kind, inference=True)
    _check_featureless(spec, loaded.counts, samplers.counts, run_id)
    cache = None
    if loaded.model.gnn is not None:
        if not loaded.embedding_state:
            raise UserError(f"run {run_id}: model.json names no embedding state")
        base = VectorCache(Path(runs_root) / ".embeddings", spec, loaded.counts)
        # the vectors the model was evaluated with; re-encoded (trained nodes only) if the
        # cache folder was deleted
        base.refresh(loaded.lm, samplers.node_texts, loaded.embedding_state)
        cache = InferenceVectors(base, loaded.counts, loaded.lm, samplers.node_texts)
    return LoadedRun(run_id, spec, loaded, samplers, cache, driver, database)


def _model_dir(run: RunDir, glem_model: str) -> Path:
    if glem_model not in ("gnn", "lm"):
        raise UserError(f"--glem-model must be gnn or lm, got {glem_model!r}")
    if glem_model == "gnn":
        return run.path
    if run.config["train"].get("method") != "glem":
        raise UserError(f"run {run.run_id} is not a glem run: --glem-model lm is for glem runs")
    from lmgnn.train.glem import LM_DIR
    return run.path / LM_DIR


def _check_featureless(spec: GraphSpec, trained: dict[str, int], now: dict[str, int],
                       run_id: str) -> None:
    for label, node in spec.nodes.items():
        if node.text or now[label] <= trained.get(label, 0):
            continue
        raise UserError(f"{now[label] - trained.get(label, 0)} {label} node(s) were added after "
                        f"run {run_id} was trained; {label} has no text, so the run learnt one "
                        "vector per node and cannot score new ones: train a new run")


# ---- streams -----------------------------------------------------------------------------------
def node_representations(loaded: LoadedRun, label: str, nids: Tensor, batch_size: int = 512
                         ) -> Iterator[tuple[Tensor, Tensor]]:
    """(nids, representations (B, dim)) per batch: the GNN output, or the LM's for method lm."""
    return represent(loaded.loaded.model, loaded.sampler, loaded.cache, loaded.device, label,
                     nids, batch_size)


@torch.no_grad()
def class_probabilities(loaded: LoadedRun, h: Tensor) -> Tensor:
    """Node-classification probabilities (B, C) from representations."""
    return torch.softmax(loaded.loaded.model.head(h.to(loaded.device)).float(), dim=-1).cpu()


@torch.no_grad()
def edge_class_batches(loaded: LoadedRun, batch_size: int = 512) -> Iterator[EdgeClassBatch]:
    """Class probabilities of every stored relationship of the run's edge task."""
    relation = _task_relation(loaded, "edge")
    seeds = edge_seeds(loaded.driver, loaded.database, loaded.spec, relation)
    pairs = torch.unique(seeds.pairs, dim=1)  # parallel edges: once
    pairs = distributed.shard(pairs)  # distributed: this rank's contiguous slice
    src_t, _, dst_t = relation
    model, device = loaded.loaded.model, loaded.device
    loader = EdgeLoader(loaded.sampler, relation, pairs[0], pairs[1], batch_size=batch_size,
                        shuffle=False)
    for batch in loader:
        eli = batch[relation].edge_label_index
        src = batch[src_t].n_id[eli[0]]
        dst = batch[dst_t].n_id[eli[1]]
        batch = to_device(batch, device)
        eli = eli.to(device)
        with autocast(device):
            if model.gnn is not None:
                assert loaded.cache is not None  # load_run makes it for every GNN
                h = model.gnn_repr(batch, loaded.cache)
                s, d = h[src_t][eli[0]], h[dst_t][eli[1]]
            else:
                s = model.lm_repr(src_t, batch, eli[0].cpu())
                d = model.lm_repr(dst_t, batch, eli[1].cpu())
            probs = torch.softmax(model.head(s, d).float(), dim=-1).cpu()
        yield EdgeClassBatch(src, dst, probs)


@torch.no_grad()
def link_batches(loaded: LoadedRun, k: int, *, sources: Tensor | None = None,
                 batch_size: int = 512) -> Iterator[LinkBatch]:
    """Top-k new targets per source node (all sources, or ``sources``) of the link task."""
    relation = _task_relation(loaded, "link")
    src_t, _, dst_t = relation
    dst_reps = [h for _, h in node_representations(loaded, dst_t,
                                                   torch.arange(loaded.counts[dst_t]),
                                                   batch_size)]
    dst_emb = torch.cat(dst_reps) if dst_reps else torch.empty(0, 1)
    head, device = cast(LinkScorer, loaded.loaded.model.head), loaded.device

    def score(s: Tensor, d: Tensor) -> Tensor:  # (B, dim), (M, dim) -> (B, M) on the device
        return head.all_pairs(s.to(device), d.to(device), relation)

    nids = torch.arange(loaded.counts[src_t]) if sources is None else sources
    driver, database = loaded.driver, loaded.database
    for chunk, h in node_representations(loaded, src_t, nids, batch_size):
        exclude = existing_targets(driver, database, loaded.spec, relation, chunk.tolist())
        yield rank_links(chunk, h, dst_emb, k, exclude, score=score,
                         exclude_self=src_t == dst_t)


def node_keys(driver: neo4j.Driver, database: str, spec: GraphSpec,
              wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """(label, _nid) -> the node's user key, for the nodes asked for."""
    out: dict[tuple[str, int], str] = {}
    for label, nids in wanted.items():
        node = spec.node(label)
        records, _, _ = driver.execute_query(
            cypher.render("writeback/node_keys", label=label, key=node.key),
            nids=sorted(nids), database_=database, routing_="r")
        out.update({(label, r["nid"]): r["key"] for r in records})
    return out


def _task_relation(loaded: LoadedRun, kind: str) -> EdgeType:
    if loaded.target.kind != kind or loaded.target.relation is None:
        raise UserError(f"run {loaded.run_id} was trained on a {loaded.target.kind} task, "
                        f"not a {kind} task")
    return tuple(loaded.target.relation)  # type: ignore[return-value]
