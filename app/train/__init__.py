"""lmgnn.train (see docs/architecture.md)."""
