"""The real DBLP graph through loaders/specs/dblp.yaml: exact counts, and a reload is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec
from lmgnn.spec_store import stored_spec

SPEC = Path(__file__).resolve().parents[2] / "loaders" / "specs" / "dblp.yaml"

NODES = {"Paper": 14_376, "Author": 14_475, "Venue": 20, "Term": 8_920}
RELS = {"WRITTEN_BY": 41_794, "PUBLISHED_IN": 14_376, "HAS_TERM": 114_624}


def graph_state(db) -> dict[str, object]:
    nodes = {row["label"]: row["n"] for row in db.run(
        "MATCH (n) WHERE NOT n:LmgnnSpec UNWIND labels(n) AS label "
        "RETURN label, count(*) AS n")}
    rels = {row["type"]: row["n"] for row in db.run(
        "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")}
    props = db.run("MATCH (n) WHERE NOT n:LmgnnSpec UNWIND keys(n) AS k RETURN count(*) AS n")
    return {"nodes": nodes, "rels": rels, "props": props[0]["n"]}


@pytest.mark.slow
def test_dblp_counts_ids_and_idempotent_reload(neo4j_db, dblp_dir: Path) -> None:
    spec = load_spec(SPEC)
    report = load_graph(spec, dblp_dir, neo4j_db.driver, neo4j_db.database, progress=False)

    state = graph_state(neo4j_db)
    assert state["nodes"] == NODES
    assert state["rels"] == RELS
    assert report.created_nodes == sum(NODES.values())
    assert report.created_relationships == sum(RELS.values())
    # typed properties and dense ids 0..n-1 per label
    for label, n in NODES.items():
        row = neo4j_db.run(f"MATCH (x:{label}) RETURN min(x._nid) AS lo, max(x._nid) AS hi, "
                           "count(DISTINCT x._nid) AS k")[0]
        assert row == {"lo": 0, "hi": n - 1, "k": n}
    paper = neo4j_db.run("MATCH (p:Paper {paper_id: 7601})-[:PUBLISHED_IN]->(v:Venue) "
                         "RETURN p.title AS title, p.area AS area, v.venue_id AS venue")[0]
    assert paper == {"title": "Some Philosophical Problems with Formal Learning Theory.",
                     "area": "AI", "venue": 36}
    assert stored_spec(neo4j_db.driver, neo4j_db.database).name == "dblp"
    ids_before = neo4j_db.run("MATCH (a:Author) RETURN a.author_id AS k, a._nid AS nid "
                              "ORDER BY k")

    again = load_graph(spec, dblp_dir, neo4j_db.driver, neo4j_db.database, progress=False)
    assert (again.created_nodes, again.created_relationships) == (0, 0)
    assert graph_state(neo4j_db) == state
    assert neo4j_db.run("MATCH (a:Author) RETURN a.author_id AS k, a._nid AS nid "
                        "ORDER BY k") == ids_before
