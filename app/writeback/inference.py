"""A finished run reloaded for inference, and streams of its predictions.

``load_run`` rebuilds the run's model from ``runs/<run_id>/`` (config.json, lm/, gnn.pt,
head.pt) with the trainer's own constructor, so architecture and weights match training
exactly, then opens the run's LM-embedding cache. Nodes added to the graph after training
(``_nid`` at or past the trained count) are served too: their text is encoded on the fly by
the run's LM (only theirs), which is what makes ``lmgnn predict`` inductive. Featureless node
types learnt one embedding per node, so new nodes of those types need a new run.

Every stream walks the sampler batch by batch; only link prediction keeps one matrix in memory:
the target nodes' representations (targets x hidden floats), to rank all of them per source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import torch
from torch import Tensor

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.models import autocast, to_device
from lmgnn.sampler import edge_seeds, vocabularies
from lmgnn.sampler.prefetch import prefetch
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.spec_store import require_spec
from lmgnn.train.config import TrainConfig
from lmgnn.train.data import Target, load_task
from lmgnn.train.full_rank import node_representations as represent
from lmgnn.train.model import EmbeddingCache
from lmgnn.train.runner import Trainer
from lmgnn.train.runs import RunDir
from lmgnn.writeback.batches import EdgeClassBatch, LinkBatch
from lmgnn.writeback.links import existing_targets, rank_links

PREFETCH = 2


class InferenceCache:
    """The run's embedding cache for trained nodes, the run's LM for nodes added since."""

    def __init__(self, base: EmbeddingCache, trained: dict[str, int], lm: Any,
                 texts: dict[str, list[str]]) -> None:
        self.base, self.trained, self.lm, self.texts = base, trained, lm, texts
        self.fresh: dict[str, dict[int, Tensor]] = {}

    @property
    def state(self) -> str | None:
        return self.base.state

    def __contains__(self, label: str) -> bool:
        return label in self.base

    def lookup(self, label: str, n_id: Tensor) -> Tensor:
        ids = n_id.cpu()
        old = ids < self.trained[label]
        if bool(old.all()):
            return self.base.lookup(label, ids)
        out = torch.empty(ids.numel(), self.lm.hidden_size)
        if bool(old.any()):
            out[old] = self.base.lookup(label, ids[old])
        known = self.fresh.setdefault(label, {})
        new = [i for i in ids[~old].tolist() if i not in known]
        if new:
            vectors = self.lm.encode([self.texts[label][i] for i in new])
            known.update(zip(new, vectors, strict=True))
        out[~old] = torch.stack([known[i] for i in ids[~old].tolist()])
        return out


@dataclass
class LoadedRun:
    """A run's model in eval mode, with its sampler and cache, ready to predict."""

    run_id: str
    config: TrainConfig
    spec: GraphSpec
    target: Target
    classes: list[Any]
    trained_counts: dict[str, int]
    counts: dict[str, int]
    trainer: Trainer
    cache: InferenceCache | None

    @property
    def model(self) -> torch.nn.Module:
        return self.trainer.model

    @property
    def device(self) -> torch.device:
        return self.trainer.device

    @property
    def mode(self) -> str:
        return "lm" if self.trainer.model.gnn is None else "gnn"

    def new_nodes(self, label: str) -> Tensor:
        """``_nid``s of ``label`` added after training."""
        return torch.arange(self.trained_counts.get(label, 0), self.counts[label])


def load_run(driver: neo4j.Driver, database: str, runs_root: str | Path, run_id: str, *,
             device: str = "auto") -> LoadedRun:
    """Rebuild a finished run's model from its directory and the graph it was trained on."""
    run = RunDir.open(Path(runs_root), run_id)
    if not (run.path / "summary.json").is_file():
        raise UserError(f"run {run_id} has not finished (no summary.json in {run.path}): "
                        f"finish it with `lmgnn train --resume {run_id}`")
    stored, summary = run.config, run.read_json("summary.json")
    config = TrainConfig.from_dict(stored["train"])
    lm_dir = run.path / "lm"
    config = dataclasses.replace(config, device=device, **(
        {"lm_path": str(lm_dir)} if lm_dir.is_dir() else {}))
    spec = require_spec(driver, database)
    if spec.name != stored.get("graph"):
        raise UserError(f"run {run_id} was trained on graph {stored.get('graph')!r}, but the "
                        f"database holds {spec.name!r}")
    data = load_task(driver, database, spec, config, vocabularies(driver, database, spec))
    trained = {label: int(n) for label, n in stored["counts"].items()}
    classes = list(stored.get("classes") or [])
    _check_featureless(spec, config, trained, data.counts, run_id)
    trainer = Trainer(config, driver, database, Path(runs_root), run, spec,
                      dataclasses.replace(data, counts=trained, classes=classes,
                                          num_classes=len(classes)))
    _load_weights(trainer, run)
    trainer.model.eval()
    trainer.lm.eval()
    cache = None
    if trainer.model.gnn is not None:
        trainer.cache.refresh(trainer.lm, data.texts, summary["embedding_state"])
        cache = InferenceCache(trainer.cache, trained, trainer.lm, data.texts)
    return LoadedRun(run_id, config, spec, data.target, classes, trained, dict(data.counts),
                     trainer, cache)


def _check_featureless(spec: GraphSpec, config: TrainConfig, trained: dict[str, int],
                       now: dict[str, int], run_id: str) -> None:
    for label, node in spec.nodes.items():
        if node.text or now[label] <= trained.get(label, 0):
            continue
        raise UserError(f"{now[label] - trained.get(label, 0)} {label} node(s) were added after "
                        f"run {run_id} was trained; {label} has no text, so the run learnt one "
                        "vector per node and cannot score new ones: train a new run")


def _load_weights(trainer: Trainer, run: RunDir) -> None:
    model = trainer.model
    head = run.load_torch("head.pt")
    if head is None:
        raise UserError(f"run {run.run_id} has no head.pt in {run.path}: it did not finish")
    model.head.load_state_dict(head["state_dict"])
    model.id_embedding.load_state_dict(head.get("id_embedding", {}))
    if model.gnn is not None:
        gnn = run.load_torch("gnn.pt")
        if gnn is None:
            raise UserError(f"run {run.run_id} has no gnn.pt in {run.path}")
        model.gnn.load_state_dict(gnn["state_dict"])


# ---- streams -----------------------------------------------------------------------------------
def node_representations(loaded: LoadedRun, label: str, nids: Tensor, batch_size: int = 512
                         ) -> Iterator[tuple[Tensor, Tensor]]:
    """(nids, representations (B, dim)) per batch: the GNN output, or the LM's for method lm."""
    sampler = loaded.trainer.sampler("gnn" if loaded.mode == "gnn" else "lm")
    return represent(loaded.model, sampler, loaded.cache, loaded.mode, loaded.device, label,
                     nids, batch_size)


@torch.no_grad()
def class_probabilities(loaded: LoadedRun, h: Tensor) -> Tensor:
    """Node-classification probabilities (B, C) from representations."""
    return torch.softmax(loaded.model.head(h.to(loaded.device)).float(), dim=-1).cpu()


@torch.no_grad()
def edge_class_batches(loaded: LoadedRun, batch_size: int = 512) -> Iterator[EdgeClassBatch]:
    """Class probabilities of every stored relationship of the run's edge task."""
    relation = _task_relation(loaded, "edge")
    seeds = edge_seeds(loaded.trainer.driver, loaded.trainer.database, loaded.spec, relation)
    pairs = torch.unique(torch.stack([seeds.src, seeds.dst]), dim=1)  # parallel edges: once
    sampler = loaded.trainer.sampler("gnn" if loaded.mode == "gnn" else "lm")
    chunks = list(torch.split(torch.arange(pairs.size(1)), batch_size))
    src_t, _, dst_t = relation
    model, device = loaded.model, loaded.device

    def sample(c: Tensor) -> Any:
        return sampler.sample_from_edges(relation, pairs[0, c], pairs[1, c])

    for chunk, batch in zip(chunks, prefetch(sample, chunks, PREFETCH), strict=True):
        batch = to_device(batch, device)
        eli = batch[relation].edge_label_index
        with autocast(device):
            if loaded.mode == "gnn":
                h = model.gnn_repr(batch, loaded.cache)
                s, d = h[src_t][eli[0]], h[dst_t][eli[1]]
            else:
                s = model.lm_repr(src_t, batch, eli[0].cpu())
                d = model.lm_repr(dst_t, batch, eli[1].cpu())
            probs = torch.softmax(model.head(s, d).float(), dim=-1).cpu()
        yield EdgeClassBatch(pairs[0, chunk], pairs[1, chunk], probs)


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
    head, device = loaded.model.head, loaded.device

    def score(s: Tensor, d: Tensor) -> Tensor:  # (B, dim), (M, dim) -> (B, M) on the device
        return head.all_pairs(s.to(device), d.to(device), relation)

    nids = torch.arange(loaded.counts[src_t]) if sources is None else sources
    driver, database = loaded.trainer.driver, loaded.trainer.database
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
