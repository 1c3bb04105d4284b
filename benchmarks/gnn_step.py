"""GNN training step on sampled batches: every node's layer outputs vs only those the seeds
read (``HeteroGNN`` given the sampler's ``num_sampled_nodes``), side by side in one run.

Run (needs ../shared/data/arxiv2023; no Neo4j: the batches come from our own ``expand`` over a
CSR built from the edge file, exactly as the snapshot sampler builds them)::

    .venv/bin/python benchmarks/gnn_step.py
    .venv/bin/python benchmarks/gnn_step.py --steps 10 --fanout 10,10 --batch-size 256

Both variants see the same batches, interleaved step by step (the machine is shared and
noisy: compare the ratio). Inputs are random 384-dimensional vectors (the MiniLM width): the
cost does not depend on their values. The table also checks that the seeds' outputs agree.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from lmgnn.models.gnn import HeteroGNN, hetero_metadata
from lmgnn.sampler.csr import RelationCSR
from lmgnn.sampler.subgraph import expand, to_hetero_data
from lmgnn.spec import load_spec

REPO = Path(__file__).resolve().parent.parent


def citation_graph(data: Path) -> tuple[int, torch.Tensor, torch.Tensor]:
    with gzip.open(data / "papers.csv.gz", "rt") as f:
        position = {row["paper_id"]: i for i, row in enumerate(csv.DictReader(f))}
    src, dst = [], []
    with gzip.open(data / "edges.csv.gz", "rt") as f:
        for row in csv.DictReader(f):
            if row["src"] in position and row["dst"] in position:
                src.append(position[row["src"]])
                dst.append(position[row["dst"]])
    return len(position), torch.tensor(src), torch.tensor(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/arxiv2023")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--fanout", default="10,10", help="per hop; also the GNN's layers")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fanouts = [int(k) for k in args.fanout.split(",")]
    spec = load_spec(REPO / "loaders/specs/arxiv2023.yaml")
    edge_type = spec.edge_types[0]
    n, src, dst = citation_graph(args.data)
    relation = RelationCSR.from_edges(edge_type, src, dst, n, n)
    no_codes = torch.empty(0, dtype=torch.int8)

    def fetch(requests, _excluded):
        return [relation.neighbours(r.frontier, r.part.outgoing, r.k, r.salt, no_codes, None)
                for r in requests]

    torch.manual_seed(0)
    x = torch.randn(n, 384)
    y = torch.randint(0, 40, (n,))
    gnn = HeteroGNN(hetero_metadata(spec), {"Paper": 384}, {}, hidden=args.hidden,
                    num_layers=len(fanouts))
    head = torch.nn.Linear(args.hidden, 40)
    opt = torch.optim.AdamW([*gnn.parameters(), *head.parameters()], lr=1e-3)
    order = torch.randperm(n)
    times: dict[str, list[float]] = {"every node": [], "seeds' receptive field": []}
    sizes, worst = [], 0.0
    for step in range(args.steps + 1):  # step 0 warms up
        seeds = order[step * args.batch_size:(step + 1) * args.batch_size]
        batch = to_hetero_data(spec, expand(spec, {"Paper": seeds}, {edge_type: fanouts},
                                            fetch, seed=0, epoch=0))
        hops = {"Paper": batch["Paper"].num_sampled_nodes}
        inputs = ({"Paper": x[batch["Paper"].n_id]}, batch.edge_index_dict,
                  {"Paper": batch["Paper"].n_id})
        outputs = []
        for name, trim in (("every node", None), ("seeds' receptive field", hops)):
            gnn.train()
            start = time.perf_counter()
            h = gnn(*inputs, None, trim)["Paper"][:seeds.numel()]
            loss = F.cross_entropy(head(h), y[seeds])
            opt.zero_grad()
            loss.backward()
            elapsed = time.perf_counter() - start  # no optimizer step: both see equal weights
            if step:
                times[name].append(elapsed)
            gnn.eval()
            with torch.no_grad():
                outputs.append(gnn(*inputs, None, trim)["Paper"][:seeds.numel()])
        worst = max(worst, float((outputs[0] - outputs[1]).abs().max()))
        opt.step()
        if step:
            sizes.append(hops["Paper"])
    print(f"arxiv-2023, {args.steps} training steps (forward + backward), batch "
          f"{args.batch_size} seeds, fanout {fanouts}, hidden {args.hidden}, "
          f"{args.threads} thread(s)")
    print("nodes per hop (mean): " + ", ".join(
        f"{statistics.mean(s[i] for s in sizes):,.0f}" for i in range(len(fanouts) + 1)))
    base = statistics.median(times["every node"])
    print(f"{'layer outputs for':<26}{'ms/step (median)':>18}{'speed-up':>10}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<26}{median * 1000:>18.0f}{base / median:>9.1f}x")
    print(f"largest difference of the seeds' outputs: {worst:.2e}")


if __name__ == "__main__":
    main()
