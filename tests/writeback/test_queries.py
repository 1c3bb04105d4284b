"""The query library against written predictions: each query returns the rows expected from
the tensors that were written, computed here in Python."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.errors import UserError
from lmgnn.writeback import (
    EdgeClassBatch,
    EmbeddingBatch,
    NodeClassBatch,
    predict_links,
    queries,
    write_edge_classes,
    write_embeddings,
    write_links,
    write_node_classes,
)


class Written:
    """What the fixture wrote, kept to compute expected rows."""

    def __init__(self, shop):
        self.shop = shop
        g = torch.Generator().manual_seed(11)
        n_p, n_q = shop.n_products, shop.n_queries
        self.p1 = torch.rand(n_p, 3, generator=g).pow(3).softmax(dim=1)
        self.p1[0] = torch.tensor([0.9, 0.05, 0.05])  # product 0 (books): right, sure
        self.p1[1] = torch.tensor([0.2, 0.1, 0.7])  # product 1 (garden): wrong (toys)
        self.p2 = torch.rand(n_p, 3, generator=g).softmax(dim=1)
        self.p_emb = torch.randn(n_p, 8, generator=g)
        self.p_emb[7] = self.p_emb[2] * 1.5  # planted: 7 is 2's nearest neighbour (cosine 1)
        self.q_emb = torch.randn(n_q, 8, generator=g)
        self.p_emb[8] *= 4  # a long vector: the best dot product for a query pointing at it
        self.q_emb[3] = self.p_emb[8] * 2  # query 3 points at product 8 (not bought yet)
        self.e1 = torch.rand(len(shop.purchases), 4, generator=g).softmax(dim=1)
        self.k = 3
        args = (shop.driver, shop.database, shop.spec, "r1")
        write_node_classes(*args, "Product", [NodeClassBatch(torch.arange(n_p), self.p1)],
                           classes=shop.categories)
        write_embeddings(*args, "Product", [EmbeddingBatch(torch.arange(n_p), self.p_emb)])
        write_embeddings(*args, "Query", [EmbeddingBatch(torch.arange(n_q), self.q_emb)])
        links = predict_links(shop.driver, shop.database, shop.spec, "PURCHASED",
                              [(torch.arange(n_q), self.q_emb)], self.p_emb, self.k)
        write_links(*args, "PURCHASED", links)
        src = torch.tensor([q for q, _, _ in shop.purchases])
        dst = torch.tensor([p for _, p, _ in shop.purchases])
        write_edge_classes(*args, "PURCHASED", [EdgeClassBatch(src, dst, self.e1)],
                           classes=shop.esci)
        write_node_classes(shop.driver, shop.database, shop.spec, "r2", "Product",
                           [NodeClassBatch(torch.arange(n_p), self.p2)], classes=shop.categories)

    def product(self, i: int) -> dict:
        return {"key": f"p{i}", "name": f"product {i}", "category": self.shop.categories[i % 3],
                "split": "train" if i < 7 else "test"}

    def pred(self, probs: torch.Tensor, i: int) -> tuple[str, float]:
        return self.shop.categories[int(probs[i].argmax())], float(probs[i].max())


@pytest.fixture
def written(shop) -> Written:
    return Written(shop)


def run(written: Written, name: str, **given: object) -> list[dict]:
    shop = written.shop
    _, rows = queries.run_query(shop.driver, shop.database, name,
                                {k: str(v) for k, v in given.items()})
    return rows


def test_the_library_documents_at_least_eight_queries():
    docs = queries.library()
    assert len(docs) >= 8
    for doc in docs:
        assert doc.title and doc.description, doc.name
        assert all(p.help for p in doc.params), doc.name


def test_misclassified_uses_the_latest_run_by_default(written):
    for run_id, probs in (("r2", written.p2), ("r1", written.p1)):
        expected = []
        for i in range(written.shop.n_products):
            pred, prob = written.pred(probs, i)
            product = written.product(i)
            if pred != product["category"]:
                expected.append({"key": product["key"], "name": product["name"],
                                 "stored": product["category"], "predicted": pred,
                                 "probability": round(prob, 3)})
        expected.sort(key=lambda r: (-r["probability"], r["key"]))
        given = {} if run_id == "r2" else {"run": run_id}
        assert run(written, "misclassified", limit=100, **given) == expected
    assert {"key": "p1", "name": "product 1", "stored": "garden", "predicted": "toys",
            "probability": 0.7} in run(written, "misclassified", run="r1")


def test_low_confidence_lists_predictions_under_the_threshold(written):
    rows = run(written, "low_confidence", run="r1", threshold=0.45)
    expected = sorted((round(written.pred(written.p1, i)[1], 3), f"p{i}")
                      for i in range(written.shop.n_products)
                      if written.pred(written.p1, i)[1] < 0.45)
    assert [(r["probability"], r["key"]) for r in rows] == expected
    assert all(r["split"] == written.product(int(r["key"][1:]))["split"] for r in rows)


def test_top_links_are_the_new_best_products_of_a_query(written):
    shop = written.shop
    bought = {p for q, p, _ in shop.purchases if q == 3}
    scores = written.q_emb[3] @ written.p_emb.T
    best = [p for p in scores.argsort(descending=True).tolist() if p not in bought][:written.k]
    rows = run(written, "top_links", source="q3")
    assert [(r["rank"], r["key"]) for r in rows] == [(i + 1, f"p{p}") for i, p in
                                                     enumerate(best)]
    assert rows[0]["key"] == "p8" and rows[0]["source"] == "query 3"
    assert len(run(written, "top_links", limit=100)) == shop.n_queries * written.k


def test_similar_finds_the_planted_neighbour_through_the_vector_index(written):
    rows = run(written, "similar", key="p2", k=3)
    assert rows[0]["key"] == "p7" and rows[0]["similarity"] == pytest.approx(1.0, abs=1e-3)
    assert len(rows) == 3 and "p2" not in [r["key"] for r in rows]


def test_nearest_for_new_uses_the_source_nodes_embedding(written):
    rows = run(written, "nearest_for_new", key="q3", k=2)
    assert rows[0] == {"source": "query 3", "key": "p8", "name": "product 8",
                       "similarity": pytest.approx(1.0, abs=1e-3)}


def test_edge_confusion_counts_judged_against_predicted(written):
    shop = written.shop
    expected: dict[tuple[str, str], list[float]] = {}
    for i, (_, _, esci) in enumerate(shop.purchases):
        pred = shop.esci[int(written.e1[i].argmax())]
        expected.setdefault((esci, pred), []).append(float(written.e1[i].max()))
    rows = run(written, "edge_confusion")
    assert {(r["judged"], r["predicted"]): (r["relationships"], r["mean_probability"])
            for r in rows} == {k: (len(v), round(sum(v) / len(v), 3))
                               for k, v in expected.items()}


def test_accuracy_by_class_on_one_split(written):
    rows = run(written, "accuracy_by_class", run="r1", split="test")
    expected: dict[str, list[int]] = {}
    for i in range(7, written.shop.n_products):
        cat = written.product(i)["category"]
        expected.setdefault(cat, []).append(int(written.pred(written.p1, i)[0] == cat))
    assert {r["class"]: (r["nodes"], r["correct"], r["accuracy"]) for r in rows} == {
        c: (len(h), sum(h), round(sum(h) / len(h), 3)) for c, h in expected.items()}


def test_compare_runs_defaults_to_latest_against_previous(written):
    rows = run(written, "compare_runs")
    expected: dict[str, list[int]] = {}
    for i in range(written.shop.n_products):
        cat = written.product(i)["category"]
        a, b = written.pred(written.p2, i)[0], written.pred(written.p1, i)[0]
        t = expected.setdefault(cat, [0, 0, 0, 0])
        t[0] += 1
        t[1] += a == cat
        t[2] += b == cat
        t[3] += a == b
    assert {r["class"]: [r["nodes"], r["correct_run"], r["correct_other"], r["agree"]]
            for r in rows} == expected


def test_links_come_true_after_new_purchases(written):
    shop = written.shop
    top = run(written, "top_links", source="q0")
    shop.db.run("MATCH (q:Query {query_id: 'q0'}), (p:Product {product_id: $key}) "
                "CREATE (q)-[:PURCHASED {esci: 'E'}]->(p)", key=top[0]["key"])
    rows = run(written, "links_come_true")
    assert [(r["rank"], r["predicted"], r["came_true"]) for r in rows] == [
        (1, shop.n_queries, 1), (2, shop.n_queries, 0), (3, shop.n_queries, 0)]


def test_runs_lists_every_output(written):
    rows = run(written, "runs")
    assert [(r["run"], r["kind"], r["what"], r["status"], r["items"]) for r in rows] == [
        ("r2", "node_class", "Product", "complete", 10),
        ("r1", "edge_class", "Query-[PURCHASED]->Product", "complete", 12),
        ("r1", "embedding", "Product", "complete", 10),
        ("r1", "embedding", "Query", "complete", 6),
        ("r1", "links", "Query-[PURCHASED]->Product", "complete", 18),
        ("r1", "node_class", "Product", "complete", 10),
    ]


def test_parameters_are_checked_with_clear_errors(written):
    shop = written.shop
    with pytest.raises(UserError, match="unknown query 'nope'; known queries: accuracy_by_class"):
        queries.prepare(shop.driver, shop.database, "nope")
    with pytest.raises(UserError, match="has no parameter 'lmit'; its parameters: run: "):
        queries.prepare(shop.driver, shop.database, "misclassified", {"lmit": "3"})
    with pytest.raises(UserError, match="--param limit must be int, got 'ten'"):
        queries.prepare(shop.driver, shop.database, "misclassified", {"limit": "ten"})
    with pytest.raises(UserError, match="needs --param key="):
        queries.prepare(shop.driver, shop.database, "similar")
    with pytest.raises(UserError, match="unknown node type 'Prod'"):
        queries.prepare(shop.driver, shop.database, "similar", {"key": "p1", "label": "Prod"})
    with pytest.raises(UserError, match=r"several .*Product, Query.*--param label="):
        queries.prepare(shop.driver, shop.database, "similar", {"key": "p1", "label": "any"})
    with pytest.raises(UserError, match="invalid run id"):
        queries.prepare(shop.driver, shop.database, "misclassified", {"run": "x' OR 1=1"})


def test_cli_lists_runs_and_prints_for_browser(written):
    runner = CliRunner()
    listed = runner.invoke(app, ["query", "--list"])
    assert listed.exit_code == 0
    for name in queries.names():
        assert name in listed.output
    shown = runner.invoke(app, ["query", "misclassified", "--param", "run=r1", "-p", "limit=100"],
                          env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "p1" in shown.output and "toys" in shown.output
    browser = runner.invoke(app, ["query", "similar", "-p", "key=p2", "-p", "label=Product",
                                  "--cypher"], env={"COLUMNS": "200"})
    assert browser.exit_code == 0, browser.output
    assert (":params {run: 'r1', label: 'Product', key: 'p2', k: 10, "
            "run_index: 'emb_Product__r1'}") in browser.output
    assert "MATCH (n:`Product`)" in browser.output
    assert "n.`emb__r1` IS NOT NULL" in browser.output
    bad = runner.invoke(app, ["query", "nope"])
    assert bad.exit_code != 0 and isinstance(bad.exception, UserError)
