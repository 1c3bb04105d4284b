"""A tiny shop graph built with Cypher: 6 queries, 10 products, 12 purchases with ESCI labels."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lmgnn.spec import GraphSpec, parse_spec
from lmgnn.spec_store import save_spec

CATEGORIES = ["books", "garden", "toys"]
ESCI = ["E", "S", "C", "I"]
N_QUERIES, N_PRODUCTS = 6, 10
# (query _nid, product _nid, esci)
PURCHASES = [(0, 0, "E"), (0, 1, "S"), (1, 2, "E"), (1, 3, "C"), (2, 4, "I"), (2, 0, "E"),
             (3, 5, "S"), (3, 6, "E"), (4, 7, "C"), (4, 8, "E"), (5, 9, "S"), (5, 2, "I")]

SPEC = {
    "name": "tinyshop",
    "nodes": {
        "Query": {"key": "query_id", "properties": {"query_id": "string", "text": "string"},
                  "text": ["text"]},
        "Product": {"key": "product_id",
                    "properties": {"product_id": "string", "title": "string",
                                   "category": "string", "split": "string"},
                    "text": ["title"], "target": "category", "split": "split"},
    },
    "relationships": [{"type": "PURCHASED", "source": "Query", "target": "Product",
                       "properties": {"esci": "string"}, "label": "esci"}],
}


@dataclass
class Shop:
    """The graph's handle and spec, and the facts it was built from (tests compare with them)."""

    db: object  # tests.conftest.Neo4jHandle
    spec: GraphSpec
    categories = CATEGORIES
    esci = ESCI
    n_queries = N_QUERIES
    n_products = N_PRODUCTS
    purchases = PURCHASES

    @property
    def driver(self):
        return self.db.driver

    @property
    def database(self) -> str:
        return self.db.database


def build_shop(db) -> Shop:
    """Create the graph (with `_nid` constraints, as the loaders do) and store its spec."""
    spec = parse_spec(SPEC, "tinyshop")
    for label in ("Query", "Product"):
        db.run(f"CREATE CONSTRAINT {label.lower()}_nid IF NOT EXISTS "
               f"FOR (n:{label}) REQUIRE n._nid IS UNIQUE")
    db.run("UNWIND range(0, $n - 1) AS i CREATE (:Query {_nid: i, query_id: 'q' + i, "
           "text: 'query ' + i})", n=N_QUERIES)
    db.run("UNWIND range(0, $n - 1) AS i CREATE (:Product {_nid: i, product_id: 'p' + i, "
           "title: 'product ' + i, category: $cats[i % 3], "
           "split: CASE WHEN i < 7 THEN 'train' ELSE 'test' END})",
           n=N_PRODUCTS, cats=CATEGORIES)
    db.run("UNWIND $rows AS r MATCH (q:Query {_nid: r[0]}), (p:Product {_nid: r[1]}) "
           "CREATE (q)-[:PURCHASED {esci: r[2]}]->(p)", rows=[list(p) for p in PURCHASES])
    save_spec(db.driver, db.database, spec)
    return Shop(db, spec)


@pytest.fixture
def shop(neo4j_db) -> Shop:
    return build_shop(neo4j_db)
