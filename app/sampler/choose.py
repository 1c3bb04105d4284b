"""Which backend by default: snapshot while the topology fits comfortably in RAM.

The snapshot costs about ``2 * E * 8`` bytes (+1 byte per edge with splits) and then samples
without round trips; the cypher backend's memory does not depend on the graph. ``auto`` picks
snapshot when that estimate is under a quarter of the available memory (or ``max_bytes``).
"""

from __future__ import annotations

from typing import Any, Literal

import neo4j
import psutil

from lmgnn.errors import UserError
from lmgnn.sampler.base import NeighbourSampler
from lmgnn.sampler.csr import relation_count
from lmgnn.sampler.cypher_backend import CypherSampler
from lmgnn.sampler.snapshot_backend import SnapshotSampler
from lmgnn.spec import GraphSpec

Backend = Literal["auto", "cypher", "snapshot"]
BYTES_PER_EDGE = 17


def snapshot_bytes(driver: neo4j.Driver, database: str, spec: GraphSpec) -> int:
    return sum(relation_count(driver, database, et) for et in spec.edge_types) * BYTES_PER_EDGE


def default_backend(driver: neo4j.Driver, database: str, spec: GraphSpec, *,
                    max_bytes: int | None = None) -> Literal["cypher", "snapshot"]:
    budget = max_bytes if max_bytes is not None else psutil.virtual_memory().available // 4
    return "snapshot" if snapshot_bytes(driver, database, spec) <= budget else "cypher"


def make_sampler(driver: neo4j.Driver, database: str, spec: GraphSpec, *,
                 backend: Backend = "auto", **options: Any) -> NeighbourSampler:
    """A sampler of the requested (or default) backend; ``options`` as the constructors take
    (snapshot-only ones, such as a shared ``csr``, are dropped for the cypher backend)."""
    if backend == "auto":
        backend = default_backend(driver, database, spec)
    if backend == "cypher":
        for snapshot_only in ("cache_rows", "progress", "csr", "rows"):
            options.pop(snapshot_only, None)
        return CypherSampler(driver, database, spec, **options)
    if backend == "snapshot":
        return SnapshotSampler(driver, database, spec, **options)
    raise UserError(f"backend {backend!r}: use auto, cypher or snapshot")
