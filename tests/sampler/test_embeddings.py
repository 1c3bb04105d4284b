"""Embedding cache: both stores, LM-state keying, served as x, nothing re-encoded."""

from __future__ import annotations

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.sampler import (
    CypherSampler,
    MemmapEmbeddings,
    Neo4jEmbeddings,
    SnapshotSampler,
    fill_embeddings,
)

DIM = 4


def fake_encoder(calls: list[int]):
    """A deterministic 'LM': vector from the text's characters; counts texts encoded."""
    def encode(texts: list[str]) -> torch.Tensor:
        calls.append(len(texts))
        return torch.tensor([[len(t), sum(map(ord, t)) % 97, t.count("a"), 1.0] for t in texts])
    return encode


@pytest.mark.parametrize("store", ["memmap", "neo4j"])
def test_cache_fill_serve_and_state(neo4j_db, tiny, tmp_path, store):
    def make(state: str):
        if store == "memmap":
            return MemmapEmbeddings(tmp_path, state, DIM, tiny.counts)
        return Neo4jEmbeddings(neo4j_db.driver, neo4j_db.database, state, DIM)

    cache = make("lm-step-1")
    text_sampler = CypherSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[2])
    calls: list[int] = []
    encode = fake_encoder(calls)
    done = fill_embeddings(cache, text_sampler.node_texts, encode, tiny.spec, tiny.counts,
                           batch_size=16, progress=False)
    assert done == tiny.counts["Paper"] + tiny.counts["Term"] == sum(calls)
    assert fill_embeddings(make("lm-step-1"), text_sampler.node_texts, encode, tiny.spec,
                           tiny.counts, progress=False) == 0  # reopened: nothing re-encoded

    sampler = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[3],
                              features="embedding", embeddings=make("lm-step-1"))
    batch = sampler.sample_from_nodes("Paper", torch.tensor([1, 2]))
    assert "text" not in batch["Paper"] and "x" not in batch["Author"]
    nids = batch["Paper"].n_id.tolist()
    assert torch.allclose(batch["Paper"].x, encode([tiny.titles[n] for n in nids]))
    assert torch.allclose(batch["Term"].x,
                          encode([tiny.words[n] for n in batch["Term"].n_id.tolist()]))
    assert batch["Paper"].y.numel() == len(nids)

    stale = make("lm-step-2")  # another LM state: everything counts as missing
    assert stale.missing("Paper", torch.arange(5)).tolist() == [0, 1, 2, 3, 4]
    other = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[3],
                            features="embedding", embeddings=stale)
    with pytest.raises(UserError, match="no cached embedding for LM state 'lm-step-2'"):
        other.sample_from_nodes("Paper", torch.tensor([1]))


def test_bad_state_ids_and_memmap_shape_mismatch(tmp_path):
    tiny_counts = {"Paper": 3}
    with pytest.raises(UserError, match="LM state id"):
        MemmapEmbeddings(tmp_path, "../escape", DIM, tiny_counts)
    MemmapEmbeddings(tmp_path, "s1", DIM, tiny_counts)
    with pytest.raises(UserError, match="cache was made for"):
        MemmapEmbeddings(tmp_path, "s1", DIM + 1, tiny_counts)
