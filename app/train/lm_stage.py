"""Stage 1 of lmgnn: graph-aware LM fine-tuning.

The LM learns that texts of connected nodes belong together: link prediction between the texts
at both ends of every relation whose two node types have text (query-product, paper-term, ...),
DistMult per relation, contrastive loss with in-batch negatives. Only train-split edges of the
task relation are used, and no relation excluded from the task (e.g. venue edges that give the
label away).
"""

from __future__ import annotations

import time

import neo4j
import torch

from lmgnn import cypher_files as cypher
from lmgnn.models import LinkScorer, TextEncoder, autocast, in_batch_negative_scores, link_loss
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.train.loops import EpochStats, optimizer_step, progress
from lmgnn.train.splits import SPLIT_PROP


def text_relations(driver: neo4j.Driver, database: str, spec: GraphSpec,
                   exclude: list[EdgeType], task_relation: EdgeType | None,
                   task_train_pairs: torch.Tensor | None) -> dict[EdgeType, torch.Tensor]:
    """(2, E) train-visible edges of every relation with text at both ends."""
    out = {}
    for rel in spec.relationships:
        et = rel.edge_type
        if et in exclude or not (spec.nodes[et[0]].text and spec.nodes[et[2]].text):
            continue
        if et == task_relation and task_train_pairs is not None:
            out[et] = task_train_pairs
            continue
        rows = driver.execute_query(
            cypher.render("train/edge_splits", src=et[0], rel=et[1], dst=et[2],
                          prop=rel.split or SPLIT_PROP), database_=database, routing_="r")[0]
        pairs = [(r["src"], r["dst"]) for r in rows if r["split"] in (None, "train")]
        if pairs:
            out[et] = torch.tensor(pairs, dtype=torch.long).T.contiguous()
    return out


def lm_link_epoch(lm: TextEncoder, scorer: LinkScorer, relations: dict[EdgeType, torch.Tensor],
                  texts: dict[str, list[str]], optimizer: torch.optim.Optimizer,
                  batch_size: int, *, epoch: int, seed: int, device: torch.device,
                  max_steps: int | None = None) -> EpochStats:
    """One pass of contrastive text-pair training, relations interleaved round-robin."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    plans = []
    for et, pairs in relations.items():
        order = torch.randperm(pairs.size(1), generator=g)
        plans += [(et, pairs[:, c]) for c in torch.split(order, batch_size) if c.numel() > 1]
    plans = [plans[i] for i in torch.randperm(len(plans), generator=g).tolist()]
    if max_steps:
        plans = plans[:max_steps]
    lm.train()
    stats = EpochStats()
    start = time.perf_counter()
    with progress("stage 1: LM link prediction") as bar:
        job = bar.add_task("lm", total=len(plans), rate="")
        for et, pairs in plans:
            src_text = [texts[et[0]][i] for i in pairs[0].tolist()]
            dst_text = [texts[et[2]][i] for i in pairs[1].tolist()]
            with autocast(device):
                s, d = lm.embed(src_text), lm.embed(dst_text)
                pos = scorer(s, d, et)
                neg = in_batch_negative_scores(scorer.all_pairs(s, d, et))
                loss = link_loss(pos.float(), neg.float(), "contrastive")
            optimizer_step(loss, lm.parameters(), optimizer, "stage 1", stats.steps)
            stats.add(loss, pairs.size(1), 2 * pairs.size(1))
            elapsed = time.perf_counter() - start
            bar.update(job, advance=1, rate=f"{stats.texts / max(elapsed, 1e-9):.1f} texts/s")
    stats.seconds = time.perf_counter() - start
    return stats
