"""Node representations in bulk, and filtered full-ranking evaluation of link prediction.

Sampled-negative MRR (100 uniform negatives) flatters a model when random negatives are easy;
what a user sees in ``lmgnn writeback`` is the top-k over *all* targets. Full ranking scores
each test edge's true target against every node of the target type, with the source's other
known targets (train, valid and test edges) filtered out, the usual "filtered" protocol.
It costs one representation per target node, so it runs when the target type has at most
``full_rank_max`` nodes (a TrainConfig option).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
from torch import Tensor

from lmgnn.models import LinkScorer, autocast, ranks, to_device
from lmgnn.sampler import NodeLoader
from lmgnn.sampler.base import NeighbourSampler
from lmgnn.spec import EdgeType
from lmgnn.train.model import TaskModel, Vectors


@torch.no_grad()
def node_representations(model: TaskModel, sampler: NeighbourSampler, cache: Vectors | None,
                         device: torch.device, label: str, nids: Tensor, batch_size: int = 512
                         ) -> Iterator[tuple[Tensor, Tensor]]:
    """(nids, representations (B, dim) on CPU) per ``NodeLoader`` batch, in order: the GNN
    output over each node's sampled subgraph (a model with a GNN), or the LM / id embedding
    alone (method lm)."""
    if not nids.numel():
        return
    for batch in NodeLoader(sampler, label, nids, batch_size=batch_size, shuffle=False):
        n = int(batch[label].batch_size)
        chunk = batch[label].n_id[:n]
        batch = to_device(batch, device)
        with autocast(device):
            if model.gnn is not None:
                assert cache is not None
                h = model.gnn_repr(batch, cache)[label][:n]
            else:
                h = model.lm_repr(label, batch, torch.arange(n))
        yield chunk, h.float().cpu()


@torch.no_grad()
def full_ranking(model: TaskModel, sampler: NeighbourSampler, cache: Vectors | None,
                 device: torch.device, relation: EdgeType, pairs: Tensor, known: Tensor,
                 num_dst: int, batch_size: int = 512) -> dict[str, float]:
    """Filtered MRR and Hits@1/10 of ``pairs`` (2, E) ranked against all ``num_dst`` targets.

    ``known`` (2, K): every true (source, target) pair of the relation; for each evaluated pair,
    the source's other known targets are removed from its candidates.
    """
    src_t, _, dst_t = relation
    if pairs.size(1) == 0:
        return {"full_mrr": float("nan"), "full_hits@1": float("nan"),
                "full_hits@10": float("nan")}
    model.eval()
    dst_emb = torch.cat([h for _, h in node_representations(
        model, sampler, cache, device, dst_t, torch.arange(num_dst), batch_size)]
                        ).to(device)  # once, not per batch of sources
    sources = torch.unique(pairs[0])
    known = known[:, torch.isin(known[0], sources)]
    out = []
    scorer = cast(LinkScorer, model.head)  # full ranking is for link tasks
    for chunk, h in node_representations(model, sampler, cache, device, src_t, sources,
                                         batch_size):
        scores = scorer.all_pairs(h.to(device), dst_emb, relation).float().cpu()
        out.append(filtered_ranks(scores, chunk, pairs, known, same_type=src_t == dst_t))
    r = torch.cat(out)
    return {"full_mrr": float((1.0 / r).mean()), "full_hits@1": float((r <= 1).float().mean()),
            "full_hits@10": float((r <= 10).float().mean()), "full_candidates": num_dst}


def filtered_ranks(scores: Tensor, sources: Tensor, pairs: Tensor, known: Tensor,
                   same_type: bool = False) -> Tensor:
    """Ranks (1-based, ties half) of the true targets of the ``pairs`` whose source is in
    ``sources``.

    Args:
        scores: (B, N) scores of ``sources`` (B,) against all N targets.
        pairs: (2, E) evaluated (source, target) pairs; those of other sources are ignored.
        known: (2, K) all true pairs: a source's other true targets are not candidates.
        same_type: sources and targets are one node type: a node is not its own candidate.
    """
    size = int(torch.cat([pairs[0], known[0], sources]).max()) + 1
    row_of = torch.full((size,), -1, dtype=torch.long)
    row_of[sources] = torch.arange(sources.numel())
    mine = row_of[pairs[0]] >= 0
    rows, true_dst = row_of[pairs[0, mine]], pairs[1, mine]
    true_scores = scores[rows, true_dst]
    candidates = scores.clone()
    k_mine = row_of[known[0]] >= 0
    candidates[row_of[known[0, k_mine]], known[1, k_mine]] = float("-inf")
    if same_type:
        candidates[torch.arange(sources.numel()), sources] = float("-inf")
    # the true target itself is among the known pairs, so it never competes with itself
    candidates[rows, true_dst] = float("-inf")
    return ranks(true_scores, candidates[rows])
