"""Ingest speed: nodes/s and relationships/s of ``load_graph`` on the synthetic shop.

Run (starts a throwaway Neo4j 5.26 on free ports, so nothing of yours is touched)::

    .venv/bin/python benchmarks/ingest.py                  # ~10k, ~100k, ~1M relationships
    .venv/bin/python benchmarks/ingest.py --sizes 10k 100k # skip the 1M graph

Each size is generated (``lmgnn.loaders.synthetic.generate``) and loaded into an empty graph
with constraints in place; the smallest one is also loaded by a naive loader that MERGEs one
row per transaction (same Cypher, same constraints), and the table puts the two side by side.
Times are the write phases only (validation is reported separately). To use a running server
instead, set NEO4J_URI/NEO4J_PASSWORD and pass --allow-wipe: every node in it is deleted.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pandas as pd
from rich.console import Console
from rich.table import Table

from lmgnn import cypher_files as cypher
from lmgnn.config import Settings, load_settings, new_password
from lmgnn.db import server
from lmgnn.db.connection import open_driver
from lmgnn.loaders import load_graph, validate_files
from lmgnn.loaders.plan import SOURCE, TARGET, node_columns, rel_columns, resolve
from lmgnn.loaders.readers import key_array, python_values, read_chunks
from lmgnn.loaders.synthetic import generate
from lmgnn.loaders.write import create_schema, delete_graph
from lmgnn.spec import NID, GraphSpec, load_spec

# name -> (products, queries): about 10k, 100k and 1M relationships in total
SIZES = {"10k": (1_500, 1_000), "100k": (15_000, 10_000), "1M": (150_000, 100_000)}
console = Console(width=170)


@dataclass
class Result:
    loader: str
    size: str
    nodes: int
    relationships: int
    validate_s: float
    node_s: float
    rel_s: float

    @property
    def nodes_per_s(self) -> float:
        return self.nodes / self.node_s

    @property
    def rels_per_s(self) -> float:
        return self.relationships / self.rel_s


def batched(driver: neo4j.Driver, database: str, spec: GraphSpec, folder: Path,
            size: str) -> Result:
    report = load_graph(spec, folder, driver, database, progress=True)
    return Result("batched UNWIND (load_graph)", size, report.total_nodes,
                  report.total_relationships, report.validate_seconds, report.node_seconds,
                  report.relationship_seconds)


def naive(driver: neo4j.Driver, database: str, spec: GraphSpec, folder: Path,
          size: str) -> Result:
    """One MERGE per transaction: the loader people write first."""
    t0 = time.perf_counter()
    checked = validate_files(spec, folder)
    create_schema(driver, database, spec)
    t1 = time.perf_counter()
    nodes = rels = 0
    with driver.session(database=database) as session:
        for label, node in spec.nodes.items():
            query = cypher.render("load/naive_merge_node", label=label, key=node.key, nid=NID)
            ids = pd.Series(range(len(checked.keys[label])), index=checked.keys[label])
            props = [p for p in node.properties if p != node.key]
            for source in node.files:
                for chunk in read_chunks(resolve(folder, source), node_columns(node, source),
                                         source.path):
                    keys = key_array(chunk[node.key])
                    nids = ids.to_numpy()[ids.index.get_indexer(keys)]
                    values = [python_values(chunk[p]) for p in props]
                    for i, key in enumerate(keys.tolist()):
                        row = {"key": key, "nid": int(nids[i]),
                               "props": {p: v[i] for p, v in zip(props, values, strict=True)}}
                        session.execute_write(lambda tx, r=row, q=query: tx.run(q, r).consume())
                        nodes += 1
        t2 = time.perf_counter()
        for rel in spec.relationships:
            src, dst = spec.nodes[rel.source], spec.nodes[rel.target]
            query = cypher.render("load/naive_merge_relationship", source=src.label,
                                  source_key=src.key, target=dst.label, target_key=dst.key,
                                  type=rel.type)
            for source in rel.files:
                for chunk in read_chunks(resolve(folder, source),
                                         rel_columns(spec, rel, source), source.path):
                    values = [python_values(chunk[p]) for p in rel.properties]
                    for i, (s, t) in enumerate(zip(python_values(chunk[SOURCE]),
                                                   python_values(chunk[TARGET]), strict=True)):
                        row = {"s": s, "t": t, "props": {p: v[i] for p, v in zip(
                            rel.properties, values, strict=True)}}
                        session.execute_write(lambda tx, r=row, q=query: tx.run(q, r).consume())
                        rels += 1
    t3 = time.perf_counter()
    return Result("naive, 1 row per transaction", size, nodes, rels, t1 - t0, t2 - t1, t3 - t2)


def wipe(driver: neo4j.Driver, database: str) -> None:
    delete_graph(driver, database)


def table(results: list[Result]) -> Table:
    out = Table(title="lmgnn ingest: synthetic shop, write phases (validation apart)")
    for col in ("loader", "size", "nodes", "relationships", "validate s", "node s",
                "nodes/s", "rel s", "rels/s", "speed-up vs naive"):
        out.add_column(col, justify="left" if col == "loader" else "right")
    naive_by_size = {r.size: r for r in results if r.loader.startswith("naive")}
    for r in results:
        base = naive_by_size.get(r.size)
        ratio = "" if base is None or base is r else (
            f"nodes x{r.nodes_per_s / base.nodes_per_s:,.0f}, "
            f"rels x{r.rels_per_s / base.rels_per_s:,.0f}")
        out.add_row(r.loader, r.size, f"{r.nodes:,}", f"{r.relationships:,}",
                    f"{r.validate_s:.1f}", f"{r.node_s:.1f}", f"{r.nodes_per_s:,.0f}",
                    f"{r.rel_s:.1f}", f"{r.rels_per_s:,.0f}", ratio)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--allow-wipe", action="store_true",
                        help="use the server in NEO4J_URI and delete every node in it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lmgnn-ingest-") as tmp:
        if os.environ.get("NEO4J_URI"):
            if not args.allow_wipe:
                parser.error("NEO4J_URI is set: pass --allow-wipe to delete its graph, or "
                             "unset it to get a throwaway server")
            settings, started = load_settings(), False
        else:
            settings = Settings(uri=f"bolt://127.0.0.1:{_free_port()}", password=new_password(),
                                data_dir=Path(tmp) / "neo4j", http_port=_free_port(),
                                heap="2g", sources={"password": "benchmark"})
            with console.status("starting a throwaway Neo4j ..."):
                server.start(settings)
            started = True
        try:
            results = run(settings, args.sizes, args.seed, Path(tmp))
        finally:
            if started:
                server.stop(settings)
    console.print(table(results))
    return 0


def run(settings: Settings, sizes: list[str], seed: int, tmp: Path) -> list[Result]:
    driver = open_driver(settings)
    results: list[Result] = []
    try:
        for size in sizes:
            products, queries = SIZES[size]
            folder = tmp / size
            with console.status(f"generating {size}: {products:,} products ..."):
                spec = load_spec(generate(folder, products=products, queries=queries,
                                          seed=seed))
            if size == sizes[0]:
                wipe(driver, settings.database)
                results.append(naive(driver, settings.database, spec, folder, size))
                console.print(table(results[-1:]))
            wipe(driver, settings.database)
            results.append(batched(driver, settings.database, spec, folder, size))
            console.print(table(results[-1:]))
    finally:
        driver.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
