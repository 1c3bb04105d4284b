"""Small random heterogeneous graphs written straight into the test Neo4j, with the truth.

Papers (text, target ``area``, numeric ``year``), authors (no text), terms (text); relations
Author-WROTE->Paper (author 0 is a hub), Paper-CITES->Paper, Paper-HAS_TERM->Term. Each node
gets ``_nid`` 0..n-1 per label, as the loaders give it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from lmgnn.spec import GraphSpec, parse_spec
from lmgnn.spec_store import save_spec

SPEC = {
    "name": "tiny",
    "nodes": {
        "Paper": {"key": "pid", "properties": {"pid": "int", "title": "string",
                                               "area": "string", "year": "int"},
                  "text": ["title"], "target": "area", "features": ["year"]},
        "Author": {"key": "aid", "properties": {"aid": "int"}},
        "Term": {"key": "tid", "properties": {"tid": "int", "word": "string"},
                 "text": ["word"]},
    },
    "relationships": [
        {"type": "WROTE", "source": "Author", "target": "Paper"},
        {"type": "CITES", "source": "Paper", "target": "Paper"},
        {"type": "HAS_TERM", "source": "Paper", "target": "Term"},
    ],
}
AREAS = ["AI", "DB", "IR"]


@dataclass
class TinyGraph:
    spec: GraphSpec
    counts: dict[str, int]
    edges: dict[tuple[str, str, str], set[tuple[int, int]]]
    titles: list[str]
    areas: list[str | None]
    years: list[int]
    words: list[str]


def build_tiny_graph(db, seed: int = 7, papers: int = 60, authors: int = 40,
                     terms: int = 25) -> TinyGraph:
    rng = random.Random(seed)
    spec = parse_spec(SPEC, "tests/sampler tiny spec")
    titles = [f"paper {i} about {rng.choice(['graphs', 'text', 'models'])}" for i in
              range(papers)]
    areas = [None if i % 11 == 0 else rng.choice(AREAS) for i in range(papers)]
    years = [2000 + rng.randrange(20) for _ in range(papers)]
    words = [f"word{i}" for i in range(terms)]
    wrote = {(0, p) for p in rng.sample(range(papers), 30)}  # a hub author
    wrote |= {(rng.randrange(1, authors), rng.randrange(papers)) for _ in range(90)}
    cites = {(a, b) for a, b in ((rng.randrange(papers), rng.randrange(papers))
                                 for _ in range(150)) if a != b}
    cites |= {(p, 1) for p in range(2, 27)}  # paper 1: cited by many
    has_term = {(p, rng.randrange(terms)) for p in range(papers) for _ in range(3)}
    for label in ("Paper", "Author", "Term"):
        db.run(f"CREATE CONSTRAINT IF NOT EXISTS FOR (n:{label}) REQUIRE n._nid IS UNIQUE")
    db.run("UNWIND range(0, size($t) - 1) AS i CREATE (:Paper {_nid: i, pid: i, title: $t[i], "
           "area: $a[i], year: $y[i]})", t=titles, a=areas, y=years)
    db.run("UNWIND range(0, $n - 1) AS i CREATE (:Author {_nid: i, aid: i})", n=authors)
    db.run("UNWIND range(0, size($w) - 1) AS i CREATE (:Term {_nid: i, tid: i, word: $w[i]})",
           w=words)
    for (src, rel, dst), pairs in (
            (("Author", "WROTE", "Paper"), wrote), (("Paper", "CITES", "Paper"), cites),
            (("Paper", "HAS_TERM", "Term"), has_term)):
        db.run(f"UNWIND $pairs AS p MATCH (s:{src} {{_nid: p[0]}}), (d:{dst} {{_nid: p[1]}}) "
               f"CREATE (s)-[:{rel}]->(d)", pairs=[list(p) for p in sorted(pairs)])
    save_spec(db.driver, db.database, spec)
    return TinyGraph(spec, {"Paper": papers, "Author": authors, "Term": terms},
                     {("Author", "WROTE", "Paper"): wrote, ("Paper", "CITES", "Paper"): cites,
                      ("Paper", "HAS_TERM", "Term"): has_term}, titles, areas, years, words)


@pytest.fixture
def tiny(neo4j_db) -> TinyGraph:
    return build_tiny_graph(neo4j_db)
