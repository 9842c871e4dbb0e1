"""hclust: exact, fast hierarchical clustering for customer segmentation."""

from __future__ import annotations

__version__ = "0.1.0"  # before the imports: submodules read it

from ._connectivity import ConnectivityWarning
from ._validation import InsufficientMemoryError
from .compare import Comparison, compare
from .divisive import bisecting_kmeans, diana, divisive_coefficient
from .dynamic import cutree_dynamic
from .estimator import HierarchicalClustering
from .gower import Gower, GowerWarning
from .linkage import METHODS, linkage
from .metrics import METRICS, cdist, pdist
from .layout import DendrogramLayout, dendrogram_layout
from .report import build_report_html, write_report, write_static
from .select import Evaluation, evaluate, stability
from .segment import (
    Preparer,
    RFMReport,
    Schema,
    SegmentationModel,
    SegmentProfile,
    infer_schema,
    profile,
    rfm,
)
from .summary import Summary, SummaryQuality, merge_moments, summarize
from .tree import (
    agglomerative_coefficient,
    check_linkage,
    cophenet,
    cut,
    cut_tree,
    fcluster,
    from_sklearn,
    inconsistent,
    is_monotonic,
    is_valid_linkage,
    leaves_list,
    optimal_leaf_ordering,
    outliers,
    to_json,
    to_newick,
)


__all__ = [
    "Comparison",
    "ConnectivityWarning",
    "DendrogramLayout",
    "Evaluation",
    "Gower",
    "GowerWarning",
    "HierarchicalClustering",
    "InsufficientMemoryError",
    "METHODS",
    "METRICS",
    "Preparer",
    "RFMReport",
    "Schema",
    "SegmentProfile",
    "SegmentationModel",
    "Summary",
    "SummaryQuality",
    "__version__",
    "agglomerative_coefficient",
    "build_report_html",
    "bisecting_kmeans",
    "cdist",
    "compare",
    "check_linkage",
    "cophenet",
    "cut",
    "cut_tree",
    "cutree_dynamic",
    "dendrogram_layout",
    "diana",
    "divisive_coefficient",
    "evaluate",
    "fcluster",
    "from_sklearn",
    "inconsistent",
    "infer_schema",
    "is_monotonic",
    "is_valid_linkage",
    "leaves_list",
    "linkage",
    "merge_moments",
    "optimal_leaf_ordering",
    "outliers",
    "pdist",
    "profile",
    "rfm",
    "stability",
    "summarize",
    "to_json",
    "to_newick",
    "write_report",
    "write_static",
]
