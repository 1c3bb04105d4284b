"""The synthetic shop: deterministic files that fit the spec, the planted roles, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.loaders import load_graph
from lmgnn.loaders.synthetic import generate
from lmgnn.loaders.vocabulary import CATEGORIES, ESCI, GENERIC
from lmgnn.spec import load_spec


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", products=400, queries=200, seed=3, chunk_rows=150)
    b = generate(tmp_path / "b", products=400, queries=200, seed=3)
    c = generate(tmp_path / "c", products=400, queries=200, seed=4)
    for name in ("products.csv", "queries.csv", "purchases.csv", "judgements.csv",
                 "co_purchases.csv"):
        assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes(), name
        assert (a.parent / name).read_bytes() != (c.parent / name).read_bytes(), name


def test_files_plant_the_signal(tmp_path: Path) -> None:
    spec_path = generate(tmp_path, products=3000, queries=1500, seed=0)
    products = pd.read_csv(tmp_path / "products.csv")
    roles = pd.read_csv(tmp_path / "roles.csv")["role"]
    purchases = pd.read_csv(tmp_path / "purchases.csv")
    judged = pd.read_csv(tmp_path / "judgements.csv")
    co = pd.read_csv(tmp_path / "co_purchases.csv")
    assert len(products) == 3000 and set(products["category"]) == {c.name for c in CATEGORIES}
    share = roles.value_counts(normalize=True)
    assert abs(share["cold"] - 0.25) < 0.03
    assert abs(share["ambiguous"] + share["misleading"] - 0.30) < 0.03
    # cold products: at most one edge of any kind
    degree = pd.concat([purchases["product_id"], judged["product_id"], co["product_id"],
                        co["other_product_id"]]).value_counts()
    cold_ids = products["product_id"][roles == "cold"]
    assert degree.reindex(cold_ids).fillna(0).max() <= 1
    # ambiguous and misleading products have neighbours (at least 2 purchases each)
    hard_ids = products["product_id"][roles.isin(["ambiguous", "misleading"])]
    assert purchases["product_id"].value_counts().reindex(hard_ids).fillna(0).min() >= 2
    # ambiguous titles use no category words; clear titles use their category's nouns
    brand_sets = {c.name: set(c.brands) for c in CATEGORIES}
    clear = products[roles == "clear"]
    assert all(b in brand_sets[c] for b, c in zip(clear["brand"], clear["category"],
                                                     strict=True))
    assert set(products["brand"][roles == "ambiguous"]) <= set(GENERIC.brands)
    misleading = products[roles == "misleading"]
    assert not any(b in brand_sets[c] for b, c in zip(misleading["brand"],
                                                      misleading["category"], strict=True))
    # purchases mostly within the query's intent, measured through clear products: a query's
    # clear purchases share one category far more often than the same purchases shuffled
    roles_of = pd.read_csv(tmp_path / "roles.csv")
    clear_ids = set(roles_of["product_id"][roles_of["role"] == "clear"])
    bought = purchases[purchases["product_id"].isin(clear_ids)].merge(
        products[["product_id", "category"]], on="product_id")

    def modal_share(frame: pd.DataFrame) -> float:
        sizes = frame.groupby("query_id").size()
        many = sizes[sizes >= 3].index
        shares = frame[frame["query_id"].isin(many)].groupby("query_id")["category"].agg(
            lambda c: c.value_counts(normalize=True).iloc[0])
        return float(shares.mean())

    shuffled = bought.assign(category=bought["category"].sample(frac=1, random_state=0).values)
    assert modal_share(bought) > 0.7 and modal_share(bought) > modal_share(shuffled) + 0.3
    assert set(judged["esci"]) == set(ESCI)
    assert load_spec(spec_path).name == "ecommerce"


def test_generated_files_load(neo4j_db, tmp_path: Path) -> None:
    spec_path = generate(tmp_path, products=300, queries=200, seed=1)
    report = load_graph(load_spec(spec_path), tmp_path, neo4j_db.driver, neo4j_db.database,
                        progress=False)
    rows = {name: len(pd.read_csv(tmp_path / name)) for name in (
        "products.csv", "queries.csv", "purchases.csv", "judgements.csv", "co_purchases.csv")}
    assert report.nodes == {"Query": rows["queries.csv"], "Product": rows["products.csv"]}
    assert report.relationships == {
        "Query-[:PURCHASED]->Product": rows["purchases.csv"],
        "Query-[:JUDGED]->Product": rows["judgements.csv"],
        "Product-[:CO_PURCHASED]->Product": rows["co_purchases.csv"]}
    assert neo4j_db.run("MATCH (p:Product) RETURN count(DISTINCT p.category) AS c") == [
        {"c": len(CATEGORIES)}]


def test_cli_load_synthetic(neo4j_db, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["load", "synthetic", "--products", "200", "--queries",
                                      "100", "--seed", "2", "--out-dir", str(tmp_path),
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert neo4j_db.run("MATCH (n:Product) RETURN count(n) AS n") == [{"n": 200}]
    assert neo4j_db.run("MATCH (n:Query) RETURN count(n) AS n") == [{"n": 100}]
    purchases = len(pd.read_csv(tmp_path / "purchases.csv"))
    assert neo4j_db.run("MATCH ()-[r:PURCHASED]->() RETURN count(r) AS n") == [
        {"n": purchases}]
