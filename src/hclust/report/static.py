"""Static versions of the report's charts with matplotlib: png, svg or pdf files in a folder."""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._validation import check_option
from ..io import write_atomic
from ..plot import _matplotlib
from ..select import Evaluation
from ._data import ReportData, prepare_report_data, segment_colors

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


def _labels(data: ReportData, width: int = _LABEL_WIDTH) -> list[str]:
    """Segment labels ``"s · name"``, wrapped at ``width`` characters (never cut)."""
    names = data.profiles[data.k].names
    return [textwrap.fill(f"{s} · {names[s]}", width, break_long_words=True, break_on_hyphens=False)
            for s in range(data.k)]


def _figure_size(name: str, data: ReportData) -> tuple[float, float]:
    """Inches: the default size, taller when wrapped segment labels need the room."""
    width, height = _SIZES[name]
    lines = sum(label.count("\n") + 1 for label in _labels(data))
    if name == "sizes":
        height = max(height, 1.4 + 0.22 * lines + 0.12 * data.k)
    elif name == "heatmap":
        height = max(height, 2.6 + 0.22 * lines + 0.12 * data.k)
    return width, height


def _dendrogram(data: ReportData, fig: Any) -> None:
    from ..plot import dendrogram

    ax = fig.add_subplot()
    p = min(data.n, 40)
    dendrogram(data.Z, ax=ax, truncate_mode="lastp" if data.n > p else None, p=p, n_clusters=data.k,
               title=f"Dendrogram: top {p} clusters, cut into k={data.k}" if data.n > p else f"Dendrogram, k={data.k}")
    ax.set_ylabel("height")


def _sizes(data: ReportData, fig: Any) -> None:
    ax = fig.add_subplot()
    sizes = data.profiles[data.k].summary()["size"].to_numpy()
    labels = _labels(data)
    y = np.arange(data.k)
    ax.barh(y, sizes, color=segment_colors(data.k))
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("rows")
    ax.set_title("Segment sizes")
    for yi, size in zip(y, sizes):
        ax.annotate(f" {int(size):,} ({100 * size / data.n:.1f}%)", (size, yi), va="center", fontsize=8)
    ax.set_xlim(0, float(max(sizes)) * 1.25)  # room for the counts after the longest bar


def _heatmap(data: ReportData, fig: Any) -> None:
    ax = fig.add_subplot()
    z = data.heatmap[data.k]
    finite = np.abs(z[np.isfinite(z)])
    limit = max(0.5, float(finite.max()) if finite.size else 0.5)
    image = ax.imshow(np.ma.masked_invalid(z), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    columns = [textwrap.shorten(c, 40, placeholder="…") if len(c) > 40 else c for c in data.heatmap_columns]
    ax.set_xticks(np.arange(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(np.arange(data.k), _labels(data))
    for tick, colour in zip(ax.get_yticklabels(), segment_colors(data.k)):
        tick.set_color(colour)
    fig.colorbar(image, ax=ax, label="standardised difference (segment vs rest)")
    ax.set_title("Segment profiles")


def _pca(data: ReportData, fig: Any) -> None:
    ax = fig.add_subplot()
    labels = data.labels[data.k][data.scatter_index]
    colours = segment_colors(data.k)
    names = _labels(data)
    for s in range(data.k):
        mask = labels == s
        ax.scatter(data.scatter_xy[mask, 0], data.scatter_xy[mask, 1], s=6, alpha=0.7, color=colours[s], label=names[s],
                   linewidths=0)
    ex = data.explained
    ax.set_xlabel(f"PC1 ({100 * ex[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ex[1]:.1f}% of variance)")
    sampled = len(data.scatter_index) < data.n
    ax.set_title(f"PCA: a random sample of {len(data.scatter_index):,} of {data.n:,} rows" if sampled else "PCA projection")
    ax.legend(fontsize=7, markerscale=2, loc="best")


def _choose_k(data: ReportData, fig: Any) -> None:
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
        ax.axvline(data.k, color="#c0392b", label="chosen")
        ax.set_title(_METRIC_TITLES[metric], fontsize=9)
        ax.set_xlabel("k")
        if i == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()


_DRAW = {"dendrogram": _dendrogram, "sizes": _sizes, "heatmap": _heatmap, "pca": _pca, "choose_k": _choose_k}
_SIZES = {"dendrogram": (10, 5), "sizes": (7, 4), "heatmap": (10, 5), "pca": (7, 6), "choose_k": (12, 6)}


def write_static(
    folder: str | os.PathLike[str],
    *,
    fmt: str = "png",
    Z: Any,
    features: Any,
    frame: pd.DataFrame | None = None,
    k: int,
    ks: Sequence[int] | None = None,
    feature_names: Sequence[Any] | None = None,
    names: Mapping[int, str] | None = None,
    evaluation: Evaluation | None = None,
    params: Mapping[str, Any] | None = None,
    title: str = "Segmentation report",
    dpi: int = 150,
) -> list[Path]:
    """Draw the report's charts with matplotlib into ``folder``, one file each.

    Writes ``dendrogram``, ``sizes``, ``heatmap``, ``pca`` and ``choose_k`` with the
    extension ``fmt``, for the ``k`` segments, in the segment colours of the HTML
    report (matplotlib's tab10, tab20 above 10 segments). Each file is written
    atomically; the folder is created when missing.

    Parameters
    ----------
    folder : str or path-like
        Output folder (created if needed; an existing file there is an error).
    fmt : {'png', 'svg', 'pdf'}, default='png'
    Z, features, frame, k, ks, feature_names, names, evaluation, params, title
        As :func:`hclust.report.build_report_html`. ``params`` and ``ks`` only matter
        for the choose-k chart (the scores computed).
    dpi : int, default=150
        Resolution of png files.

    Returns
    -------
    list of Path
        The files written, in the order above.

    Raises
    ------
    ValueError
        Unknown ``fmt``, ``folder`` is an existing file, or the input errors of
        :func:`hclust.report.build_report_html`.
    ImportError
        matplotlib is missing.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from hclust import linkage
    >>> from hclust.report import write_static
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> files = write_static(tempfile.mkdtemp(), fmt="svg", Z=linkage(X, "ward"), features=X, k=3, ks=[2, 3])
    >>> [f.name for f in files]
    ['dendrogram.svg', 'sizes.svg', 'heatmap.svg', 'pca.svg', 'choose_k.svg']
    """
    check_option(fmt, "fmt", STATIC_FORMATS)
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ValueError(f"folder {str(target)!r} is an existing file; pass a folder for the chart files.")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 1:
        raise ValueError(f"dpi must be a positive integer; got {dpi!r}.")
    matplotlib = _matplotlib("write_static")
    from matplotlib.figure import Figure

    data = prepare_report_data(
        Z=Z, features=features, frame=frame, k=k, ks=ks, feature_names=feature_names, names=names,
        evaluation=evaluation, params=params, title=title,
    )
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
