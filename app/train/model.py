"""The trained model, assembled from named parts: text encoder, hetero GNN, task head.

``method`` decides which parts exist: ``lm`` (encoder + head; featureless node types get a
learnable id embedding), ``gnn`` (frozen-LM cache + GNN + head) and ``lmgnn`` (all three; in
the joint stage a bounded number of nodes per batch get LM gradients, the rest read the cache).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch_geometric.data import HeteroData

from lmgnn.models import EdgeClassifier, HeteroGNN, LinkScorer, NodeClassifier, TextEncoder
from lmgnn.sampler.embeddings import MemmapEmbeddings, fill_embeddings
from lmgnn.spec import EdgeType, GraphSpec


class EmbeddingCache:
    """Frozen LM embeddings per text node type, through the sampler's embedding cache.

    Vectors live in ``lmgnn.sampler.MemmapEmbeddings`` keyed by an LM state id: a state
    already computed (e.g. the packaged LM, by an earlier run) is reused, never re-encoded;
    ``refresh`` with a new state re-encodes (the LM is the cost that matters on CPU).
    """

    def __init__(self, root: Path, spec: GraphSpec, counts: dict[str, int]) -> None:
        self.root, self.spec = Path(root), spec
        self.counts = {t: counts[t] for t, node in spec.nodes.items() if node.text}
        self.store: MemmapEmbeddings | None = None

    @property
    def state(self) -> str | None:
        return self.store.lm_state if self.store else None

    def refresh(self, encoder: TextEncoder, texts: dict[str, list[str]], state: str,
                batch_size: int = 256) -> int:
        """Point at ``state``, encoding whatever it lacks; returns the texts encoded."""
        self.store = MemmapEmbeddings(self.root, state, encoder.hidden_size, self.counts)
        return fill_embeddings(self.store,
                               lambda label, nids: [texts[label][i] for i in nids.tolist()],
                               lambda t: encoder.encode(t, batch_size=batch_size), self.spec,
                               self.counts, batch_size=batch_size, progress=True)

    def lookup(self, label: str, n_id: torch.Tensor) -> torch.Tensor:
        return self.store.get(label, n_id)

    def stats(self, chunk: int = 65536) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Per text type: feature mean and std over all its nodes (chunked float64 sums, so a
        million vectors never sit in memory at once)."""
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


class TaskModel(nn.Module):
    """Encoder parts + head. ``node_repr`` gives per-type representations of a batch."""

    def __init__(self, lm: TextEncoder | None, gnn: HeteroGNN | None,
                 head: NodeClassifier | EdgeClassifier | LinkScorer,
                 id_embedding: dict[str, int] | None = None, dim: int | None = None) -> None:
        super().__init__()
        self.lm, self.gnn, self.head = lm, gnn, head
        # `lm` method only: featureless node types get a learnable vector per _nid
        self.id_embedding = nn.ModuleDict({t: nn.Embedding(n, dim or 1)
                                           for t, n in (id_embedding or {}).items()})

    def lm_repr(self, label: str, batch: HeteroData, rows: torch.Tensor) -> torch.Tensor:
        """Representations of ``rows`` of a node type without a GNN: LM text or id embedding."""
        if label in self.id_embedding:
            return self.id_embedding[label](batch[label].n_id[rows])
        texts = batch[label].text
        return self.lm.embed([texts[i] for i in rows.tolist()])

    def gnn_repr(self, batch: HeteroData, cache: EmbeddingCache,
                 lm_grad: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """GNN over the batch. Inputs: cached embeddings; rows listed in ``lm_grad`` (per type,
        local indices) are re-encoded by the LM with gradients (joint fine-tuning)."""
        x_dict, n_id = {}, {}
        for label in batch.node_types:
            ids = batch[label].n_id
            n_id[label] = ids
            if label in cache:
                x = cache.lookup(label, ids.cpu()).to(ids.device)
                rows = (lm_grad or {}).get(label)
                if rows is not None and rows.numel() and self.lm is not None:
                    fresh = self.lm.embed([batch[label].text[i] for i in rows.tolist()])
                    x = x.index_copy(0, rows.to(x.device), fresh.to(x.dtype))
                x_dict[label] = x
        return self.gnn(x_dict, batch.edge_index_dict, n_id)


def link_relations(target: EdgeType, extra: list[EdgeType] | None = None) -> list[EdgeType]:
    return [target, *[e for e in (extra or []) if e != target]]
