"""`lmgnn load --bulk`: the offline importer builds the graph the online path builds.

Each test loads the same files both ways into a real server of this module's own (the bulk
path stops and restarts it, and a new store starts its transaction ids afresh, so drivers
opened before an import are closed and opened again) and compares every node, property,
`_nid` and relationship.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lmgnn.cli.main import app
from lmgnn.config import Settings, new_password
from lmgnn.db import server
from lmgnn.db.connection import open_driver
from lmgnn.loaders import load_graph
from lmgnn.loaders.bulk import bulk_load
from lmgnn.loaders.synthetic import generate
from lmgnn.spec import load_spec
from lmgnn.spec_store import stored_spec

from ..conftest import Neo4jHandle, free_port, wipe
from .shop_files import FILES, graph_state, write_shop

DBLP_SPEC = Path(__file__).resolve().parents[2] / "loaders" / "specs" / "dblp.yaml"


class Server:
    """This module's server, with a driver that is reopened after each bulk import."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Neo4jHandle(open_driver(settings), settings.database, settings)

    def reopen(self) -> Neo4jHandle:
        self.db.driver.close()
        self.db = Neo4jHandle(open_driver(self.settings), self.settings.database, self.settings)
        return self.db


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(uri=f"bolt://127.0.0.1:{free_port()}", password=new_password(),
                        data_dir=tmp_path_factory.mktemp("neo4j-bulk"), http_port=free_port(),
                        heap="768m", sources={"password": "test fixture"})
    server.start(settings)
    handle = Server(settings)
    try:
        yield handle
    finally:
        handle.db.driver.close()
        server.stop(settings)


@pytest.fixture
def neo4j_db(bulk_server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """A clean graph on this module's server; `lmgnn` commands point at it too."""
    db = bulk_server.reopen()
    wipe(db.driver, db.database)
    # the CLI restarts this server after an import: all of its settings, not CI's own server's
    own = {"LMGNN_NEO4J_DATA_DIR": str(db.settings.data_dir),
           "LMGNN_NEO4J_HTTP_PORT": str(db.settings.http_port),
           "LMGNN_NEO4J_HEAP": db.settings.heap}
    for key, value in {**db.env(), **own}.items():
        monkeypatch.setenv(key, value)
    return bulk_server


def schema(db) -> set[tuple[str, str]]:
    return {(r["name"], r["type"]) for r in db.run(
        "SHOW INDEXES YIELD name, type WHERE name STARTS WITH 'lmgnn_' RETURN name, type")}


def online_then_bulk(srv: Server, spec, folder: Path) -> tuple[dict, dict]:
    """Graph state after an online load and after a bulk load of the same files."""
    db = srv.db
    report = load_graph(spec, folder, db.driver, db.database, progress=False)
    online, online_schema = graph_state(db), schema(db)
    wipe(db.driver, db.database)
    bulk = bulk_load(spec, folder, db.settings, progress=False)
    db = srv.reopen()
    assert bulk.method == "bulk", bulk.note
    assert (bulk.nodes, bulk.relationships) == (report.nodes, report.relationships)
    assert bulk.created_nodes == report.created_nodes
    assert bulk.created_relationships == report.created_relationships
    assert schema(db) == online_schema
    assert stored_spec(db.driver, db.database).to_dict() == spec.to_dict()
    return online, graph_state(db)


def test_bulk_equals_online_on_tricky_shop(neo4j_db, tmp_path: Path) -> None:
    # quotes, commas and a line break in text, an empty (absent) brand, a repeated identical
    # node row and a repeated relationship pair: the importer must store what MERGE stores
    products = FILES["products.csv"] + (
        'P4,"The ""Big"" One","Two lines:\nline two, with comma",,Kitchen\n'
        "P2,Saltbrook Skillet,A cast iron skillet.,Saltbrook,Kitchen\n")
    purchases = FILES["purchases.csv"] + "Q1,P4,7\nQ1,P1,2\n"
    spec = load_spec(write_shop(tmp_path, **{"products.csv": products,
                                             "purchases.csv": purchases}))
    online, bulk = online_then_bulk(neo4j_db, spec, tmp_path)
    assert bulk == online
    p4 = next(r["p"] for r in bulk["props"] if r["p"].get("product_id") == "P4")
    assert p4["title"] == 'The "Big" One' and "\n" in p4["description"]
    assert "brand" not in p4 and p4["_nid"] == 3


def test_bulk_equals_online_on_typed_parquet_graph(neo4j_db, tmp_path: Path) -> None:
    # int keys, float/bool/int properties with gaps, a split property, Parquet and CSV.gz
    # files, two files for one relation
    items = pd.DataFrame({"item_id": [10, 11, 12, 13], "name": ["a", "b", "c", "d"],
                          "price": [1.5, None, 3.25, 1e300],
                          "fresh": [True, False, None, True], "split": ["train"] * 3 + ["test"]})
    items.to_parquet(tmp_path / "items.parquet")
    users = pd.DataFrame({"u": [1, 2], "age": pd.array([30, None], dtype="Int64")})
    users.to_csv(tmp_path / "users.csv.gz", index=False)
    pd.DataFrame({"u": [1, 1, 2], "i": [10, 11, 13],
                  "stars": pd.array([5, 3, None], dtype="Int64")}).to_csv(
        tmp_path / "r1.csv", index=False)
    pd.DataFrame({"u": [2, 1], "i": [12, 10], "stars": [4, 5]}).to_csv(tmp_path / "r2.csv",
                                                                       index=False)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({
        "name": "typed",
        "nodes": {
            "Item": {"key": "item_id", "properties": {"item_id": "int", "name": "string",
                                                      "price": "float", "fresh": "bool",
                                                      "split": "string"},
                     "text": ["name"], "split": "split", "files": ["items.parquet"]},
            "User": {"key": "u", "properties": {"u": "int", "age": "int"},
                     "files": ["users.csv.gz"]}},
        "relationships": [{"type": "RATED", "source": "User", "target": "Item",
                           "properties": {"stars": "int"},
                           "files": [{"path": "r1.csv", "source": "u", "target": "i"},
                                     {"path": "r2.csv", "source": "u", "target": "i"}]}]}))
    spec = load_spec(tmp_path / "spec.yaml")
    online, bulk = online_then_bulk(neo4j_db, spec, tmp_path)
    assert bulk == online
    item = {r["p"]["item_id"]: r["p"] for r in bulk["props"] if r["l"] == "Item"}
    assert item[13]["price"] == 1e300 and item[12].get("fresh") is None
    assert isinstance(item[10]["fresh"], bool) and "price" not in item[11]
    assert bulk["rels"] == {"RATED": 4}


def test_bulk_equals_online_on_synthetic_shop(neo4j_db, tmp_path: Path) -> None:
    spec = load_spec(generate(tmp_path, products=400, queries=250, seed=3))
    online, bulk = online_then_bulk(neo4j_db, spec, tmp_path)
    assert bulk == online
    assert sum(bulk["rels"].values()) > 1000


@pytest.mark.slow
def test_bulk_equals_online_on_dblp(neo4j_db, dblp_dir: Path) -> None:
    online, bulk = online_then_bulk(neo4j_db, load_spec(DBLP_SPEC), dblp_dir)
    assert bulk == online
    assert bulk["nodes"]["Paper"] == 14_376 and bulk["rels"]["HAS_TERM"] == 114_624


def test_bulk_goes_online_into_a_database_that_holds_nodes(neo4j_db, tmp_path: Path) -> None:
    neo4j_db = neo4j_db.db
    spec = load_spec(write_shop(tmp_path))
    load_graph(spec, tmp_path, neo4j_db.driver, neo4j_db.database, progress=False)
    before = graph_state(neo4j_db)
    notes: list[str] = []
    report = bulk_load(spec, tmp_path, neo4j_db.settings, progress=False, say=notes.append)
    assert report.method == "online" and "holds 6 nodes" in notes[0]  # 5 + the stored spec
    assert report.created_nodes == 0 and graph_state(neo4j_db) == before


def test_bulk_goes_online_for_a_server_lmgnn_did_not_start(neo4j_db, tmp_path: Path) -> None:
    neo4j_db = neo4j_db.db
    spec = load_spec(write_shop(tmp_path / "shop"))
    foreign = replace(neo4j_db.settings, data_dir=tmp_path / "not-this-server")
    report = bulk_load(spec, tmp_path / "shop", foreign, progress=False)
    assert report.method == "online" and "was not started by `lmgnn db start`" in report.note
    assert graph_state(neo4j_db)["nodes"]["Product"] == 3


def test_cli_load_bulk_replaces_another_graph(neo4j_db, tmp_path: Path) -> None:
    srv, neo4j_db = neo4j_db, neo4j_db.db
    spec = load_spec(write_shop(tmp_path / "shop"))
    load_graph(spec, tmp_path / "shop", neo4j_db.driver, neo4j_db.database, progress=False)
    folder = tmp_path / "typed"
    folder.mkdir()
    (folder / "n.csv").write_text("k,t\n1,one\n2,two\n")
    (folder / "spec.yaml").write_text(yaml.safe_dump({
        "name": "other", "nodes": {"N": {"key": "k", "properties": {"k": "int", "t": "string"},
                                         "files": ["n.csv"]}}, "relationships": []}))
    refused = CliRunner().invoke(app, ["load", str(folder / "spec.yaml"), "--bulk",
                                       "--no-progress"])
    assert refused.exit_code != 0
    assert "already holds the graph 'ecommerce'" in str(refused.exception)
    result = CliRunner().invoke(app, ["load", str(folder / "spec.yaml"), "--bulk", "--replace",
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert graph_state(srv.reopen())["nodes"] == {"N": 2, "LmgnnSpec": 1}


def test_a_failed_import_leaves_the_database_and_the_server_as_they_were(
        neo4j_db, tmp_path: Path) -> None:
    """The import runs into a staging store beside the running server: an importer that fails
    (here: a duplicate id) never stopped the server and never touched the database."""
    from lmgnn.db import bulk_import
    from lmgnn.errors import UserError

    db = neo4j_db.db
    spec = load_spec(write_shop(tmp_path / "shop"))
    load_graph(spec, tmp_path / "shop", db.driver, db.database, progress=False)
    before = graph_state(db)
    paths = server.ServerPaths(db.settings.data_dir)
    pid = server.read_pid(paths)
    header, data = tmp_path / "n.header.csv", tmp_path / "n.csv"
    header.write_text("_nid:ID(N),k:long\n")
    data.write_text("0,1\n0,2\n")
    work = db.settings.data_dir / "failed-import"
    work.mkdir()
    with pytest.raises(UserError, match="is unchanged"):
        bulk_import.bulk_import(db.settings, db.database, [f"N={header},{data}"], [],
                                multiline=False, work_dir=work)
    assert server.read_pid(paths) == pid  # never stopped
    assert graph_state(db) == before  # the same driver, the same graph
    assert not (db.settings.data_dir / "data" / "databases" / bulk_import.STAGING).exists()


@pytest.mark.parametrize("bad", [
    {"purchases.csv": "query_id,product_id,count\nQ1,P1,2\nQ2,P2,two\n"},  # wrong type
    {"purchases.csv": FILES["purchases.csv"] + "Q1,P9,1\n"},  # dangling endpoint
    {"products.csv": FILES["products.csv"]
     + "P2,Another Title,A cast iron skillet.,Saltbrook,Kitchen\n"},  # conflicting key
    {"judgements.csv": FILES["judgements.csv"] + "Q1,P1,Substitute\n"},  # conflicting pair
    {"co_purchases.csv": "product_id,other_product_id\nP2,P3,P1\n"},  # ragged row
])
def test_bad_input_gets_the_online_error_and_imports_nothing(neo4j_db, tmp_path: Path,
                                                             bad: dict[str, str]) -> None:
    """Validation and the importer's files are one pass: a file that fails a check (late,
    after other files were staged) raises the online path's error; nothing is imported,
    even with --replace, the server was never stopped and no staged file is left."""
    from lmgnn.errors import UserError

    db = neo4j_db.db
    spec = load_spec(write_shop(tmp_path / "good"))
    load_graph(spec, tmp_path / "good", db.driver, db.database, progress=False)
    before = graph_state(db)
    pid = server.read_pid(server.ServerPaths(db.settings.data_dir))
    spec = load_spec(write_shop(tmp_path / "bad", **bad))
    with pytest.raises(UserError) as online:
        load_graph(spec, tmp_path / "bad", db.driver, db.database, progress=False)
    with pytest.raises(UserError) as bulk:
        bulk_load(spec, tmp_path / "bad", db.settings, replace=True, progress=False)
    assert str(bulk.value) == str(online.value)
    assert server.read_pid(server.ServerPaths(db.settings.data_dir)) == pid
    assert graph_state(db) == before
    assert not list(db.settings.data_dir.glob("bulk-import-*"))
