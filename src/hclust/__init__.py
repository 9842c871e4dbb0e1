"""hclust: exact, fast hierarchical clustering for customer segmentation."""

from __future__ import annotations

from ._validation import InsufficientMemoryError
from .linkage import METHODS, linkage
from .metrics import METRICS, cdist, pdist

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "METRICS",
    "InsufficientMemoryError",
    "__version__",
    "cdist",
    "linkage",
    "pdist",
]
