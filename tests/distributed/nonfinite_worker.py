"""One rank of the non-finite-loss test, run by torchrun: rank 1's loss is NaN, rank 0's is
finite; each rank writes ``<out>/rank<r>.txt`` with what ``loops.optimizer_step`` did.
Usage: nonfinite_worker.py OUT_DIR"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from lmgnn.errors import UserError
from lmgnn.train import distributed, loops


def main(out: Path) -> None:
    distributed.init(torch.device("cpu"))
    model = torch.nn.Linear(4, 1)
    step = distributed.wrap(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = step(lambda: model(torch.ones(2, 4)).sum())
    if distributed.rank() == 1:
        loss = loss * float("nan")
    try:
        loops.optimizer_step(loss, model.parameters(), optimizer, "test", 0)
        outcome = "stepped"
    except UserError as exc:
        outcome = f"stopped: {exc}"
    (out / f"rank{distributed.rank()}.txt").write_text(outcome)
    distributed.release()
    distributed.barrier()  # neither rank tears the group down while the other still uses it


if __name__ == "__main__":
    main(Path(sys.argv[1]))
