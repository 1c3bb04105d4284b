"""lmgnn.writeback: predictions, embeddings and predicted links into Neo4j (see
docs/architecture.md). Everything a run writes is named by the run and recorded in its
``(:ModelRun)-[:WROTE]->(:LmgnnOutput)`` manifest."""

from lmgnn.writeback.batches import EdgeClassBatch, EmbeddingBatch, LinkBatch, NodeClassBatch
from lmgnn.writeback.cleanup import Deleted, delete_run, keep_last_runs
from lmgnn.writeback.links import dot_score, existing_targets, predict_links, rank_links
from lmgnn.writeback.manifest import outputs_of_run, runs_written
from lmgnn.writeback.writer import (
    EdgeClassSink,
    EmbeddingSink,
    LinkSink,
    MissingInGraph,
    NodeClassSink,
    Sink,
    WriteStats,
    write_edge_classes,
    write_embeddings,
    write_links,
    write_node_classes,
)

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
