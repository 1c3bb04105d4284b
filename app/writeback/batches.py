"""Prediction batches: the plain data that inference yields and the writers consume.

Every batch names nodes by their dense ``_nid`` (see docs/architecture.md), so a writer needs
nothing but the batch and the run's names. Tensors may live on any device; writers move them
to the CPU one batch at a time, which is what keeps writeback streaming.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class NodeClassBatch:
    """Class probabilities of some nodes of one label.

    Shapes: ``nids`` (B,), ``probs`` (B, C) with rows summing to 1.
    """

    nids: Tensor
    probs: Tensor

    def __post_init__(self) -> None:
        _check(self.nids.dim() == 1 and self.probs.dim() == 2
               and self.probs.size(0) == self.nids.size(0),
               f"NodeClassBatch: nids {tuple(self.nids.shape)} and probs "
               f"{tuple(self.probs.shape)} must be (B,) and (B, C)")


@dataclass
class EmbeddingBatch:
    """Embeddings of some nodes of one label. Shapes: ``nids`` (B,), ``vectors`` (B, D)."""

    nids: Tensor
    vectors: Tensor

    def __post_init__(self) -> None:
        _check(self.nids.dim() == 1 and self.vectors.dim() == 2
               and self.vectors.size(0) == self.nids.size(0),
               f"EmbeddingBatch: nids {tuple(self.nids.shape)} and vectors "
               f"{tuple(self.vectors.shape)} must be (B,) and (B, D)")


@dataclass
class LinkBatch:
    """Top-k predicted targets of some source nodes, best first.

    Shapes: ``src`` (B,), ``dst`` (B, K), ``score`` (B, K). A ``dst`` of -1 pads sources with
    fewer than K candidates.
    """

    src: Tensor
    dst: Tensor
    score: Tensor

    def __post_init__(self) -> None:
        _check(self.src.dim() == 1 and self.dst.dim() == 2 and self.dst.shape == self.score.shape
               and self.dst.size(0) == self.src.size(0),
               f"LinkBatch: src {tuple(self.src.shape)}, dst {tuple(self.dst.shape)} and score "
               f"{tuple(self.score.shape)} must be (B,), (B, K), (B, K)")


@dataclass
class EdgeClassBatch:
    """Class probabilities of existing relationships, named by their end nodes.

    Shapes: ``src`` (B,), ``dst`` (B,), ``probs`` (B, C).
    """

    src: Tensor
    dst: Tensor
    probs: Tensor

    def __post_init__(self) -> None:
        _check(self.src.dim() == 1 and self.src.shape == self.dst.shape
               and self.probs.dim() == 2 and self.probs.size(0) == self.src.size(0),
               f"EdgeClassBatch: src {tuple(self.src.shape)}, dst {tuple(self.dst.shape)} and "
               f"probs {tuple(self.probs.shape)} must be (B,), (B,), (B, C)")


def top_class(probs: Tensor) -> tuple[list[int], list[float]]:
    """Index and probability of the most likely class of each row (ties: lowest index)."""
    prob, index = probs.detach().float().cpu().max(dim=1)
    return index.tolist(), prob.tolist()


def cpu_list(t: Tensor) -> list:
    """A tensor as nested Python lists (float32 values stay exactly as the model gave them)."""
    t = t.detach().cpu()
    return (t.float() if t.is_floating_point() else t.long()).tolist()


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


__all__ = ["EdgeClassBatch", "EmbeddingBatch", "LinkBatch", "NodeClassBatch", "cpu_list",
           "top_class"]
