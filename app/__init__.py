"""lmgnn: language models and graph neural networks trained together on graphs in Neo4j.

Data flows one way: files -> ``lmgnn.loaders`` -> Neo4j -> ``lmgnn.sampler`` ->
``lmgnn.train`` -> ``lmgnn.writeback`` -> Neo4j -> ``cypher/queries``.
See docs/architecture.md for the module map.
"""

__version__ = "0.1.0"
