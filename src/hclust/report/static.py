"""Static versions of the report's charts with matplotlib: png, svg or pdf files in a folder.

They draw a :class:`~hclust.segment.SegmentationSummary`, as the HTML report does: the same
numbers, the same colours.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._validation import check_option, is_integer
from ..io import write_atomic
from ..plot import _matplotlib
from ..segment._summary import SegmentationSummary
from ._data import as_summary, segment_colors

__all__ = ["write_static", "STATIC_FORMATS", "STATIC_CHARTS"]

#: File formats :func:`write_static` writes.
STATIC_FORMATS = ("png", "svg", "pdf")
#: File stems, in the order the files are returned.
STATIC_CHARTS = ("dendrogram", "sizes", "heatmap", "pca", "choose_k")

_METRIC_TITLES = {
    "wss": "Within-cluster SS (elbow)",
    "silhouette": "Silhouette (higher is better)",
    "calinski_harabasz": "Calinski-Harabasz (higher is better)",
    "davies_bouldin": "Davies-Bouldin (lower is better)",
    "gap": "Gap statistic",
    "height_jump": "Height jump at the cut",
}
# Metadata that would embed the time of writing (deterministic files instead).
_NO_DATES = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


#: Characters per line of a segment label before it wraps (long names are shown whole).
_LABEL_WIDTH = 28


def _labels(data: SegmentationSummary, width: int = _LABEL_WIDTH) -> list[str]:
    """Segment labels ``"s · name"``, wrapped at ``width`` characters (never cut)."""
    names = data.chosen.names
    return [textwrap.fill(f"{s} · {names[s]}", width, break_long_words=True, break_on_hyphens=False)
            for s in range(data.n_clusters)]


def _figure_size(name: str, data: SegmentationSummary) -> tuple[float, float]:
    """Inches: the default size, taller when wrapped segment labels need the room."""
    width, height = map(float, _SIZES[name])
    lines = sum(label.count("\n") + 1 for label in _labels(data))
    if name == "sizes":
        height = max(height, 1.4 + 0.22 * lines + 0.12 * data.n_clusters)
    elif name == "heatmap":
        height = max(height, 2.6 + 0.22 * lines + 0.12 * data.n_clusters)
    return width, height


def _dendrogram(data: SegmentationSummary, fig: Any) -> None:
    from ..plot import dendrogram

    ax = fig.add_subplot()
    p = min(data.n, 40)
    k = data.n_clusters
    dendrogram(data.Z, ax=ax, truncate_mode="lastp" if data.n > p else None, p=p, n_clusters=k,
               title=f"Dendrogram: top {p} clusters, cut into k={k}" if data.n > p else f"Dendrogram, k={k}")
    ax.set_ylabel("height")


def _sizes(data: SegmentationSummary, fig: Any) -> None:
    ax = fig.add_subplot()
    sizes = np.asarray(data.chosen.sizes)
    labels = _labels(data)
    y = np.arange(data.n_clusters)
    ax.barh(y, sizes, color=segment_colors(data.n_clusters))
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("rows")
    ax.set_title("Segment sizes")
    for yi, size in zip(y, sizes):
        ax.annotate(f" {int(size):,} ({100 * size / data.n:.1f}%)", (size, yi), va="center", fontsize=8)
    ax.set_xlim(0, float(max(sizes)) * 1.25)  # room for the counts after the longest bar


def _heatmap(data: SegmentationSummary, fig: Any) -> None:
    ax = fig.add_subplot()
    z = data.chosen.heatmap
    finite = np.abs(z[np.isfinite(z)])
    limit = max(0.5, float(finite.max()) if finite.size else 0.5)
    image = ax.imshow(np.ma.masked_invalid(z), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    columns = [textwrap.shorten(c, 40, placeholder="…") if len(c) > 40 else c for c in data.heatmap_columns]
    ax.set_xticks(np.arange(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(np.arange(data.n_clusters), _labels(data))
    for tick, colour in zip(ax.get_yticklabels(), segment_colors(data.n_clusters)):
        tick.set_color(colour)
    fig.colorbar(image, ax=ax, label="standardised difference (segment vs rest)")
    ax.set_title("Segment profiles")


def _pca(data: SegmentationSummary, fig: Any) -> None:
    ax = fig.add_subplot()
    shown = data.projection
    labels = data.labels()[shown.index]
    colours = segment_colors(data.n_clusters)
    names = _labels(data)
    for s in range(data.n_clusters):
        mask = labels == s
        ax.scatter(shown.xy[mask, 0], shown.xy[mask, 1], s=6, alpha=0.7, color=colours[s], label=names[s],
                   linewidths=0)
    ex = shown.explained
    ax.set_xlabel(f"PC1 ({100 * ex[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ex[1]:.1f}% of variance)")
    sampled = len(shown.index) < data.n
    ax.set_title(f"PCA: a random sample of {len(shown.index):,} of {data.n:,} rows" if sampled else "PCA projection")
    ax.legend(fontsize=7, markerscale=2, loc="best")


def _choose_k(data: SegmentationSummary, fig: Any) -> None:
    table = data.evaluation.table
    metrics = [m for m in _METRIC_TITLES if m in table.columns and table[m].notna().any()]
    if not metrics:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "No choose-k scores", ha="center", va="center")
        ax.set_axis_off()
        return
    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig.set_size_inches(4.2 * cols, 3.2 * rows)
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, i + 1)
        values = table[metric].dropna()
        ax.plot(values.index, values.to_numpy(), marker="o", color="#1f77b4")
        if data.evaluation.recommended_k is not None:  # None: no k met the minimum segment size
            ax.axvline(data.evaluation.recommended_k, color="0.4", linestyle=":", label="recommended")
        ax.axvline(data.n_clusters, color="#c0392b", label="chosen")
        ax.set_title(_METRIC_TITLES[metric], fontsize=9)
        ax.set_xlabel("k")
        if i == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()


#: hclust 0.1's keywords of write_static (deprecated): those of build_report_html but the page-only ones.
_LEGACY_KEYWORDS = ("Z", "features", "frame", "k", "ks", "feature_names", "names", "evaluation", "params")

_DRAW = {"dendrogram": _dendrogram, "sizes": _sizes, "heatmap": _heatmap, "pca": _pca, "choose_k": _choose_k}
_SIZES = {"dendrogram": (10, 5), "sizes": (7, 4), "heatmap": (10, 5), "pca": (7, 6), "choose_k": (12, 6)}


def write_static(
    folder: str | os.PathLike[str],
    summary: SegmentationSummary | None = None,
    *,
    fmt: str = "png",
    title: str = "Segmentation report",
    dpi: int = 150,
    **deprecated: Any,
) -> list[Path]:
    """Draw the report's charts of ``summary`` with matplotlib into ``folder``, one file each.

    Writes ``dendrogram``, ``sizes``, ``heatmap``, ``pca`` and ``choose_k`` with the
    extension ``fmt``, for the chosen segments, in the segment colours of the HTML
    report (matplotlib's tab10, tab20 above 10 segments). Each file is written
    atomically; the folder is created when missing.

    Parameters
    ----------
    folder : str or path-like
        Output folder (created if needed; an existing file there is an error).
    summary : SegmentationSummary
        From :func:`hclust.segmentation_summary` or
        :meth:`hclust.SegmentationModel.segmentation_summary`.
    fmt : {'png', 'svg', 'pdf'}, default='png'
    title : str, default="Segmentation report"
    dpi : int, default=150
        Resolution of png files.
    **deprecated
        hclust 0.1's keywords ``Z, features, frame, k, ks, feature_names, names,
        evaluation, params`` instead of ``summary`` (see
        :func:`hclust.report.build_report_html`), with a :class:`DeprecationWarning`.

    Returns
    -------
    list of Path
        The files written, in the order above.

    Raises
    ------
    ValueError
        Unknown ``fmt``, ``folder`` is an existing file, a bad ``dpi``.
    TypeError
        No summary (or a summary and deprecated keywords together).
    ImportError
        matplotlib is missing.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from hclust import linkage, segmentation_summary
    >>> from hclust.report import write_static
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> summary = segmentation_summary(linkage(X, "ward"), X, n_clusters=3, ks=[2, 3])
    >>> files = write_static(tempfile.mkdtemp(), summary, fmt="svg")
    >>> [f.name for f in files]
    ['dendrogram.svg', 'sizes.svg', 'heatmap.svg', 'pca.svg', 'choose_k.svg']
    """
    check_option(fmt, "fmt", STATIC_FORMATS)
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ValueError(f"folder {str(target)!r} is an existing file; pass a folder for the chart files.")
    if not is_integer(dpi) or dpi < 1:
        raise ValueError(f"dpi must be a positive integer; got {dpi!r}.")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string; got {type(title).__name__}.")
    data = as_summary("write_static", summary, deprecated, _LEGACY_KEYWORDS)
    matplotlib = _matplotlib("write_static")
    from matplotlib.figure import Figure

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in STATIC_CHARTS:
        fig = Figure(figsize=_figure_size(name, data), layout="constrained" if name != "choose_k" else None)
        _DRAW[name](data, fig)
        if name != "choose_k":
            fig.suptitle(title, fontsize=10, color="0.35")
        path = target / f"{name}.{fmt}"

        def save(stream: IO[Any], fig: Any = fig) -> None:
            fig.savefig(stream, format=fmt, dpi=dpi, metadata=_NO_DATES[fmt])

        # A fixed salt makes the SVG element ids (random by default) reproducible.
        with matplotlib.rc_context({"svg.hashsalt": "hclust-report"}):
            write_atomic(path, save, binary=True)
        written.append(path)
    return written
