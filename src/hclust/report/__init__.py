"""Reports: one self-contained HTML page with an interactive dendrogram, and static charts.

:func:`write_report` / :func:`build_report_html` make the offline HTML report (dendrogram
explorer, segment table, sizes, profile heatmap, PCA scatter, choose-k charts, summary);
:func:`write_static` draws the same charts with matplotlib as png, svg or pdf files. They
render a :class:`~hclust.segment.SegmentationSummary` (:func:`hclust.segmentation_summary`,
:meth:`hclust.SegmentationModel.segmentation_summary`), which holds every number shown:
nothing is computed here.
"""

from .html import build_report_html, write_report
from .static import write_static

__all__ = ["build_report_html", "write_report", "write_static"]
