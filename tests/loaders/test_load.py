"""load_graph on small files: formats, dense ids kept across loads, dry runs, the CLI."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.loaders import InputError, load_graph
from lmgnn.spec import load_spec
from lmgnn.spec_store import stored_spec

from ..conftest import wipe
from .shop_files import FILES, NODES, RELS, graph_state, write_shop


def counts(db) -> tuple[dict[str, int], dict[str, int]]:
    state = graph_state(db)
    return state["nodes"], state["rels"]


def test_load_writes_typed_graph_with_dense_ids(neo4j_db, tmp_path: Path) -> None:
    spec = load_spec(write_shop(tmp_path))
    report = load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, progress=False)
    nodes, rels = counts(neo4j_db)
    assert nodes == {**NODES, "LmgnnSpec": 1}
    assert rels == RELS
    assert report.created_nodes == 5 and report.created_relationships == 6
    assert report.nodes == NODES
    assert neo4j_db.run("MATCH (p:Product) RETURN p.product_id AS k, p._nid AS nid, "
                        "p.title AS t ORDER BY nid") == [
        {"k": "P1", "nid": 0, "t": "Sonora Headphones"},
        {"k": "P2", "nid": 1, "t": "Saltbrook Skillet"},
        {"k": "P3", "nid": 2, "t": "Goodstock Set, Blue"}]
    assert neo4j_db.run("MATCH (:Query {query_id: 'Q1'})-[r:PURCHASED]->(:Product "
                        "{product_id: 'P1'}) RETURN r.count AS c") == [{"c": 2}]
    constraints = {r["name"] for r in neo4j_db.run("SHOW CONSTRAINTS YIELD name")}
    assert {"lmgnn_Product_product_id", "lmgnn_Product_nid", "lmgnn_Query_query_id",
            "lmgnn_Query_nid"} <= constraints
    assert stored_spec(neo4j_db.driver, neo4j_db.database).to_dict() == spec.to_dict()


def test_reload_changes_nothing_and_new_nodes_continue_ids(neo4j_db, tmp_path: Path) -> None:
    spec = load_spec(write_shop(tmp_path))
    load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, progress=False)
    before = graph_state(neo4j_db)
    again = load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, progress=False)
    assert (again.created_nodes, again.created_relationships) == (0, 0)
    assert graph_state(neo4j_db) == before

    # a new product listed first: old nodes keep their ids, the new one gets the next
    lines = FILES["products.csv"].splitlines(keepends=True)
    products = lines[0] + "P0,Pixelon Webcam,A 1080p webcam.,Pixelon,Electronics\n" \
        + "".join(lines[1:])
    write_shop(tmp_path, **{"products.csv": products})
    load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, progress=False)
    ids = {r["k"]: r["nid"] for r in neo4j_db.run(
        "MATCH (p:Product) RETURN p.product_id AS k, p._nid AS nid")}
    assert ids == {"P1": 0, "P2": 1, "P3": 2, "P0": 3}


def test_parquet_and_gzip_files(neo4j_db, tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path)
    pd.read_csv(tmp_path / "products.csv").to_parquet(tmp_path / "products.parquet")
    with gzip.open(tmp_path / "purchases.csv.gz", "wt", encoding="utf-8") as out:
        out.write(FILES["purchases.csv"])
    text = spec_path.read_text()
    spec_path.write_text(text.replace("[products.csv]", "[products.parquet]")
                         .replace("path: purchases.csv,", "path: purchases.csv.gz,"))
    for name in ("products.csv", "purchases.csv"):
        (tmp_path / name).unlink()
    load_graph(load_spec(spec_path), tmp_path, neo4j_db.driver, neo4j_db.database,
               progress=False)
    nodes, rels = counts(neo4j_db)
    assert nodes == {**NODES, "LmgnnSpec": 1} and rels == RELS
    assert neo4j_db.run("MATCH (p:Product {product_id: 'P3'}) RETURN p.title AS t") == [
        {"t": "Goodstock Set, Blue"}]


def test_parquet_column_of_wrong_type(tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path)
    frame = pd.read_csv(tmp_path / "purchases.csv")
    frame["count"] = frame["count"].astype(str)
    frame.to_parquet(tmp_path / "purchases.parquet")
    spec_path.write_text(spec_path.read_text().replace("path: purchases.csv,",
                                                       "path: purchases.parquet,"))
    with pytest.raises(InputError, match=r"purchases\.parquet, column 'count': Parquet type "
                       r"(string|large_string) does not fit property 'count' of type int"):
        load_graph(load_spec(spec_path), tmp_path, None, "", dry_run=True, progress=False)


def test_dry_run_validates_and_writes_nothing(neo4j_db, tmp_path: Path) -> None:
    spec = load_spec(write_shop(tmp_path))
    report = load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, dry_run=True,
                        progress=False)
    assert report.dry_run and report.nodes == NODES
    assert report.relationships == {"Query-[:PURCHASED]->Product": 3,
                                    "Query-[:JUDGED]->Product": 2,
                                    "Product-[:CO_PURCHASED]->Product": 1}
    assert neo4j_db.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    assert neo4j_db.run("SHOW CONSTRAINTS YIELD name RETURN count(*) AS n") == [{"n": 0}]


def test_cli_dry_run_then_load(neo4j_db, tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path)
    runner = CliRunner()
    dry = runner.invoke(app, ["load", str(spec_path), "--dry-run", "--no-progress"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output and "valid" in dry.output
    assert neo4j_db.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    done = runner.invoke(app, ["load", str(spec_path), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "5 nodes and 6 relationships created" in done.output
    nodes, rels = counts(neo4j_db)
    assert nodes == {**NODES, "LmgnnSpec": 1} and rels == RELS


def test_cli_bad_file_exits_with_the_error(neo4j_db, tmp_path: Path) -> None:
    spec_path = write_shop(tmp_path, **{"purchases.csv": "query_id,product_id,count\nQ1,P1,x\n"})
    result = CliRunner().invoke(app, ["load", str(spec_path), "--no-progress"])
    assert result.exit_code != 0
    assert "purchases.csv, row 1, field 'count'" in str(result.exception)
    assert neo4j_db.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


def test_new_relation_created_once_per_pair_and_partial_load_completes(neo4j_db,
                                                                       tmp_path: Path) -> None:
    # repeated identical rows in a relation new to the database (the CREATE path) collapse
    # like MERGE; a load cut short after some nodes and relationships (what a dead server
    # leaves) is completed by the full load into the graph a clean load gives
    purchases = FILES["purchases.csv"] + "Q1,P1,2\nQ2,P2,1\n"
    full = load_spec(write_shop(tmp_path / "full", **{"purchases.csv": purchases}))
    load_graph(full, tmp_path / "full", neo4j_db.driver, neo4j_db.database, progress=False)
    clean = graph_state(neo4j_db)
    assert clean["rels"] == RELS
    wipe(neo4j_db.driver, neo4j_db.database)
    lines = FILES["products.csv"].splitlines(keepends=True)
    partial = load_spec(write_shop(tmp_path / "part", **{
        "products.csv": "".join(lines[:3]), "purchases.csv": "query_id,product_id,count\n"
        "Q1,P1,2\n", "judgements.csv": "query_id,product_id,esci\n",
        "co_purchases.csv": "product_id,other_product_id\n"}))
    load_graph(partial, tmp_path / "part", neo4j_db.driver, neo4j_db.database, progress=False)
    again = load_graph(full, tmp_path / "full", neo4j_db.driver, neo4j_db.database,
                       progress=False)
    assert (again.created_nodes, again.created_relationships) == (1, 5)
    assert graph_state(neo4j_db) == clean
