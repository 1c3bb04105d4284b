"""Issue 11 item 8: `lmgnn demo` checks the database before any work and stops there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec

from ..loaders.shop_files import graph_state, write_shop
from .test_server import lmgnn


@pytest.mark.parametrize(("name", "expected"), [
    ("shop2", "database 'neo4j' holds the graph 'shop2', not the demo's 'ecommerce'."),
    ("ecommerce", "database 'neo4j' holds a synthetic shop of 2 Query, 3 Product, not the "
                  "demo's 300 Product, 200 Query."),
])
def test_demo_refuses_a_database_holding_another_graph(neo4j_db, tmp_path: Path, name: str,
                                                       expected: str) -> None:
    spec_path = write_shop(tmp_path / "shop")
    spec_path.write_text(spec_path.read_text().replace("name: ecommerce", f"name: {name}"))
    load_graph(load_spec(spec_path), tmp_path / "shop", neo4j_db.driver, neo4j_db.database,
               progress=False)
    before = graph_state(neo4j_db)
    runs = tmp_path / "runs"
    env = {**os.environ, **neo4j_db.env(), "COLUMNS": "80"}
    result = lmgnn("demo", "--products", "300", "--queries", "200", "--runs-dir", str(runs),
                   env=env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {expected} The demo did nothing: `lmgnn demo "
                                    "--replace` deletes it")
    assert len(result.stderr.splitlines()) == 1
    assert "1." not in result.stdout  # no step started
    assert not (runs / "demo-data").exists()
    assert graph_state(neo4j_db) == before
