"""Shipped GraSS styles, one per spec in loaders/specs/.

Regenerate with ``python -m lmgnn.browser.style``.
"""
