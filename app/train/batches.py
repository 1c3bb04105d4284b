"""The samplers and loaders of one run: the only road from Neo4j to the models.

Two samplers from ``lmgnn.sampler.make_sampler`` (one backend, chosen once; the snapshot
backend's CSR is taken once and shared):

- ``text``: no neighbours, node texts in the batch (modes ``text``; stage ``lm_links``);
- ``graph``: ``layers`` hops of ``fanout`` neighbours, no texts (modes ``cached``/``joint``:
  inputs come from the vector cache; the few texts that get LM gradients in the joint mode are
  fetched per batch, in the prefetch thread, by ``JointTexts``).

Every batch is made by ``NodeLoader`` / ``EdgeLoader``. Training loaders reshuffle and
resample per epoch (``set_epoch``); evaluation loaders are built once and never change epoch,
so validation sees the same neighbours, negatives and ``eval_max`` sample every time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

import neo4j
import torch
from torch_geometric.data import HeteroData

from lmgnn.sampler import EdgeLoader, NodeLoader, default_backend, make_sampler, snapshot
from lmgnn.sampler.base import NeighbourSampler
from lmgnn.sampler.choose import Backend as SamplerBackend
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.train import distributed
from lmgnn.train.config import Backend, TrainConfig
from lmgnn.train.task import Target, TaskData

Role = Literal["text", "graph"]
Loader = NodeLoader | EdgeLoader
EVAL_SAMPLE_SEED = 0
TEXT_CACHE_ROWS = 20_000


class RunSamplers:
    """The run's two samplers over one backend (see the module docstring).

    Link and edge tasks hold the valid/test relationships of the task relation (only) out of
    message passing. ``inference``: every relationship takes part (no split is held out), as
    a prediction should use everything the graph knows.
    """

    def __init__(self, driver: neo4j.Driver, database: str, spec: GraphSpec,
                 config: TrainConfig, *, exclude: list[EdgeType], target_kind: str,
                 task_relation: EdgeType | list[EdgeType] | None = None,
                 inference: bool = False) -> None:
        self.driver, self.database, self.spec, self.config = driver, database, spec, config
        backend = str(config.sampler)
        self.backend = default_backend(driver, database, spec) if backend == Backend.auto \
            else cast(SamplerBackend, backend)
        csr = snapshot(driver, database, spec, progress=distributed.is_main()) \
            if self.backend == "snapshot" else None
        hops = config.layers
        splits = () if inference or target_kind == "node" else ("valid", "test")
        # several tasks (lmgnn.train.meta) hold out the valid/test edges of each relation
        held = task_relation if isinstance(task_relation, list) else \
            [task_relation] if task_relation else []
        graph = dict(relation_fanouts={et: [0] * hops for et in exclude} or None,
                     seed=config.seed, features="none", exclude_splits=splits,
                     split_relations=held or None, csr=csr)
        eval_fanout = config.eval_fanout if isinstance(config.eval_fanout, int) \
            else config.fanout  # `auto` is resolved by the trainer (lmgnn.train.resolve)
        # inference reads like evaluation: the neighbourhoods the model was validated on
        train_fanout = eval_fanout if inference else config.fanout
        self._samplers: dict[str, NeighbourSampler] = {
            # texts pass through once per batch: a small LRU, not a copy of the graph's texts
            "text": make_sampler(driver, database, spec, backend=self.backend, fanouts=[],
                                 seed=config.seed, features="text", csr=csr,
                                 cache_rows=TEXT_CACHE_ROWS),
            "graph": make_sampler(driver, database, spec, backend=self.backend,
                                  fanouts=[train_fanout] * hops, **graph)}
        self._samplers["eval"] = self._samplers["graph"] if eval_fanout == train_fanout else \
            make_sampler(driver, database, spec, backend=self.backend,
                         fanouts=[eval_fanout] * hops, **graph)

    def __getitem__(self, role: Role) -> NeighbourSampler:
        return self._samplers[role]

    def evaluation(self, role: Role) -> NeighbourSampler:
        """The sampler of validation, test and full ranking: the ``graph`` role with
        ``eval_fanout`` neighbours."""
        return self._samplers["eval" if role == "graph" else role]

    @property
    def counts(self) -> dict[str, int]:
        """Nodes per label (the one node count every part uses)."""
        return self._samplers["graph"].counts

    def node_texts(self, label: str, nids: torch.Tensor) -> list[str]:
        return self._samplers["text"].node_texts(label, nids)


class JointTexts:
    """Loader transform of the joint mode: picks up to ``budget`` target rows per batch (the
    labelled seeds, or the pairs' end nodes) and fetches their texts, as ``batch[t].lm_rows``
    (local indices) and ``batch[t].lm_text``. Seeded, and run in the prefetch thread."""

    def __init__(self, samplers: RunSamplers, target: Target, budget: int, seed: int) -> None:
        self.samplers, self.target, self.budget, self.seed = samplers, target, budget, seed

    def __call__(self, batch: HeteroData) -> HeteroData:
        left = self.budget
        targets = target_rows(batch, self.target)
        # seeded by the batch's own targets: the same picks after a resume
        key = hash(tuple(tuple(batch[t].n_id[r].tolist()[:64]) for t, r in targets.items()))
        gen = torch.Generator().manual_seed((self.seed * 7_919 + key) % (2 ** 62))
        for label, rows in targets.items():
            if left <= 0 or not self.samplers.spec.nodes[label].text:
                continue
            chosen = rows[torch.randperm(rows.numel(), generator=gen)[:left]]
            chosen = torch.sort(chosen).values
            batch[label].lm_rows = chosen
            batch[label].lm_text = self.samplers.node_texts(label, batch[label].n_id[chosen])
            left -= int(chosen.numel())
        return batch


class TaskLabels:
    """Loader transform of node tasks: ``batch[label].y`` from the task's own class ids (the
    target property the run trains on, which need not be the spec's ``target``)."""

    def __init__(self, label: str, y: torch.Tensor) -> None:
        self.label, self.y = label, y

    def __call__(self, batch: HeteroData) -> HeteroData:
        batch[self.label].y = self.y[batch[self.label].n_id]
        return batch


def _chain(*steps: Callable[[HeteroData], HeteroData] | None
           ) -> Callable[[HeteroData], HeteroData] | None:
    todo = [s for s in steps if s is not None]
    if not todo:
        return None

    def run(batch: HeteroData) -> HeteroData:
        for step in todo:
            batch = step(batch)
        return batch
    return run


def target_rows(batch: HeteroData, target: Target) -> dict[str, torch.Tensor]:
    """Local rows whose representations the task's loss reads, per node type."""
    if target.kind == "node":
        bs = int(batch[target.label].batch_size)
        y = batch[target.label].y[:bs]
        return {target.label: torch.arange(bs)[y >= 0]}  # type: ignore[dict-item]
    src_t, _, dst_t = target.relation  # type: ignore[misc]
    eli = batch[target.relation].edge_label_index
    if src_t == dst_t:
        return {src_t: torch.unique(eli.flatten())}
    return {src_t: torch.unique(eli[0]), dst_t: torch.unique(eli[1])}


def eval_sample(n: int, cap: int | None) -> torch.Tensor | None:
    """Positions of the seeded ``eval_max`` sample of ``n`` evaluation items, the same every
    time (None: keep all)."""
    if not cap or n <= cap:
        return None
    return torch.randperm(n, generator=torch.Generator().manual_seed(EVAL_SAMPLE_SEED))[:cap]


class TaskLoaders:
    """Loaders over the task's seeds: one per (role, split), built on first use."""

    def __init__(self, samplers: RunSamplers, data: TaskData, config: TrainConfig) -> None:
        self.samplers, self.data, self.config = samplers, data, config
        self._made: dict[tuple[str, str, bool], Loader] = {}

    def train(self, role: Role, epoch: int, *, joint: bool = False,
              steps: int | None = None) -> Loader:
        """The training loader of ``role`` at ``epoch``; ``steps``: batches per epoch (the
        budget plan's; None: ``max_steps_per_epoch``, else the whole split)."""
        loader = self._get(role, "train", joint)
        loader.set_epoch(epoch)
        loader.max_batches = steps or self.config.max_steps_per_epoch
        return loader

    def evaluate(self, role: Role, split: str) -> Loader:
        return self._get(role, split, False)

    def eval_pairs(self, split: str) -> torch.Tensor:
        """(2, E) the pairs an evaluation of ``split`` visits (its ``eval_max`` sample)."""
        pairs = self.data.pairs[split]
        keep = eval_sample(pairs.size(1), self.config.eval_max)
        return pairs if keep is None else pairs[:, keep]

    def _get(self, role: Role, split: str, joint: bool) -> Loader:
        key = (role, split, joint)
        if key not in self._made:
            self._made[key] = self._make(role, split, joint)
        return self._made[key]

    def _make(self, role: Role, split: str, joint: bool) -> Loader:
        c, d, t = self.config, self.data, self.data.target
        train = split == "train"
        sampler = self.samplers[role] if train else self.samplers.evaluation(role)
        node_labels = TaskLabels(t.label, d.y) if t.kind == "node" else None  # type: ignore[arg-type]
        options = dict(
            batch_size=c.lm_batch_size if role == "text" and train else c.batch_size,
            shuffle=train, seed=c.seed, max_batches=c.max_steps_per_epoch if train else None,
            # distributed: each rank trains on its own disjoint, equally long shard
            rank=distributed.rank() if train else 0,
            world_size=distributed.world_size() if train else 1,
            transform=_chain(node_labels, JointTexts(self.samplers, t, c.lm_grad_nodes, c.seed)
                             if joint else None))
        if t.kind == "node":
            ids = d.nodes[split]
            keep = None if train else eval_sample(ids.numel(), c.eval_max)
            return NodeLoader(sampler, t.label, ids if keep is None else ids[keep],  # type: ignore[arg-type]
                              **options)  # type: ignore[arg-type]
        pairs, labels = d.pairs[split], d.pair_labels.get(split)
        if not train:
            keep = eval_sample(pairs.size(1), c.eval_max)
            if keep is not None:
                pairs, labels = pairs[:, keep], (labels[keep] if labels is not None else None)
        if t.kind == "edge":
            return EdgeLoader(sampler, t.relation, pairs[0], pairs[1], labels,  # type: ignore[arg-type]
                              **options)  # type: ignore[arg-type]
        negatives = str(c.negatives) if train else "uniform"
        return EdgeLoader(sampler, t.relation, pairs[0], pairs[1],  # type: ignore[arg-type]
                          negatives=negatives,  # type: ignore[arg-type]
                          num_negatives=c.num_negatives if train else c.eval_negatives,
                          **options)  # type: ignore[arg-type]

