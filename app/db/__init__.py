"""Everything that talks to Neo4j as a server: connecting, and running a local one."""

from lmgnn.db.connection import connect, graph_counts, server_info

__all__ = ["connect", "graph_counts", "server_info"]
