"""LM embedding cache: vectors computed once per LM state, served as ``batch[L].x``.

An "LM state" id names the weights that produced the vectors (e.g. a run id plus step); a
vector from another state counts as missing, so fine-tuning the LM never serves stale ``x``.
Two stores with one interface: ``MemmapEmbeddings`` (local ``np.memmap`` files, fastest, one
machine) and ``Neo4jEmbeddings`` (``LIST<FLOAT>`` node property ``_emb`` + ``_emb_state``,
shared by every process that reaches the database).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

import neo4j
import numpy as np
import torch
from rich.progress import Progress, TextColumn

from lmgnn import cypher_files as cypher
from lmgnn.errors import UserError
from lmgnn.sampler.reads import read
from lmgnn.spec import GraphSpec

_STATE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _check_state(lm_state: str) -> str:
    if not _STATE.match(lm_state):
        raise UserError(f"LM state id {lm_state!r}: use letters, digits, '_', '.', '-' only")
    return lm_state


class EmbeddingCache(Protocol):
    lm_state: str
    dim: int

    def get(self, label: str, nids: torch.Tensor) -> torch.Tensor:
        """(len(nids), dim) float32; UserError if any vector is missing."""
        ...

    def put(self, label: str, nids: torch.Tensor, vectors: torch.Tensor) -> None: ...

    def missing(self, label: str, nids: torch.Tensor) -> torch.Tensor:
        """The nids that have no vector for this LM state yet."""
        ...


def _missing_error(label: str, count: int, state: str) -> UserError:
    return UserError(f"{count} {label} node(s) have no cached embedding for LM state {state!r}: "
                     "compute them first (lmgnn.sampler.fill_embeddings)")


class MemmapEmbeddings:
    """``root/<lm_state>/<label>.f32`` (count x dim float32) plus a ``.have`` byte per node."""

    def __init__(self, root: str | Path, lm_state: str, dim: int, counts: dict[str, int]):
        self.lm_state, self.dim = _check_state(lm_state), int(dim)
        self.dir = Path(root) / lm_state
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "meta.json"
        wanted = {"dim": self.dim, "counts": counts}
        if meta.exists():
            stored = json.loads(meta.read_text())
            if stored != wanted:
                raise UserError(f"{meta}: cache was made for {stored}, not {wanted}; use a new "
                                "LM state id or delete the folder")
        else:
            meta.write_text(json.dumps(wanted))
        self._vec: dict[str, np.memmap] = {}
        self._have: dict[str, np.memmap] = {}
        for label, n in counts.items():
            vec, have = self.dir / f"{label}.f32", self.dir / f"{label}.have"
            mode: Literal["r+", "w+"] = "r+" if vec.exists() else "w+"
            self._vec[label] = np.memmap(vec, np.float32, mode, shape=(max(n, 1), self.dim))
            self._have[label] = np.memmap(have, np.uint8, mode, shape=(max(n, 1),))

    def get(self, label: str, nids: torch.Tensor) -> torch.Tensor:
        idx = nids.numpy()
        absent = int((self._have[label][idx] == 0).sum())
        if absent:
            raise _missing_error(label, absent, self.lm_state)
        return torch.from_numpy(np.ascontiguousarray(self._vec[label][idx]))

    def put(self, label: str, nids: torch.Tensor, vectors: torch.Tensor) -> None:
        idx = nids.numpy()
        self._vec[label][idx] = vectors.detach().to(torch.float32).cpu().numpy()
        self._have[label][idx] = 1
        self._vec[label].flush()
        self._have[label].flush()

    def missing(self, label: str, nids: torch.Tensor) -> torch.Tensor:
        return nids[torch.from_numpy(self._have[label][nids.numpy()] == 0)]


class Neo4jEmbeddings:
    """Vectors as node properties (``db.create.setNodeVectorProperty``: compact float array)."""

    def __init__(self, driver: neo4j.Driver, database: str, lm_state: str, dim: int,
                 write_batch: int = 5_000, page: int = 10_000):
        self.driver, self.database, self.page = driver, database, page
        self.lm_state, self.dim, self.write_batch = _check_state(lm_state), int(dim), write_batch

    def _read(self, label: str, nids: torch.Tensor) -> dict[int, list[float] | None]:
        records = read(self.driver, self.database,
                       cypher.render("sample/embedding_read", label=label),
                       nids=nids.tolist(), state=self.lm_state)
        return {r["nid"]: r["vector"] for r in records}

    def get(self, label: str, nids: torch.Tensor) -> torch.Tensor:
        found = self._read(label, nids)
        vectors = [found.get(n) for n in nids.tolist()]
        absent = sum(v is None for v in vectors)
        if absent:
            raise _missing_error(label, absent, self.lm_state)
        return torch.tensor(vectors, dtype=torch.float32).reshape(len(vectors), self.dim)

    def put(self, label: str, nids: torch.Tensor, vectors: torch.Tensor) -> None:
        query = cypher.render("sample/embedding_write", label=label)
        values = vectors.detach().to(torch.float32).cpu().tolist()
        ids = nids.tolist()
        for lo in range(0, len(ids), self.write_batch):
            rows = [{"nid": n, "vector": v} for n, v in
                    zip(ids[lo:lo + self.write_batch], values[lo:lo + self.write_batch],
                        strict=True)]
            self.driver.execute_query(query, rows=rows, state=self.lm_state,
                                      database_=self.database)

    def missing(self, label: str, nids: torch.Tensor) -> torch.Tensor:
        """Pages of ``page`` nids, reading only whether a vector exists (never the vectors)."""
        have: set[int] = set()
        query = cypher.render("sample/embedding_have", label=label)
        ids = nids.tolist()
        for lo in range(0, len(ids), self.page):
            records = read(self.driver, self.database, query, nids=ids[lo:lo + self.page],
                           state=self.lm_state)
            have.update(records[0]["have"] if records else [])
        return torch.tensor([n for n in ids if n not in have], dtype=torch.long)


def fill_embeddings(cache: EmbeddingCache, texts: Callable[[str, torch.Tensor], list[str]],
                    encode: Callable[[list[str]], torch.Tensor], spec: GraphSpec,
                    counts: dict[str, int], *, batch_size: int = 256, page: int = 8192,
                    progress: bool = True, rank: int = 0, world_size: int = 1) -> int:
    """Encode and store every text node that lacks a vector for ``cache.lm_state``.

    Walks each label's ``_nid`` range in pages of ``page``: asks the cache which of the page
    are missing, fetches only their texts (``texts`` is e.g. ``sampler.node_texts``) in chunks
    of ``batch_size`` and stores each chunk as soon as it is encoded. Nothing whole-graph is
    held, and an interrupted fill continues where it stopped (stored vectors are not missing).
    Returns the number of vectors computed (0 when the cache is complete).
    ``rank`` / ``world_size``: this process fills only every ``world_size``-th page, from page
    ``rank`` (data-parallel processes split the LM work; each page is one process's).
    """
    done = 0
    with Progress(*Progress.get_default_columns(), TextColumn("{task.fields[encoded]}"),
                  disable=not progress, transient=True) as bar:
        for label, node in spec.nodes.items():
            n = counts.get(label, 0)
            if not node.text or not n:
                continue
            task = bar.add_task(f"embed {label}", total=n, encoded="")
            for lo in range(rank * page, n, page * world_size):
                todo = cache.missing(label, torch.arange(lo, min(n, lo + page)))
                for chunk in torch.split(todo, batch_size) if todo.numel() else ():
                    cache.put(label, chunk, encode(texts(label, chunk)))
                    done += int(chunk.numel())
                bar.update(task, advance=min(n, lo + page) - lo, encoded=f"{done} encoded")
    return done
