"""Shipped GraSS styles, one per spec in loaders/specs/ (regenerate: python -m lmgnn.browser.style)."""
