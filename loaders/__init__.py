"""Getting data into Neo4j: graph-spec files and the synthetic shop generator (see docs/architecture.md)."""
