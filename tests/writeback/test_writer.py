"""The write core against a real Neo4j: what Cypher reads back is exactly what was predicted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.spec import SpecError
from lmgnn.writeback import (
    EdgeClassBatch,
    EmbeddingBatch,
    LinkBatch,
    LinkSink,
    MissingInGraph,
    NodeClassBatch,
    NodeClassSink,
    predict_links,
    write_edge_classes,
    write_embeddings,
    write_links,
    write_node_classes,
)
from lmgnn.writeback.queries import run_query

from .conftest import PURCHASES

RUN = "r1"
# the tiny shop graph of conftest.py
CATEGORIES, ESCI = ["books", "garden", "toys"], ["E", "S", "C", "I"]
N_QUERIES, N_PRODUCTS = 6, 10


def probs(n: int, c: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, generator=g).softmax(dim=1)


def node_batches(p: torch.Tensor, size: int, fail_after: int | None = None
                 ) -> Iterator[NodeClassBatch]:
    """Batches of `size` products; raises after `fail_after` batches (a crash mid-writeback)."""
    for i, start in enumerate(range(0, p.size(0), size)):
        if fail_after is not None and i == fail_after:
            raise RuntimeError("simulated crash")
        nids = torch.arange(start, min(start + size, p.size(0)))
        yield NodeClassBatch(nids=nids, probs=p[nids])


def read_node_classes(shop, run: str = RUN) -> dict[int, tuple]:
    rows = shop.db.run(f"MATCH (p:Product) WHERE p.pred_category__{run} IS NOT NULL "
                       f"RETURN p._nid AS nid, p.pred_category__{run} AS pred, "
                       f"p.prob_category__{run} AS prob, p.dist_category__{run} AS dist")
    return {r["nid"]: (r["pred"], r["prob"], r["dist"]) for r in rows}


def expected_node_classes(p: torch.Tensor, dist: bool = True) -> dict[int, tuple]:
    out = {}
    for nid, row in enumerate(p):
        best = int(row.argmax())
        out[nid] = (CATEGORIES[best], float(row[best]), row.tolist() if dist else None)
    return out


def output(shop, kind: str, run: str = RUN) -> dict:
    rows = shop.db.run("MATCH (:ModelRun {run_id: $run})-[:WROTE]->(o:LmgnnOutput {kind: $kind}) "
                       "RETURN o {.*} AS o", run=run, kind=kind)
    assert len(rows) == 1, rows
    return rows[0]["o"]


def test_node_classes_read_back_exactly_as_predicted(shop):
    assert (shop.categories, shop.esci, shop.n_products) == (CATEGORIES, ESCI, N_PRODUCTS)
    p = probs(N_PRODUCTS, 3, seed=0)
    stats = write_node_classes(shop.driver, shop.database, shop.spec, RUN, "Product",
                               node_batches(p, 3), classes=CATEGORIES, distribution=True,
                               batch_rows=4)
    assert read_node_classes(shop) == expected_node_classes(p)
    assert (stats.items, stats.transactions) == (N_PRODUCTS, 3)
    out = output(shop, "node_class")
    assert (out["status"], out["count"], out["pred"]) == ("complete", N_PRODUCTS,
                                                          "pred_category__r1")
    assert out["classes"] == CATEGORIES


def test_rerun_replaces_the_runs_predictions_and_duplicates_nothing(shop):
    first, second = probs(N_PRODUCTS, 3, seed=1), probs(N_PRODUCTS, 3, seed=2)
    args = (shop.driver, shop.database, shop.spec, RUN, "Product")
    write_node_classes(*args, node_batches(first, 4), classes=CATEGORIES, distribution=True)
    write_node_classes(*args, node_batches(second, 4), classes=CATEGORIES, distribution=True)
    assert read_node_classes(shop) == expected_node_classes(second)
    # a later re-run without distributions and for fewer nodes leaves none of the old values
    write_node_classes(*args, node_batches(second[:5], 2), classes=CATEGORIES)
    assert read_node_classes(shop) == {k: v for k, v in
                                       expected_node_classes(second, dist=False).items() if k < 5}
    assert shop.db.run("MATCH (o:LmgnnOutput) RETURN count(o) AS n")[0]["n"] == 1
    assert shop.db.run("MATCH (r:ModelRun) RETURN count(r) AS n")[0]["n"] == 1


def test_interrupted_writeback_leaves_whole_batches_and_a_rerun_completes_it(shop):
    p = probs(N_PRODUCTS, 3, seed=3)
    args = (shop.driver, shop.database, shop.spec, RUN, "Product")
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_node_classes(*args, node_batches(p, 2, fail_after=3), classes=CATEGORIES,
                           batch_rows=2)
    expected = expected_node_classes(p, dist=False)
    assert read_node_classes(shop) == {k: expected[k] for k in range(6)}  # 3 whole batches
    out = output(shop, "node_class")
    assert (out["status"], out["count"]) == ("writing", 6)
    write_node_classes(*args, node_batches(p, 2), classes=CATEGORIES, batch_rows=2)
    assert read_node_classes(shop) == expected
    assert (output(shop, "node_class")["status"], output(shop, "node_class")["count"]) == (
        "complete", N_PRODUCTS)


def test_a_batch_naming_a_missing_node_is_rolled_back_whole(shop):
    batches = [NodeClassBatch(torch.tensor([0, 1]), probs(2, 3, seed=4)),
               NodeClassBatch(torch.tensor([2, 99]), probs(2, 3, seed=5))]
    with pytest.raises(MissingInGraph, match=r"1 of 2 Product nodes.*_nid in 2\.\.99"):
        write_node_classes(shop.driver, shop.database, shop.spec, RUN, "Product", batches,
                           classes=CATEGORIES, batch_rows=2)
    assert sorted(read_node_classes(shop)) == [0, 1]
    assert output(shop, "node_class")["count"] == 2


def test_embeddings_round_trip_and_the_vector_index_finds_a_planted_neighbour(shop):
    vectors = torch.randn(N_PRODUCTS, 16, generator=torch.Generator().manual_seed(6))
    vectors[7] = vectors[2] + 0.01  # product 7 is planted next to product 2
    batches = (EmbeddingBatch(torch.arange(i, min(i + 4, N_PRODUCTS)), vectors[i:i + 4])
               for i in range(0, N_PRODUCTS, 4))
    write_embeddings(shop.driver, shop.database, shop.spec, RUN, "Product", batches,
                     batch_rows=3)
    stored = shop.db.run("MATCH (p:Product) RETURN p._nid AS nid, p.emb__r1 AS v ORDER BY nid")
    assert [r["v"] for r in stored] == vectors.tolist()  # float32 values, exactly
    out = output(shop, "embedding")
    assert (out["index"], out["dimensions"], out["status"]) == ("emb_Product__r1", 16,
                                                                "complete")
    hits = shop.db.run("MATCH (p:Product {_nid: 2}) CALL db.index.vector.queryNodes($index, 2, "
                       "p.emb__r1) YIELD node, score RETURN node._nid AS nid ORDER BY score DESC",
                       index=out["index"])
    assert [h["nid"] for h in hits] == [2, 7]


def brute_force_top_k(q_emb, p_emb, k, purchases) -> dict[int, list[int]]:
    """Top-k products per query by dot product, skipping purchases: computed independently."""
    bought = {(q, p) for q, p, _ in purchases}
    out = {}
    for q in range(q_emb.size(0)):
        scored = sorted(((float(q_emb[q] @ p_emb[p]), p) for p in range(p_emb.size(0))
                         if (q, p) not in bought), reverse=True)
        out[q] = [p for _, p in scored[:k]]
    return out


def read_links(shop, run: str = RUN) -> dict[int, list[tuple[int, int, float]]]:
    rows = shop.db.run("MATCH (q:Query)-[r:PREDICTED_PURCHASED]->(p:Product) WHERE r.run = $run "
                       "RETURN q._nid AS q, p._nid AS p, r.rank AS rank, r.score AS score "
                       "ORDER BY q, rank", run=run)
    out: dict[int, list] = {}
    for r in rows:
        out.setdefault(r["q"], []).append((r["p"], r["rank"], r["score"]))
    return out


def test_predicted_links_are_top_k_new_links_and_rewriting_duplicates_nothing(shop):
    g = torch.Generator().manual_seed(7)
    q_emb, p_emb = torch.randn(N_QUERIES, 8, generator=g), torch.randn(N_PRODUCTS, 8, generator=g)
    k = 3

    def sources():
        for start in range(0, N_QUERIES, 4):
            nids = torch.arange(start, min(start + 4, N_QUERIES))
            yield nids, q_emb[nids]

    def write():
        links = predict_links(shop.driver, shop.database, shop.spec, "PURCHASED", sources(),
                              p_emb, k)
        return write_links(shop.driver, shop.database, shop.spec, RUN, "PURCHASED", links,
                           batch_rows=5)

    stats = write()
    assert stats.items == N_QUERIES * k
    expected = brute_force_top_k(q_emb, p_emb, k, shop.purchases)
    got = read_links(shop)
    assert {q: [p for p, _, _ in links] for q, links in got.items()} == expected
    assert all([rank for _, rank, _ in links] == [1, 2, 3] for links in got.values())
    assert got[0][0][2] == pytest.approx(float(q_emb[0] @ p_emb[expected[0][0]]), rel=1e-6)
    write()
    assert read_links(shop) == got
    overlap = shop.db.run("MATCH (q)-[:PURCHASED]->(p), (q)-[r:PREDICTED_PURCHASED]->(p) "
                          "RETURN count(r) AS n")
    assert overlap[0]["n"] == 0
    assert output(shop, "links")["count"] == N_QUERIES * k


def test_edge_classes_land_on_the_existing_relationships(shop):
    purchases = shop.purchases
    p = probs(len(purchases), 4, seed=8)
    src = torch.tensor([q for q, _, _ in purchases])
    dst = torch.tensor([d for _, d, _ in purchases])
    batches = [EdgeClassBatch(src[:5], dst[:5], p[:5]), EdgeClassBatch(src[5:], dst[5:], p[5:])]
    write_edge_classes(shop.driver, shop.database, shop.spec, RUN, "PURCHASED", batches,
                       classes=ESCI, batch_rows=4)
    rows = shop.db.run("MATCH (q:Query)-[r:PURCHASED]->(p:Product) RETURN q._nid AS q, "
                       "p._nid AS p, r.pred_esci__r1 AS pred, r.prob_esci__r1 AS prob")
    got = {(r["q"], r["p"]): (r["pred"], r["prob"]) for r in rows}
    want = {(q, d): (ESCI[int(p[i].argmax())], float(p[i].max()))
            for i, (q, d, _) in enumerate(purchases)}
    assert got == want
    assert output(shop, "edge_class")["count"] == len(purchases)


def test_names_from_users_are_checked(shop):
    one = [NodeClassBatch(torch.tensor([0]), probs(1, 3, seed=9))]
    with pytest.raises(UserError, match="invalid run id"):
        write_node_classes(shop.driver, shop.database, shop.spec, "r1`) DETACH DELETE (n",
                           "Product", one, classes=CATEGORIES)
    with pytest.raises(SpecError, match="unknown node type 'Prod'"):
        write_node_classes(shop.driver, shop.database, shop.spec, RUN, "Prod", one,
                           classes=CATEGORIES)
    with pytest.raises(UserError, match="no `target`"):
        write_node_classes(shop.driver, shop.database, shop.spec, RUN, "Query", one,
                           classes=CATEGORIES)
    assert shop.db.run("MATCH (n) WHERE n:ModelRun OR n:LmgnnOutput RETURN count(n) AS n"
                       )[0]["n"] == 0


# ---- re-writes: readers always see a complete run; the swap leaves nothing behind -----------
def test_readers_see_a_complete_run_while_its_node_classes_are_rewritten(shop):
    old, new = probs(N_PRODUCTS, 3, seed=10), probs(N_PRODUCTS, 3, seed=11)
    args = (shop.driver, shop.database, shop.spec, RUN, "Product")
    write_node_classes(*args, node_batches(old, 5), classes=CATEGORIES)
    before, after = expected_node_classes(old, False), expected_node_classes(new, False)
    with NodeClassSink(*args, classes=CATEGORIES, batch_rows=2) as sink:
        sink.add(next(node_batches(new, 4)))  # two transactions landed, the rest not yet
        _, rows = run_query(shop.driver, shop.database, "accuracy_by_class")  # run = latest
        assert sum(r["nodes"] for r in rows) == N_PRODUCTS
        assert read_node_classes(shop) == {n: (after if n < 4 else before)[n]
                                           for n in range(N_PRODUCTS)}
        assert (output(shop, "node_class")["status"], output(shop, "node_class")["count"]) == (
            "rewriting", N_PRODUCTS)
        for batch in list(node_batches(new, 4))[1:]:
            sink.add(batch)
    assert read_node_classes(shop) == after
    assert (output(shop, "node_class")["status"], output(shop, "node_class")["count"]) == (
        "complete", N_PRODUCTS)


def link_batch(src: list[int], seed: int, k: int = 3) -> LinkBatch:
    """Top-k distinct non-purchased products per source (random scores, best first)."""
    g = torch.Generator().manual_seed(seed)
    bought = {(q, p) for q, p, _ in PURCHASES}
    dst = [[p for p in torch.randperm(N_PRODUCTS, generator=g).tolist()
            if (q, p) not in bought][:k] for q in src]
    score = torch.sort(torch.rand(len(src), k, generator=g), dim=1, descending=True).values
    return LinkBatch(torch.tensor(src), torch.tensor(dst), score)


def test_readers_see_every_sources_links_while_links_are_rewritten(shop):
    args = (shop.driver, shop.database, shop.spec, RUN, "PURCHASED")
    first = link_batch(list(range(N_QUERIES)), seed=12)
    write_links(*args, [first], batch_rows=4)  # a new output: plain CREATEs
    old = read_links(shop)
    assert {q: [p for p, _, _ in v] for q, v in old.items()} == {
        q: first.dst[q].tolist() for q in range(N_QUERIES)}
    second = link_batch(list(range(N_QUERIES)), seed=13)
    with LinkSink(*args, batch_rows=3) as sink:
        sink.add(LinkBatch(second.src[:2], second.dst[:2], second.score[:2]))
        _, rows = run_query(shop.driver, shop.database, "top_links", {"limit": "100"})
        assert len(rows) == N_QUERIES * 3  # every source still has its complete top-3
        mid = read_links(shop)
        assert {q: [p for p, _, _ in mid[q]] for q in (0, 1)} == {
            q: second.dst[q].tolist() for q in (0, 1)}
        assert all(mid[q] == old[q] for q in range(2, N_QUERIES))
        sink.add(LinkBatch(second.src[2:], second.dst[2:], second.score[2:]))
    assert {q: [p for p, _, _ in v] for q, v in read_links(shop).items()} == {
        q: second.dst[q].tolist() for q in range(N_QUERIES)}
    # a re-write for fewer sources removes the others' links; the count stays exact
    stats = write_links(*args, [link_batch([0, 1], seed=14)])
    assert sorted(read_links(shop)) == [0, 1] and stats.removed == (N_QUERIES - 2) * 3
    assert output(shop, "links")["count"] == 6 == shop.db.run(
        "MATCH ()-[r:PREDICTED_PURCHASED]->() RETURN count(r) AS n")[0]["n"]


def test_edge_class_and_embedding_rewrites_leave_no_leftovers(shop):
    src = torch.tensor([q for q, _, _ in PURCHASES])
    dst = torch.tensor([d for _, d, _ in PURCHASES])
    p = probs(len(PURCHASES), 4, seed=15)
    args = (shop.driver, shop.database, shop.spec, RUN, "PURCHASED")
    write_edge_classes(*args, [EdgeClassBatch(src, dst, p)], classes=ESCI)
    stats = write_edge_classes(*args, [EdgeClassBatch(src[:5], dst[:5], p[:5])], classes=ESCI)
    assert stats.removed == len(PURCHASES) - 5
    assert shop.db.run("MATCH ()-[r:PURCHASED]->() WHERE r.pred_esci__r1 IS NOT NULL "
                       "RETURN count(r) AS n")[0]["n"] == 5 == output(shop, "edge_class")["count"]
    emb = (shop.driver, shop.database, shop.spec, RUN, "Product")
    write_embeddings(*emb, [EmbeddingBatch(torch.arange(N_PRODUCTS), torch.randn(N_PRODUCTS, 8))])
    smaller = torch.randn(4, 12)  # another size: the vector index is rebuilt for it
    write_embeddings(*emb, [EmbeddingBatch(torch.arange(4), smaller)])
    stored = shop.db.run("MATCH (p:Product) WHERE p.emb__r1 IS NOT NULL "
                         "RETURN p._nid AS nid, p.emb__r1 AS v ORDER BY nid")
    assert [r["v"] for r in stored] == smaller.tolist()
    index = shop.db.run("SHOW VECTOR INDEXES YIELD name, options WHERE name = 'emb_Product__r1' "
                        "RETURN options.indexConfig['vector.dimensions'] AS d")
    assert index == [{"d": 12}] and output(shop, "embedding")["dimensions"] == 12
