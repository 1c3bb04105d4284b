"""lmgnn.writeback: predictions, embeddings and predicted links into Neo4j (see
docs/architecture.md). Everything a run writes is named by the run and recorded in its
``(:ModelRun)-[:WROTE]->(:LmgnnOutput)`` manifest."""

import importlib
from typing import Any

# Imported on first use (PEP 562): torch is heavy, and `lmgnn query` / `lmgnn --help` need
# only the Cypher side of this package.
_HOMES = {
    "batches": ["EdgeClassBatch", "EmbeddingBatch", "LinkBatch", "NodeClassBatch"],
    "cleanup": ["Deleted", "delete_run", "keep_last_runs"],
    "links": ["dot_score", "existing_targets", "predict_links", "rank_links"],
    "manifest": ["outputs_of_run", "runs_written"],
    "writer": ["EdgeClassSink", "EmbeddingSink", "LinkSink", "MissingInGraph", "NodeClassSink",
               "Sink", "WriteStats", "write_edge_classes", "write_embeddings", "write_links",
               "write_node_classes"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)


__all__ = [
    "Deleted",
    "EdgeClassBatch",
    "EdgeClassSink",
    "EmbeddingBatch",
    "EmbeddingSink",
    "LinkBatch",
    "LinkSink",
    "MissingInGraph",
    "NodeClassBatch",
    "NodeClassSink",
    "Sink",
    "WriteStats",
    "delete_run",
    "dot_score",
    "existing_targets",
    "keep_last_runs",
    "outputs_of_run",
    "predict_links",
    "rank_links",
    "runs_written",
    "write_edge_classes",
    "write_embeddings",
    "write_links",
    "write_node_classes",
]
