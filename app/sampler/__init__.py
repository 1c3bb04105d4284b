"""lmgnn.sampler (see docs/architecture.md)."""
