"""Neo4j Browser, made to explain the graph: a GraSS style generated from the graph spec."""
