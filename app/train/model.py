"""The trained model, assembled from named parts: text encoder, hetero GNN, task head.

``method`` decides which parts exist: ``lm`` (encoder + head; featureless node types get a
learnable id embedding), ``gnn`` (cached frozen-LM vectors + GNN + head) and ``lmgnn`` (all
three; in the joint mode a bounded number of nodes per batch get LM gradients, the rest read
the cache). ``ModelShape`` is the plain description (saved as the run's ``model.json``) that
rebuilds the same modules without the graph or the trainer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, cast

import torch
from torch import nn
from torch_geometric.data import HeteroData

from lmgnn.models import EdgeClassifier, HeteroGNN, LinkScorer, NodeClassifier, TextEncoder
from lmgnn.models.gnn import hetero_metadata
from lmgnn.models.heads import LinearEdgeClassifier, ScoreKind
from lmgnn.spec import EdgeType, GraphSpec


class Vectors(Protocol):
    """What the GNN reads its text inputs from (``VectorCache``, ``InferenceVectors``)."""

    def __contains__(self, label: str) -> bool: ...

    def lookup(self, label: str, n_id: torch.Tensor) -> torch.Tensor: ...


@dataclass
class ModelShape:
    """Everything needed to rebuild the modules (not their weights), as plain JSON."""

    method: str
    head: str  # NodeClassifier | EdgeClassifier | LinearEdgeClassifier | LinkScorer
    num_classes: int
    relation: list[str] | None  # edge/link task
    score: str
    dropout: float
    lm_dim: int
    id_embedding: dict[str, int] = field(default_factory=dict)  # method lm: featureless types
    gnn: dict[str, Any] | None = None  # HeteroGNN keyword arguments
    text_head: bool = False  # lmgnn with stage lm_task: a classifier on LM vectors too

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelShape:
        return cls(**data)


def model_shape(spec: GraphSpec, config: Any, counts: dict[str, int], target: Any,
                num_classes: int, lm_dim: int, exclude: list[EdgeType]) -> ModelShape:
    """The shape of a run's model from its config, the graph's node counts and the task."""
    text_types = [label for label, n in spec.nodes.items() if n.text]
    head = {"node": "NodeClassifier", "edge": "EdgeClassifier", "link": "LinkScorer"}[
        target.kind]
    shape = ModelShape(method=str(config.method), head=head, num_classes=num_classes,
                       relation=list(target.relation) if target.relation else None,
                       score=str(config.score), dropout=config.dropout, lm_dim=lm_dim)
    stages = getattr(config, "lmgnn_stages", [])
    shape.text_head = str(config.method) == "lmgnn" and target.kind != "link" and \
        "lm_task" in [str(s) for s in stages]
    if str(config.method) == "lm":
        shape.id_embedding = {label: counts[label] for label in spec.nodes
                              if label not in text_types}
        return shape
    node_types, edge_types = hetero_metadata(spec, exclude)
    shape.gnn = {
        "metadata": [node_types, [list(et) for et in edge_types]],
        "in_dims": {label: lm_dim for label in text_types},
        "num_nodes": {label: counts[label] for label in spec.nodes if label not in text_types},
        "feature_dims": {label: len(n.features) for label, n in spec.nodes.items()
                         if n.features},
        "hidden": config.hidden, "num_layers": config.layers, "conv": str(config.conv),
        "heads": config.heads, "dropout": config.dropout,
        "undirected": bool(config.undirected)}
    return shape


def build_model(shape: ModelShape, lm: TextEncoder | None) -> TaskModel:
    """Modules of ``shape`` with fresh weights; ``lm`` is the encoder the model trains (lm,
    lmgnn) or None (gnn: the LM only fills the cache)."""
    gnn = None
    if shape.gnn is not None:
        g = dict(shape.gnn)
        node_types, edge_types = g.pop("metadata")
        gnn = HeteroGNN((list(node_types), [tuple(et) for et in edge_types]), **g)
    dim = gnn.hidden if gnn is not None else shape.lm_dim
    relation = tuple(shape.relation) if shape.relation else None
    head: nn.Module
    if shape.head == "NodeClassifier":
        head = NodeClassifier(dim, shape.num_classes, shape.dropout)
    elif shape.head == "EdgeClassifier":
        head = EdgeClassifier(dim, shape.num_classes, shape.dropout)
    elif shape.head == "LinearEdgeClassifier":  # probes (lmgnn.train.probe)
        head = LinearEdgeClassifier(dim, shape.num_classes, shape.dropout)
    else:
        # a link task's shape has its relation; LinkScorer checks the score name
        head = LinkScorer(dim, [cast(EdgeType, relation)], cast(ScoreKind, shape.score))
    text_head: nn.Module | None = None
    if shape.text_head:  # stage lm_task of lmgnn: the LM learns the task on its own first
        text_head = NodeClassifier(shape.lm_dim, shape.num_classes, shape.dropout) \
            if shape.head == "NodeClassifier" else \
            EdgeClassifier(shape.lm_dim, shape.num_classes, shape.dropout)
    return TaskModel(lm if shape.method != "gnn" else None, gnn, head, shape.id_embedding,
                     shape.lm_dim, text_head)


class TaskModel(nn.Module):
    """Encoder parts + head. ``lm_repr`` / ``gnn_repr`` give representations of a batch."""

    def __init__(self, lm: TextEncoder | None, gnn: HeteroGNN | None, head: nn.Module,
                 id_embedding: dict[str, int] | None = None, dim: int | None = None,
                 text_head: nn.Module | None = None) -> None:
        super().__init__()
        self.lm, self.gnn, self.head, self.text_head = lm, gnn, head, text_head
        # `lm` method only: featureless node types get a learnable vector per _nid
        self.id_embedding = nn.ModuleDict({t: nn.Embedding(n, dim or 1)
                                           for t, n in (id_embedding or {}).items()})

    def lm_repr(self, label: str, batch: HeteroData, rows: torch.Tensor) -> torch.Tensor:
        """Representations of ``rows`` of a node type without a GNN: LM text or id embedding."""
        if label in self.id_embedding:
            return self.id_embedding[label](batch[label].n_id[rows])
        assert self.lm is not None
        texts = batch[label].text
        return self.lm.embed([texts[i] for i in rows.tolist()])

    def gnn_repr(self, batch: HeteroData, cache: Vectors) -> dict[str, torch.Tensor]:
        """GNN over the batch: the seed rows' representations (a sampled batch) or every
        row's. Inputs: cached vectors (and spec features); rows named in ``batch[t].lm_rows``
        (joint training, texts in ``batch[t].lm_text``) are re-encoded by the LM with
        gradients."""
        assert self.gnn is not None
        x_dict, n_id, feat = {}, {}, {}
        for label in batch.node_types:
            store = batch[label]
            ids = store.n_id
            n_id[label] = ids
            if "feat" in store:
                feat[label] = store.feat
            if label in cache:
                x = cache.lookup(label, ids.cpu()).to(ids.device)
                rows = store.lm_rows if "lm_rows" in store else None
                if rows is not None and rows.numel() and self.lm is not None and self.training:
                    fresh = self.lm.embed(list(store.lm_text))
                    x = x.index_copy(0, rows.to(x.device), fresh.to(x.dtype))
                x_dict[label] = x
        # the sampler's hop counts let the GNN skip outputs no seed reads (outputs are then
        # the seeds' only); batches built otherwise keep every node's output
        hops = {t: batch[t].num_sampled_nodes for t in batch.node_types
                if "num_sampled_nodes" in batch[t]}
        return self.gnn(x_dict, batch.edge_index_dict, n_id, feat,
                        hops if len(hops) == len(batch.node_types) else None)

    def weights(self) -> dict[str, torch.Tensor]:
        """State of everything but the LM (saved as ``model.pt``; the LM goes to ``lm/``)."""
        return {k: v.detach().cpu() for k, v in self.state_dict().items()
                if not k.startswith("lm.")}
