"""lmgnn.models: text encoder, heterogeneous GNN encoders, task heads, metrics, devices.

Pure torch / PyG / transformers: nothing here talks to Neo4j.
"""

from lmgnn.models.device import autocast, pick_device, pin_memory, to_device
from lmgnn.models.gnn import HeteroGNN, hetero_metadata, reverse
from lmgnn.models.heads import (
    EdgeClassifier,
    LinkScorer,
    NodeClassifier,
    in_batch_negative_scores,
    link_loss,
)
from lmgnn.models.metrics import (
    accuracy,
    classification_metrics,
    macro_f1,
    ranking_metrics,
    ranks,
    roc_auc,
)
from lmgnn.models.text_encoder import TextEncoder, default_model_dir, load_tokenizer, tokenize

__all__ = [
    "EdgeClassifier", "HeteroGNN", "LinkScorer", "NodeClassifier", "TextEncoder", "accuracy",
    "autocast", "classification_metrics", "default_model_dir", "hetero_metadata",
    "in_batch_negative_scores", "link_loss", "load_tokenizer", "macro_f1", "pick_device",
    "pin_memory", "ranking_metrics", "ranks", "reverse", "roc_auc", "to_device", "tokenize",
]
