"""Both backends against brute force on a small graph, and against each other batch by batch."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.sampler import CypherSampler, SnapshotSampler, parse_fanouts, reverse
from lmgnn.spec import SpecError


def both(db, tiny, **options):
    return (CypherSampler(db.driver, db.database, tiny.spec, **options),
            SnapshotSampler(db.driver, db.database, tiny.spec, **options))


def global_edges(batch, edge_type):
    src, _, dst = edge_type
    ei = batch[edge_type].edge_index
    return {(int(batch[src].n_id[a]), int(batch[dst].n_id[b])) for a, b in ei.t().tolist()}


def assert_same_batch(a, b):
    assert a.node_types == b.node_types and a.edge_types == b.edge_types
    for nt in a.node_types:
        assert torch.equal(a[nt].n_id, b[nt].n_id), nt
        for key in ("text", "y", "feat"):
            assert (key in a[nt]) == (key in b[nt])
            if key in a[nt]:
                va, vb = a[nt][key], b[nt][key]
                assert va == vb if isinstance(va, list) else torch.equal(va, vb), (nt, key)
    for et in a.edge_types:
        assert torch.equal(a[et].edge_index, b[et].edge_index), et


def test_backends_give_identical_batches(neo4j_db, tiny):
    cypher, snap = both(neo4j_db, tiny, fanouts=[4, 3], seed=11)
    for epoch, seeds in enumerate([[0, 1, 2], [1, 17, 33, 59], list(range(0, 60, 7))]):
        a = cypher.sample_from_nodes("Paper", torch.tensor(seeds), epoch=epoch)
        b = snap.sample_from_nodes("Paper", torch.tensor(seeds), epoch=epoch)
        assert_same_batch(a, b)
        assert sum(a[et].edge_index.size(1) for et in a.edge_types) > 0
    a = cypher.sample_from_nodes("Author", torch.tensor([0, 3]), epoch=5)
    b = snap.sample_from_nodes("Author", torch.tensor([0, 3]), epoch=5)
    assert_same_batch(a, b)


@pytest.mark.parametrize("backend", ["cypher", "snapshot"])
def test_sampled_edges_exist_and_features_match_truth(neo4j_db, tiny, backend):
    cypher, snap = both(neo4j_db, tiny, fanouts=[5, 3], seed=3)
    sampler = cypher if backend == "cypher" else snap
    seeds = torch.tensor([4, 1, 30, 58])
    batch = sampler.sample_from_nodes("Paper", seeds)
    assert torch.equal(batch["Paper"].n_id[:4], seeds) and batch["Paper"].batch_size == 4
    for et, truth in tiny.edges.items():
        sampled = global_edges(batch, et)
        assert sampled <= truth, f"{et}: sampled edges that do not exist"
        rev = batch[reverse(et)].edge_index
        assert torch.equal(rev, batch[et].edge_index.flip(0))
    for nt in batch.node_types:
        assert torch.unique(batch[nt].n_id).numel() == batch[nt].n_id.numel()
    nids = batch["Paper"].n_id.tolist()
    vocab = sampler.vocabs["Paper"]
    assert list(vocab.values) == sorted(set(a for a in tiny.areas if a))
    assert batch["Paper"].text == [tiny.titles[n] for n in nids]
    assert batch["Paper"].y.tolist() == [-1 if tiny.areas[n] is None else
                                         vocab.values.index(tiny.areas[n]) for n in nids]
    assert batch["Paper"].feat[:, 0].tolist() == [float(tiny.years[n]) for n in nids]
    assert batch["Term"].text == [tiny.words[n] for n in batch["Term"].n_id.tolist()]
    assert "text" not in batch["Author"]


@pytest.mark.parametrize("backend", ["cypher", "snapshot"])
def test_one_hop_fanout_is_min_of_degree_and_k(neo4j_db, tiny, backend):
    k = 2
    cypher, snap = both(neo4j_db, tiny, fanouts=[k], seed=5)
    sampler = cypher if backend == "cypher" else snap
    seeds = list(range(0, 60, 3))
    batch = sampler.sample_from_nodes("Paper", torch.tensor(seeds))
    has_term = global_edges(batch, ("Paper", "HAS_TERM", "Term"))
    wrote = global_edges(batch, ("Author", "WROTE", "Paper"))
    for p in seeds:  # only seeds are expanded at hop 0, so these counts are exact
        out_deg = sum(1 for s, _ in tiny.edges[("Paper", "HAS_TERM", "Term")] if s == p)
        in_deg = sum(1 for _, d in tiny.edges[("Author", "WROTE", "Paper")] if d == p)
        assert sum(1 for s, _ in has_term if s == p) == min(out_deg, k)
        assert sum(1 for _, d in wrote if d == p) == min(in_deg, k)
    assert all(s in seeds or d in seeds for s, d in global_edges(batch, ("Paper", "CITES",
                                                                         "Paper")))


def test_fixed_seed_reproduces_and_epoch_changes_choice(neo4j_db, tiny):
    _, snap = both(neo4j_db, tiny, fanouts=[3, 2], seed=9)
    again = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[3, 2],
                            seed=9)
    hub = torch.tensor([0])
    assert_same_batch(snap.sample_from_nodes("Author", hub, epoch=2),
                      again.sample_from_nodes("Author", hub, epoch=2))
    choices = {tuple(snap.sample_from_nodes("Author", hub, epoch=e)["Paper"].n_id[:3].tolist())
               for e in range(6)}
    assert len(choices) > 1, "every epoch picked the same neighbours of a 30-paper hub"


def test_neighbour_choice_is_uniform_over_epochs(neo4j_db, tiny):
    k, epochs = 5, 300
    _, snap = both(neo4j_db, tiny, fanouts=[k], seed=1)
    papers = sorted(d for s, d in tiny.edges[("Author", "WROTE", "Paper")] if s == 0)
    counts: Counter[int] = Counter()
    for e in range(epochs):
        batch = snap.sample_from_nodes("Author", torch.tensor([0]), epoch=e)
        chosen = batch["Paper"].n_id.tolist()
        assert len(chosen) == k and len(set(chosen)) == k  # without replacement
        counts.update(chosen)
    expected = epochs * k / len(papers)  # 50 per paper
    assert set(counts) == set(papers)
    assert all(0.5 * expected < c < 1.5 * expected for c in counts.values()), counts
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 70, f"chi-square {chi2:.1f} over {len(papers) - 1} degrees of freedom"


def test_per_relation_fanouts_and_all_neighbours(neo4j_db, tiny):
    cypher, snap = both(neo4j_db, tiny, fanouts=[1],
                        relation_fanouts={"WROTE": [-1], "HAS_TERM": [0]})
    for sampler in (cypher, snap):
        batch = sampler.sample_from_nodes("Paper", torch.tensor([1, 2, 3]))
        assert batch["Paper", "HAS_TERM", "Term"].edge_index.size(1) == 0
        wrote = global_edges(batch, ("Author", "WROTE", "Paper"))
        assert wrote == {(a, p) for a, p in tiny.edges[("Author", "WROTE", "Paper")]
                         if p in (1, 2, 3)}


def test_bad_input_is_a_clear_error(neo4j_db, tiny):
    _, snap = both(neo4j_db, tiny, fanouts=[2])
    with pytest.raises(SpecError, match="unknown node type 'Nope'"):
        snap.sample_from_nodes("Nope", torch.tensor([0]))
    with pytest.raises(UserError, match=r"Paper _nid must lie in 0\.\.59"):
        snap.sample_from_nodes("Paper", torch.tensor([0, 60]))
    with pytest.raises(UserError, match="duplicates"):
        snap.sample_from_nodes("Paper", torch.tensor([3, 3]))
    with pytest.raises(SpecError, match="unknown relationship 'LIKES'"):
        snap.sample_from_edges("LIKES", torch.tensor([0]), torch.tensor([0]))
    with pytest.raises(UserError, match="comma-separated"):
        parse_fanouts("10,x")
    assert parse_fanouts("10, 5") == [10, 5]
    with pytest.raises(UserError, match="features="):
        CypherSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[2],
                      features="pixels")


def test_default_backend_follows_graph_size(neo4j_db, tiny):
    from lmgnn.sampler import default_backend, make_sampler

    db, spec = (neo4j_db.driver, neo4j_db.database), tiny.spec
    edges = sum(len(e) for e in tiny.edges.values())
    assert default_backend(*db, spec, max_bytes=edges * 17) == "snapshot"
    assert default_backend(*db, spec, max_bytes=edges * 17 - 1) == "cypher"
    assert isinstance(make_sampler(*db, spec, backend="cypher", fanouts=[2], cache_rows=10),
                      CypherSampler)
    assert isinstance(make_sampler(*db, spec, fanouts=[2]), SnapshotSampler)
    with pytest.raises(UserError, match="backend 'gpu'"):
        make_sampler(*db, spec, backend="gpu", fanouts=[2])
