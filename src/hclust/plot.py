"""Draw a dendrogram with matplotlib (optional dependency: ``pip install hclust[plot]``).

:func:`dendrogram` takes the arguments of :func:`scipy.cluster.hierarchy.dendrogram`
and returns its dictionary, so a scipy user's call works unchanged; the geometry
comes from :func:`hclust.layout.dendrogram_layout` (no recursion, fast on 100k+
leaves), and hclust's extras (``n_clusters=`` colours the segments of
:func:`hclust.cut`, ``path=`` saves the figure) are keyword-only.
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ._typing import FloatArray
from .tree import _children, check_linkage
from .layout import (
    DendrogramLayout,
    _scipy_color_indices,
    _scipy_leaf_links,
    dendrogram_layout,
    segment_colors,
)

__all__ = ["DendrogramResult", "dendrogram", "draw_layout", "set_link_color_palette"]

SAVE_FORMATS = ("png", "svg", "pdf")
#: Colour of links above the cut when the colours show ``n_clusters`` segments.
ABOVE_CUT_COLOR = "0.45"
#: Leaf labels are drawn only up to this many shown leaves (beyond, they overlap and
#: slow matplotlib down); the returned ``ivl`` always has them all.
MAX_LEAF_LABELS = 150
#: scipy's default link colours below the threshold (matplotlib's C1..C9; C0 is the
#: default colour above it).
DEFAULT_LINK_PALETTE: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9")
#: scipy's leaf label sizes and rotations by number of shown leaves (up to the key).
_LABEL_SIZES = ((20, 12.0), (30, 10.0), (50, 8.0), (85, 6.0), (math.inf, 5.0))
_LABEL_ROTATIONS = ((20, 0.0), (40, 45.0), (math.inf, 90.0))
_TRUNCATE_MODES = {None: None, "none": None, "lastp": "lastp", "level": "level", "mtica": "level"}

_link_palette: list[str] = list(DEFAULT_LINK_PALETTE)


class DendrogramResult(dict[str, Any]):
    """scipy's dendrogram dictionary, plus the Axes it was drawn on.

    Keys (as in scipy): ``'icoord'``, ``'dcoord'`` (the links' x and height
    corners), ``'ivl'`` (leaf labels, left to right), ``'leaves'`` (node ids shown
    as leaves), ``'color_list'`` (a colour per link), ``'leaves_color_list'`` (a
    colour per leaf). The attribute ``ax`` is the matplotlib Axes (None with
    ``no_plot=True``).
    """

    ax: Any = None


def set_link_color_palette(palette: Sequence[str] | None) -> None:
    """Set the colours of links below the colour threshold, as scipy's function of that name.

    Parameters
    ----------
    palette : list or tuple of str, or None
        matplotlib colours, cycled through from left to right; None restores the
        default (``'C1'`` to ``'C9'``). Like scipy's, the palette is global: it applies
        to every later :func:`dendrogram` call.

    Raises
    ------
    TypeError
        ``palette`` is not a list or tuple of strings.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.plot import dendrogram, set_link_color_palette
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> set_link_color_palette(["m", "c"])
    >>> dendrogram(Z, no_plot=True)["color_list"]
    ['m', 'c', 'C0']
    >>> set_link_color_palette(None)
    """
    global _link_palette
    if palette is None:
        _link_palette = list(DEFAULT_LINK_PALETTE)
        return
    if not isinstance(palette, (list, tuple)):
        raise TypeError("palette must be a list or tuple of matplotlib colour strings.")
    if not all(isinstance(colour, str) for colour in palette):
        raise TypeError("all palette list elements must be colour strings.")
    if not palette:
        raise ValueError("palette is empty; pass at least one colour (or None for the default).")
    _link_palette = list(palette)


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


def _by_count(table: tuple[tuple[float, float], ...], count: int) -> float:
    return next(value for limit, value in table if count <= limit)


def _draw(
    ax: Any,
    icoord: FloatArray,
    dcoord: FloatArray,
    colors: Sequence[Any],
    ivl: Sequence[Any],
    orientation: str,
    max_height: float,
    no_labels: bool = False,
    leaf_font_size: float | None = None,
    leaf_rotation: float | None = None,
    cut_height: float | None = None,
    contraction_marks: FloatArray | None = None,
) -> Any:
    """Draw links (one LineCollection), leaf labels, contraction marks and the cut line."""
    from matplotlib.collections import EllipseCollection, LineCollection

    vertical = orientation in ("top", "bottom")
    points = np.stack([icoord, dcoord], axis=-1) if vertical else np.stack([dcoord, icoord], axis=-1)
    width = 1.0 if len(colors) < 2000 else 0.5
    ax.add_collection(LineCollection(list(points), colors=list(colors), linewidths=width))

    n_leaves = len(ivl)
    extent = 10.0 * n_leaves
    top = max_height * 1.05 if max_height > 0 else 1.0
    ticks = 10.0 * np.arange(n_leaves) + 5.0
    show_labels = not no_labels and n_leaves <= MAX_LEAF_LABELS
    size = leaf_font_size if leaf_font_size is not None else _by_count(_LABEL_SIZES, n_leaves)
    texts = [str(label) for label in ivl] if show_labels else []
    if vertical:
        ax.set_xlim(0, extent)
        ax.set_ylim(0, top) if orientation == "top" else ax.set_ylim(top, 0)
        ax.set_xticks(ticks if show_labels else [])
        if show_labels:
            rotation = leaf_rotation if leaf_rotation is not None else _by_count(_LABEL_ROTATIONS, n_leaves)
            ax.set_xticklabels(texts, rotation=rotation, size=size)
        if orientation == "bottom":  # leaves along the top edge
            ax.xaxis.set_ticks_position("top")
        else:
            ax.xaxis.set_ticks_position("bottom")
        ax.tick_params(axis="x", length=0)  # tick marks would cover the links
        for side in ("bottom" if orientation == "bottom" else "top", "right"):
            ax.spines[side].set_visible(False)
    else:
        ax.set_ylim(0, extent)
        ax.set_xlim(top, 0) if orientation == "left" else ax.set_xlim(0, top)
        ax.set_yticks(ticks if show_labels else [])
        if show_labels:
            if leaf_rotation is not None:
                ax.set_yticklabels(texts, rotation=leaf_rotation, size=size)
            else:
                ax.set_yticklabels(texts, size=size)
        if orientation == "left":  # root on the left, leaves along the right edge
            ax.yaxis.set_ticks_position("right")
        else:
            ax.yaxis.set_ticks_position("left")
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right" if orientation == "right" else "left"):
            ax.spines[side].set_visible(False)
    if contraction_marks is not None and len(contraction_marks):
        offsets = contraction_marks if vertical else contraction_marks[:, ::-1]
        widths, heights = (1.0, top / 100) if vertical else (top / 100, 1.0)
        ax.add_collection(
            EllipseCollection(
                widths, heights, 0.0, units="xy", offsets=offsets, offset_transform=ax.transData,
                facecolors="k", alpha=0.5,
            )
        )
    if cut_height is not None and cut_height <= top:
        style = {"color": "0.2", "linestyle": "--", "linewidth": 0.8}
        if vertical:
            ax.axhline(cut_height, **style)
        else:
            ax.axvline(cut_height, **style)
    return ax


def draw_layout(layout: DendrogramLayout, ax: Any, cut_line: bool = True, leaf_font_size: float | None = None) -> Any:
    """Draw a :class:`~hclust.layout.DendrogramLayout` on a matplotlib Axes and return the Axes.

    Links are one ``LineCollection`` (fast for large trees); cluster ``c`` is drawn in
    colour ``c`` of :func:`hclust.layout.segment_colors` (matplotlib's tab10, tab20 above
    10 clusters, cycling), links above the cut in grey. Leaf labels are shown up to
    150 leaves.
    """
    _matplotlib()
    palette = segment_colors(layout.n_clusters)
    colors = [palette[c] if c >= 0 else ABOVE_CUT_COLOR for c in layout.link_colors.tolist()]
    return _draw(
        ax,
        layout.icoord,
        layout.dcoord,
        colors,
        layout.leaf_labels,
        layout.orientation,
        layout.max_height,
        leaf_font_size=leaf_font_size,
        cut_height=layout.cut_height if cut_line else None,
    )


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


def _leaf_order(count_sort: Any, distance_sort: Any, leaf_order: str | None) -> str | None:
    """scipy's count_sort / distance_sort (count_sort wins) as a layout leaf order."""
    chosen = None
    for name, value in (("count", count_sort), ("distance", distance_sort)):
        if value is True or (isinstance(value, str) and value == "ascending"):
            chosen = chosen or f"{name}_ascending"
        elif isinstance(value, str) and value == "descending":
            chosen = chosen or f"{name}_descending"
        elif value is not False and value is not None:
            raise ValueError(
                f"{name}_sort must be False, True, 'ascending' or 'descending'; got {value!r}."
            )
    if chosen is not None and leaf_order is not None:
        raise ValueError("Pass count_sort / distance_sort (scipy's names) or leaf_order, not both.")
    return chosen if chosen is not None else leaf_order


def _threshold(color_threshold: Any, Z: FloatArray) -> float:
    if color_threshold is None or (isinstance(color_threshold, str) and color_threshold == "default"):
        return float(Z[:, 2].max() * 0.7)
    if isinstance(color_threshold, (bool, np.bool_)) or not isinstance(color_threshold, numbers.Real):
        raise TypeError(f"color_threshold must be a number or 'default'; got {color_threshold!r}.")
    value = float(color_threshold)
    if math.isnan(value):
        raise ValueError("color_threshold is NaN; pass a height.")
    return value


def _contraction_marks(layout: DendrogramLayout, Z: FloatArray) -> FloatArray:
    """(x, height) of every merge hidden inside a truncated leaf, as scipy's show_contracted."""
    n = Z.shape[0] + 1
    hidden = np.ones(2 * n - 1, dtype=bool)
    hidden[layout.leaves] = False
    hidden[layout.link_nodes] = False
    hidden[:n] = False
    if not hidden.any():
        return np.zeros((0, 2))
    parent = np.arange(2 * n - 1)
    children = _children(Z)
    parent[children[:, 0]] = np.arange(n, 2 * n - 1)
    parent[children[:, 1]] = np.arange(n, 2 * n - 1)
    owner = np.where(hidden, parent, np.arange(2 * n - 1))
    while True:  # pointer jumping up to the shown (truncated) leaf above
        jumped = owner[owner]
        if np.array_equal(jumped, owner):
            break
        owner = jumped
    x = np.zeros(2 * n - 1)
    x[layout.leaves] = 10.0 * np.arange(layout.leaves.shape[0]) + 5.0
    nodes = np.flatnonzero(hidden)
    return np.column_stack([x[owner[nodes]], Z[nodes - n, 2]])


def dendrogram(
    Z: Any,
    p: int = 30,
    truncate_mode: str | None = None,
    color_threshold: float | str | None = None,
    get_leaves: bool = True,
    orientation: str = "top",
    labels: Sequence[Any] | None = None,
    count_sort: bool | str = False,
    distance_sort: bool | str = False,
    show_leaf_counts: bool = True,
    no_plot: bool = False,
    no_labels: bool = False,
    leaf_font_size: float | None = None,
    leaf_rotation: float | None = None,
    leaf_label_func: Callable[[int], str] | None = None,
    show_contracted: bool = False,
    link_color_func: Callable[[int], str] | None = None,
    ax: Any = None,
    above_threshold_color: str = "C0",
    *,
    n_clusters: int | None = None,
    cut_line: bool = True,
    path: str | os.PathLike[str] | None = None,
    leaf_order: str | None = None,
    title: str | None = None,
    dpi: int = 150,
) -> DendrogramResult:
    """Draw a dendrogram, with :func:`scipy.cluster.hierarchy.dendrogram`'s arguments and result.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    p : int, default=30
        Truncation parameter (see ``truncate_mode``).
    truncate_mode : {None, 'lastp', 'level'}, default=None
        ``'lastp'``: show only the last ``p`` merges (p leaves; 0 or more than n: all);
        ``'level'``: show at most ``p`` levels below the root (``p <= 0``: all).
        scipy's spellings ``'none'`` and ``'mtica'`` (= ``'level'``) work too.
    color_threshold : float or 'default', optional
        Links lower than this get the colours of the link palette (a new colour for
        each group, left to right), the others ``above_threshold_color``; default
        ``0.7 * max(Z[:, 2])``; <= 0 colours every link ``above_threshold_color``.
    get_leaves : bool, default=True
        Return the shown leaves as ``'leaves'`` (None otherwise).
    orientation : {'top', 'bottom', 'left', 'right'}, default='top'
        Where the root is drawn.
    labels : sequence of length n, optional
        Leaf labels (default: observation indices); ``'ivl'`` holds them as given.
    count_sort, distance_sort : bool or {'ascending', 'descending'}, default=False
        Draw the child with fewer observations (count) or the lower child (distance)
        first (``True`` / ``'ascending'``) or last (``'descending'``); ``count_sort`` wins.
    show_leaf_counts : bool, default=True
        Label truncated leaves ``"(size)"`` (an empty label otherwise).
    no_plot : bool, default=False
        Compute the dictionary only (no matplotlib needed).
    no_labels : bool, default=False
        Draw no leaf labels.
    leaf_font_size, leaf_rotation : float, optional
        Size and angle of the leaf labels (default: by number of leaves, as scipy).
    leaf_label_func : callable, optional
        ``f(node_id) -> str`` gives each shown leaf's label (truncated leaves too).
    show_contracted : bool, default=False
        Mark the heights of the merges hidden inside truncated leaves.
    link_color_func : callable, optional
        ``f(node_id) -> str`` gives each link's colour (overrides the threshold colours).
    ax : matplotlib Axes, optional
        Where to draw. Default: the current pyplot Axes (as scipy), or, with ``path``,
        a new standalone figure (nothing left open).
    above_threshold_color : str, default='C0'
        Colour of the links at or above ``color_threshold``.
    n_clusters : int, optional
        hclust's colouring instead of the threshold: the k segments of
        :func:`hclust.cut` in the colours of :func:`hclust.layout.segment_colors`
        (the report's), links above the cut grey; leaves take their segment's colour.
    cut_line : bool, default=True
        Draw a dashed line at the cut when ``n_clusters`` or ``color_threshold`` is given.
    path : str or path-like, optional
        Save the figure there (.png, .svg or .pdf), atomically: written to a temporary
        file in the same folder, then renamed.
    leaf_order : {'count_ascending', 'count_descending', 'distance_ascending', 'distance_descending'}, optional
        hclust's name for ``count_sort`` / ``distance_sort``.
    title : str, optional
        Axes title.
    dpi : int, default=150
        Resolution of saved raster images.

    Returns
    -------
    DendrogramResult
        scipy's dictionary: ``'icoord'``, ``'dcoord'``, ``'ivl'``, ``'leaves'``,
        ``'color_list'``, ``'leaves_color_list'`` (equal to scipy's for the same
        arguments); its attribute ``ax`` is the Axes drawn on (None with ``no_plot``).

    Raises
    ------
    ImportError
        matplotlib is missing and a plot was asked for (the message says
        ``pip install hclust[plot]``).
    ValueError
        Invalid ``Z``, orientation, truncation mode or options; labels of the wrong
        length; an unsupported file extension.
    TypeError
        ``p`` is not a number; ``link_color_func`` returned something else than a string.

    See Also
    --------
    hclust.layout.dendrogram_layout : the geometry as arrays.
    set_link_color_palette : the colours below the threshold.

    Notes
    -----
    The coordinates, leaves, labels and colours are scipy's for every argument
    combination (tested against scipy), computed without recursion in O(n log n):
    100 000 leaves take well under a second to compute (scipy's recursion fails on
    deep trees), and the links are drawn as one ``LineCollection``. Leaf labels are
    drawn up to 150 shown leaves (``'ivl'`` always has them all); above that they
    would overlap. Colours follow scipy's rule, also on trees with inversions: in
    the order left subtree, link, right subtree, a link below the threshold takes
    the current colour, which advances after each run of such links.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from hclust.plot import dendrogram
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> R = dendrogram(Z, no_plot=True)
    >>> R["ivl"], R["color_list"]
    (['0', '1', '2', '3'], ['C1', 'C2', 'C0'])
    >>> R = dendrogram(Z, labels=["a", "b", "c", "d"], n_clusters=2)
    >>> [t.get_text() for t in R.ax.get_xticklabels()]
    ['a', 'b', 'c', 'd']
    """
    if orientation not in ("top", "bottom", "left", "right"):
        raise ValueError(
            f"orientation must be one of 'top', 'left', 'bottom' or 'right'; got {orientation!r}."
        )
    shape = np.shape(Z)
    if labels is not None and len(shape) == 2 and len(labels) != shape[0] + 1:
        raise ValueError(
            f"Dimensions of Z and labels must be consistent. labels has {len(labels)} entries "
            f"but Z has {shape[0] + 1} leaves."
        )
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError(f"p (the second argument) must be a number; got {p!r}.")
    p = int(p)
    if not isinstance(truncate_mode, (str, type(None))) or truncate_mode not in _TRUNCATE_MODES:
        raise ValueError(
            f"Invalid truncation mode {truncate_mode!r}; use None, 'lastp' or 'level'."
        )
    mode = _TRUNCATE_MODES[truncate_mode]
    if mode is None or (mode == "level" and p <= 0):
        p = 0  # the layout's "no truncation"
    order = _leaf_order(count_sort, distance_sort, leaf_order)
    if n_clusters is not None and color_threshold is not None:
        raise ValueError("Pass n_clusters (hclust's segment colours) or color_threshold, not both.")
    if not no_plot:
        _matplotlib()  # fail early with the install hint
    Zc = check_linkage(Z)
    n = Zc.shape[0] + 1
    threshold = _threshold(color_threshold, Zc)
    layout = dendrogram_layout(
        Zc,
        truncate_mode=mode,
        p=p,
        n_clusters=n_clusters,
        color_threshold=None if n_clusters is not None else threshold,
        orientation=orientation,
        leaf_order=order,
    )
    nodes = layout.link_nodes.tolist()
    shown = layout.leaves.tolist()

    names = None if labels is None else list(labels)
    sizes = Zc[:, 3]
    ivl: list[Any] = []
    for node in shown:
        if leaf_label_func is not None:
            ivl.append(leaf_label_func(int(node)))
        elif node < n:
            ivl.append(str(node) if names is None else names[node])
        else:
            ivl.append(f"({int(sizes[node - n])})" if show_leaf_counts else "")

    if n_clusters is not None:
        palette = segment_colors(layout.n_clusters)
        color_list = [palette[c] if c >= 0 else ABOVE_CUT_COLOR for c in layout.link_colors.tolist()]
        leaves_color_list: list[Any] = [
            palette[c] if c >= 0 else ABOVE_CUT_COLOR for c in layout.leaf_colors.tolist()
        ]
    else:
        colors = list(_link_palette)
        index = _scipy_color_indices(layout, Zc, threshold, len(colors))
        color_list = [colors[c] if c >= 0 else above_threshold_color for c in index.tolist()]
        if link_color_func is not None:
            color_list = [link_color_func(int(node)) for node in nodes]
            if not all(isinstance(colour, str) for colour in color_list):
                raise TypeError("link_color_func must return a matplotlib colour string.")
        leaves_color_list = [color_list[link] if link >= 0 else None for link in _scipy_leaf_links(layout).tolist()]

    result = DendrogramResult(
        icoord=layout.icoord.tolist(),
        dcoord=layout.dcoord.tolist(),
        ivl=ivl,
        leaves=shown if get_leaves else None,
        color_list=color_list,
        leaves_color_list=leaves_color_list,
    )
    if no_plot:
        return result

    if ax is None:
        if path is None:
            import matplotlib.pyplot as plt

            ax = plt.gca()
        else:
            from matplotlib.figure import Figure

            long_side = float(min(max(6.0, 0.18 * len(shown)), 24.0))
            size = (long_side, 4.5) if orientation in ("top", "bottom") else (5.0, long_side)
            ax = Figure(figsize=size).add_subplot()
    show_cut = cut_line and (n_clusters is not None or color_threshold is not None)
    _draw(
        ax,
        layout.icoord,
        layout.dcoord,
        color_list,
        ivl,
        orientation,
        layout.max_height,
        no_labels=no_labels,
        leaf_font_size=leaf_font_size,
        leaf_rotation=leaf_rotation,
        cut_height=layout.cut_height if show_cut else None,
        contraction_marks=_contraction_marks(layout, Zc) if show_contracted and mode is not None else None,
    )
    if title is not None:
        ax.set_title(title)
    if path is not None:
        _save_atomically(ax.figure, path, dpi)
    result.ax = ax
    return result
