"""Heterogeneous GNN encoders from PyG: relational GraphSAGE (HeteroConv) and HGT.

Inputs per node type are either features ``x`` (LM embeddings, numeric features) projected to
``hidden``, or, for node types without text or features, a learnable ``nn.Embedding`` indexed by
the global ``_nid`` (``n_id`` in a sampled batch). Node types that receive no messages in a
sampled subgraph keep their input representation (residual), so every type always has output.
"""

from __future__ import annotations

from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import HeteroConv, HGTConv, SAGEConv

from lmgnn.errors import UserError
from lmgnn.spec import EdgeType, GraphSpec, reverse

ConvKind = Literal["sage", "hgt"]
Metadata = tuple[list[str], list[EdgeType]]


def hetero_metadata(spec: GraphSpec, exclude: list[EdgeType] | None = None) -> Metadata:
    """Node types and relations (with reverses) a GNN sees; ``exclude`` drops e.g. venue edges."""
    dropped = set(map(tuple, exclude or []))
    forward = [et for et in spec.edge_types if et not in dropped]
    return list(spec.nodes), forward + [reverse(et) for et in forward]


class InputEncoder(nn.Module):
    """Standardise inputs per dimension, then project to ``hidden``: text vectors (LayerNorm,
    projection) plus numeric spec features (their own projection, summed), either optional.

    Why standardise text: graph-aware LM fine-tuning (lmgnn stage lm_links) makes text
    embeddings anisotropic: all products share one large common direction (mean cosine 0.17 ->
    0.67 measured), which LayerNorm alone does not remove, and a GNN on those inputs stopped
    learning link prediction. Features are standardised by their mean and std over the graph
    (a missing value, NaN, reads as the mean). All statistics are buffers, saved with the
    model, so inference standardises exactly as training did.
    """

    # buffers registered in __init__ (declared here for the type checker)
    mean: torch.Tensor
    std: torch.Tensor
    feature_mean: torch.Tensor
    feature_std: torch.Tensor

    def __init__(self, dim: int, hidden: int, feature_dim: int = 0) -> None:
        super().__init__()
        self.dim, self.feature_dim = dim, feature_dim
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("feature_mean", torch.zeros(feature_dim))
        self.register_buffer("feature_std", torch.ones(feature_dim))
        self.norm = nn.LayerNorm(dim) if dim else None
        self.proj = nn.Linear(dim, hidden) if dim else None
        self.feature_proj = nn.Linear(feature_dim, hidden) if feature_dim else None

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean.to(self.mean))
        self.std.copy_(std.to(self.std).clamp(min=1e-4))  # constant dimensions stay finite

    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.feature_mean.copy_(mean.to(self.feature_mean))
        self.feature_std.copy_(std.to(self.feature_std).clamp(min=1e-6))

    def forward(self, x: torch.Tensor | None, feat: torch.Tensor | None = None
                ) -> torch.Tensor:
        out = None
        if self.proj is not None and self.norm is not None and x is not None:
            out = self.proj(self.norm((x - self.mean) / self.std))
        if self.feature_proj is not None and feat is not None:
            f = torch.nan_to_num((feat.float() - self.feature_mean) / self.feature_std, nan=0.0)
            f = self.feature_proj(f)
            out = f if out is None else out + f
        if out is None:
            raise UserError("InputEncoder: this node type has no input in the batch")
        return out


class HeteroGNN(nn.Module):
    """A stack of heterogeneous message-passing layers with per-type input encoders.

    Args:
        metadata: (node types, edge types incl. reverses), as from :func:`hetero_metadata`.
        in_dims: node type -> input feature size, for types that come with ``x``.
        num_nodes: node type -> count, for types without text (learnable embedding per
            ``_nid``).
        feature_dims: node type -> number of numeric spec features (``batch[t].feat``),
            standardised and added to the type's input (text or learnt embedding).
        hidden: width of every layer and of the output.
        num_layers: message-passing hops.
        conv: ``sage`` (relational GraphSAGE, summed over relations) or ``hgt``.
        heads: attention heads for HGT.
        undirected: a relation between nodes of one type (e.g. Paper-CITES->Paper) and its
            reverse pass messages as one relation, a mean over all neighbours either way.
            Why: on a time split, new nodes have outgoing edges only (arxiv-2023 test
            papers: 0.2 incoming citations against 9.8 for training papers); with the two
            directions apart, the relation a new node lacks is a whole missing input term,
            and test accuracy fell 1.3-3.6 points in a probe with the same vectors.

    Shapes:
        forward(x_dict {type: (N_t, in_t)}, edge_index_dict {et: (2, E)},
        n_id_dict {type: (N_t,)}) -> {type: (N_t, hidden)}
    """

    def __init__(self, metadata: Metadata, in_dims: dict[str, int], num_nodes: dict[str, int],
                 hidden: int = 64, num_layers: int = 2, conv: ConvKind = "sage",
                 heads: int = 2, dropout: float = 0.2,
                 feature_dims: dict[str, int] | None = None, undirected: bool = False) -> None:
        super().__init__()
        node_types, edge_types = metadata
        missing = [t for t in node_types if t not in in_dims and t not in num_nodes]
        if missing:
            raise UserError(f"node types {missing} have neither features nor a node count")
        if conv not in ("sage", "hgt"):
            raise UserError(f"GNN conv must be sage or hgt, got {conv!r}")
        self.metadata: Metadata = (list(node_types),
                                   [cast(EdgeType, tuple(et)) for et in edge_types])
        known = set(self.metadata[1])
        # reverse relation -> the relation it is merged into (undirected same-type relations)
        self.merged: dict[EdgeType, EdgeType] = {
            reverse(et): et for et in self.metadata[1]
            if undirected and et[0] == et[2] and not et[1].startswith("rev_")
            and reverse(et) in known}
        relations = [et for et in self.metadata[1] if et not in self.merged]
        self.conv_kind, self.hidden, self.dropout = conv, hidden, dropout
        self.in_dims = {t: int(d) for t, d in in_dims.items() if t in node_types}
        self.feature_dims = {t: int(d) for t, d in (feature_dims or {}).items()
                             if t in node_types and d}
        self.input = nn.ModuleDict({
            t: InputEncoder(self.in_dims.get(t, 0), hidden, self.feature_dims.get(t, 0))
            for t in node_types if t in self.in_dims or t in self.feature_dims})
        self.embedding = nn.ModuleDict({t: nn.Embedding(n, hidden) for t, n in num_nodes.items()
                                        if t in node_types and t not in in_dims})
        for emb in self.embedding.values():
            nn.init.normal_(cast(nn.Embedding, emb).weight, std=0.1)
        self.convs = nn.ModuleList()
        for _ in range(num_layers):
            if conv == "sage":
                self.convs.append(HeteroConv(
                    {et: SAGEConv((hidden, hidden), hidden) for et in relations},
                    aggr="sum"))
            else:
                self.convs.append(HGTConv(hidden, hidden, (self.metadata[0], relations),
                                          heads=heads))
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: nn.LayerNorm(hidden) for t in node_types}) for _ in range(num_layers))

    def set_input_stats(self, stats: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Per-type mean and std of the current text vectors (see :class:`InputEncoder`)."""
        for t, (mean, std) in stats.items():
            if t in self.in_dims:
                cast(InputEncoder, self.input[t]).set_stats(mean, std)

    def set_feature_stats(self, stats: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Per-type mean and std of the numeric spec features over the graph."""
        for t, (mean, std) in stats.items():
            if t in self.feature_dims:
                cast(InputEncoder, self.input[t]).set_feature_stats(mean, std)

    def encode_inputs(self, x_dict: dict[str, torch.Tensor],
                      n_id_dict: dict[str, torch.Tensor],
                      feat_dict: dict[str, torch.Tensor] | None = None
                      ) -> dict[str, torch.Tensor]:
        h = {}
        feats = feat_dict or {}
        for t, n_id in n_id_dict.items():
            feat = feats.get(t) if t in self.feature_dims else None
            if t in self.in_dims and t in x_dict:
                h[t] = self.input[t](x_dict[t].float(), feat)
            elif t in self.embedding:
                h[t] = self.embedding[t](n_id)
                if feat is not None:
                    h[t] = h[t] + self.input[t](None, feat)
            else:
                raise UserError(f"node type {t} has no input features in this batch")
        return h

    def forward(self, x_dict: dict[str, torch.Tensor], edge_index_dict: dict,
                n_id_dict: dict[str, torch.Tensor],
                feat_dict: dict[str, torch.Tensor] | None = None,
                num_sampled_nodes: dict[str, list[int]] | None = None
                ) -> dict[str, torch.Tensor]:
        """Representations of every node, or, given ``num_sampled_nodes`` (nodes per hop in
        n_id order, from the sampler), of the seeds (hop 0) only.

        With hop counts, layer ``l`` of ``L`` computes outputs only for nodes within
        ``L - 1 - l`` hops of the seeds, the only ones a later layer reads (PyG's
        ``trim_to_layer``): on a dense graph most of a 2-hop batch is hop-2 nodes, whose
        layer outputs would be computed and thrown away (forward 3.9x faster on arxiv-2023).
        Only for ``L <= 2``, where the seeds' outputs equal the untrimmed ones: a hop-2 node
        is joined only to hop-1 nodes. From three hops on, an edge may join a hop-3 node to a
        seed, and trimming by hop would drop its message; deeper models and HGT are untrimmed.
        """
        h = self.encode_inputs(x_dict, n_id_dict, feat_dict)
        known = set(self.metadata[1])
        edges = {tuple(et): ei for et, ei in edge_index_dict.items()
                 if tuple(et) in known and ei.numel() > 0
                 and et[0] in h and et[2] in h}
        for rev, et in self.merged.items():
            if rev in edges:
                back = edges.pop(rev)
                edges[et] = _unique_edges(torch.cat([edges[et], back], 1)) \
                    if et in edges else back
        trim = num_sampled_nodes is not None and self.conv_kind == "sage" and \
            len(self.convs) <= 2
        for layer, (conv, layer_norms) in enumerate(zip(self.convs, self.norms, strict=True)):
            norms = cast(nn.ModuleDict, layer_norms)
            if trim:
                assert num_sampled_nodes is not None
                keep = {t: sum(num_sampled_nodes[t][:len(self.convs) - layer]) for t in h}
                out = self._trimmed_conv(cast(HeteroConv, conv), h, edges, keep)
                h = {t: x[:keep[t]] for t, x in h.items()}
            else:
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

    @staticmethod
    def _trimmed_conv(conv: HeteroConv, h: dict[str, torch.Tensor],
                      edges: dict[EdgeType, torch.Tensor], keep: dict[str, int]
                      ) -> dict[str, torch.Tensor]:
        """``conv`` (relational SAGE, summed over relations) for the first ``keep[t]`` nodes
        of each type: only edges into those nodes, from nodes still held."""
        out: dict[str, torch.Tensor] = {}
        for et, ei in edges.items():
            src, _, dst = et
            ei = ei[:, (ei[1] < keep[dst]) & (ei[0] < h[src].size(0))]
            if ei.numel() == 0:
                continue
            msg = conv.convs[et]((h[src], h[dst][:keep[dst]]), ei)
            out[dst] = msg if dst not in out else out[dst] + msg
        return out


def _unique_edges(edge_index: torch.Tensor) -> torch.Tensor:
    """Each (source, target) once: a pair stored both ways (mutual citations, co-purchases
    written twice) or a self-loop appears twice once a relation meets its reverse, and
    would count double in the mean."""
    n = int(edge_index.max()) + 1
    keys = torch.unique(edge_index[0] * n + edge_index[1])
    return torch.stack([keys // n, keys % n])
