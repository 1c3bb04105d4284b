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


# ---- a trainable shop (for the writeback pipeline) -------------------------------------------
WORDS = {"books": ["novel", "atlas", "poetry"], "garden": ["shovel", "hose", "seeds"],
         "toys": ["lego", "puzzle", "doll"]}
TRAIN_SPEC = {
    "name": "trainshop",
    "nodes": {
        "Query": {"key": "query_id", "properties": {"query_id": "string", "text": "string"},
                  "text": ["text"]},
        "Product": {"key": "product_id",
                    "properties": {"product_id": "string", "title": "string",
                                   "category": "string"},
                    "text": ["title"], "target": "category"},
    },
    "relationships": [{"type": "PURCHASED", "source": "Query", "target": "Product",
                       "properties": {"esci": "string"}, "label": "esci"}],
}


def build_trainable_shop(db, products: int = 60, queries: int = 30) -> GraphSpec:
    """Products titled by their category's words, queries buying 3 products of theirs."""
    spec = parse_spec(TRAIN_SPEC, "trainshop")
    cats = sorted(WORDS)
    for label in ("Query", "Product"):
        db.run(f"CREATE CONSTRAINT {label.lower()}_nid IF NOT EXISTS "
               f"FOR (n:{label}) REQUIRE n._nid IS UNIQUE")
    prows = [{"nid": i, "id": f"p{i}", "cat": cats[i % 3],
              "title": f"{WORDS[cats[i % 3]][i % 3]} item {i}"} for i in range(products)]
    db.run("UNWIND $rows AS r CREATE (:Product {_nid: r.nid, product_id: r.id, "
           "title: r.title, category: r.cat})", rows=prows)
    qrows = [{"nid": q, "id": f"q{q}", "text": f"{WORDS[cats[q % 3]][(q // 3) % 3]} please"}
             for q in range(queries)]
    db.run("UNWIND $rows AS r CREATE (:Query {_nid: r.nid, query_id: r.id, text: r.text})",
           rows=qrows)
    buys = [{"q": q, "p": (q % 3) + 3 * ((q + 5 * j) % (products // 3)), "esci": "ESC"[j]}
            for q in range(queries) for j in range(3)]
    db.run("UNWIND $rows AS r MATCH (q:Query {_nid: r.q}), (p:Product {_nid: r.p}) "
           "CREATE (q)-[:PURCHASED {esci: r.esci}]->(p)", rows=buys)
    save_spec(db.driver, db.database, spec)
    return spec


@pytest.fixture
def trainshop(neo4j_db):
    """The trainable shop in a clean database (60 products, 30 queries, 90 purchases)."""
    build_trainable_shop(neo4j_db)
    return neo4j_db
