"""Data parallelism with torch's own engines: torchrun starts the processes, DDP syncs them.

One process per rank, started by ``torch.distributed.run`` (``lmgnn train --nproc N`` calls it
on one machine; ``torchrun --nnodes M --nproc-per-node N ... -m lmgnn train ...`` across
machines). Each process opens its own Neo4j driver and reads its own shard of seeds through
the sampler (``NodeLoader`` / ``EdgeLoader`` with ``rank`` / ``world_size``: disjoint,
equally long shards, so every rank takes the same number of steps). ``wrap`` puts the
trained modules under ``DistributedDataParallel`` (gradients averaged over ranks at every
step: the models stay identical). Rank 0 alone writes: run directory, checkpoints,
``(:ModelRun)``, metrics, console lines and progress bars; it also evaluates (the fixed
evaluation batches, exactly as one process would) and ``on_main`` hands its result to every
rank, so early stopping decides the same everywhere.

Everything here is a no-op in a single process (no ``WORLD_SIZE`` > 1 in the environment):
code calls these helpers unconditionally. Backend: NCCL when the run's device is CUDA
(device ``cuda:LOCAL_RANK``), gloo on CPU. ``LMGNN_DIST_TIMEOUT_S`` (default 3600) bounds how
long a rank waits for the others (e.g. while rank 0 runs the final evaluation).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")
Step = Callable[[Callable[[], Any]], Any]  # step(fn) -> fn(), inside DDP's forward when distributed


def env_world_size() -> int:
    """The world size torchrun announced in the environment (1 when not launched by it)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def launched() -> bool:
    """Whether this process is one rank of a torchrun job with more than one process."""
    return env_world_size() > 1


def init(device: torch.device | None = None) -> None:
    """Join the process group torchrun set up (idempotent; nothing in a single process)."""
    if not launched() or dist.is_initialized():
        return
    _die_with_launcher()
    cuda = device is not None and device.type == "cuda"
    if cuda:
        torch.cuda.set_device(local_rank())
    timeout = timedelta(seconds=float(os.environ.get("LMGNN_DIST_TIMEOUT_S", "3600")))
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timeout)
    atexit.register(shutdown)


def _die_with_launcher() -> None:
    """Linux: a rank gets SIGTERM when its launcher dies (e.g. killed), instead of waiting in
    a collective for the others until the timeout."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (from torchrun's ``RANK`` before the group is joined)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0") or 0) if launched() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def is_main() -> bool:
    """Rank 0: the one process that writes files, records and console output."""
    return rank() == 0


def device_for(device: torch.device) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` for a CUDA run under torchrun."""
    if launched() and device.type == "cuda":
        return torch.device("cuda", local_rank())
    return device


def barrier() -> None:
    if active():
        dist.barrier()


def main_first(fn: Callable[[], T]) -> T:
    """``fn()`` on rank 0, then on the others (e.g. rank 0 creates files the others open)."""
    out = fn() if is_main() else None
    barrier()
    return fn() if not is_main() else out  # type: ignore[return-value]


def broadcast(value: T) -> T:
    """Rank 0's ``value`` on every rank (any picklable object)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def on_main(fn: Callable[[], T]) -> T:
    """``fn()`` run on rank 0 only, its result given to every rank. An error on rank 0 is
    raised there and reported on the others (instead of leaving them waiting)."""
    if not active():
        return fn()
    outcome: tuple[str, Any] = ("ok", None)
    if is_main():
        try:
            outcome = ("ok", fn())
        except BaseException as exc:
            broadcast(("error", f"{type(exc).__name__}: {exc}"))
            raise
    status, value = broadcast(outcome)
    if status == "error":
        from lmgnn.errors import UserError

        raise UserError(f"rank {rank()} stopped: rank 0 failed ({value})")
    return value


def sum_all(values: Sequence[float]) -> list[float]:
    """Element-wise sum over ranks."""
    if not active():
        return list(values)
    on = torch.device("cuda", torch.cuda.current_device()) \
        if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor(list(values), dtype=torch.float64, device=on)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().tolist()


def max_all(value: float) -> float:
    if not active():
        return value
    on = torch.device("cuda", torch.cuda.current_device()) \
        if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor([value], dtype=torch.float64, device=on)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def gather_to_main(value: T) -> list[T] | None:
    """Every rank's ``value``, in rank order, on rank 0 (None elsewhere)."""
    if not active():
        return [value]
    out: list[Any] | None = [None] * world_size() if is_main() else None
    dist.gather_object(value, out, dst=0)
    return out


def shard(items: torch.Tensor) -> torch.Tensor:
    """This rank's contiguous slice of ``items`` (inference: slices may differ by one)."""
    if not active():
        return items
    return torch.tensor_split(items, world_size(), dim=-1)[rank()]


# ---- DDP ---------------------------------------------------------------------------------------
class _Together(nn.Module):
    """The modules one optimiser trains, as one module whose ``forward(fn)`` runs ``fn()``: the
    loss code calls the parts' own methods (``lm_repr``, ``gnn_repr``, ``head``) unchanged,
    while DDP sees one forward per step and syncs every gradient in ``backward``."""

    def __init__(self, modules: Sequence[nn.Module]) -> None:
        super().__init__()
        self.parts = nn.ModuleList(modules)

    def forward(self, fn: Callable[[], Any]) -> Any:
        return fn()


_live: list[DistributedDataParallel] = []


def direct(fn: Callable[[], Any]) -> Any:
    """The single-process step runner: ``fn()``."""
    return fn()


def wrap(*modules: nn.Module) -> Step:
    """A step runner for the modules being trained: ``step(lambda: loss_of(batch))``.

    Distributed: the call runs inside ``DistributedDataParallel.forward`` (broadcasting rank
    0's weights when made; ``find_unused_parameters``: a stage trains part of the model, e.g.
    the GNN but not the LM). One wrapper lives at a time (a new stage replaces the last).
    In a single process: ``fn()`` itself."""
    _live.clear()
    if not active():
        return direct
    together = _Together(modules)
    device = next(together.parameters()).device
    ddp = DistributedDataParallel(
        together, device_ids=[device] if device.type == "cuda" else None,
        find_unused_parameters=True, broadcast_buffers=False, gradient_as_bucket_view=True)
    _live.append(ddp)
    return ddp


def release() -> None:
    """Drop the live DDP wrapper (the end of a stage)."""
    _live.clear()


def sync_parameters(module: nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank (what DDP does when it wraps), for a
    model trained without DDP (``average_gradients``)."""
    if not active():
        return
    with torch.no_grad():
        for t in module.state_dict().values():
            dist.broadcast(t, src=0)


def average_gradients(params: Sequence[nn.Parameter]) -> None:
    """Average ``.grad`` over ranks in place, in one all-reduce: the data-parallel step of a
    model whose backward DDP's hooks cannot follow (``lmgnn.train.meta``: second order
    through ``torch.func.functional_call``). As in DDP, a rank without a gradient for a
    parameter counts zeros; a parameter no rank has one for keeps none (the optimiser skips
    it, as in one process)."""
    if not active():
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    ref = params[0]
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p))
                      .reshape(-1).float() for p in params] +
                     [torch.tensor([float(p.grad is not None) for p in params],
                                   device=ref.device)])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    n, offset = world_size(), 0
    present = flat[-len(params):].cpu().tolist()
    for i, p in enumerate(params):
        k = p.numel()
        if present[i] > 0:
            grad = (flat[offset:offset + k] / n).view_as(p).to(p.dtype)
            if p.grad is None:
                p.grad = grad
            else:
                p.grad.copy_(grad)
        offset += k


def merge_stats(stats: T) -> T:
    """An epoch's ``loops.EpochStats`` over all ranks: seeds and texts added up, loss the mean
    over every rank's steps, steps the job's (each rank took as many), seconds the slowest
    rank's (so ``seeds_per_s`` is the job's throughput)."""
    if not active():
        return stats
    loss, steps, seeds, texts = sum_all([stats.loss, stats.steps, stats.seeds,  # type: ignore[attr-defined]
                                         stats.texts])  # type: ignore[attr-defined]
    n = world_size()
    return dataclasses.replace(stats, loss=loss / n, steps=round(steps / n), seeds=int(seeds),  # type: ignore[type-var]
                               texts=int(texts), seconds=max_all(stats.seconds))  # type: ignore[attr-defined]


# ---- launching ---------------------------------------------------------------------------------
def launch(nproc: int, argv: Sequence[str]) -> None:
    """Run ``python -m lmgnn <argv>`` as ``nproc`` ranks on this machine through torch's
    elastic launcher (exactly ``torchrun --standalone --nproc-per-node nproc -m lmgnn ...``).
    Each rank sees ``WORLD_SIZE`` and runs the command as a worker."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    from lmgnn.errors import UserError

    if nproc < 1:
        raise UserError(f"--nproc must be at least 1, got {nproc}")
    args = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={nproc}", "--max-restarts=0", "-m", "lmgnn"])
    # set after parsing: argparse would take our options for abbreviations of its own
    args.training_script_args = _without_nproc(list(argv))
    try:
        run(args)
    except ChildFailedError as exc:
        failed = sorted(f.local_rank for f in exc.failures.values())
        raise UserError(f"rank(s) {failed} of {nproc} failed; the error is printed above "
                        "(fix it and re-run; a training run resumes with --resume RUN_ID)"
                        ) from None


def _without_nproc(argv: list[str]) -> list[str]:
    """The command line minus ``--nproc N`` (a worker is one rank, not a launcher)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out
