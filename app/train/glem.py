"""Method glem: variational-EM co-training of the LM and the GNN (Zhao et al., ICLR 2023).

The two models never train together; each teaches the other through pseudo-labels:

- pre-training on the gold labels: GLEM-LM (LM + head, mode ``text``) as method lm, and
  GLEM-GNN (GNN + head, mode ``cached``) as method gnn, over the un-tuned LM's vectors (the
  cache state method gnn reads: nothing to encode when it exists);
- each round (``glem_rounds``; ``glem_start`` picks which step comes first): the E-step trains
  the LM on ``(1 - alpha) CE(gold) + alpha CE(GNN pseudo-labels)``; the M-step trains the GNN,
  over the vectors of the current LM, on ``(1 - beta) CE(gold) + beta CE(LM pseudo-labels)``.

Pseudo-labels cover the target nodes outside the training split (valid, test, unlabelled: the
transductive setting of the paper) and live in the run's cache (``lmgnn.train.pseudo_labels``).
Every step is a ``stages.run_supervised`` stage (``lm_task`` or ``gnn``: its optimiser, early
stopping, a checkpoint per epoch) over a ``NodeLoader`` whose transform adds the targets.
LM work per round: its training steps and one encoding of the text nodes into a new vector
cache state (the LM changed); the LM's pseudo-labels and its per-round metrics are its head on
those cached vectors, so no text is encoded twice (the pre-trained LM's predictions encode
only the nodes asked for). The one checkpoint format carries the model
not being trained (``Checkpoint.extra``), so a run resumes at any step and epoch.

Files: the run's model (``model.json``, ``lm/``, ...) is GLEM-GNN, the default of writeback and
predict; ``glem_lm/`` holds GLEM-LM (``lmgnn writeback --glem-model lm``), sharing ``lm/``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import torch
from rich.console import Console
from torch import Tensor

from lmgnn.errors import UserError
from lmgnn.models import classification_metrics
from lmgnn.sampler import EdgeLoader, NodeLoader
from lmgnn.spec import EdgeType
from lmgnn.train import distributed, loops, planning, stages
from lmgnn.train.batches import Role, TaskLoaders, eval_sample
from lmgnn.train.budget import NO_DEADLINE, Deadline, StageWork
from lmgnn.train.checkpoint import Checkpoint
from lmgnn.train.config import GlemLabels, GlemStart, Method, TrainConfig
from lmgnn.train.full_rank import node_representations
from lmgnn.train.model import build_model, model_shape
from lmgnn.train.parts import RunParts
from lmgnn.train.pseudo_labels import PseudoLabels, PseudoTargets
from lmgnn.train.runs import RunDir, record_run
from lmgnn.train.splits import SPLITS

console = Console(stderr=True, quiet=not distributed.is_main())  # rank 0 speaks
LM_DIR = "glem_lm"  # GLEM-LM's model files inside the run dir
EPOCH_STRIDE = 1000  # loader epochs of step i start at i * EPOCH_STRIDE: new batches per step

Kind = Literal["lm", "gnn"]
Loader = NodeLoader | EdgeLoader


@dataclass(frozen=True)
class Step:
    index: int
    model: Kind
    round: int  # 0: pre-training on gold labels

    @property
    def name(self) -> str:
        return f"glem_{self.model}_r{self.round}"


def plan(config: TrainConfig) -> list[Step]:
    """lm pre-training, gnn pre-training, then per round E and M (or M and E)."""
    steps = [Step(0, "lm", 0), Step(1, "gnn", 0)]
    order: tuple[Kind, Kind] = ("lm", "gnn") if config.glem_start is GlemStart.lm \
        else ("gnn", "lm")
    for r in range(1, config.glem_rounds + 1):
        for kind in order:
            steps.append(Step(len(steps), kind, r))
    return steps


def _last(steps: list[Step], before: int, kind: Kind) -> Step | None:
    return next((s for s in reversed(steps[:before]) if s.model == kind), None)


@dataclass
class GlemParts(RunParts):
    """A step's view of the run: the model it trains, its loaders and epochs, and the vector
    state the GNN reads (which ``stages`` would otherwise take from the method)."""

    inputs: str | None = None

    def gnn_input_state(self) -> str:
        assert self.inputs is not None  # a GNN step reads the latest LM's vectors
        return self.inputs


class StepLoaders(TaskLoaders):
    """The run's evaluation loaders, and this step's training loader (None: the gold-label
    loaders of pre-training), its epochs offset so that every step sees new batches."""

    def __init__(self, base: TaskLoaders, step: Step, loader: Loader | None) -> None:
        super().__init__(base.samplers, base.data, base.config)
        self._made = base._made  # evaluation batches built once for the whole run
        self.step, self.loader = step, loader

    def train(self, role: Role, epoch: int, **options: Any) -> Loader:
        e = self.step.index * EPOCH_STRIDE + epoch
        if self.loader is None:
            return super().train(role, e, **options)
        self.loader.set_epoch(e)
        self.loader.max_batches = options.get("steps") or self.config.max_steps_per_epoch
        return self.loader


class Glem:
    """The run's two models and what a step needs: plan, pseudo-label stores, metrics.

    The *items* classified are the target's nodes (item = ``_nid``) or, for an edge task,
    the task relation's labelled edges (item = position in ``pairs``: train, valid, test
    pairs in turn); GLEM-LM classifies an edge from its two end nodes' texts, as method lm
    does. Pseudo-labels go to the items outside the training split."""

    def __init__(self, parts: RunParts) -> None:
        c, t, d = parts.config, parts.data.target, parts.data
        if t.kind not in ("node", "edge"):
            raise UserError("glem: node or edge classification only (--task node|edge)")
        ends = [str(t.label)] if t.kind == "node" else [t.relation[0], t.relation[2]]  # type: ignore[index]
        for end in ends:
            if not parts.spec.nodes[end].text:
                raise UserError(f"glem: {end} has no text properties, so GLEM-LM has no text "
                                "to classify from; use --method gnn")
        self.parts, self.steps, self.kind = parts, plan(c), t.kind
        self.relation: EdgeType | None = t.relation if t.kind == "edge" else None
        # node: the items' label; edge: the relation's type (the pseudo-label store's key)
        self.label = str(t.label) if t.kind == "node" else t.relation[1]  # type: ignore[index]
        lm_config = dataclasses.replace(c, method=Method.lm)
        self.lm_shape = model_shape(parts.spec, lm_config, parts.counts, t,
                                    parts.data.num_classes, parts.lm.hidden_size, parts.exclude)
        self.lm_shape.id_embedding = {}  # the task reads only text types' rows
        self.lm_model = build_model(self.lm_shape, parts.lm).to(parts.device)
        self.gnn_model = parts.model  # holds the same LM (unused by the GNN): lm.* in each
        assert self.gnn_model.gnn is not None  # checkpoint, whichever model trains
        if t.kind == "node":
            assert d.y is not None  # a node task has its labels
            y, self.items = d.y, {s: d.nodes[s] for s in SPLITS}
        else:
            self.pairs = torch.cat([d.pairs[s] for s in SPLITS], dim=1)
            y = torch.cat([d.pair_labels[s] for s in SPLITS])
            sizes = [d.pairs[s].size(1) for s in SPLITS]
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            self.items = {s: torch.arange(a, a + n) for s, a, n in zip(SPLITS, starts, sizes,
                                                                       strict=True)}
        n = self.n_items = int(y.numel())
        train = torch.zeros(n, dtype=torch.bool)
        train[self.items["train"]] = True
        self.valid = torch.zeros(n, dtype=torch.bool)
        self.valid[self.items["valid"]] = True
        self.y, self.y_train = y, torch.where(train, y, torch.full_like(y, -1))
        self.others = torch.nonzero(~train).flatten()  # the items that get pseudo-labels
        self.history: list[dict[str, Any]] = []
        self.deadlines: dict[int, Deadline] = {}  # --budget: per step still to run
        parts.checkpoint_extra = self.extra

    # ---- checkpoint ----------------------------------------------------------------------
    def extra(self) -> dict[str, Any]:
        """Both models' non-LM weights (the LM is in the checkpoint's ``model``) and the rows
        of the finished steps."""
        return {"lm_head": self.lm_model.weights(), "gnn": self.gnn_model.weights(),
                "history": self.history}

    def restore(self, ckpt: Checkpoint) -> None:
        if not ckpt.extra:
            raise UserError(f"{self.parts.run.path}: the checkpoint is not a glem one")
        self.parts.lm.load_state_dict({k[3:]: v for k, v in ckpt.model.items()
                                       if k.startswith("lm.")})
        self.lm_model.load_state_dict(ckpt.extra["lm_head"], strict=False)
        self.gnn_model.load_state_dict(ckpt.extra["gnn"], strict=False)
        self.history = list(ckpt.extra.get("history", []))
        ckpt.restore_rng()

    # ---- states --------------------------------------------------------------------------
    def lm_state(self, index: int) -> str:
        """Vector-cache state the GNN reads at step ``index``: the vectors of the latest
        E-step's LM, or before the first one the un-tuned LM's (method gnn's, shared with
        it: GLEM-GNN's pre-training is method gnn, and costs no encoding of its own)."""
        s = self._e_step(index)
        return self.parts.gnn_input_state() if s is None else \
            f"{self.parts.run.run_id}-glem-lm{s.index}"

    def _e_step(self, index: int) -> Step | None:
        return next((s for s in reversed(self.steps[:index]) if s.model == "lm" and s.round),
                    None)

    def pseudo(self, step: Step) -> PseudoLabels | None:
        """The other model's pseudo-labels this step trains on (None: pre-training). Opened
        on rank 0 first (it creates the files), then on the other ranks."""
        if step.round == 0:
            return None
        source = _last(self.steps, step.index, "gnn" if step.model == "lm" else "lm")
        assert source is not None  # both models are pre-trained before round 1
        return distributed.main_first(lambda: PseudoLabels(
            self.parts.run.path, f"{source.model}-{source.index}", self.label,
            self.n_items, self.parts.data.num_classes))

    def prepare(self, step: Step) -> tuple[int, PseudoLabels | None]:
        """Point the cache at the latest LM's vectors and fill the pseudo-labels this step
        reads (both only what is missing: a resume redoes nothing); returns texts encoded.

        Distributed: like the vector cache, each rank predicts its own slice of the nodes
        (the LM or GNN inference splits N ways), then every rank reopens the store."""
        parts, encoded = self.parts, 0
        state = self.lm_state(step.index)
        if state != parts.cache.state:
            encoded = parts.refresh_cache(state)
        labels = self.pseudo(step)
        if labels is not None:
            labels.fill(distributed.shard(self.others),
                        (lambda ids: self.lm_probs(ids, step.index))
                        if step.model == "gnn" else self.gnn_probs)
            if distributed.active():
                distributed.barrier()
                labels = self.pseudo(step)  # the other ranks' rows, a fresh view
        return encoded, labels

    # ---- predictions ---------------------------------------------------------------------
    def _logits(self, model: Any, reps: Any, items: Tensor) -> Tensor:
        """``model``'s head on the representations ``reps(label, nids)`` of the ``items``:
        a node's own, or an edge's two ends' (each end node once)."""
        if self.relation is None:
            return model.head(reps(self.label, items)).float()
        src_t, _, dst_t = self.relation
        pairs = self.pairs[:, items]
        ends = []
        for label, nids in ((src_t, pairs[0]), (dst_t, pairs[1])):
            uniq, where = torch.unique(nids, return_inverse=True)
            ends.append(reps(label, uniq)[where.to(self.parts.device)])
        return model.head(ends[0], ends[1]).float()

    def _through(self, model: Any, role: Role, cache: Any, batch_size: int) -> Any:
        """``reps(label, nids)`` computed by ``model`` over the ``role`` sampler's batches."""
        p = self.parts

        def reps(label: str, nids: Tensor) -> Tensor:
            hs = [h for _, h in node_representations(model, p.samplers[role], cache, p.device,
                                                     label, nids, batch_size)]
            return torch.cat(hs).to(p.device) if hs else \
                torch.empty(0, p.lm.hidden_size, device=p.device)
        return reps

    @torch.no_grad()
    def lm_probs(self, items: Tensor, index: int) -> Iterator[tuple[Tensor, Tensor]]:
        """GLEM-LM's class probabilities at step ``index`` (its weights of the latest LM step
        before it): its head on the cached vectors of those weights (the pooled vectors its
        text mode computes) where the cache holds them, else through the LM (the pre-trained
        LM's vectors are never cached: only the nodes asked for are encoded)."""
        self.lm_model.eval()
        p, e_step = self.parts, self._e_step(index)
        cached = not (e_step is None or _last(self.steps, index, "lm") != e_step or
                      p.cache.state != self.lm_state(index))
        reps = (lambda label, nids: p.cache.lookup(label, nids).to(p.device)) if cached \
            else self._through(self.lm_model, "text", None, 256)
        for lo in range(0, items.numel(), 4096):
            ids = items[lo:lo + 4096]
            yield ids, torch.softmax(self._logits(self.lm_model, reps, ids), dim=-1).cpu()

    @torch.no_grad()
    def gnn_probs(self, items: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
        p = self.parts
        self.gnn_model.eval()
        reps = self._through(self.gnn_model, "graph", p.cache, p.config.batch_size)
        for lo in range(0, items.numel(), 4096):
            ids = items[lo:lo + 4096]
            yield ids, torch.softmax(self._logits(self.gnn_model, reps, ids), dim=-1).cpu()

    def metrics(self, kind: Kind, index: int) -> dict[str, float]:
        """Valid and test metrics of one model at step ``index`` on the run's fixed
        evaluation sample."""
        p, out = self.parts, {}
        for split in ("valid", "test"):
            if kind == "gnn":
                m = loops.evaluate(p.task, self.gnn_model, p.loaders.evaluate("graph", split),
                                   p.cache, p.device)
            else:  # the evaluation loaders' eval_max sample
                ids = self.items[split]
                keep = eval_sample(ids.numel(), p.config.eval_max)
                ids = ids if keep is None else ids[keep]
                probs = [pr for _, pr in self.lm_probs(ids, index)]
                logits = torch.cat(probs).clamp_min(1e-12).log() if probs else \
                    torch.empty(0, p.data.num_classes)
                m = {**classification_metrics(logits, self.y[ids], p.data.num_classes),
                     "count": int(ids.numel())}
            out.update({f"{split}_{k}": v for k, v in m.items()})
        return out

    # ---- one step ------------------------------------------------------------------------
    def loader(self, step: Step, labels: PseudoLabels | None) -> tuple[Loader | None,
                                                                       dict[str, float]]:
        """The step's training loader: gold training nodes plus the confident pseudo-labelled
        ones (pre-training: None, the run's gold loaders)."""
        if labels is None:
            return None, {}
        c, p = self.parts.config, self.parts
        chosen, stats = labels.confident(self.others, c.glem_threshold, self.y, self.valid)
        seeds = torch.cat([self.items["train"], chosen])
        weight = c.glem_alpha if step.model == "lm" else c.glem_beta
        transform = PseudoTargets(self.label, self.y_train, labels, weight, c.glem_threshold,
                                  c.glem_labels is GlemLabels.soft, p.data.num_classes,
                                  relation=self.relation)
        text = step.model == "lm"
        sampler = p.samplers["text" if text else "graph"]
        options: dict[str, Any] = dict(
            batch_size=c.lm_batch_size if text else c.batch_size, shuffle=True, seed=c.seed,
            max_batches=c.max_steps_per_epoch, rank=distributed.rank(),
            world_size=distributed.world_size(), transform=transform)
        if self.relation is None:
            return NodeLoader(sampler, self.label, seeds, **options), stats
        # an edge's label in the batch is its item id: the transform turns it into the target
        return EdgeLoader(sampler, self.relation, self.pairs[0, seeds], self.pairs[1, seeds],
                          seeds, **options), stats

    def epochs(self, step: Step) -> int:
        c = self.parts.config
        if step.round == 0:  # pre-training: the epochs of methods lm and gnn
            return c.epochs if step.model == "gnn" or c.lm_epochs is None else c.lm_epochs
        return c.glem_lm_epochs if step.model == "lm" else c.glem_gnn_epochs

    def view(self, step: Step, loader: Loader | None) -> GlemParts:
        """The step as a stage of its own: its epochs, model, loaders and deadline (the
        plan's steps per epoch apply to it through ``parts.plan``, as to any stage)."""
        c, p = self.parts.config, self.parts
        epochs = self.epochs(step)
        stage = "lm_task" if step.model == "lm" else "gnn"
        base = {f.name: getattr(p, f.name) for f in dataclasses.fields(RunParts)}
        base.update(config=dataclasses.replace(c, epochs=epochs, lm_epochs=epochs),
                    model=self.lm_model if step.model == "lm" else self.gnn_model,
                    loaders=StepLoaders(p.loaders, step, loader),
                    deadlines={stage: self.deadlines.get(step.index, NO_DEADLINE)})
        return GlemParts(**base, inputs=self.lm_state(step.index))

    # ---- --budget ------------------------------------------------------------------------
    def work(self) -> list[StageWork]:
        """GLEM's work for the one planner (``lmgnn.train.budget``): every LM step as one
        ``lm_task`` stage (the epochs of pre-training and of each E-step, whose epoch covers
        the gold and up to every other target node: an epoch's steps are planned as an
        E-step's; a full cache encode after each E-step) and every GNN step as one ``gnn``
        stage (plus the un-tuned LM's encode when its vectors are not cached yet)."""
        p, c = self.parts, self.parts.config
        lm, gnn = planning.stage_work(p, "lm_task"), planning.stage_work(p, "gnn")

        def steps(batch_size: int) -> int:
            n = math.ceil(self.n_items / batch_size)
            return min(n, c.max_steps_per_epoch) if c.max_steps_per_epoch else n
        return [dataclasses.replace(lm, epochs=sum(self.epochs(s) for s in self.steps
                                                   if s.model == "lm"),
                                    steps_per_epoch=steps(c.lm_batch_size),
                                    encodes=c.glem_rounds),
                dataclasses.replace(gnn, epochs=sum(self.epochs(s) for s in self.steps
                                                    if s.model == "gnn"),
                                    steps_per_epoch=steps(c.batch_size),
                                    encodes=0 if self._base_cached() else 1)]

    def _base_cached(self) -> bool:
        """Whether the vectors GLEM-GNN's pre-training reads (the un-tuned LM's) exist."""
        return self.parts.cache.has(self.lm_state(1))

    def plan_budget(self, first: int, fresh: bool) -> None:
        """``--budget``: the run's plan (made once, saved; a resume reads it) and a deadline
        per step left, from ``first``: the LM stage's time shared over the LM steps by their
        epochs (an E-step adds its encode), the gnn stage's over the GNN steps; cumulative
        in step order, so time one step leaves goes to the next."""
        p = self.parts
        p.plan = plan = planning.make_plan(p, ["lm_task", "gnn"],
                                           time.monotonic() - p.started, self.work())
        if plan is None:
            return
        if "lm_task" in plan.skipped:
            raise UserError(f"glem: --budget {p.config.budget} min is too small: "
                            f"{plan.skipped['lm_task']}; raise --budget or use --method gnn")
        lm, gnn = plan.stage("lm_task"), plan.stage("gnn")
        assert lm is not None and gnn is not None  # both planned (gnn is never skipped)
        rounds, base_encode = p.config.glem_rounds, 0.0 if self._base_cached() \
            else plan.encode_s  # GLEM-GNN's pre-training encodes first
        lm_epoch_s = max(lm.limit - rounds * plan.encode_s, 0.0) / max(lm.epochs, 1)
        gnn_epoch_s = max(gnn.limit - base_encode, 0.0) / max(gnn.epochs, 1)
        if fresh:
            planning.announce(plan)
            console.print(f"  glem: lm_task is LM pre-training + {rounds} E-steps (each "
                          f"encodes the texts once), gnn is GNN pre-training + {rounds} "
                          "M-steps; each step stops at its share's deadline", markup=False)
        now, total = time.monotonic(), 0.0
        for s in self.steps[first:]:
            total += self.epochs(s) * (lm_epoch_s if s.model == "lm" else gnn_epoch_s)
            total += plan.encode_s if s.model == "lm" and s.round else 0.0
            total += base_encode if s.model == "gnn" and s.round == 0 else 0.0
            self.deadlines[s.index] = Deadline(now + total)

    def run_step(self, step: Step, start_epoch: int, ckpt: Checkpoint | None) -> None:
        t0 = time.perf_counter()
        encoded, labels = self.prepare(step)
        loader, stats = self.loader(step, labels)
        view = self.view(step, loader)
        stage = "lm_task" if step.model == "lm" else "gnn"
        console.print(f"{step.name}: {stage} on gold" + (
            f" + {stats['pseudo_labels']} pseudo-labels" if labels is not None else ""))
        best = stages.run_supervised(view, stage, start_epoch, step.index, ckpt)
        if step.model == "lm" and step.round:  # the next GNN step reads the new LM's vectors
            t_enc = time.perf_counter()
            encoded += self.parts.refresh_cache(self.lm_state(step.index + 1))
            stats["encode_seconds"] = round(time.perf_counter() - t_enc, 3)
        row = {"stage": "glem", "step": step.index, "round": step.round, "model": step.model,
               "epochs": best.get("epoch", -1) + 1 if best else 0, **stats,
               "texts_encoded": encoded,  # rank 0 evaluates, every rank gets the numbers
               **distributed.on_main(lambda: self.metrics(step.model, step.index + 1)),
               "seconds": round(time.perf_counter() - t0, 3)}
        self.parts.run.log_metrics(row)
        console.print(stages.line(row) + f"  valid_acc={row.get('valid_acc', math.nan):.4f}"
                      f"  test_acc={row.get('test_acc', math.nan):.4f}")
        self.history.append(row)
        stages.checkpoint(self.parts, step.index + 1, 0)  # a step's end: resume at the next

    # ---- the run -------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Every step left (resuming at the checkpoint's step and epoch), then GLEM-LM's files
        and the per-round record; the run's final evaluation and files are GLEM-GNN's."""
        p = self.parts
        ckpt = Checkpoint.load(p.run)
        first, start = 0, 0
        if ckpt is not None:
            self.restore(ckpt)
            first, start = ckpt.stage_index, ckpt.next_epoch
            if ckpt.cache_state:
                p.refresh_cache(ckpt.cache_state)
            where = self.steps[first].name if first < len(self.steps) else "final evaluation"
            console.print(f"resuming run {p.run.run_id} at {where} epoch {start}")
        self.plan_budget(first, fresh=ckpt is None)
        for step in self.steps[first:]:
            resumed = ckpt if (ckpt is not None and step.index == first and start) else None
            self.run_step(step, start if step.index == first else 0, resumed)
        last_gnn = _last(self.steps, len(self.steps), "gnn")
        assert last_gnn is not None
        gnn_state = self.lm_state(last_gnn.index)
        if gnn_state != p.cache.state:  # the last step was an E-step: the GNN's own vectors
            p.refresh_cache(gnn_state)
        for s in self.steps:  # earlier E-steps' vectors: read by nothing any more
            if s.model == "lm" and s.round and self.lm_state(s.index + 1) != gnn_state:
                p.cache.drop(self.lm_state(s.index + 1))
        self.save_lm()
        rounds = self.per_round()
        record_run(p.driver, p.database, p.run.run_id, {"glem": rounds})
        return {"glem": {"rounds": rounds, "steps": self.history}}

    def per_round(self) -> dict[str, list[float]]:
        """Per model, valid and test accuracy after each round (index 0: pre-trained)."""
        out: dict[str, list[float]] = {}
        for kind in ("lm", "gnn"):
            rows = [r for r in self.history if r["model"] == kind]
            for split in ("valid", "test"):
                out[f"{kind}_{split}_acc"] = [round(r.get(f"{split}_acc", math.nan), 4)
                                              for r in rows]
        return out

    def save_lm(self) -> None:
        """GLEM-LM as a model of its own in ``glem_lm/`` (config with method lm), reading the
        run's ``lm/`` (written by the final save), loadable by ``load_model``."""
        p = self.parts
        sub = RunDir(p.run.path / LM_DIR)
        sub.path.mkdir(parents=True, exist_ok=True)
        config = dict(p.run.config)
        config["train"] = {**config["train"], "method": "lm"}
        sub.write_json("config.json", config)
        sub.save_torch("model.pt", self.lm_model.weights())
        c = p.config
        sub.write_json("model.json", {
            "shape": self.lm_shape.to_dict(),
            "lm": {"dir": "../lm", "path": c.lm_path, "pooling": str(c.pooling),
                   "max_length": c.max_length},
            "target": p.data.target.to_dict(), "classes": p.data.classes,
            "counts": p.counts, "embedding_state": None})


def run_glem(parts: RunParts) -> dict[str, Any]:
    """The GLEM steps of a run (``lmgnn.train.runner`` then evaluates and saves GLEM-GNN)."""
    return Glem(parts).run()
