"""Edge tasks: target pairs and valid/test relationships never reach message passing."""

from __future__ import annotations

import pytest
import torch

from lmgnn.sampler import CypherSampler, SnapshotSampler, edge_seeds, reverse

CITES = ("Paper", "CITES", "Paper")
WROTE = ("Author", "WROTE", "Paper")


def mark_splits(db, tiny):
    """Every 4th CITES and WROTE edge (sorted) is valid, every 4th+1 is test."""
    splits = {}
    for et in (CITES, WROTE):
        rows = []
        for i, (s, d) in enumerate(sorted(tiny.edges[et])):
            split = {0: "valid", 1: "test"}.get(i % 4, "train")
            splits[(et, s, d)] = split
            rows.append([s, d, split])
        db.run(f"UNWIND $rows AS r MATCH (:{et[0]} {{_nid: r[0]}})-[e:{et[1]}]->"
               f"(:{et[2]} {{_nid: r[1]}}) SET e._split = r[2]", rows=rows)
    return splits


def edges_of(batch, et):
    src, _, dst = et
    pairs = set()
    for edge_type, flip in ((et, False), (reverse(et), True)):
        ei = batch[edge_type].edge_index
        a, b = (ei[1], ei[0]) if flip else (ei[0], ei[1])
        pairs |= {(int(batch[src].n_id[x]), int(batch[dst].n_id[y]))
                  for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    return pairs


@pytest.mark.parametrize("backend", [CypherSampler, SnapshotSampler])
def test_targets_and_valid_test_edges_are_not_message_passing_edges(neo4j_db, tiny, backend):
    splits = mark_splits(neo4j_db, tiny)
    sampler = backend(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[-1, -1], seed=2)
    seeds = edge_seeds(neo4j_db.driver, neo4j_db.database, tiny.spec, CITES)
    assert len(seeds) == seeds.split_codes.numel() == len(tiny.edges[CITES])
    train = seeds.where("train")
    assert set(zip(train.src.tolist(), train.dst.tolist(), strict=True)) == {
        (s, d) for (et, s, d), sp in splits.items() if et == CITES and sp == "train"}
    targets = train.src[:12], train.dst[:12]
    batch = sampler.sample_from_edges(CITES, *targets)
    target_pairs = set(zip(targets[0].tolist(), targets[1].tolist(), strict=True))
    held_out = {(et, s, d) for (et, s, d), sp in splits.items() if sp != "train"}
    cites = edges_of(batch, CITES)
    wrote = edges_of(batch, WROTE)
    assert not cites & target_pairs, "a target edge is a message-passing edge"
    assert not {(CITES, s, d) for s, d in cites} & held_out
    assert not {(WROTE, s, d) for s, d in wrote} & held_out
    # with all neighbours taken, every other train edge around the targets is present
    remaining = {(s, d) for (et, s, d), sp in splits.items()
                 if et == CITES and sp == "train" and (s, d) not in target_pairs}
    ends = set(targets[0].tolist()) | set(targets[1].tolist())
    assert {(s, d) for s, d in remaining if s in ends or d in ends} <= cites
    # the supervision pairs are there, as local ids
    eli = batch[CITES].edge_label_index
    paper = batch["Paper"].n_id
    assert set(zip(paper[eli[0]].tolist(), paper[eli[1]].tolist(), strict=True)) == target_pairs
    assert batch[CITES].edge_label.tolist() == [1] * 12


def test_backends_agree_on_edge_batches_and_without_exclusion(neo4j_db, tiny):
    mark_splits(neo4j_db, tiny)
    kwargs = {"fanouts": [3, 2], "seed": 4}
    cy = CypherSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, **kwargs)
    sn = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, **kwargs)
    src, dst = torch.tensor([0, 0, 5, 7]), torch.tensor([3, 9, 1, 2])
    a = cy.sample_from_edges(WROTE, src, dst, torch.tensor([1, 0, 1, 0]), epoch=1)
    b = sn.sample_from_edges(WROTE, src, dst, torch.tensor([1, 0, 1, 0]), epoch=1)
    for nt in a.node_types:
        assert torch.equal(a[nt].n_id, b[nt].n_id)
    for et in a.edge_types:
        assert torch.equal(a[et].edge_index, b[et].edge_index)
    assert torch.equal(a[WROTE].edge_label_index, b[WROTE].edge_label_index)
    assert a[WROTE].edge_label.tolist() == [1, 0, 1, 0]
    # evaluation on test edges may pass messages over valid edges: exclude only test
    ev = SnapshotSampler(neo4j_db.driver, neo4j_db.database, tiny.spec, fanouts=[-1],
                         exclude_splits=("test",))
    hub = ev.sample_from_nodes("Author", torch.tensor([0]))
    assert hub["Author", "WROTE", "Paper"].edge_index.size(1) == sum(
        1 for i, (s, _) in enumerate(sorted(tiny.edges[WROTE])) if s == 0 and i % 4 != 1)
