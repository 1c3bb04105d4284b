"""Stage ``lm_links`` of lmgnn: graph-aware LM fine-tuning.

The LM learns that texts of connected nodes belong together: link prediction between the texts
at both ends of every relation whose two node types have text (query-product, paper-term, ...),
DistMult per relation, contrastive loss with in-batch negatives. Leakage guard: of the task
relation only its train pairs are used, of other relations every edge (a split another run
left there is not this task's), and no relation excluded from the task (e.g. venue edges that
give the label away).
Batches are ``EdgeLoader`` batches of the run's ``text`` sampler: texts arrive per batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch
from torch_geometric.data import HeteroData

from lmgnn.models import LinkScorer, TextEncoder, autocast, in_batch_negative_scores, link_loss
from lmgnn.sampler import EdgeLoader, edge_seeds
from lmgnn.spec import EdgeType
from lmgnn.train import distributed
from lmgnn.train.batches import RunSamplers
from lmgnn.train.budget import Deadline
from lmgnn.train.loops import EpochStats, optimizer_step, progress


def text_relations(samplers: RunSamplers, exclude: list[EdgeType],
                   task_relation: EdgeType | None, task_train_pairs: torch.Tensor | None
                   ) -> dict[EdgeType, torch.Tensor]:
    """(2, E) train-visible edges of every relation with text at both ends."""
    spec = samplers.spec
    out = {}
    for et in spec.edge_types:
        if et in exclude or not (spec.nodes[et[0]].text and spec.nodes[et[2]].text):
            continue
        if et == task_relation and task_train_pairs is not None:
            pairs = task_train_pairs
        else:
            pairs = edge_seeds(samplers.driver, samplers.database, spec, et).pairs
        if pairs.size(1) > 1:
            out[et] = pairs
    return out


class LinkTextBatches:
    """One epoch of stage ``lm_links``: the relations' loaders interleaved at random (seeded),
    at most ``max_steps`` batches in all."""

    def __init__(self, samplers: RunSamplers, relations: dict[EdgeType, torch.Tensor],
                 batch_size: int, seed: int, max_steps: int | None) -> None:
        self.seed, self.max_steps = seed, max_steps
        self.loaders = {et: EdgeLoader(samplers["text"], et, p[0], p[1], batch_size=batch_size,
                                       shuffle=True, seed=seed, rank=distributed.rank(),
                                       world_size=distributed.world_size())
                        for et, p in relations.items()}

    def plan(self, epoch: int) -> list[EdgeType]:
        """The relation of each step of ``epoch``, in order."""
        order = [et for et, loader in self.loaders.items() for _ in range(len(loader))]
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = [order[i] for i in torch.randperm(len(order), generator=g).tolist()]
        return order[:self.max_steps] if self.max_steps else order

    def epoch(self, epoch: int) -> Iterator[tuple[EdgeType, HeteroData]]:
        steps = self.plan(epoch)
        iters = {}
        for et, loader in self.loaders.items():
            loader.set_epoch(epoch)
            if et in steps:
                iters[et] = iter(loader)
        try:
            for et in steps:
                yield et, next(iters[et])
        finally:
            for it in iters.values():
                it.close()


def lm_links_epoch(lm: TextEncoder, scorer: LinkScorer, batches: LinkTextBatches,
                   optimizer: torch.optim.Optimizer, *, epoch: int, device: torch.device,
                   step: distributed.Step | None = None, deadline: Deadline | None = None,
                   on_step: Callable[[], None] | None = None) -> EpochStats:
    """One pass of contrastive text-pair training (``step``: the DDP wrapper of the LM and
    the scorer in a distributed run, ``lmgnn.train.distributed.wrap``)."""
    run = step or distributed.direct
    lm.train()
    stats = EpochStats()
    start = time.perf_counter()
    total = len(batches.plan(epoch))
    with progress("stage lm_links: LM link prediction") as bar:
        job = bar.add_task("lm", total=total, rate="")
        for et, batch in batches.epoch(epoch):
            eli = batch[et].edge_label_index
            if eli.size(1) < 2:
                continue

            def batch_loss(et: EdgeType = et, batch: HeteroData = batch,
                           eli: torch.Tensor = eli) -> tuple[torch.Tensor, int]:
                src_t, _, dst_t = et
                with autocast(device):
                    src_all = lm.embed(list(batch[src_t].text))
                    dst_all = src_all if src_t == dst_t else lm.embed(list(batch[dst_t].text))
                    s, d = src_all[eli[0].to(device)], dst_all[eli[1].to(device)]
                    pos = scorer(s, d, et)
                    neg = in_batch_negative_scores(scorer.all_pairs(s, d, et))
                    loss = link_loss(pos.float(), neg.float(), "contrastive")
                return loss, src_all.size(0) + (0 if src_t == dst_t else dst_all.size(0))

            loss, encoded = run(batch_loss)
            optimizer_step(loss, [*lm.parameters(), *scorer.parameters()], optimizer,
                           "stage lm_links", stats.steps)
            if on_step is not None:
                on_step()
            stats.add(loss, eli.size(1), encoded)
            elapsed = time.perf_counter() - start
            bar.update(job, advance=1, rate=f"{stats.texts / max(elapsed, 1e-9):.1f} texts/s")
            if deadline is not None and deadline.passed():  # --budget: the stage's end
                break
    stats.seconds = time.perf_counter() - start
    return stats
