"""One rank of the data-path test, run by torchrun (``python -m torch.distributed.run``).

Builds a run's real parts (samplers, loaders, model) over the test server, trains ``EPOCHS``
epochs through ``lmgnn.train.distributed.wrap`` + ``loops.train_epoch`` (the stages' own
calls) and writes, per rank, the seeds each epoch visited and the final weights' values to
``<out>/rank<r>.pt`` for the test to compare. Usage: worker.py OUT_DIR LM_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from lmgnn.config import load_settings
from lmgnn.db import connect
from lmgnn.spec_store import graph_version, require_spec
from lmgnn.train import distributed, loops
from lmgnn.train.batches import RunSamplers
from lmgnn.train.config import TrainConfig
from lmgnn.train.parts import build_parts
from lmgnn.train.runs import RunDir
from lmgnn.train.stages import make_optimizer
from lmgnn.train.task import excluded_relations, prepare_task, resolve_target

EPOCHS = 2


def main(out: Path, lm_dir: str) -> None:
    config = TrainConfig(target="Product.category", method="gnn", lm_path=lm_dir,
                         max_length=16, hidden=16, batch_size=16, fanout=5, epochs=EPOCHS)
    distributed.init(torch.device("cpu"))
    with connect(load_settings()) as (driver, db):
        spec = require_spec(driver, db)
        exclude = excluded_relations(spec, config.exclude)
        target = resolve_target(spec, config)
        samplers = RunSamplers(driver, db, spec, config, exclude=exclude,
                               target_kind=target.kind, task_relation=target.relation)
        data = distributed.on_main(lambda: prepare_task(driver, db, spec, config,
                                                        samplers.counts))
        run = distributed.on_main(lambda: RunDir.create(out / "runs", "worker", {}))
        parts = build_parts(config, driver, db, spec, run, data, samplers, exclude,
                            out / "runs", graph_version(driver, db))
        parts.refresh_cache(parts.gnn_input_state())
        optimizer = make_optimizer(parts, "gnn")
        step = distributed.wrap(parts.model)
        visited, losses = [], []
        for epoch in range(EPOCHS):
            loader = parts.loaders.train("graph", epoch)
            seen: list[int] = []

            def record(batch, seen=seen):
                seen.extend(batch["Product"].n_id[:batch["Product"].batch_size].tolist())
                return batch
            stats = loops.train_epoch(parts.task, parts.model, map(record, loader), "cached",
                                      parts.cache, optimizer, parts.device, len(loader),
                                      step=step)
            visited.append(seen)
            losses.append(distributed.merge_stats(stats).as_dict()["loss"])
        weights = torch.cat([p.detach().flatten() for p in parts.model.parameters()])
        torch.save({"rank": distributed.rank(), "world": distributed.world_size(),
                    "visited": visited, "train": data.nodes["train"].tolist(),
                    "weights": weights, "losses": losses},
                   out / f"rank{distributed.rank()}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
