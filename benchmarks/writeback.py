"""Writeback throughput: properties written per second and predicted links per second.

Run (starts a throwaway local Neo4j on free ports, builds a graph with Cypher; ~3 minutes on
2 cores)::

    .venv/bin/python benchmarks/writeback.py
    .venv/bin/python benchmarks/writeback.py --products 20000 --queries 5000   # quick

``--use-configured`` uses the server of NEO4J_URI / the config file instead (it must be empty:
the benchmark wipes it). Predictions are random tensors (the model is not what is measured):
node classes (12 classes) on every product, embeddings (``--dim``) with their vector index,
top-k links per query and edge classes on every purchase. Each output is written four ways in
one run, side by side: ``naive`` (one row per transaction, on a ``--naive`` slice), ``before``
(the writer as it was before issue 17: clear first, one row map per item, 10,000 per
transaction; emulated here with its own statements), ``now`` (the writer: parallel lists,
measured batch sizes, links by CREATE into an empty output) and ``now, re-write`` (the same
output again: overwritten in place, readable throughout, leftovers removed). Ranking (scoring
every product per query, excluding purchases) is timed apart. ``server CPU s`` is what the
Neo4j JVM spent on each write (its share of the shared cores aside): ``vs before (CPU/item)``
compares the server's work per item, the part of the cost the writer controls.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import torch

REPO = Path(__file__).resolve().parent.parent
CLASSES = [f"c{i}" for i in range(12)]
SPEC = {
    "name": "benchshop",
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


@dataclass
class WriteStatsLike:
    items: int
    seconds: float


def build_graph(driver, database: str, products: int, queries: int, per_query: int) -> None:
    from lmgnn.spec import parse_spec
    from lmgnn.spec_store import save_spec

    def run(q: str, **p: object) -> None:
        with driver.session(database=database) as s:
            s.run(q, p).consume()

    run("CREATE CONSTRAINT bench_p IF NOT EXISTS FOR (n:Product) REQUIRE n._nid IS UNIQUE")
    run("CREATE CONSTRAINT bench_q IF NOT EXISTS FOR (n:Query) REQUIRE n._nid IS UNIQUE")
    run("UNWIND range(0, $n - 1) AS i CALL (i) { CREATE (:Product {_nid: i, product_id: 'p' + i,"
        " title: 'product ' + i, category: $cats[i % 12]}) } IN TRANSACTIONS OF 20000 ROWS",
        n=products, cats=CLASSES)
    run("UNWIND range(0, $n - 1) AS i CALL (i) { CREATE (:Query {_nid: i, query_id: 'q' + i, "
        "text: 'query ' + i}) } IN TRANSACTIONS OF 20000 ROWS", n=queries)
    run("UNWIND range(0, $n - 1) AS i CALL (i) { MATCH (q:Query {_nid: i}) "
        "UNWIND range(1, $k) AS j MATCH (p:Product {_nid: (i * 7919 + j * 104729) % $np}) "
        "MERGE (q)-[:PURCHASED {esci: 'E'}]->(p) } IN TRANSACTIONS OF 5000 ROWS",
        n=queries, k=per_query, np=products)
    save_spec(driver, database, parse_spec(SPEC, "benchshop"))


def _cpu(proc) -> float:
    """User + system CPU seconds of the server JVM (0 when it is not ours to watch)."""
    if proc is None:
        return 0.0
    times = proc.cpu_times()
    return times.user + times.system


def measure(args: argparse.Namespace, driver, database: str, jvm=None) -> list[dict]:
    from lmgnn.spec_store import require_spec
    from lmgnn.writeback import (
        EdgeClassBatch,
        EmbeddingBatch,
        LinkBatch,
        NodeClassBatch,
        predict_links,
        write_edge_classes,
        write_embeddings,
        write_links,
        write_node_classes,
    )

    spec = require_spec(driver, database)
    n_p, n_q, k, dim = args.products, args.queries, args.top_k, args.dim
    gen = torch.Generator().manual_seed(0)
    rows: list[dict] = []

    def node_batches(n: int):
        for lo in range(0, n, 4096):  # like inference: generated batch by batch
            nids = torch.arange(lo, min(lo + 4096, n))
            yield NodeClassBatch(nids, torch.rand(nids.numel(), 12, generator=gen).softmax(1))

    def emb_batches(n: int):
        for lo in range(0, n, 4096):
            nids = torch.arange(lo, min(lo + 4096, n))
            yield EmbeddingBatch(nids, torch.randn(nids.numel(), dim, generator=gen))

    def link_batches(n: int):
        for lo in range(0, n, 1024):
            src = torch.arange(lo, min(lo + 1024, n))
            dst = torch.randint(0, n_p, (src.numel(), k), generator=gen)
            dst = torch.sort(dst, dim=1).values  # distinct enough; duplicates are allowed
            yield LinkBatch(src, dst, torch.rand(src.numel(), k, generator=gen))

    pairs = driver.execute_query("MATCH (q:Query)-[:PURCHASED]->(p:Product) "
                                 "RETURN q._nid AS s, p._nid AS d", database_=database)[0]
    src = torch.tensor([r["s"] for r in pairs])
    dst = torch.tensor([r["d"] for r in pairs])

    def edge_batches(n: int):
        for lo in range(0, n, 4096):
            sl = slice(lo, min(lo + 4096, n))
            yield EdgeClassBatch(src[sl], dst[sl], torch.rand(src[sl].numel(), 4,
                                                             generator=gen).softmax(1))

    def before(kind: str, label_or_rel: str, batches, batch_rows: int, **names) -> WriteStatsLike:
        """The writer as it was before issue 17: clear the run's old values first, then one
        UNWIND of row maps per transaction (old statements, old sizes), counted in the tx."""
        from lmgnn import cypher_files as cypher
        from lmgnn.writeback import clear, manifest, naming

        t0 = time.perf_counter()
        run_id = "run_before"
        if kind == "node_class":
            n = naming.node_class_names(spec, run_id, label_or_rel)
            clear.clear_node_classes(driver, database, n)
            query = cypher.render("writeback/node_class", label=n.label, pred=n.pred,
                                  prob=n.prob, dist=n.dist)
            oid, params = n.output_id, {}
        elif kind == "embedding":
            n = naming.embedding_names(spec, run_id, label_or_rel)
            clear.clear_embeddings(driver, database, n)
            query = cypher.render("writeback/embedding", label=n.label)
            oid, params = n.output_id, {"property": n.property}
        elif kind == "links":
            n = naming.link_names(spec, run_id, label_or_rel)
            clear.clear_links(driver, database, n)
            query = cypher.render("writeback/links", source="Query", target="Product",
                                  type=n.rel_type)
            oid, params = n.output_id, {"run_id": run_id}
        else:
            n = naming.edge_class_names(spec, run_id, label_or_rel)
            clear.clear_edge_classes(driver, database, n)
            query = cypher.render("writeback/edge_class", source="Query", type="PURCHASED",
                                  target="Product", pred=n.pred, prob=n.prob)
            oid, params = n.output_id, {}
        manifest.ensure_schema(driver, database)
        manifest.begin_output(driver, database, run_id, oid, kind, {})
        items = tx_count = 0

        def work(tx, rows):
            rec = tx.run(query, rows=rows, **params).single()
            manifest.count_batch(tx, oid, rec["added"])
            return rec["written"]

        with driver.session(database=database) as session:
            buffer: list = []
            load = 0
            for rows in batches:
                for row in rows:  # links weigh their number of links, as the old writer did
                    buffer.append(row)
                    load += max(1, len(row["links"])) if kind == "links" else 1
                    if load >= batch_rows:
                        items += session.execute_write(work, buffer)
                        tx_count += 1
                        buffer, load = [], 0
            if buffer:
                items += session.execute_write(work, buffer)
        manifest.finish_output(driver, database, oid)
        return WriteStatsLike(items, time.perf_counter() - t0)

    def timed(name: str, way: str, props: int, fn, n: int, batch_rows: int | None,
              note: str = "") -> None:
        t, cpu = time.perf_counter(), _cpu(jvm)
        stats = fn(n, batch_rows)
        s = time.perf_counter() - t
        server_s = _cpu(jvm) - cpu
        index_s = getattr(stats, "index_seconds", 0.0)
        if index_s:  # the index build, apart from the writes
            note = (note + f" + {index_s:.1f} s vector index").strip()
            s -= index_s
        rows.append({"output": name, "way": way, "items": stats.items,
                     "tx rows": batch_rows or 0, "seconds": s, "items/s": stats.items / s,
                     "props/s": stats.items * props / s, "note": note,
                     "server_s": server_s})
        print(f"  {name:<24} {way:<14} rows/tx {batch_rows or 0:>6}: {stats.items:>9,} in "
              f"{s:7.2f} s {note}", flush=True)

    from lmgnn.writeback.writer import NodeClassSink

    def old_node_rows(n):
        sink = NodeClassSink(driver, database, spec, "tmp_rows", "Product", classes=CLASSES)
        for b in node_batches(n):
            yield sink.rows(b)

    def old_emb_rows(n):
        for b in emb_batches(n):
            yield [{"nid": i, "vec": v} for i, v in zip(b.nids.tolist(), b.vectors.tolist(),
                                                        strict=True)]

    def old_link_rows(n):
        from lmgnn.writeback.writer import LinkSink
        sink = LinkSink(driver, database, spec, "tmp_rows", "PURCHASED")
        for b in link_batches(n):
            yield sink.rows(b)

    def old_edge_rows(n):
        from lmgnn.writeback.writer import EdgeClassSink
        sink = EdgeClassSink(driver, database, spec, "tmp_rows", "PURCHASED",
                             classes=["E", "S", "C", "I"])
        for b in edge_batches(n):
            yield sink.rows(b)

    args_ = (driver, database, spec)
    naive, n_e = args.naive, src.numel()
    run = {"naive": "run_naive"}  # naive writes its own output; the others write run1

    def node(n, b, way="now"):
        return write_node_classes(*args_, run.get(way, "run1"), "Product", node_batches(n),
                                  classes=CLASSES, **({"batch_rows": b} if b else {}))

    def emb(n, b, way="now"):
        return write_embeddings(*args_, run.get(way, "run1"), "Product", emb_batches(n),
                                **({"batch_rows": b} if b else {}))

    def links(n, b, way="now"):
        return write_links(*args_, run.get(way, "run1"), "PURCHASED", link_batches(n),
                           **({"batch_rows": b} if b else {}))

    def edge(n, b, way="now"):
        return write_edge_classes(*args_, run.get(way, "run1"), "PURCHASED", edge_batches(n),
                                  classes=["E", "S", "C", "I"],
                                  **({"batch_rows": b} if b else {}))

    timed("node class (pred+prob)", "naive", 2, lambda n, b: node(n, b, "naive"), naive, 1)
    timed("node class (pred+prob)", "before", 2, lambda n, b: before(
        "node_class", "Product", old_node_rows(n), b), n_p, 10_000)
    timed("node class (pred+prob)", "now", 2, node, n_p, None)
    timed("node class (pred+prob)", "now, re-write", 2, node, n_p, None,
          "readable throughout")
    timed(f"embedding {dim}-d", "naive", 1, lambda n, b: emb(n, b, "naive"), naive, 1)
    timed(f"embedding {dim}-d", "before", 1, lambda n, b: before(
        "embedding", "Product", old_emb_rows(n), b), n_p, 2_000, "index dropped first")
    timed(f"embedding {dim}-d", "now", 1, emb, n_p, None)
    timed(f"embedding {dim}-d", "now, re-write", 1, emb, n_p, None, "index kept online")
    timed(f"predicted links (k={k})", "naive", 3, lambda n, b: links(n, b, "naive"),
          naive // k, 1)
    timed(f"predicted links (k={k})", "before", 3, lambda n, b: before(
        "links", "PURCHASED", old_link_rows(n), b), n_q, 10_000)
    timed(f"predicted links (k={k})", "now", 3, links, n_q, None, "CREATE")
    timed(f"predicted links (k={k})", "now, re-write", 3, links, n_q, None,
          "replace per source")
    timed("edge class (pred+prob)", "naive", 2, lambda n, b: edge(n, b, "naive"), naive, 1)
    timed("edge class (pred+prob)", "before", 2, lambda n, b: before(
        "edge_class", "PURCHASED", old_edge_rows(n), b), n_e, 10_000)
    timed("edge class (pred+prob)", "now", 2, edge, n_e, None)

    # ranking alone: every product scored per query, purchases excluded (read from Neo4j)
    q_emb, p_emb = torch.randn(n_q, dim, generator=gen), torch.randn(n_p, dim, generator=gen)
    sources = ((torch.arange(lo, min(lo + 512, n_q)), q_emb[lo:lo + 512])
               for lo in range(0, n_q, 512))
    t = time.perf_counter()
    ranked = sum(b.src.numel() for b in predict_links(driver, database, spec, "PURCHASED",
                                                       sources, p_emb, k))
    s = time.perf_counter() - t
    rows.append({"output": f"rank top-{k} of {n_p:,}", "way": "-", "items": ranked, "tx rows": 0,
                 "seconds": s, "items/s": ranked / s, "props/s": 0.0,
                 "note": "sources/s, no writes", "server_s": 0.0})
    return rows


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"writeback: {args.products:,} products, {args.queries:,} queries, "
                        f"dim {args.dim}, k {args.top_k}; one run, side by side")
    for col in ("output", "way", "rows/tx", "items", "seconds", "items/s", "properties/s",
                "vs before", "vs naive", "server CPU s", "vs before (CPU/item)", "note"):
        table.add_column(col, justify="left" if col in ("output", "way", "note") else "right")
    naive = {r["output"]: r["items/s"] for r in rows if r["way"] == "naive"}
    base = {r["output"]: r["items/s"] for r in rows if r["way"] == "before"}
    base_cpu = {r["output"]: r["server_s"] / r["items"] for r in rows
                if r["way"] == "before" and r["server_s"]}
    for r in rows:
        vs_before = (f"{r['items/s'] / base[r['output']]:.1f}x" if r["output"] in base
                     and r["way"].startswith("now") else "")
        vs_naive = (f"{r['items/s'] / naive[r['output']]:.0f}x" if r["output"] in naive
                    and r["way"] != "naive" else "")
        table.add_row(r["output"], r["way"], str(r["tx rows"] or "default"), f"{r['items']:,}",
                      f"{r['seconds']:.2f}", f"{r['items/s']:,.0f}",
                      f"{r['props/s']:,.0f}" if r["props/s"] else "-", vs_before, vs_naive,
                      f"{r['server_s']:.1f}" if r["server_s"] else "-",
                      f"{base_cpu[r['output']] / (r['server_s'] / r['items']):.1f}x"
                      if r["output"] in base_cpu and r["server_s"] and r["way"].startswith("now")
                      else "", r["note"])
    Console(width=170).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--per-query", type=int, default=3, help="purchases per query")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--naive", type=int, default=500,
                        help="rows written one per transaction (baseline)")
    parser.add_argument("--use-configured", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from lmgnn.config import Settings, load_settings, new_password
    from lmgnn.db import server
    from lmgnn.db.connection import open_driver

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    tmp = None
    if args.use_configured:
        settings = load_settings()
    else:
        tmp = tempfile.TemporaryDirectory(prefix="lmgnn-bench-")
        settings = Settings(uri=f"bolt://127.0.0.1:{free_port()}", password=new_password(),
                            data_dir=Path(tmp.name), http_port=free_port(), heap="2g",
                            sources={"password": "benchmark"})
        print(f"starting a throwaway Neo4j at {settings.uri} ...", flush=True)
        server.start(settings)
    driver = open_driver(settings)
    try:
        count = driver.execute_query("MATCH (n) RETURN count(n) AS n",
                                     database_=settings.database)[0][0]["n"]
        if count:
            sys.exit(f"{settings.uri} holds {count} nodes: the benchmark needs an empty database")
        t = time.perf_counter()
        build_graph(driver, settings.database, args.products, args.queries, args.per_query)
        print(f"graph built in {time.perf_counter() - t:.1f} s", flush=True)
        pid = server.read_pid(server.ServerPaths(settings.data_dir))
        rows = measure(args, driver, settings.database,
                       psutil.Process(pid) if pid is not None else None)
        print_table(rows, args)
    finally:
        driver.close()
        if tmp is not None:
            server.stop(settings)
            tmp.cleanup()


if __name__ == "__main__":
    main()
