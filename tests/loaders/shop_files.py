"""A tiny valid shop (spec + CSV files) written to a folder, for tests to load and corrupt."""

from __future__ import annotations

import shutil
from pathlib import Path

SPEC = Path(__file__).resolve().parents[2] / "loaders" / "specs" / "ecommerce.yaml"

FILES = {
    "queries.csv": "query_id,text\nQ1,wireless headphones\nQ2,cast iron skillet\n",
    "products.csv": (
        "product_id,title,description,brand,category\n"
        "P1,Sonora Headphones,Wireless headphones with 40-hour battery.,Sonora,Electronics\n"
        "P2,Saltbrook Skillet,A cast iron skillet.,Saltbrook,Kitchen\n"
        'P3,"Goodstock Set, Blue",A value set.,Goodstock,Kitchen\n'),
    "purchases.csv": "query_id,product_id,count\nQ1,P1,2\nQ2,P2,1\nQ2,P3,1\n",
    "judgements.csv": "query_id,product_id,esci\nQ1,P1,Exact\nQ1,P2,Irrelevant\n",
    "co_purchases.csv": "product_id,other_product_id\nP2,P3\n",
}
NODES = {"Query": 2, "Product": 3}
RELS = {"PURCHASED": 3, "JUDGED": 2, "CO_PURCHASED": 1}


def write_shop(folder: Path, **replace: str | bytes) -> Path:
    """Write the shop into ``folder`` (files in ``replace`` swapped); return the spec path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**FILES, **replace}.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (folder / name).write_bytes(data)
    spec = folder / SPEC.name
    shutil.copyfile(SPEC, spec)
    return spec


def graph_state(db) -> dict[str, object]:
    """Counts per label and type plus every property value: equal states, equal graphs."""
    nodes = {r["label"]: r["n"] for r in db.run(
        "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n")}
    rels = {r["type"]: r["n"] for r in db.run(
        "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")}
    props = db.run("MATCH (n) WHERE NOT n:LmgnnSpec RETURN labels(n)[0] AS l, "
                   "properties(n) AS p ORDER BY l, p._nid")
    rel_props = db.run("MATCH (a)-[r]->(b) RETURN type(r) AS t, a._nid AS a, b._nid AS b, "
                       "properties(r) AS p ORDER BY t, a, b")
    return {"nodes": nodes, "rels": rels, "props": props, "rel_props": rel_props}
