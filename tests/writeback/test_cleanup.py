"""Deleting a run's predictions and keeping the last N runs, on a real Neo4j."""

from __future__ import annotations

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.writeback import (
    EmbeddingBatch,
    NodeClassBatch,
    delete_run,
    keep_last_runs,
    predict_links,
    runs_written,
    write_embeddings,
    write_links,
    write_node_classes,
)


def write_everything(shop, run: str) -> None:
    g = torch.Generator().manual_seed(len(run))
    n_p, n_q = shop.n_products, shop.n_queries
    args = (shop.driver, shop.database, shop.spec, run)
    write_node_classes(*args, "Product",
                       [NodeClassBatch(torch.arange(n_p), torch.rand(n_p, 3, generator=g))],
                       classes=shop.categories, distribution=True)
    p_emb = torch.randn(n_p, 4, generator=g)
    write_embeddings(*args, "Product", [EmbeddingBatch(torch.arange(n_p), p_emb)])
    links = predict_links(shop.driver, shop.database, shop.spec, "PURCHASED",
                          [(torch.arange(n_q), torch.randn(n_q, 4, generator=g))], p_emb, 2)
    write_links(*args, "PURCHASED", links)


def traces(shop, run: str) -> dict[str, int]:
    """Everything in the graph that carries the run: properties, links, indexes, outputs."""
    key = run
    db = shop.db
    return {
        "props": db.run(f"MATCH (p:Product) WHERE p.pred_category__{key} IS NOT NULL OR "
                        f"p.prob_category__{key} IS NOT NULL OR "
                        f"p.dist_category__{key} IS NOT NULL OR p.emb__{key} IS NOT NULL "
                        "RETURN count(p) AS n")[0]["n"],
        "links": db.run("MATCH ()-[r:PREDICTED_PURCHASED {run: $run}]->() RETURN count(r) AS n",
                        run=run)[0]["n"],
        "indexes": db.run("SHOW INDEXES YIELD name WHERE name = $name RETURN count(*) AS n",
                          name=f"emb_Product__{key}")[0]["n"],
        "outputs": db.run("MATCH (o:LmgnnOutput {run_id: $run}) RETURN count(o) AS n",
                          run=run)[0]["n"],
    }


def test_delete_run_removes_everything_it_wrote_and_nothing_else(shop):
    write_everything(shop, "a1")
    write_everything(shop, "b22")
    assert traces(shop, "a1") == {"props": shop.n_products, "links": 2 * shop.n_queries,
                                  "indexes": 1, "outputs": 3}
    done = delete_run(shop.driver, shop.database, shop.spec, "a1")
    assert len(done.outputs) == 3 and done.runs == ["a1"]
    assert traces(shop, "a1") == {"props": 0, "links": 0, "indexes": 0, "outputs": 0}
    assert traces(shop, "b22") == {"props": shop.n_products, "links": 2 * shop.n_queries,
                                   "indexes": 1, "outputs": 3}
    # the user's data and the ModelRun nodes (owned by training) stay
    assert shop.db.run("MATCH (p:Product) WHERE p.category IS NOT NULL RETURN count(p) AS n"
                       )[0]["n"] == shop.n_products
    assert shop.db.run("MATCH ()-[r:PURCHASED]->() RETURN count(r) AS n")[0]["n"] == len(
        shop.purchases)
    assert shop.db.run("MATCH (r:ModelRun) RETURN count(r) AS n")[0]["n"] == 2
    with pytest.raises(UserError, match=r"run 'a1' has no predictions.*b22"):
        delete_run(shop.driver, shop.database, shop.spec, "a1")


def test_retention_keeps_the_last_n_runs(shop):
    for run in ("old", "mid", "new"):
        write_everything(shop, run)
    assert runs_written(shop.driver, shop.database) == ["new", "mid", "old"]
    done = keep_last_runs(shop.driver, shop.database, shop.spec, keep=2)
    assert done.runs == ["old"]
    assert traces(shop, "old")["props"] == traces(shop, "old")["links"] == 0
    assert traces(shop, "mid")["links"] == traces(shop, "new")["links"] == 2 * shop.n_queries
    assert runs_written(shop.driver, shop.database) == ["new", "mid"]
    assert keep_last_runs(shop.driver, shop.database, shop.spec, keep=2).runs == []
