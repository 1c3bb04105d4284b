"""lmgnn.models (see docs/architecture.md)."""
