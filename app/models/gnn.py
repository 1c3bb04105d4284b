"""Heterogeneous GNN encoders from PyG: relational GraphSAGE (HeteroConv) and HGT.

Inputs per node type are either features ``x`` (LM embeddings, numeric features) projected to
``hidden``, or, for node types without text or features, a learnable ``nn.Embedding`` indexed by
the global ``_nid`` (``n_id`` in a sampled batch). Node types that receive no messages in a
sampled subgraph keep their input representation (residual), so every type always has output.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import HeteroConv, HGTConv, SAGEConv

from lmgnn.errors import UserError
from lmgnn.spec import EdgeType, GraphSpec

ConvKind = Literal["sage", "hgt"]
Metadata = tuple[list[str], list[EdgeType]]


def reverse(et: EdgeType) -> EdgeType:
    """The reverse relation the sampler adds: (dst, "rev_TYPE", src)."""
    return (et[2], f"rev_{et[1]}", et[0])


def hetero_metadata(spec: GraphSpec, exclude: list[EdgeType] | None = None) -> Metadata:
    """Node types and relations (with reverses) a GNN sees; ``exclude`` drops e.g. venue edges."""
    dropped = set(map(tuple, exclude or []))
    forward = [et for et in spec.edge_types if et not in dropped]
    return list(spec.nodes), forward + [reverse(et) for et in forward]


class InputEncoder(nn.Module):
    """Standardise input features per dimension, then LayerNorm and project to ``hidden``.

    Why: graph-aware LM fine-tuning (lmgnn stage 1) makes text embeddings anisotropic: all
    products share one large common direction (mean cosine 0.17 -> 0.67 measured), which
    LayerNorm alone does not remove, and a GNN on those inputs stopped learning link prediction.
    Mean and std are buffers, set from the embedding cache of the LM state being read, so they
    are saved with the model and inference standardises exactly as training did.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.norm, self.proj = nn.LayerNorm(dim), nn.Linear(dim, hidden)

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean.to(self.mean))
        self.std.copy_(std.to(self.std).clamp(min=1e-4))  # constant dimensions stay finite

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.norm((x - self.mean) / self.std))


class HeteroGNN(nn.Module):
    """A stack of heterogeneous message-passing layers with per-type input encoders.

    Args:
        metadata: (node types, edge types incl. reverses), as from :func:`hetero_metadata`.
        in_dims: node type -> input feature size, for types that come with ``x``.
        num_nodes: node type -> count, for featureless types (learnable embedding per ``_nid``).
        hidden: width of every layer and of the output.
        num_layers: message-passing hops.
        conv: ``sage`` (relational GraphSAGE, summed over relations) or ``hgt``.
        heads: attention heads for HGT.

    Shapes:
        forward(x_dict {type: (N_t, in_t)}, edge_index_dict {et: (2, E)},
        n_id_dict {type: (N_t,)}) -> {type: (N_t, hidden)}
    """

    def __init__(self, metadata: Metadata, in_dims: dict[str, int], num_nodes: dict[str, int],
                 hidden: int = 64, num_layers: int = 2, conv: ConvKind = "sage",
                 heads: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        node_types, edge_types = metadata
        missing = [t for t in node_types if t not in in_dims and t not in num_nodes]
        if missing:
            raise UserError(f"node types {missing} have neither features nor a node count")
        if conv not in ("sage", "hgt"):
            raise UserError(f"GNN conv must be sage or hgt, got {conv!r}")
        self.metadata = (list(node_types), [tuple(et) for et in edge_types])
        self.conv_kind, self.hidden, self.dropout = conv, hidden, dropout
        self.in_dims = {t: int(d) for t, d in in_dims.items() if t in node_types}
        self.input = nn.ModuleDict({t: InputEncoder(d, hidden) for t, d in self.in_dims.items()})
        self.embedding = nn.ModuleDict({t: nn.Embedding(n, hidden) for t, n in num_nodes.items()
                                        if t in node_types and t not in in_dims})
        for emb in self.embedding.values():
            nn.init.normal_(emb.weight, std=0.1)
        self.convs = nn.ModuleList()
        for _ in range(num_layers):
            if conv == "sage":
                self.convs.append(HeteroConv(
                    {et: SAGEConv((hidden, hidden), hidden) for et in self.metadata[1]},
                    aggr="sum"))
            else:
                self.convs.append(HGTConv(hidden, hidden, self.metadata, heads=heads))
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: nn.LayerNorm(hidden) for t in node_types}) for _ in range(num_layers))

    def set_input_stats(self, stats: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Per-type feature mean and std of the current inputs (see :class:`InputEncoder`)."""
        for t, (mean, std) in stats.items():
            if t in self.input:
                self.input[t].set_stats(mean, std)

    def encode_inputs(self, x_dict: dict[str, torch.Tensor],
                      n_id_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        h = {}
        for t, n_id in n_id_dict.items():
            if t in self.input and t in x_dict:
                h[t] = self.input[t](x_dict[t].float())
            elif t in self.embedding:
                h[t] = self.embedding[t](n_id)
            else:
                raise UserError(f"node type {t} has no input features in this batch")
        return h

    def forward(self, x_dict: dict[str, torch.Tensor], edge_index_dict: dict,
                n_id_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        h = self.encode_inputs(x_dict, n_id_dict)
        known = set(self.metadata[1])
        edges = {tuple(et): ei for et, ei in edge_index_dict.items()
                 if tuple(et) in known and ei.numel() > 0
                 and et[0] in h and et[2] in h}
        for conv, norms in zip(self.convs, self.norms, strict=True):
            out = conv(h, edges) if edges else {}
            new = {}
            for t, prev in h.items():
                msg = out.get(t)
                if msg is None:
                    new[t] = prev
                    continue
                msg = F.gelu(msg) if self.conv_kind == "sage" else msg
                msg = F.dropout(msg, self.dropout, self.training)
                new[t] = norms[t](prev + msg)
            h = new
        return h
