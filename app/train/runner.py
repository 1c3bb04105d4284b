"""``train``: one run of method lm / gnn / lmgnn, end to end, resumable.

Stages (each an epoch loop with validation, early stopping and a checkpoint per epoch):

- ``lm``    method lm: the LM (+ head) fine-tuned on the task, texts only.
- ``gnn``   methods gnn and lmgnn (stage 2): GNN + head over cached LM embeddings (frozen LM;
            for lmgnn the stage-1 LM).
- ``lm``    lmgnn stage 1 (``lm`` in ``config.stages``): graph-aware LM fine-tuning.
- ``joint`` lmgnn stage 3: LM + GNN + head; ``lm_grad_nodes`` targets per batch get LM
            gradients, the rest read the cache, re-encoded every ``refresh_every`` epochs.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import torch
from rich.console import Console

from lmgnn.errors import UserError
from lmgnn.models import (
    EdgeClassifier,
    HeteroGNN,
    LinkScorer,
    NodeClassifier,
    TextEncoder,
    hetero_metadata,
    pick_device,
)
from lmgnn.sampler.base import vocabularies
from lmgnn.sampler.csr import snapshot
from lmgnn.sampler.snapshot_backend import SnapshotSampler
from lmgnn.spec import GraphSpec
from lmgnn.spec_store import require_spec
from lmgnn.train import loops
from lmgnn.train.config import TrainConfig
from lmgnn.train.data import TaskData, excluded_relations, load_task, node_batches, pair_batches
from lmgnn.train.full_rank import full_ranking
from lmgnn.train.lm_stage import lm_link_epoch, text_relations
from lmgnn.train.model import EmbeddingCache, TaskModel
from lmgnn.train.runs import RunDir, new_run_id, record_run

console = Console(stderr=True)
PRIMARY = {"node": "acc", "edge": "acc", "link": "mrr"}


@dataclass
class RunResult:
    run_id: str
    path: Path
    valid: dict[str, float]
    test: dict[str, float]
    stages: dict[str, dict[str, float]]


def plan_stages(config: TrainConfig) -> list[str]:
    """Stage names in order: lm -> ["task_lm"], gnn -> ["gnn"], lmgnn -> chosen of lm/gnn/joint."""
    if config.method == "lm":
        return ["task_lm"]
    if config.method == "gnn":
        return ["gnn"]
    chosen = [s for s in ("lm", "gnn", "joint") if s in config.stages]
    if not chosen:
        raise UserError("lmgnn: no stage left to run (stages: lm, gnn, joint)")
    return chosen


def base_state(config: TrainConfig) -> str:
    """Cache id of the un-fine-tuned LM: same LM and text settings -> same vectors, reused."""
    key = f"{config.lm_path or 'packaged-minilm'}|{config.pooling}|{config.max_length}"
    return "base-" + hashlib.sha1(key.encode()).hexdigest()[:12]


class Trainer:
    """Holds the run's parts; ``run`` executes the remaining stages."""

    def __init__(self, config: TrainConfig, driver: neo4j.Driver, database: str,
                 runs_root: Path, run: RunDir, spec: GraphSpec, data: TaskData) -> None:
        self.config, self.driver, self.database = config, driver, database
        self.runs_root, self.run, self.spec, self.data = Path(runs_root), run, spec, data
        self.device = pick_device(config.device)
        torch.manual_seed(config.seed)
        self.exclude = excluded_relations(spec, config.exclude)
        t = data.target
        self.task = loops.TaskSpec(kind=t.kind, label=t.label, relation=t.relation,
                                   num_classes=data.num_classes, loss=config.loss,
                                   negatives=config.negatives,
                                   lm_grad_nodes=config.lm_grad_nodes)
        self.lm = TextEncoder.from_pretrained(config.lm_path, pooling=config.pooling,
                                              max_length=config.max_length).to(self.device)
        lm_dim = self.lm.hidden_size
        text_types = [label for label, n in spec.nodes.items() if n.text]
        self.cache = EmbeddingCache(self.runs_root / ".embeddings", spec, data.counts)
        if config.method == "lm":
            featureless = {label: data.counts[label] for label in spec.nodes
                           if label not in text_types}
            self.model = TaskModel(self.lm, None, self._head(lm_dim), featureless, lm_dim)
        else:
            metadata = hetero_metadata(spec, self.exclude)
            gnn = HeteroGNN(metadata, {label: lm_dim for label in text_types},
                            {label: data.counts[label] for label in spec.nodes
                             if label not in text_types}, hidden=config.hidden,
                            num_layers=config.layers, conv=config.conv, heads=config.heads,
                            dropout=config.dropout)
            lm = self.lm if config.method == "lmgnn" else None
            self.model = TaskModel(lm, gnn, self._head(config.hidden))
        self.model.to(self.device)
        self.lm_scorer = LinkScorer(lm_dim, [r.edge_type for r in spec.relationships])
        self.lm_scorer.to(self.device)
        self._samplers: dict[str, SnapshotSampler] = {}
        self._csr = None

    def _head(self, dim: int) -> torch.nn.Module:
        t = self.data.target
        if t.kind == "node":
            return NodeClassifier(dim, self.data.num_classes, self.config.dropout)
        if t.kind == "edge":
            return EdgeClassifier(dim, self.data.num_classes, self.config.dropout)
        return LinkScorer(dim, [t.relation], self.config.score)

    # ---- batches -------------------------------------------------------------------------
    def sampler(self, kind: str) -> SnapshotSampler:
        """``lm``: no neighbours, texts; ``gnn``: neighbours, no texts; ``joint``: both."""
        if kind not in self._samplers:
            if self._csr is None:
                self._csr = snapshot(self.driver, self.database, self.spec)
            hops = 0 if kind == "lm" else self.config.layers
            fanouts = [self.config.fanout] * hops
            rel_fanouts = {et: [0] * hops for et in self.exclude} if hops else None
            splits = () if self.data.target.kind == "node" else ("valid", "test")
            self._samplers[kind] = SnapshotSampler(
                self.driver, self.database, self.spec, fanouts=fanouts,
                relation_fanouts=rel_fanouts, seed=self.config.seed,
                features="none" if kind == "gnn" else "text", exclude_splits=splits,
                csr=self._csr)
        return self._samplers[kind]

    def batches(self, kind: str, split: str, epoch: int) -> tuple[int, Any]:
        c, d, t = self.config, self.data, self.data.target
        train = split == "train"
        max_steps = c.max_steps_per_epoch if train else None
        batch_size = c.lm_batch_size if kind == "lm" and train else c.batch_size
        if t.kind == "node":
            ids = self._cap(d.nodes[split], train)
            return node_batches(self.sampler(kind), t.label, ids, batch_size, epoch=epoch,
                                shuffle_seed=c.seed if train else None, max_steps=max_steps)
        pairs, labels = d.pairs[split], d.pair_labels.get(split)
        if not train:
            pairs, labels = self._cap_pairs(pairs, labels)
        negatives = c.num_negatives if train else c.eval_negatives
        return pair_batches(self.sampler(kind), t.relation, pairs,
                            labels if t.kind == "edge" else None, batch_size, epoch=epoch,
                            shuffle_seed=c.seed if train else None, negatives=negatives,
                            num_dst=d.counts[t.relation[2]], max_steps=max_steps,
                            neg_seed=c.seed if train else 12345)

    def _eval_keep(self, n: int) -> torch.Tensor | None:
        """Indices of the seeded ``eval_max`` sample of ``n`` evaluation items, the same every
        time (None: keep all)."""
        cap = self.config.eval_max
        if not cap or n <= cap:
            return None
        return torch.randperm(n, generator=torch.Generator().manual_seed(0))[:cap]

    def _cap_pairs(self, pairs: torch.Tensor, labels: torch.Tensor | None
                   ) -> tuple[torch.Tensor, torch.Tensor | None]:
        keep = self._eval_keep(pairs.size(1))
        if keep is None:
            return pairs, labels
        return pairs[:, keep], (labels[keep] if labels is not None else None)

    def _cap(self, ids: torch.Tensor, train: bool) -> torch.Tensor:
        keep = None if train else self._eval_keep(ids.numel())
        return ids if keep is None else ids[keep]

    # ---- stages ----------------------------------------------------------------------------
    def _optimizer(self, stage: str) -> torch.optim.Optimizer:
        c = self.config
        if stage == "lm":
            return torch.optim.AdamW([*self.lm.parameters(), *self.lm_scorer.parameters()],
                                     lr=c.lm_lr)
        if stage == "task_lm":
            lm_params = {id(p) for p in self.lm.parameters()}
            rest = [p for p in self.model.parameters() if id(p) not in lm_params]
            return torch.optim.AdamW([{"params": list(self.lm.parameters()), "lr": c.lm_lr},
                                      {"params": rest, "lr": c.gnn_lr}])
        gnn_params = [*self.model.gnn.parameters(), *self.model.head.parameters()]
        if stage == "gnn":
            return torch.optim.AdamW(gnn_params, lr=c.gnn_lr, weight_decay=1e-4)
        return torch.optim.AdamW([{"params": list(self.lm.parameters()), "lr": c.lm_lr},
                                  {"params": gnn_params, "lr": c.gnn_lr / 3}])

    def _epochs(self, stage: str) -> int:
        c = self.config
        return {"lm": c.stage1_epochs, "joint": c.stage3_epochs}.get(stage, c.epochs)

    def _mode(self, stage: str) -> loops.Mode:
        return {"task_lm": "lm", "gnn": "gnn", "joint": "joint"}[stage]

    def _ensure_cache(self, stage: str, epoch: int) -> int:
        """Make the cache match the LM this stage reads; returns texts encoded (0: reused).

        Stage 3 starts from the stage-2 cache and is re-encoded after every
        ``refresh_every``-th epoch (see ``run_stage``)."""
        if stage == "task_lm" or (stage == "joint" and self.cache.state is not None):
            return 0
        state = f"{self.run.run_id}-lm" if self.lm_tuned else base_state(self.config)
        if state == self.cache.state:
            return 0
        return self._refresh_cache(state)

    def _refresh_cache(self, state: str) -> int:
        """Point the cache at ``state`` (encoding what it lacks) and give the GNN that state's
        input statistics; returns the texts encoded."""
        encoded = self.cache.refresh(self.lm, self.data.texts, state)
        if self.model.gnn is not None:
            self.model.gnn.set_input_stats(self.cache.stats())
        return encoded

    @property
    def lm_tuned(self) -> bool:
        return self.config.method == "lmgnn" and "lm" in self.config.stages

    def run_stage(self, stage: str, start_epoch: int, ckpt: dict[str, Any] | None,
                  stage_index: int, prior: dict[str, Any] | None = None) -> dict[str, Any]:
        """Train one stage with early stopping; the best validated weights are kept.

        ``prior``: for ``joint``, the stage-2 summary row; its model is the one to beat."""
        c, primary = self.config, PRIMARY[self.data.target.kind]
        optimizer = self._optimizer(stage)
        best, best_state, bad = -math.inf, None, 0
        summary: dict[str, Any] = {}
        if ckpt:
            optimizer.load_state_dict(ckpt["optimizer"])
            best, best_state, bad = ckpt["best"], ckpt["best_state"], ckpt["bad_epochs"]
        elif prior and f"valid_{primary}" in prior:
            # joint fine-tuning must beat the stage-2 model on validation to replace it
            best = prior[f"valid_{primary}"]
            best_state = self._snapshot()
            summary = {**prior, "stage": stage, "kept": prior.get("stage")}
        relations = None
        if stage == "lm":
            t = self.data.target
            relations = text_relations(self.driver, self.database, self.spec, self.exclude,
                                       t.relation if t.kind == "link" else None,
                                       self.data.pairs.get("train"))
            if not relations:
                console.print("stage 1 skipped: no relation has text at both ends")
                return {"skipped": 1}
        for epoch in range(start_epoch, self._epochs(stage)):
            t0 = time.perf_counter()
            if stage == "lm":
                stats = lm_link_epoch(self.lm, self.lm_scorer, relations, self.data.texts,
                                      optimizer, c.lm_batch_size, epoch=epoch, seed=c.seed,
                                      device=self.device, max_steps=c.max_steps_per_epoch)
                row = {"stage": stage, "epoch": epoch, "split": "train", **stats.as_dict()}
                self.run.log_metrics(row)
                console.print(_line(row))
                summary = row
                self._checkpoint(stage_index, epoch + 1, optimizer, 0.0, None, 0)
                continue
            encoded = self._ensure_cache(stage, epoch) if epoch == start_epoch else 0
            enc_s = time.perf_counter() - t0
            mode = self._mode(stage)
            kind = {"lm": "lm", "gnn": "gnn", "joint": "joint"}[mode]
            total, stream = self.batches(kind, "train", epoch)
            stats = loops.train_epoch(self.task, self.model, stream, mode, self.cache, optimizer,
                                      self.device, total, f"{stage} epoch {epoch}")
            last = epoch + 1 == self._epochs(stage)
            if mode == "joint" and ((epoch + 1) % c.refresh_every == 0 or last):
                # re-encode with the updated LM: next epoch's inputs and this validation
                t_enc = time.perf_counter()
                encoded += self._refresh_cache(f"{self.run.run_id}-joint-{epoch + 1}")
                enc_s += time.perf_counter() - t_enc
            _, vstream = self.batches(kind if kind != "joint" else "gnn", "valid", epoch)
            valid = loops.evaluate(self.task, self.model, vstream, mode, self.cache, self.device)
            row = {"stage": stage, "epoch": epoch, "split": "valid", **stats.as_dict(),
                   "encode_seconds": round(enc_s, 3), "texts_encoded": encoded,
                   "epoch_seconds": round(time.perf_counter() - t0, 3),
                   **{f"valid_{k}": v for k, v in valid.items()}}
            self.run.log_metrics(row)
            console.print(_line(row))
            score = valid.get(primary, -math.inf)
            if score > best:
                best, bad, best_state, summary = score, 0, self._snapshot(), row
            else:
                bad += 1
            self._checkpoint(stage_index, epoch + 1, optimizer, best, best_state, bad)
            if bad >= c.patience:
                console.print(f"{stage}: early stop after epoch {epoch} "
                              f"(best valid {primary} {best:.4f})")
                break
        if best_state is not None:
            state = dict(best_state)
            cache_state = state.pop("__cache_state__", None)
            self.model.load_state_dict(state)
            if cache_state and cache_state != self.cache.state:  # vectors of the best LM
                self._refresh_cache(cache_state)
        return summary

    def _snapshot(self) -> dict[str, Any]:
        """The model's weights (LM included) and the cache state they read, on CPU."""
        state: dict[str, Any] = {k: v.detach().cpu().clone()
                                 for k, v in self.model.state_dict().items()}
        state["__cache_state__"] = self.cache.state
        return state

    def _checkpoint(self, stage_index: int, next_epoch: int, optimizer, best, best_state,
                    bad) -> None:
        self.run.save_checkpoint({
            "stage_index": stage_index, "next_epoch": next_epoch,
            "model": self.model.state_dict(), "lm": self.lm.state_dict(),
            "lm_scorer": self.lm_scorer.state_dict(), "optimizer": optimizer.state_dict(),
            "best": best, "best_state": best_state, "bad_epochs": bad,
            "cache_state": self.cache.state, "rng": torch.get_rng_state()})

    def run_all(self) -> RunResult:
        stages = plan_stages(self.config)
        ckpt = self.run.checkpoint
        first, start_epoch = 0, 0
        if ckpt:
            self.model.load_state_dict(ckpt["model"])
            self.lm.load_state_dict(ckpt["lm"])
            self.lm_scorer.load_state_dict(ckpt["lm_scorer"])
            torch.set_rng_state(ckpt["rng"])
            first, start_epoch = ckpt["stage_index"], ckpt["next_epoch"]
            if ckpt["cache_state"]:
                self._refresh_cache(ckpt["cache_state"])
            console.print(f"resuming run {self.run.run_id} at stage {stages[first]} "
                          f"epoch {start_epoch}")
        results = self.run.read_json("stages.json") if (self.run.path / "stages.json").exists() \
            else {}
        for i in range(first, len(stages)):
            stage = stages[i]
            results[stage] = self.run_stage(stage, start_epoch if i == first else 0,
                                            ckpt if (ckpt and i == first and start_epoch)
                                            else None, i,
                                            results.get("gnn") if stage == "joint" else None)
            self.run.write_json("stages.json", results)
            # a stage's end is a checkpoint too: resume continues with the next stage
            self.run.save_checkpoint({**(self.run.checkpoint or {}), "stage_index": i + 1,
                                      "next_epoch": 0, "model": self.model.state_dict(),
                                      "lm": self.lm.state_dict(), "cache_state": self.cache.state,
                                      "lm_scorer": self.lm_scorer.state_dict(),
                                      "rng": torch.get_rng_state()})
        return self.finish(results)

    def finish(self, stages: dict[str, Any]) -> RunResult:
        mode = "lm" if self.model.gnn is None else "gnn"
        if self.model.gnn is not None and self.cache.state is None:
            self._ensure_cache("gnn", 0)
        kind = "lm" if mode == "lm" else "gnn"
        results = {}
        for split in ("valid", "test"):
            _, stream = self.batches(kind, split, 0)
            results[split] = loops.evaluate(self.task, self.model, stream, mode, self.cache,
                                            self.device)
            results[split].update(self._full_ranking(kind, split))
            self.run.log_metrics({"stage": "final", "split": split, **results[split]})
        self._save_weights()
        summary = {"run_id": self.run.run_id, "status": "finished", "valid": results["valid"],
                   "test": results["test"], "stages": stages,
                   "embedding_state": self.cache.state}
        self.run.write_json("summary.json", summary)
        record_run(self.driver, self.database, self.run.run_id, {
            "method": self.config.method, "task": self.config.task,
            "target": self.config.target, "status": "finished", "path": str(self.run.path),
            "seed": self.config.seed, "test": results["test"], "valid": results["valid"]})
        return RunResult(self.run.run_id, self.run.path, results["valid"], results["test"],
                         stages)

    def _full_ranking(self, kind: str, split: str) -> dict[str, float]:
        """Filtered full-ranking metrics of a link task's ``split`` (the pairs evaluated above),
        when the target type is small enough (``full_rank_max``)."""
        t, c = self.data.target, self.config
        if t.kind != "link" or not c.full_rank_max or self.data.counts[t.relation[2]] > \
                c.full_rank_max:
            return {}
        pairs = self._cap_pairs(self.data.pairs[split], None)[0]
        known = torch.cat([p for p in self.data.pairs.values() if p.numel()], dim=1)
        return full_ranking(self.model, self.sampler(kind), self.cache, kind, self.device,
                            t.relation, pairs, known, self.data.counts[t.relation[2]],
                            c.batch_size)

    def _save_weights(self) -> None:
        if self.config.method in ("lm", "lmgnn"):
            self.lm.save(self.run.path / "lm")
        if self.model.gnn is not None:
            g = self.model.gnn
            self.run.save_torch("gnn.pt", {"state_dict": g.state_dict(), "init": {
                "metadata": g.metadata, "hidden": g.hidden, "conv": g.conv_kind,
                "num_layers": len(g.convs), "heads": self.config.heads,
                "in_dims": g.in_dims,
                "num_nodes": {t: m.num_embeddings for t, m in g.embedding.items()}}})
        self.run.save_torch("head.pt", {"state_dict": self.model.head.state_dict(),
                                        "kind": type(self.model.head).__name__,
                                        "id_embedding": self.model.id_embedding.state_dict()})


def _line(row: dict[str, Any]) -> str:
    keep = ("stage", "epoch", "loss", "seconds", "seeds_per_s", "texts_per_s", "valid_acc",
            "valid_macro_f1", "valid_mrr", "valid_hits@1", "valid_hits@10")
    return "  ".join(f"{k}={row[k]:.4g}" if isinstance(row[k], float) else f"{k}={row[k]}"
                     for k in keep if k in row)


def train(config: TrainConfig, driver: neo4j.Driver, database: str, runs_root: str | Path,
          *, run_id: str | None = None, resume: str | None = None) -> RunResult:
    """Train one run (or resume run ``resume`` from its last checkpoint)."""
    runs_root = Path(runs_root)
    spec = require_spec(driver, database)
    if resume:
        run = RunDir.open(runs_root, resume)
        stored = run.config
        config = TrainConfig.from_dict(stored["train"])
        if (run.path / "summary.json").exists():
            raise UserError(f"run {resume} already finished; start a new run instead")
    data = load_task(driver, database, spec, config, vocabularies(driver, database, spec))
    if not resume:
        run = RunDir.create(runs_root, run_id or new_run_id(config.method), {
            "train": config.to_dict(), "graph": spec.name, "classes": data.classes,
            "counts": data.counts, "target": {
                "kind": data.target.kind, "label": data.target.label, "prop": data.target.prop,
                "relation": list(data.target.relation) if data.target.relation else None}})
        record_run(driver, database, run.run_id, {
            "method": config.method, "task": config.task, "target": config.target,
            "status": "running", "path": str(run.path), "seed": config.seed})
    trainer = Trainer(config, driver, database, runs_root, run, spec, data)
    return trainer.run_all()
