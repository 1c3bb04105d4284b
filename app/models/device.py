"""Device helpers: one place decides CPU vs CUDA, autocast and pinned memory.

Everything runs on CPU; on a CUDA machine the same code uses the GPU, bf16 autocast and pinned
host memory for faster host->device copies, without changes elsewhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from lmgnn.errors import UserError


def pick_device(name: str | None = "auto") -> torch.device:
    """``auto`` (CUDA when available, else CPU), or an explicit ``cpu`` / ``cuda[:i]``."""
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"unknown device {name!r}: use auto, cpu or cuda[:index]") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} asked for, but this machine has no usable CUDA GPU")
    return device


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    """bf16 autocast on CUDA; full precision on CPU (CPU bf16 is slower on most machines)."""
    if device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def pin_memory(device: torch.device) -> bool:
    """Whether data loaders should pin host memory (only useful when copying to a GPU)."""
    return device.type == "cuda"


def to_device(obj: Any, device: torch.device) -> Any:
    """Move a tensor, HeteroData or dict/list of them; non-blocking when memory is pinned."""
    if hasattr(obj, "to") and not isinstance(obj, str | bytes):
        non_blocking = device.type == "cuda"
        return obj.to(device, non_blocking=non_blocking)  # Tensor and HeteroData alike
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(v, device) for v in obj)
    return obj
