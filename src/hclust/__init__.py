"""hclust: exact, fast hierarchical clustering for customer segmentation.

The public names below are loaded on first use (PEP 562): ``import hclust``
reads no heavy library (numpy, pandas, numba, scipy, scikit-learn), so the
``hclust`` command starts at once; ``hclust.linkage`` imports what it needs
the first time it is looked up.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: Public name -> the submodule that defines it.
_LAZY: dict[str, str] = {
    "InsufficientMemoryError": "._validation",
    "ConnectivityWarning": "._connectivity",
    "Comparison": "._compare",
    "compare": "._compare",
    "bisecting_kmeans": ".divisive",
    "diana": ".divisive",
    "divisive_coefficient": ".divisive",
    "cutree_dynamic": ".dynamic",
    "HierarchicalClustering": ".estimator",
    "Gower": ".gower",
    "GowerWarning": ".gower",
    "METHODS": "._linkage",
    "linkage": "._linkage",
    "METRICS": ".metrics",
    "cdist": ".metrics",
    "pdist": ".metrics",
    "DendrogramLayout": ".layout",
    "dendrogram_layout": ".layout",
    "dendrogram": ".plot",
    "set_link_color_palette": ".plot",
    "build_report_html": ".report",
    "write_report": ".report",
    "write_static": ".report",
    "Evaluation": ".select",
    "evaluate": ".select",
    "stability": ".select",
    "Preparer": ".segment",
    "RFMReport": ".segment",
    "Schema": ".segment",
    "SegmentationModel": ".segment",
    "SegmentProfile": ".segment",
    "SegmentationSummary": ".segment",
    "infer_schema": ".segment",
    "profile": ".segment",
    "rfm": ".segment",
    "segmentation_summary": ".segment",
    "Summary": ".summary",
    "SummaryQuality": ".summary",
    "merge_moments": ".summary",
    "summarize": ".summary",
    "agglomerative_coefficient": ".tree",
    "check_linkage": ".tree",
    "cophenet": ".tree",
    "cut": ".tree",
    "cut_tree": ".tree",
    "fcluster": ".tree",
    "fclusterdata": ".tree",
    "from_sklearn": ".tree",
    "inconsistent": ".tree",
    "is_monotonic": ".tree",
    "is_valid_linkage": ".tree",
    "leaves_list": ".tree",
    "optimal_leaf_ordering": ".tree",
    "outliers": ".tree",
    "to_json": ".tree",
    "to_newick": ".tree",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first access (PEP 562).

    Submodules (``hclust.tree``, ``hclust.segment``, ...) load on first access too.
    """
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # static type checkers and IDEs see the eager imports
    from ._compare import Comparison, compare
    from ._connectivity import ConnectivityWarning
    from ._linkage import METHODS, linkage
    from ._validation import InsufficientMemoryError
    from .divisive import bisecting_kmeans, diana, divisive_coefficient
    from .dynamic import cutree_dynamic
    from .estimator import HierarchicalClustering
    from .gower import Gower, GowerWarning
    from .layout import DendrogramLayout, dendrogram_layout
    from .metrics import METRICS, cdist, pdist
    from .plot import dendrogram, set_link_color_palette
    from .report import build_report_html, write_report, write_static
    from .segment import (
        Preparer,
        RFMReport,
        Schema,
        SegmentationModel,
        SegmentationSummary,
        SegmentProfile,
        infer_schema,
        profile,
        rfm,
        segmentation_summary,
    )
    from .select import Evaluation, evaluate, stability
    from .summary import Summary, SummaryQuality, merge_moments, summarize
    from .tree import (
        agglomerative_coefficient,
        check_linkage,
        cophenet,
        cut,
        cut_tree,
        fcluster,
        fclusterdata,
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
