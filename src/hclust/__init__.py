"""hclust: exact, fast hierarchical clustering for customer segmentation."""

from __future__ import annotations

from ._validation import InsufficientMemoryError
from .gower import Gower, GowerWarning
from .linkage import METHODS, linkage
from .metrics import METRICS, cdist, pdist
from .segment import Preparer, RFMReport, Schema, infer_schema, rfm

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "METRICS",
    "Gower",
    "GowerWarning",
    "InsufficientMemoryError",
    "Preparer",
    "RFMReport",
    "Schema",
    "__version__",
    "cdist",
    "infer_schema",
    "linkage",
    "pdist",
    "rfm",
]
