"""Task heads on top of node representations: node / edge classification, link prediction.

Link prediction scores a (source, relation, target) triple with DistMult (a learnable diagonal
per relation) or a plain dot product. Losses: binary cross-entropy over positives and sampled
negatives, or contrastive InfoNCE where each positive competes with its negatives (uniform
sampled ones, or the other targets of the batch: in-batch negatives).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lmgnn.errors import UserError
from lmgnn.spec import EdgeType

ScoreKind = Literal["distmult", "dot"]
LossKind = Literal["bce", "contrastive"]


class NodeClassifier(nn.Module):
    """(N, dim) -> (N, classes) logits."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, num_classes))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class EdgeClassifier(nn.Module):
    """Edge logits from its endpoints: MLP over [src, dst, src * dst]; (B, dim) x2 -> (B, C)."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3 * dim, dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(dim, num_classes))

    def forward(self, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([src, dst, src * dst], dim=-1))


class LinearEdgeClassifier(nn.Module):
    """A linear probe for edges: one linear layer over [src, dst, src * dst]."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(3 * dim, num_classes))

    def forward(self, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([src, dst, src * dst], dim=-1))


class LinkScorer(nn.Module):
    """Score triples: DistMult ``<s, r, d>`` with one diagonal per relation, or dot ``<s, d>``.

    Shapes:
        forward(src (B, dim), dst (B, dim), rel) -> (B,)
        all_pairs(src (B, dim), dst (M, dim), rel) -> (B, M)
    """

    def __init__(self, dim: int, relations: list[EdgeType], kind: ScoreKind = "distmult",
                 normalize: bool = True) -> None:
        super().__init__()
        if kind not in ("distmult", "dot"):
            raise UserError(f"link scorer must be distmult or dot, got {kind!r}")
        self.kind, self.normalize = kind, normalize
        self.keys = {tuple(r): str(i) for i, r in enumerate(relations)}
        self.rel = nn.ParameterDict({k: nn.Parameter(torch.ones(dim)) for k in self.keys.values()})
        # cosine-style scores times a learnable scale (init 10, i.e. temperature 0.1): raw dot
        # products of 384-d LM vectors give logits in the hundreds, whose gradients wreck a
        # pretrained LM in a few steps
        self.log_scale = nn.Parameter(torch.tensor(2.302585)) if normalize else None

    def _prep(self, src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.normalize:
            return src, dst
        assert self.log_scale is not None  # set whenever normalize is
        return F.normalize(src, dim=-1) * self.log_scale.exp(), F.normalize(dst, dim=-1)

    def _diag(self, rel: EdgeType) -> torch.Tensor | None:
        if self.kind == "dot":
            return None
        key = self.keys.get(tuple(rel))
        if key is None:
            raise UserError(f"relation {rel} is not one the link scorer was built for")
        return self.rel[key]

    def forward(self, src: torch.Tensor, dst: torch.Tensor, rel: EdgeType) -> torch.Tensor:
        diag = self._diag(rel)
        src, dst = self._prep(src, dst)
        return ((src * diag if diag is not None else src) * dst).sum(-1)

    def all_pairs(self, src: torch.Tensor, dst: torch.Tensor, rel: EdgeType) -> torch.Tensor:
        diag = self._diag(rel)
        src, dst = self._prep(src, dst)
        return (src * diag if diag is not None else src) @ dst.T


def link_loss(pos: torch.Tensor, neg: torch.Tensor, kind: LossKind = "bce",
              temperature: float = 1.0) -> torch.Tensor:
    """Loss from positive scores (B,) and negative scores (B, K) (or (K,) shared by all).

    ``bce``: binary cross-entropy, positives 1, negatives 0. ``contrastive``: InfoNCE, the
    positive must win a softmax over itself and its K negatives. (``LinkScorer`` scales its
    scores itself, hence temperature 1.)
    """
    if neg.dim() == 1:
        neg = neg.unsqueeze(0).expand(pos.size(0), -1)
    if kind == "bce":
        return (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos)) * pos.numel()
                + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)) * neg.numel()
                ) / (pos.numel() + neg.numel())
    if kind == "contrastive":
        logits = torch.cat([pos.unsqueeze(1), neg], dim=1) / temperature  # (B, 1 + K)
        return F.cross_entropy(logits, torch.zeros(pos.size(0), dtype=torch.long,
                                                   device=pos.device))
    raise UserError(f"link loss must be bce or contrastive, got {kind!r}")


def in_batch_negative_scores(all_pairs: torch.Tensor) -> torch.Tensor:
    """From a (B, B) score matrix whose diagonal holds the positives: the (B, B-1) others."""
    b = all_pairs.size(0)
    off_diag = ~torch.eye(b, dtype=torch.bool, device=all_pairs.device)
    return all_pairs[off_diag].view(b, b - 1)
