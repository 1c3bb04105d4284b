"""What every stage of a run works on, built once: ``RunParts``.

The samplers and loaders (the data path), the LM, the task model, stage lm_links' relation
scorer, the vector cache and the run directory. Stages (``lmgnn.train.stages``) only read and
update these; they build nothing that reads the graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import neo4j
import torch

from lmgnn.models import LinkScorer, TextEncoder, pick_device
from lmgnn.models.text_encoder import Pooling
from lmgnn.sampler.features import feature_stats
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.train import distributed, loops
from lmgnn.train.batches import RunSamplers, TaskLoaders
from lmgnn.train.budget import Deadline, Plan
from lmgnn.train.cache import VectorCache, base_state
from lmgnn.train.config import Method, TrainConfig
from lmgnn.train.lm_links import text_relations
from lmgnn.train.model import ModelShape, TaskModel, build_model, model_shape
from lmgnn.train.runs import RunDir
from lmgnn.train.task import TaskData


@dataclass
class RunParts:
    config: TrainConfig
    driver: neo4j.Driver
    database: str
    spec: GraphSpec
    run: RunDir
    data: TaskData
    samplers: RunSamplers
    loaders: TaskLoaders
    exclude: list[EdgeType]
    lm: TextEncoder
    shape: ModelShape
    model: TaskModel
    lm_scorer: LinkScorer
    cache: VectorCache
    task: loops.TaskSpec
    device: torch.device
    graph_version: str
    plan: Plan | None = None  # --budget's plan (lmgnn.train.planning)
    stage_names: list[str] | None = None  # the stages this run runs, in order (the runner's)
    started: float = field(default_factory=time.monotonic)  # --budget counts from here
    deadlines: dict[str, Deadline] = field(default_factory=dict)  # per stage still to run
    _link_pairs: dict[EdgeType, torch.Tensor] | None = None

    def link_pairs(self) -> dict[EdgeType, torch.Tensor]:
        """(2, E) train-visible pairs of every relation with text at both ends: stage
        lm_links' data (read once: the planner counts them too)."""
        if self._link_pairs is None:
            t = self.data.target
            self._link_pairs = text_relations(self.samplers, self.exclude,
                                              t.relation if t.kind == "link" else None,
                                              self.data.pairs.get("train"))
        return self._link_pairs
    # what a method adds to every checkpoint (lmgnn.train.glem: the model not being trained)
    checkpoint_extra: Callable[[], dict[str, Any]] | None = None

    @property
    def counts(self) -> dict[str, int]:
        return self.samplers.counts

    @property
    def lm_tuned(self) -> bool:
        """Whether an LM stage (lm_task, lm_links) changes the LM before the GNN reads it:
        of the stages the run really runs (``stage_names``, once the runner set them)."""
        if self.config.method is not Method.lmgnn:
            return False
        names = self.stage_names if self.stage_names is not None else \
            [str(s) for s in self.config.lmgnn_stages]
        return bool({"lm_task", "lm_links"} & set(names))

    def gnn_input_state(self) -> str:
        """The vector-cache state the gnn stage reads."""
        return f"{self.run.run_id}-lm" if self.lm_tuned else base_state(self.config,
                                                                        self.graph_version)

    def refresh_cache(self, state: str, *, fresh: bool = False) -> int:
        """Point the cache at ``state`` (encoding what it lacks, texts through the sampler)
        and give the GNN that state's input statistics; returns the texts encoded.

        ``fresh``: a new encoding by the current LM; vectors a crashed earlier attempt left
        under that name (possibly from other weights) are dropped first."""
        if fresh:
            self.cache.drop(state)
        encoded = self.cache.refresh(self.lm, self.samplers.node_texts, state)
        if self.model.gnn is not None:
            self.model.gnn.set_input_stats(self.cache.stats())
        return encoded


def build_parts(config: TrainConfig, driver: neo4j.Driver, database: str, spec: GraphSpec,
                run: RunDir, data: TaskData, samplers: RunSamplers, exclude: list[EdgeType],
                runs_root: Path, graph_version: str) -> RunParts:
    """Fresh modules (seeded by ``config.seed``) over the run's data path."""
    device = distributed.device_for(pick_device(config.device))  # cuda:LOCAL_RANK under torchrun
    torch.manual_seed(config.seed)  # training owns the RNG; inference never reseeds
    lm = TextEncoder.from_pretrained(config.lm_path, pooling=cast(Pooling, str(config.pooling)),
                                     max_length=config.tokens).to(device)
    shape = model_shape(spec, config, samplers.counts, data.target, data.num_classes,
                        lm.hidden_size, exclude)
    model = build_model(shape, lm).to(device)
    if model.gnn is not None:
        model.gnn.set_feature_stats(feature_stats(driver, database, spec))
    lm_scorer = LinkScorer(lm.hidden_size, spec.edge_types).to(device)
    t = data.target
    task = loops.TaskSpec(kind=t.kind, label=t.label, relation=t.relation,  # type: ignore[arg-type]
                          num_classes=data.num_classes, loss=str(config.loss),
                          negatives=str(config.negatives))
    return RunParts(config, driver, database, spec, run, data, samplers,
                    TaskLoaders(samplers, data, config), exclude, lm, shape, model, lm_scorer,
                    VectorCache(runs_root / ".embeddings", spec, samplers.counts), task, device,
                    graph_version)
