"""Loaders: epochs, shuffling, disjoint shards, negatives, prefetch, transform."""

from __future__ import annotations

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.sampler import EdgeLoader, NodeLoader, SnapshotSampler, epoch_order
from lmgnn.sampler.prefetch import prefetch


def test_shards_are_disjoint_equal_and_cover_all_but_the_tail():
    for n, world in ((103, 4), (8, 2), (5, 1)):
        shards = [epoch_order(n, shuffle=True, seed=3, epoch=1, rank=r, world_size=world)
                  for r in range(world)]
        flat = torch.cat(shards)
        assert torch.unique(flat).numel() == flat.numel() == n // world * world
        assert {s.numel() for s in shards} == {n // world}
    a = epoch_order(50, shuffle=True, seed=3, epoch=1)
    assert torch.equal(a, epoch_order(50, shuffle=True, seed=3, epoch=1))
    assert not torch.equal(a, epoch_order(50, shuffle=True, seed=3, epoch=2))
    assert torch.equal(epoch_order(6, shuffle=False, seed=0, epoch=0), torch.arange(6))
    with pytest.raises(UserError, match="rank 2 / world_size 2"):
        epoch_order(6, shuffle=False, seed=0, epoch=0, rank=2, world_size=2)


def test_prefetch_keeps_order_and_reraises_errors():
    assert list(prefetch(lambda x: x * 2, range(20), depth=3)) == [2 * x for x in range(20)]

    def boom(x: int) -> int:
        if x == 4:
            raise ValueError("bad item 4")
        return x

    seen = []
    with pytest.raises(ValueError, match="bad item 4"):
        for x in prefetch(boom, range(10), depth=2):
            seen.append(x)
    assert seen == [0, 1, 2, 3]
    gen = prefetch(lambda x: x, range(1000), depth=2)
    assert next(gen) == 0
    gen.close()  # leaving early stops the thread


def test_node_loader_epochs_shards_and_transform(neo4j_db, tiny):
    sampler = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[2, 2],
                              seed=1, features="none")

    def tag(batch):
        batch.tagged = True
        return batch

    loaders = [NodeLoader(sampler, "Paper", batch_size=8, seed=5, rank=r, world_size=2,
                          transform=tag) for r in range(2)]
    assert len(loaders[0]) == 4  # 30 seeds per rank: 8 + 8 + 8 + 6
    seen = []
    for loader in loaders:
        batches = list(loader)
        assert len(batches) == len(loader) and all(b.tagged for b in batches)
        seen.append(torch.cat([b["Paper"].n_id[:b["Paper"].batch_size] for b in batches]))
    assert not set(seen[0].tolist()) & set(seen[1].tolist())
    assert sorted(seen[0].tolist() + seen[1].tolist()) == list(range(60))
    again = [b["Paper"].n_id for b in loaders[0]]
    assert all(torch.equal(a, b["Paper"].n_id) for a, b in zip(again, list(loaders[0]),
                                                                  strict=True))
    loaders[0].set_epoch(1)
    first_next = next(iter(loaders[0]))["Paper"].n_id[:8]
    assert not torch.equal(first_next, seen[0][:8])
    direct = sampler.sample_from_nodes("Paper", first_next, epoch=1)
    assert torch.equal(direct["Paper"].n_id, next(iter(loaders[0]))["Paper"].n_id)


@pytest.mark.parametrize("mode", ["uniform", "in_batch"])
def test_edge_loader_negatives(neo4j_db, tiny, mode):
    sampler = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[2],
                              features="none")
    pairs = sorted(tiny.edges[("Paper", "HAS_TERM", "Term")])
    src = torch.tensor([s for s, _ in pairs])
    dst = torch.tensor([d for _, d in pairs])
    loader = EdgeLoader(sampler, "HAS_TERM", src, dst, negatives=mode, num_negatives=5,
                        batch_size=16, shuffle=True, seed=2, prefetch=0)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-len(pairs) // 16)
    et = ("Paper", "HAS_TERM", "Term")
    total_pos = 0
    for batch in batches:
        label = batch[et].edge_label
        b = int((label == 1).sum())
        assert bool((label[:b] == 1).all()) and bool((label[b:] == 0).all())  # positives first
        total_pos += b
        eli = batch[et].edge_label_index
        papers, terms = batch["Paper"].n_id[eli[0]], batch["Term"].n_id[eli[1]]
        pos = list(zip(papers[:b].tolist(), terms[:b].tolist(), strict=True))
        neg = list(zip(papers[b:].tolist(), terms[b:].tolist(), strict=True))
        assert set(pos) <= tiny.edges[et]
        assert not set(neg) & set(pos) and len(set(neg)) == len(neg)  # no clash, no repeat
        assert {p for p, _ in neg} <= {p for p, _ in pos}  # sources come from the batch
        if mode == "uniform":
            assert 1 <= len(neg) <= 5  # num_negatives per batch (minus clashes)
        else:
            # each source paired with the next pair's target, minus clashes with positives
            shifted = {(pos[i][0], pos[(i + 1) % b][1]) for i in range(b)} - set(pos)
            assert set(neg) == shifted
    assert total_pos == len(pairs)
    again = list(loader)
    assert all(torch.equal(a[et].edge_label_index, b[et].edge_label_index)
               for a, b in zip(batches, again, strict=True))
    loader.set_epoch(1)
    moved = list(loader)
    assert any(not torch.equal(a[et].edge_label_index, b[et].edge_label_index)
               for a, b in zip(batches, moved, strict=True))
    with pytest.raises(UserError, match="negatives"):
        EdgeLoader(sampler, "HAS_TERM", src, dst, torch.zeros_like(src), negatives="uniform")


def test_max_batches_caps_an_epoch(neo4j_db, tiny):
    sampler = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[1],
                              features="none")
    loader = NodeLoader(sampler, "Paper", batch_size=8, seed=1, max_batches=3, prefetch=0)
    assert len(loader) == 3 and len(list(loader)) == 3
    with pytest.raises(UserError, match="max_batches"):
        NodeLoader(sampler, "Paper", max_batches=0)
