"""Sampler throughput: cypher vs snapshot vs in-memory reference, beside the LM's texts/s.

Run (starts a throwaway local Neo4j, generates and loads the synthetic shop, ~1M relationships;
about 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/sampler.py
    .venv/bin/python benchmarks/sampler.py --products 20000 --queries 20000 --batches 3  # quick

``--use-configured`` uses the server of NEO4J_URI / the config file instead (its database must
be empty or already hold this synthetic graph). Every measurement runs in its own child process
so that its peak RSS is its own. Node task on Product seeds, fanout per hop (default 10,5),
batch 1024, no prefetch thread (raw sampler speed); the first batch is a warm-up. A smaller
graph (1/8) is loaded first so the cypher backend's peak RSS can be compared across sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rss_peak_mib() -> float:
    """VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# ---- child processes -----------------------------------------------------------------------
def worker(job: dict) -> dict:

    from lmgnn.config import load_settings
    from lmgnn.db.connection import open_driver
    from lmgnn.sampler import (
        CypherSampler,
        NodeLoader,
        SnapshotSampler,
        snapshot,
    )
    from lmgnn.spec_store import require_spec

    settings = load_settings()
    driver = open_driver(settings)
    spec = require_spec(driver, settings.database)
    if job["kind"] == "lm":
        return lm_texts_per_second(driver, settings.database, spec, job)
    if job["kind"] == "interleaved":
        return interleaved(driver, settings.database, spec, job)
    base = rss_now_mib()
    started = time.perf_counter()
    options = {"fanouts": job["fanouts"], "seed": 0, "features": job["features"]}
    if job["backend"] == "cypher":
        sampler = CypherSampler(driver, settings.database, spec, **options)
    elif job["backend"] == "snapshot":
        sampler = SnapshotSampler(driver, settings.database, spec, **options)
    else:
        csr = snapshot(driver, settings.database, spec)
        sampler = SnapshotSampler.reference(driver, settings.database, spec, csr=csr,
                                            **options)
    setup_s = time.perf_counter() - started
    loader = NodeLoader(sampler, "Product", batch_size=job["batch_size"], shuffle=True,
                        seed=1, prefetch=0)
    batches = iter(loader)
    next(batches)  # warm-up
    seeds = texts = nodes = 0
    started = time.perf_counter()
    for _, batch in zip(range(job["batches"]), batches, strict=False):
        seeds += batch["Product"].batch_size
        nodes += sum(batch[nt].num_nodes for nt in batch.node_types)
        texts += sum(len(batch[nt].text) for nt in batch.node_types if "text" in batch[nt])
    elapsed = time.perf_counter() - started
    n = job["batches"]
    out = {"setup_s": setup_s, "seeds_s": seeds / elapsed, "batches_s": n / elapsed,
           "texts_s": texts / elapsed, "nodes_per_batch": nodes / n,
           "rss_base_mib": base, "rss_peak_mib": rss_peak_mib()}
    if hasattr(sampler, "csr"):
        out["csr_mib"] = sampler.csr.nbytes / 2**20
    rows = sampler.rows
    if hasattr(rows, "hits"):
        out["cache_hit"] = rows.hits / max(1, rows.hits + rows.misses)
    return out


def interleaved(driver, database, spec, job: dict) -> dict:
    """Seeds/s of the three backends on the SAME batches, taken in turn (fair under load)."""
    import torch

    from lmgnn.sampler import CypherSampler, SnapshotSampler, epoch_order, snapshot

    options = {"fanouts": job["fanouts"], "seed": 0, "features": job["features"]}
    csr = snapshot(driver, database, spec)
    samplers = {
        "cypher": CypherSampler(driver, database, spec, **options),
        "snapshot": SnapshotSampler(driver, database, spec, csr=csr, **options),
        "reference": SnapshotSampler.reference(driver, database, spec, csr=csr, **options),
    }
    order = epoch_order(csr.counts["Product"], shuffle=True, seed=1, epoch=0)
    seeds = list(torch.split(order, job["batch_size"]))[: job["batches"] + 1]
    elapsed = dict.fromkeys(samplers, 0.0)
    texts = dict.fromkeys(samplers, 0)
    for i, positions in enumerate(seeds):
        for name, sampler in samplers.items():
            started = time.perf_counter()
            batch = sampler.sample_from_nodes("Product", positions)
            if i:  # batch 0 warms up every backend
                elapsed[name] += time.perf_counter() - started
                texts[name] += sum(len(batch[nt].text) for nt in batch.node_types
                                   if "text" in batch[nt])
    warm = dict.fromkeys(samplers, 0.0)
    for positions in seeds[1:]:  # the same batches again: the snapshot's LRU now holds them
        for name, sampler in samplers.items():
            started = time.perf_counter()
            sampler.sample_from_nodes("Product", positions)
            warm[name] += time.perf_counter() - started
    n = sum(int(s.numel()) for s in seeds[1:])
    return {name: {"seeds_s": n / elapsed[name], "texts_s": texts[name] / elapsed[name],
                   "batches_s": (len(seeds) - 1) / elapsed[name],
                   "warm_seeds_s": n / warm[name]} for name in samplers}


def lm_texts_per_second(driver, database, spec, job: dict) -> dict:
    import torch

    from lmgnn.models.text_encoder import TextEncoder, tokenize
    from lmgnn.sampler import CypherSampler

    torch.set_num_threads(2)
    sampler = CypherSampler(driver, database, spec, fanouts=[1])
    texts = sampler.node_texts("Product", torch.arange(512))
    encoder = TextEncoder.from_pretrained(max_length=job["max_length"]).eval()
    done, started = 0, time.perf_counter()
    with torch.inference_mode():
        while time.perf_counter() - started < job["seconds"]:
            chunk = texts[done % 512:done % 512 + 128] or texts[:128]
            enc = tokenize(encoder.tokenizer, chunk, job["max_length"])
            encoder(enc["input_ids"], enc["attention_mask"])
            done += len(chunk)
    return {"texts_s": done / (time.perf_counter() - started), "max_length": job["max_length"]}


def run_child(job: dict, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env,
                          capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {job} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- the driver process --------------------------------------------------------------------
def load_shop(handle, data_root: Path, products: int, queries: int) -> dict[str, int]:
    from lmgnn.loaders import load_graph
    from lmgnn.loaders.synthetic import generate
    from lmgnn.spec import load_spec

    driver, database = handle
    out = data_root / f"shop_{products}_{queries}"
    spec_path = out / "ecommerce.yaml"
    if not spec_path.exists():
        generate(out, products=products, queries=queries, seed=0)
    load_graph(load_spec(spec_path), out, driver, database, progress=False)
    records, _, _ = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n",
                                         database_=database)
    return {"relationships": records[0]["n"]}


def wipe(driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()
    for row in driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)[0]:
        driver.execute_query(f"DROP CONSTRAINT `{row['name']}` IF EXISTS", database_=database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=130_000)
    parser.add_argument("--queries", type=int, default=130_000)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fanout", default="10,5")
    parser.add_argument("--lm-max-length", type=int, default=64)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) /
                        "lmgnn-bench")
    parser.add_argument("--use-configured", action="store_true")
    parser.add_argument("--no-small", action="store_true", help="skip the 1/8-size graph")
    parser.add_argument("--only-interleaved", action="store_true",
                        help="skip the per-backend runs (setup time, peak RSS)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return

    from lmgnn.config import Settings, load_settings, new_password
    from lmgnn.db import server
    from lmgnn.db.connection import open_driver
    from lmgnn.sampler import parse_fanouts

    fanouts = parse_fanouts(args.fanout)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.use_configured:
        settings, started = load_settings(), False
    else:
        import socket

        def free_port() -> int:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                return sock.getsockname()[1]

        settings = Settings(uri=f"bolt://127.0.0.1:{free_port()}", password=new_password(),
                            data_dir=Path(tempfile.mkdtemp(prefix="neo4j-bench-")),
                            http_port=free_port(), heap="2g",
                            sources={"password": "benchmark"})
        server.start(settings)
        started = True
    env = {**os.environ, "NEO4J_URI": settings.uri, "NEO4J_USER": settings.user,
           "NEO4J_PASSWORD": settings.password or "", "NEO4J_DATABASE": settings.database,
           "PYTHONWARNINGS": "ignore"}
    driver = open_driver(settings)
    rows: list[dict] = []
    fairs: dict[str, dict] = {}
    try:
        sizes = [(args.products, args.queries)]
        if not args.no_small:
            sizes.insert(0, (args.products // 8, args.queries // 8))
        for i, (products, queries) in enumerate(sizes):
            wipe(driver, settings.database)
            t0 = time.perf_counter()
            info = load_shop((driver, settings.database), args.data_dir, products, queries)
            print(f"loaded {products} products, {queries} queries, {info['relationships']:,} "
                  f"relationships in {time.perf_counter() - t0:.0f}s", flush=True)
            last = i == len(sizes) - 1
            configs = ([("cypher", "text"), ("cypher", "none"), ("snapshot", "text"),
                        ("snapshot", "none"), ("reference", "text"), ("reference", "none")]
                       if last else [("cypher", "text"), ("snapshot", "none")])
            for backend, features in ([] if args.only_interleaved else configs):
                job = {"kind": "sample", "backend": backend, "features": features,
                       "fanouts": fanouts, "batch_size": args.batch_size,
                       "batches": args.batches}
                result = run_child(job, env)
                result.update(backend=backend, features=features,
                              rels=info["relationships"])
                rows.append(result)
                print(json.dumps(result), flush=True)
        for features in ("text", "none"):
            job = {"kind": "interleaved", "features": features, "fanouts": fanouts,
                   "batch_size": args.batch_size, "batches": args.batches}
            fair = run_child(job, env)
            print(json.dumps({"interleaved": features, **fair}), flush=True)
            for r in rows:
                if r["rels"] == info["relationships"] and r["features"] == features:
                    r["fair"] = fair[r["backend"]]
            fairs[features] = fair
        lm = run_child({"kind": "lm", "seconds": 20, "max_length": args.lm_max_length}, env)
        lm["load"] = os.getloadavg()[0]
    finally:
        driver.close()
        if started:
            server.stop(settings)
    print_table(rows, lm, fanouts, args.batch_size)
    print("\ninterleaved (same batches, backends in turn); warm = the same batches again")
    print("| features | backend | seeds/s | / reference | warm seeds/s | warm / reference |")
    print("|---|---|---|---|---|---|")
    for features, fair in fairs.items():
        ref = fair["reference"]
        for name, r in fair.items():
            print(f"| {features} | {name} | {r['seeds_s']:,.0f} | "
                  f"{r['seeds_s'] / ref['seeds_s']:.2f} | {r['warm_seeds_s']:,.0f} | "
                  f"{r['warm_seeds_s'] / ref['warm_seeds_s']:.2f} |")


def print_table(rows: list[dict], lm: dict, fanouts: list[int], batch_size: int) -> None:
    """Separate runs give setup time and peak RSS; the interleaved run gives the ratios."""
    ref = {r["features"]: r["fair"] for r in rows if r["backend"] == "reference" and "fair" in r}
    print(f"\nfanout {fanouts}, batch {batch_size}, node task (Product seeds); default LM "
          f"(all-MiniLM-L6-v2, max_length {lm['max_length']}, inference, 2 threads) encodes "
          f"{lm['texts_s']:.0f} texts/s here (1-min load average {lm['load']:.1f})\n")
    print("| relationships | backend | features | seeds/s (alone) | seeds/s (interleaved) | "
          "batches/s | texts/s | texts/s / LM | seeds/s / reference | nodes/batch | "
          "setup s | peak RSS MiB (after imports) | CSR MiB |")
    print("|" + "---|" * 13)
    for r in rows:
        fair = r.get("fair")
        reference = ref.get(r["features"]) if fair else None
        ratio = f"{fair['seeds_s'] / reference['seeds_s']:.2f}" if reference else "-"
        texts = fair["texts_s"] if fair else r["texts_s"]
        lm_ratio = f"{texts / lm['texts_s']:.0f}x" if texts else "-"
        print(f"| {r['rels']:,} | {r['backend']} | {r['features']} | {r['seeds_s']:,.0f} | "
              f"{fair['seeds_s'] if fair else float('nan'):,.0f} | "
              f"{fair['batches_s'] if fair else r['batches_s']:.2f} | {texts:,.0f} | "
              f"{lm_ratio} | {ratio} | {r['nodes_per_batch']:,.0f} | {r['setup_s']:.1f} | "
              f"{r['rss_peak_mib']:,.0f} ({r['rss_base_mib']:,.0f}) | "
              f"{r.get('csr_mib', 0):.0f} |")


if __name__ == "__main__":
    main()
