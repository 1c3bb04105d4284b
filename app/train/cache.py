"""Frozen LM vectors of every text node type, as GNN inputs: the run's view of the sampler's
embedding cache (``lmgnn.sampler.MemmapEmbeddings`` under ``<runs>/.embeddings/<state>``).

A *state* names the LM weights and the graph contents that produced the vectors:
``base_state`` keys the un-fine-tuned LM by its settings and by the graph version (a new graph
or any new load changes it, so vectors of replaced texts are never served); fine-tuned states
are named by the run. A state already computed is reused, never re-encoded; a fill walks the
graph in pages of ``_nid``s, fetching texts through the sampler (nothing whole-graph in RAM),
and resumes where an interrupted fill stopped.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from lmgnn.models import TextEncoder
from lmgnn.sampler.embeddings import MemmapEmbeddings, fill_embeddings
from lmgnn.spec import GraphSpec
from lmgnn.train import distributed
from lmgnn.train.config import TrainConfig

TextsFn = Callable[[str, torch.Tensor], list[str]]


def base_state(config: TrainConfig, graph_version: str) -> str:
    """Cache id of the un-fine-tuned LM on this graph version: same LM, text settings and
    graph contents -> same vectors, reused across runs."""
    key = f"{config.lm_path or 'packaged-minilm'}|{config.pooling}|{config.tokens}"
    return f"base-{graph_version}-" + hashlib.sha1(key.encode()).hexdigest()[:12]


class VectorCache:
    """LM vectors of the text node types, for one LM state at a time."""

    def __init__(self, root: Path, spec: GraphSpec, counts: dict[str, int]) -> None:
        self.root, self.spec = Path(root), spec
        self.counts = {t: counts[t] for t, node in spec.nodes.items() if node.text}
        self.store: MemmapEmbeddings | None = None

    @property
    def state(self) -> str | None:
        return self.store.lm_state if self.store else None

    def refresh(self, encoder: TextEncoder, texts: TextsFn, state: str,
                batch_size: int = 256) -> int:
        """Point at ``state``, encoding whatever it lacks; returns the texts encoded.

        Distributed: rank 0 creates the files, every rank encodes its share of the pages
        (the LM work splits N ways), and all reopen them once every share is stored."""
        def store() -> MemmapEmbeddings:
            return MemmapEmbeddings(self.root, state, encoder.hidden_size, self.counts)

        self.store = distributed.main_first(store)
        done = fill_embeddings(self.store, texts,
                               lambda t: encoder.encode(t, batch_size=batch_size), self.spec,
                               self.counts, batch_size=batch_size,
                               progress=distributed.is_main(), rank=distributed.rank(),
                               world_size=distributed.world_size())
        if not distributed.active():
            return done
        distributed.barrier()
        self.store = store()  # the other ranks' vectors (a fresh view on a shared filesystem)
        return int(distributed.sum_all([done])[0])

    def has(self, state: str) -> bool:
        """Whether ``state`` holds a vector for every text node (a fill would encode none)."""
        folder = self.root / state
        if not (folder / "meta.json").exists():
            return False
        for label, n in self.counts.items():
            have = folder / f"{label}.have"
            if n and (not have.exists() or
                      int(np.fromfile(have, dtype=np.uint8)[:n].sum()) < n):
                return False
        return True

    def drop(self, state: str) -> None:
        """Delete the stored vectors of ``state`` (not the one being served); rank 0 does,
        the others wait for it."""
        if state != self.state and distributed.is_main():
            shutil.rmtree(self.root / state, ignore_errors=True)
        distributed.barrier()

    def lookup(self, label: str, n_id: torch.Tensor) -> torch.Tensor:
        assert self.store is not None, "VectorCache.refresh first"
        return self.store.get(label, n_id)

    def stats(self, chunk: int = 65536) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Per text type: feature mean and std over all its nodes (chunked float64 sums, so a
        million vectors never sit in memory at once)."""
        assert self.store is not None, "VectorCache.refresh first"
        out = {}
        for label, n in self.counts.items():
            if n == 0:
                continue
            total = torch.zeros(self.store.dim, dtype=torch.float64)
            squares = torch.zeros_like(total)
            for start in range(0, n, chunk):
                x = self.lookup(label, torch.arange(start, min(start + chunk, n))).double()
                total += x.sum(0)
                squares += (x * x).sum(0)
            mean = total / n
            std = (squares / n - mean * mean).clamp(min=0).sqrt()
            out[label] = (mean.float(), std.float())
        return out

    def __contains__(self, label: str) -> bool:
        return self.store is not None and label in self.counts


class InferenceVectors:
    """A finished run's cache for the nodes it was trained on, and its LM for nodes added
    since (encoded on first use, only theirs): what makes ``lmgnn predict`` inductive."""

    def __init__(self, base: VectorCache, trained: dict[str, int], lm: TextEncoder,
                 texts: TextsFn) -> None:
        self.base, self.trained, self.lm, self.texts = base, trained, lm, texts
        self.fresh: dict[str, dict[int, torch.Tensor]] = {}

    @property
    def state(self) -> str | None:
        return self.base.state

    def __contains__(self, label: str) -> bool:
        return label in self.base

    def lookup(self, label: str, n_id: torch.Tensor) -> torch.Tensor:
        ids = n_id.cpu()
        old = ids < self.trained.get(label, 0)
        if bool(old.all()):
            return self.base.lookup(label, ids)
        out = torch.empty(ids.numel(), self.lm.hidden_size)
        if bool(old.any()):
            out[old] = self.base.lookup(label, ids[old])
        known = self.fresh.setdefault(label, {})
        new = [i for i in ids[~old].tolist() if i not in known]
        if new:
            vectors = self.lm.encode(self.texts(label, torch.tensor(new)))
            known.update(zip(new, vectors, strict=True))
        out[~old] = torch.stack([known[i] for i in ids[~old].tolist()])
        return out
