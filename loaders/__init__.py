"""Getting data into Neo4j: graph-spec files and the synthetic shop generator.

``load_graph(spec, data_dir, driver, database)`` validates every file, then writes constraints,
nodes (with dense ``_nid``) and relationships, and stores the spec. ``synthetic.generate`` writes
the files and spec of a synthetic e-commerce graph. Specs ship in ``loaders/specs/``.
"""

from lmgnn.loaders.load import GraphMismatch, LoadReport, load_graph
from lmgnn.loaders.readers import InputError
from lmgnn.loaders.validate import ValidatedGraph, validate_files

__all__ = ["GraphMismatch", "InputError", "LoadReport", "ValidatedGraph", "load_graph",
           "validate_files"]
