"""The seeded neighbour order that makes sampling reproducible and backend-independent.

Node ``u`` keeps, per relation direction and hop, the ``k`` neighbours ``v`` with the smallest
``(rank(u, v, salt), v)``. ``rank`` is two rounds of ``x*x mod (2^31-1)``: every intermediate
value stays below 2^63, so Cypher integers (which raise on overflow) and torch int64 compute
the same numbers. The cypher backend sorts by it inside Neo4j (``ORDER BY ... LIMIT k``), the
snapshot backend on CSR slices in torch: both return IDENTICAL neighbour sets, which the tests
check batch by batch. ``HASH_PARAMS`` is passed to the Cypher files as ``$hash`` so the
constants live only here.
"""

from __future__ import annotations

import torch

P = 2_147_483_647  # 2^31 - 1; node ids must stay below it
A = 48_271
B = 16_807
C = 1_013_904_223
SHIFT = 2**31  # order key = rank * SHIFT + v  (< 2^62)

HASH_PARAMS = {"p": P, "a": A, "b": B, "c": C, "m": SHIFT}


def salt(seed: int, epoch: int, part: int) -> int:
    """One salt per (sampler seed, epoch, relation direction): same inputs, same neighbours."""
    x = ((seed % P) * 1_000_003 % P + (epoch % P) * 7_919 % P + (part % P) * 104_729 % P) % P
    x = (x * x + C) % P
    return (x * x + 12_345) % P


def rank(u: torch.Tensor, v: torch.Tensor, salt_: int) -> torch.Tensor:
    """Pseudo-random rank in [0, P) of neighbour ``v`` of frontier node ``u`` (int64 tensors)."""
    x = (u * A % P + v * B % P + salt_) % P
    x = (x * x + C) % P
    return (x * x + salt_) % P


def order_key(u: torch.Tensor, v: torch.Tensor, salt_: int) -> torch.Tensor:
    """Sort key (rank, then neighbour id) that Cypher's ``ORDER BY h, v_nid`` reproduces."""
    return rank(u, v, salt_) * SHIFT + v


def pair_key(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """One int64 per (source _nid, target _nid) pair; Cypher computes ``src * $hash.m + dst``."""
    return src * SHIFT + dst
