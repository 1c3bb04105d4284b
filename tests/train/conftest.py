"""A tiny shop graph in Neo4j and a tiny random BERT on disk: enough to run every method fast."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec

SPEC = """
name: tinyshop
nodes:
  Product:
    key: product_id
    properties: {product_id: string, title: string, category: string}
    text: [title]
    target: category
    files: [products.csv]
  Query:
    key: query_id
    properties: {query_id: string, text: string}
    text: [text]
    files: [queries.csv]
  Brand:
    key: brand_id
    properties: {brand_id: string}
    files: [brands.csv]
relationships:
  - type: PURCHASED
    source: Query
    target: Product
    properties: {esci: string}
    label: esci
    files: [{path: purchases.csv, source: query_id, target: product_id}]
  - type: MADE_BY
    source: Product
    target: Brand
    files: [{path: made_by.csv, source: product_id, target: brand_id}]
"""

WORDS = {"toys": ["lego", "puzzle", "doll"], "books": ["novel", "poetry", "atlas"],
         "garden": ["shovel", "hose", "seeds"], "kitchen": ["pan", "knife", "kettle"]}
NOISE = ["red", "blue", "large", "small", "classic", "new", "pro", "mini"]


def write_tiny_shop(out: Path, seed: int = 0, products: int = 120, queries: int = 60) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cats = sorted(WORDS)
    rows, by_cat = [], {c: [] for c in cats}
    for i in range(products):
        cat = cats[i % len(cats)]
        word = rng.choice(WORDS[cat]) if rng.random() < 0.6 else rng.choice(
            WORDS[rng.choice(cats)])
        rows.append((f"p{i}", f"{rng.choice(NOISE)} {word} {rng.choice(NOISE)}", cat))
        by_cat[cat].append(f"p{i}")
    _csv(out / "products.csv", ["product_id", "title", "category"], rows)
    qrows, prow = [], []
    for q in range(queries):
        cat = cats[q % len(cats)]
        qrows.append((f"q{q}", f"{rng.choice(WORDS[cat])} {rng.choice(NOISE)}"))
        for pid in rng.sample(by_cat[cat], 4):
            prow.append((f"q{q}", pid, rng.choice(["E", "S", "C"])))
    _csv(out / "queries.csv", ["query_id", "text"], qrows)
    _csv(out / "purchases.csv", ["query_id", "product_id", "esci"], prow)
    _csv(out / "brands.csv", ["brand_id"], [(f"b{i}",) for i in range(8)])
    _csv(out / "made_by.csv", ["product_id", "brand_id"],
         [(pid, f"b{cats.index(cat) * 2 + rng.randrange(2)}") for pid, _, cat in rows])
    (out / "spec.yaml").write_text(SPEC, encoding="utf-8")
    return out / "spec.yaml"


def _csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture
def tiny_shop(neo4j_db, tmp_path):
    spec_path = write_tiny_shop(tmp_path / "shop")
    spec = load_spec(spec_path)
    load_graph(spec, spec_path.parent, neo4j_db.driver, neo4j_db.database, progress=False)
    return neo4j_db
