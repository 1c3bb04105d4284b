"""Ingest speed, side by side: naive per-row, the previous batched loader, today's, bulk import.

Run (starts a throwaway Neo4j 5.26 on free ports, heap 2g, page cache 512m: nothing of yours
is touched)::

    .venv/bin/python benchmarks/ingest.py                      # 100k and 1M relationships
    .venv/bin/python benchmarks/ingest.py --sizes 100k --repeat 2   # quick, best of two
    .venv/bin/python benchmarks/ingest.py --sizes 10M --only bulk   # bulk import alone

Each size is generated once (``lmgnn.loaders.synthetic.generate``) and loaded by each loader
into an empty database, each loader in a child process of its own so that its peak RSS is its
own (``peak MiB``: that process's maximum resident memory, VmHWM; ``base MiB``: its resident
memory after its imports, before loading):

- ``naive``: one MERGE per transaction, on the first ``--naive-rows`` rows of each file only
  (its rate at full size would take hours), same constraints;
- ``batched (before)``: the loader as it was before issue 17 (``UNWIND $rows`` of maps,
  10,000 per transaction, MERGE everything, endpoints by key), kept here to compare against;
- ``batched (load_graph)``: today's online path (CREATE what is new, parallel lists, two
  node batches at once, endpoints by ``_nid``);
- ``bulk (load --bulk)``: one read of every file that validates it and writes the importer's
  files as it goes, ``neo4j-admin database import`` into a staging store, the server stopped
  and started around the swap, constraints.

Columns: validate s (bulk: the one pass that validates and writes the importer's files);
node s / rel s (online write phases; for bulk: node s is 0, rel s is the importer); total s
(end to end, validation and schema included); nodes/s and rels/s over the write phases, and
rels/s end to end (``e2e rels/s``). Ratios are against ``batched (before)``
of the same size, in the same run (the machine is shared: ratios are the point). ``server CPU
s``: CPU seconds the Neo4j JVM spent during an online loader's run (what the write costs the
server, whatever share of the cores it got; not shown for bulk, whose importer is a JVM of its
own and which restarts the server).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import psutil
from rich.console import Console
from rich.table import Table

# name -> (products, queries): about 100k, 1M and 10M relationships in total
SIZES = {"10k": (1_500, 1_000), "100k": (15_000, 10_000), "1M": (150_000, 100_000),
         "10M": (1_500_000, 1_000_000)}
LOADERS = ("naive", "before", "batched", "bulk")
NAMES = {"naive": "naive, 1 row per transaction", "before": "batched (before)",
         "batched": "batched (load_graph)", "bulk": "bulk (load --bulk)"}
console = Console(width=190)


@dataclass
class Result:
    loader: str
    size: str
    nodes: int
    relationships: int
    validate_s: float
    node_s: float
    rel_s: float
    total_s: float
    base_mib: float
    peak_mib: float
    note: str = ""
    server_cpu_s: float = 0.0  # CPU seconds the Neo4j JVM spent while the loader ran

    @property
    def write_s(self) -> float:
        return self.node_s + self.rel_s


def _rss_mib(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory. Not ru_maxrss: it
    survives exec, so a child would report its parent's high-water mark at fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the loaders, each run in a child process ----------------------------------------------
def _child(loader: str, settings_json: str, folder: str, size: str, naive_rows: int,
           out: mp.Queue) -> None:
    try:
        out.put(_run_loader(loader, settings_json, Path(folder), size, naive_rows))
    except BaseException as exc:  # report, do not hang the parent
        out.put(f"{type(exc).__name__}: {exc}")


def _run_loader(loader: str, settings_json: str, folder: Path, size: str,
                naive_rows: int) -> dict:
    from lmgnn.config import Settings
    from lmgnn.db.connection import open_driver
    from lmgnn.loaders import load_graph
    from lmgnn.loaders.bulk import bulk_load
    from lmgnn.spec import load_spec

    raw = json.loads(settings_json)
    settings = Settings(**{**raw, "data_dir": Path(raw["data_dir"])})
    spec = load_spec(folder / "ecommerce.yaml")
    base = _rss_mib("VmRSS")
    t0 = time.perf_counter()
    if loader == "bulk":
        report = bulk_load(spec, folder, settings, progress=False)
        assert report.method == "bulk", report.note
        r = Result(NAMES[loader], size, report.total_nodes, report.total_relationships,
                   report.validate_seconds, 0.0, report.import_seconds,
                   time.perf_counter() - t0, base, 0.0,
                   f"server down {report.downtime_seconds:.0f} s (stop "
                   f"{report.stop_seconds:.0f} s), schema {report.schema_seconds:.0f} s")
        return asdict(r) | {"peak_mib": _rss_mib()}
    driver = open_driver(settings)
    try:
        if loader == "batched":
            report = load_graph(spec, folder, driver, settings.database, progress=False)
            r = Result(NAMES[loader], size, report.total_nodes, report.total_relationships,
                       report.validate_seconds, report.node_seconds,
                       report.relationship_seconds, time.perf_counter() - t0, base, 0.0)
        else:
            r = _by_hand(loader, driver, settings.database, spec, folder, size, naive_rows,
                         base)
            r.total_s = time.perf_counter() - t0
    finally:
        driver.close()
    return asdict(r) | {"peak_mib": _rss_mib()}


def _by_hand(loader: str, driver, database: str, spec, folder: Path, size: str,
             naive_rows: int, base: float) -> Result:
    """The naive loader, or the batched loader as it was before issue 17."""
    from lmgnn import cypher_files as cypher
    from lmgnn.loaders import validate_files
    from lmgnn.loaders.plan import SOURCE, TARGET, node_columns, rel_chunks, resolve
    from lmgnn.loaders.readers import key_array, python_values, read_chunks
    from lmgnn.loaders.write import create_schema
    from lmgnn.spec import NID

    t0 = time.perf_counter()
    checked = validate_files(spec, folder)
    create_schema(driver, database, spec)
    t1 = time.perf_counter()
    limit = naive_rows if loader == "naive" else None
    suffix = "naive_merge_node" if loader == "naive" else "merge_nodes"
    nodes = rels = 0
    with driver.session(database=database) as session:
        def send(query: str, rows: list[dict]) -> None:
            if loader == "naive":
                for row in rows:
                    session.execute_write(lambda tx, r=row: tx.run(query, r).consume())
            else:
                for lo in range(0, len(rows), 10_000):
                    batch = rows[lo:lo + 10_000]
                    session.execute_write(lambda tx, b=batch: tx.run(query, rows=b).consume())

        for label, node in spec.nodes.items():
            query = cypher.render(f"load/{suffix}", label=label, key=node.key, nid=NID)
            ids = pd.Series(range(len(checked.keys[label])), index=checked.keys[label])
            props = [p for p in node.properties if p != node.key]
            for source in node.files:
                for chunk in read_chunks(resolve(folder, source), node_columns(node, source),
                                         source.path):
                    chunk = chunk.iloc[:limit] if limit else chunk
                    keys = key_array(chunk[node.key])
                    nids = ids.to_numpy()[ids.index.get_indexer(keys)]
                    values = [python_values(chunk[p]) for p in props]
                    send(query, [{"key": k, "nid": int(n), "props": dict(zip(
                        props, [v[i] for v in values], strict=True))}
                        for i, (k, n) in enumerate(zip(keys.tolist(), nids, strict=True))])
                    nodes += len(chunk)
                    if limit:
                        break
        t2 = time.perf_counter()
        for rel in spec.relationships:
            src, dst = spec.nodes[rel.source], spec.nodes[rel.target]
            name = "naive_merge_relationship" if loader == "naive" else "merge_relationships"
            query = cypher.render(f"load/{name}", source=src.label, source_key=src.key,
                                  target=dst.label, target_key=dst.key, type=rel.type)
            for chunk in rel_chunks(spec, rel, folder):
                if limit:  # endpoints must be among the nodes written
                    known = (chunk[SOURCE].isin(checked.keys[rel.source][:limit])
                             & chunk[TARGET].isin(checked.keys[rel.target][:limit]))
                    chunk = chunk[known.to_numpy()].iloc[:limit]
                else:
                    chunk = chunk.sort_values(SOURCE, kind="stable", ignore_index=True)
                values = [python_values(chunk[p]) for p in rel.properties]
                send(query, [{"s": s, "t": t, "props": dict(zip(
                    rel.properties, [v[i] for v in values], strict=True))}
                    for i, (s, t) in enumerate(zip(python_values(chunk[SOURCE]),
                                                   python_values(chunk[TARGET]), strict=True))])
                rels += len(chunk)
                if limit:
                    break
    t3 = time.perf_counter()
    note = f"first {naive_rows:,} rows per file" if loader == "naive" else ""
    return Result(NAMES[loader], size, nodes, rels, t1 - t0, t2 - t1, t3 - t2, 0.0, base, 0.0,
                  note)


# ---- the parent: server, data, table --------------------------------------------------------
def table(results: list[Result]) -> Table:
    out = Table(title="lmgnn ingest: synthetic shop, one run, loaders side by side")
    cols = ("loader", "size", "nodes", "rels", "validate s", "node s", "rel s", "total s",
            "nodes/s", "rels/s", "e2e rels/s", "vs before (rels/s, e2e)", "server CPU s",
            "base MiB", "peak MiB", "note")
    for col in cols:
        out.add_column(col, justify="left" if col in ("loader", "note") else "right")
    before = {r.size: r for r in results if r.loader == NAMES["before"]}
    for r in results:
        base = before.get(r.size)
        rate = r.relationships / r.rel_s if r.rel_s else 0.0
        e2e = r.relationships / r.total_s if r.total_s else 0.0
        ratio = "" if base is None or base is r else (
            f"x{rate / (base.relationships / base.rel_s):.1f}, "
            f"x{e2e / (base.relationships / base.total_s):.1f}")
        out.add_row(r.loader, r.size, f"{r.nodes:,}", f"{r.relationships:,}",
                    f"{r.validate_s:.1f}", f"{r.node_s:.1f}", f"{r.rel_s:.1f}",
                    f"{r.total_s:.1f}", f"{r.nodes / r.node_s:,.0f}" if r.node_s else "",
                    f"{rate:,.0f}", f"{e2e:,.0f}", ratio,
                    f"{r.server_cpu_s:.1f}" if r.server_cpu_s else "-", f"{r.base_mib:,.0f}",
                    f"{r.peak_mib:,.0f}", r.note)
    return out


def _server_process(settings) -> psutil.Process:
    from lmgnn.db import server

    pid = server.read_pid(server.ServerPaths(settings.data_dir))
    assert pid is not None, "the benchmark's server is not running"
    return psutil.Process(pid)


def _cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU of ``proc`` (and its finished children)."""
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=["100k", "1M"])
    parser.add_argument("--only", nargs="+", choices=LOADERS, default=list(LOADERS))
    parser.add_argument("--naive-rows", type=int, default=2_000,
                        help="rows per file the naive loader writes")
    parser.add_argument("--repeat", type=int, default=1,
                        help="load each size this many times per loader, in turn, and keep "
                        "each loader's fastest (shared machines are noisy)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if os.environ.get("NEO4J_URI"):
        parser.error("the benchmark starts its own server (the bulk path stops and restarts "
                     "it): unset NEO4J_URI")
    from lmgnn.config import Settings, new_password
    from lmgnn.db import server
    from lmgnn.db.connection import open_driver
    from lmgnn.loaders.synthetic import generate
    from lmgnn.loaders.write import delete_graph

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lmgnn-ingest-") as tmp:
        settings = Settings(uri=f"bolt://127.0.0.1:{_free_port()}", password=new_password(),
                            data_dir=Path(tmp) / "neo4j", http_port=_free_port(),
                            heap="2g", sources={"password": "benchmark"})
        raw = json.dumps({k: (str(v) if isinstance(v, Path) else v)
                          for k, v in asdict(settings).items() if k != "sources"})
        with console.status("starting a throwaway Neo4j ..."):
            server.start(settings)
        ctx = mp.get_context("spawn")
        try:
            for size in args.sizes:
                products, queries = SIZES[size]
                folder = Path(tmp) / size
                t = time.perf_counter()
                with console.status(f"generating {size}: {products:,} products ..."):
                    generate(folder, products=products, queries=queries, seed=args.seed)
                console.print(f"{size}: generated in {time.perf_counter() - t:.0f} s")
                best: dict[str, Result] = {}
                for loader in [name for _ in range(args.repeat) for name in args.only]:
                    driver = open_driver(settings)  # a bulk import resets transaction ids
                    try:
                        delete_graph(driver, settings.database)
                    finally:
                        driver.close()
                    queue = ctx.Queue()
                    child = ctx.Process(target=_child, args=(
                        loader, raw, str(folder), size, args.naive_rows, queue))
                    jvm = _server_process(settings)
                    cpu = _cpu_seconds(jvm)
                    child.start()
                    got = queue.get()
                    child.join()
                    spent = _cpu_seconds(jvm) - cpu if jvm.is_running() else 0.0
                    if isinstance(got, str):
                        console.print(f"[red]{NAMES[loader]} at {size} failed:[/] {got}",
                                      markup=True, highlight=False)
                        continue
                    got = Result(**got)
                    got.server_cpu_s = spent if loader != "bulk" else 0.0  # bulk: new JVMs
                    console.print(table([got]))
                    if loader not in best or got.total_s < best[loader].total_s:
                        best[loader] = got
                results.extend(best[name] for name in args.only if name in best)
        finally:
            server.stop(settings)
    console.print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
