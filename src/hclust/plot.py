"""Draw a dendrogram with matplotlib (optional dependency: ``pip install hclust[plot]``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .layout import DendrogramLayout, dendrogram_layout

__all__ = ["dendrogram", "draw_layout"]

SAVE_FORMATS = ("png", "svg", "pdf")
#: Colour of links above the cut.
ABOVE_CUT_COLOR = "0.45"
#: Leaf labels are drawn only up to this many shown leaves (beyond, they overlap).
MAX_LEAF_LABELS = 150


def _matplotlib(user: str = "hclust.plot") -> Any:
    """matplotlib, or an ImportError that says how to install it."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            f"{user} needs matplotlib, which is not installed. Install it with "
            "`pip install hclust[plot]` (or `pip install matplotlib`)."
        ) from None
    return matplotlib


def _cluster_colors(matplotlib: Any, k: int) -> list[Any]:
    cmap = matplotlib.colormaps["tab10" if k <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(max(k, 1))]


def draw_layout(layout: DendrogramLayout, ax: Any, cut_line: bool = True, leaf_font_size: float | None = None) -> Any:
    """Draw a :class:`~hclust.layout.DendrogramLayout` on a matplotlib Axes and return the Axes.

    Links are one ``LineCollection`` (fast for large trees); cluster ``c`` is drawn in
    colour ``c`` of matplotlib's tab10 (tab20 above 10 clusters, cycling), links
    above the cut in grey. Leaf labels are shown up to 150 leaves.
    """
    matplotlib = _matplotlib()
    from matplotlib.collections import LineCollection

    vertical = layout.orientation in ("top", "bottom")
    x = layout.icoord
    y = layout.dcoord
    points = np.stack([x, y], axis=-1) if vertical else np.stack([y, x], axis=-1)
    palette = _cluster_colors(matplotlib, layout.n_clusters)
    colors = [palette[c % len(palette)] if c >= 0 else ABOVE_CUT_COLOR for c in layout.link_colors.tolist()]
    width = 1.0 if len(colors) < 2000 else 0.5
    ax.add_collection(LineCollection(list(points), colors=colors, linewidths=width))

    n_leaves = len(layout.leaves)
    extent = 10.0 * n_leaves
    top = layout.max_height * 1.05 if layout.max_height > 0 else 1.0
    ticks = 10.0 * np.arange(n_leaves) + 5.0
    show_labels = n_leaves <= MAX_LEAF_LABELS
    size = leaf_font_size or (10 if n_leaves <= 20 else 8 if n_leaves <= 50 else 6)
    if vertical:
        ax.set_xlim(0, extent)
        ax.set_ylim(0, top) if layout.orientation == "top" else ax.set_ylim(top, 0)
        ax.set_xticks(ticks if show_labels else [])
        if show_labels:
            ax.set_xticklabels(layout.leaf_labels, rotation=90, fontsize=size)
        ax.set_ylabel("height")
        if layout.orientation == "bottom":  # leaves along the top edge
            ax.xaxis.tick_top()
        for side in ("bottom" if layout.orientation == "bottom" else "top", "right"):
            ax.spines[side].set_visible(False)
    else:
        ax.set_ylim(0, extent)
        ax.set_xlim(top, 0) if layout.orientation == "left" else ax.set_xlim(0, top)
        ax.set_yticks(ticks if show_labels else [])
        if show_labels:
            ax.set_yticklabels(layout.leaf_labels, fontsize=size)
        ax.set_xlabel("height")
        if layout.orientation == "left":  # root on the left, leaves along the right edge
            ax.yaxis.tick_right()
        for side in ("top", "right" if layout.orientation == "right" else "left"):
            ax.spines[side].set_visible(False)
    if cut_line and layout.cut_height is not None and layout.cut_height <= top:
        style = {"color": "0.2", "linestyle": "--", "linewidth": 0.8}
        if vertical:
            ax.axhline(layout.cut_height, **style)
        else:
            ax.axvline(layout.cut_height, **style)
    return ax


def _save_atomically(figure: Any, path: str | os.PathLike[str], dpi: int) -> None:
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in SAVE_FORMATS:
        raise ValueError(f"Cannot save a dendrogram as {target.name!r}: use a .png, .svg or .pdf path.")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"The folder {str(target.parent)!r} does not exist; create it first.")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        figure.savefig(temporary, format=fmt, dpi=dpi, bbox_inches="tight")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def dendrogram(
    Z: Any,
    ax: Any = None,
    labels: Sequence[Any] | None = None,
    truncate_mode: str | None = None,
    p: int = 30,
    n_clusters: int | None = None,
    color_threshold: float | None = None,
    orientation: str = "top",
    cut_line: bool = True,
    path: str | os.PathLike[str] | None = None,
    leaf_order: str | None = None,
    title: str | None = None,
    dpi: int = 150,
) -> Any:
    """Draw a dendrogram coloured by the clusters of :func:`hclust.tree.cut`.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    ax : matplotlib Axes, optional
        Where to draw. By default a new figure: a pyplot figure when ``path`` is None
        (so notebooks show it), a standalone ``Figure`` when saving (nothing left open).
    labels, truncate_mode, p, n_clusters, color_threshold, orientation, leaf_order
        As :func:`hclust.layout.dendrogram_layout`.
    cut_line : bool, default=True
        Draw a dashed line at the cut when ``n_clusters`` or ``color_threshold`` is given.
    path : str or path-like, optional
        Save the figure there (.png, .svg or .pdf), atomically: written to a temporary
        file in the same folder, then renamed.
    title : str, optional
        Axes title.
    dpi : int, default=150
        Resolution of saved raster images.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ImportError
        matplotlib is missing (the message says ``pip install hclust[plot]``).
    ValueError
        Invalid arguments, or an unsupported file extension.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from hclust.plot import dendrogram
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> ax = dendrogram(Z, labels=["a", "b", "c", "d"], n_clusters=2)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b', 'c', 'd']
    """
    _matplotlib()  # fail early with the install hint
    layout = dendrogram_layout(
        Z,
        labels=labels,
        truncate_mode=truncate_mode,
        p=p,
        n_clusters=n_clusters,
        color_threshold=color_threshold,
        orientation=orientation,
        leaf_order=leaf_order,
    )
    n_leaves = len(layout.leaves)
    if ax is None:
        long_side = float(min(max(6.0, 0.18 * n_leaves), 24.0))
        size = (long_side, 4.5) if orientation in ("top", "bottom") else (5.0, long_side)
        if path is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=size)
        else:
            from matplotlib.figure import Figure

            ax = Figure(figsize=size).add_subplot()
    show_cut = cut_line and (n_clusters is not None or color_threshold is not None)
    draw_layout(layout, ax, cut_line=show_cut)
    if title is not None:
        ax.set_title(title)
    if path is not None:
        _save_atomically(ax.figure, path, dpi)
    return ax
