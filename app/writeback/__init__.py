"""lmgnn.writeback (see docs/architecture.md)."""
