"""One rank of the meta data-parallel test, run by torchrun: a whole ``--method meta`` run and
a probe on it, through ``lmgnn.train.train`` (rank 0 writes both runs). Writes per rank, to
``<out>/rank<r>.pt``, the node-task seeds every stream drew (by loader epoch) and the weights
each run ended with. Usage: meta_worker.py OUT_DIR LM_DIR SUPPORT_SIZE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from lmgnn.config import load_settings
from lmgnn.db import connect
from lmgnn.sampler import NodeLoader
from lmgnn.train import TrainConfig, distributed, loops, meta, train

TASKS = ["node:Product.category", "link:Query-PURCHASED->Product"]


def config(lm_dir: str, size: int, **kw: Any) -> TrainConfig:
    """The test's meta run; ``size`` support and target seeds per task, episode and rank."""
    return TrainConfig(method="meta", task_target=TASKS, lm_path=lm_dir, max_length=16,
                       hidden=16, fanout=5, num_negatives=8, eval_negatives=20, dropout=0.0,
                       epochs=2, patience=2, episodes=2, support_size=size, target_size=size,
                       **kw)


def flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().cpu() for p in module.parameters()])


def main(out: Path, lm_dir: str, size: int) -> None:
    drawn: dict[str, list[int]] = {}
    real_next, real_train, real_epoch = meta.Stream.next, meta._train, loops.train_epoch
    weights: dict[str, torch.Tensor] = {}

    def next_batch(self: meta.Stream) -> Any:
        batch = real_next(self)
        if isinstance(self.loader, NodeLoader):  # the node task's support / target stream
            pool = self.loader.seeds
            key = f"{pool.numel()}-{int(pool.sum())}-{self.epoch}"  # same on every rank
            label = self.loader.label
            drawn.setdefault(key, []).extend(
                batch[label].n_id[:batch[label].batch_size].tolist())
        return batch

    def keep_meta(parts: meta.MetaParts) -> Any:
        result = real_train(parts)
        weights["meta"] = flat(parts.model)
        return result

    def keep_probe(task: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        stats = real_epoch(task, model, *args, **kwargs)
        weights["probe"] = flat(model)
        return stats

    meta.Stream.next, meta._train, loops.train_epoch = next_batch, keep_meta, keep_probe
    with connect(load_settings()) as (driver, db):
        result = train(config(lm_dir, size), driver, db, out / "runs", run_id="meta2")
        probe = train(TrainConfig(method="probe", embeddings="meta2", task="node",
                                  target="Product.category", epochs=2, gnn_lr=0.05,
                                  batch_size=16), driver, db, out / "runs", run_id="probe2")
    torch.save({"rank": distributed.rank(), "world": distributed.world_size(),
                "drawn": drawn, "weights": weights, "valid": result.valid,
                "probe_valid": probe.valid}, out / f"rank{distributed.rank()}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
