"""Filtered full ranking of link prediction, checked by hand."""

from __future__ import annotations

import torch

from lmgnn.train.full_rank import filtered_ranks


def test_filtered_ranks_by_hand() -> None:
    # 2 sources (nids 4 and 7) against 5 targets
    scores = torch.tensor([[0.9, 0.5, 0.8, 0.1, 0.7],
                           [0.2, 0.3, 0.3, 0.9, 0.0]])
    sources = torch.tensor([4, 7])
    pairs = torch.tensor([[4, 7, 9], [4, 1, 0]])  # source 9 is not in this batch: ignored
    known = torch.tensor([[4, 4, 7, 7], [4, 0, 1, 3]])  # 4->0 and 7->3 are other true targets
    r = filtered_ranks(scores, sources, pairs, known)
    # 4->4 (0.7): 0.9 and 0.7 filtered or itself; 0.8 beats it -> rank 2
    # 7->1 (0.3): 0.9 (target 3) is known, filtered; 0.3 (target 2) ties -> rank 1.5
    assert r.tolist() == [2.0, 1.5]


def test_same_type_relations_never_rank_a_node_against_itself() -> None:
    scores = torch.tensor([[5.0, 1.0, 2.0]])  # source 0 scores itself highest
    r = filtered_ranks(scores, torch.tensor([0]), torch.tensor([[0], [2]]),
                       torch.tensor([[0], [2]]), same_type=True)
    assert r.tolist() == [1.0]
    r = filtered_ranks(scores, torch.tensor([0]), torch.tensor([[0], [2]]),
                       torch.tensor([[0], [2]]), same_type=False)
    assert r.tolist() == [2.0]
