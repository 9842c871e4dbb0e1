"""Dendrogram geometry as plain arrays, for matplotlib, reports and web front ends.

:func:`dendrogram_layout` computes what ``scipy.cluster.hierarchy.dendrogram(Z,
no_plot=True)`` computes (the same link coordinates in the same order, the same
leaves and truncation), without recursion, so it works for millions of leaves; and it
colours links and leaves by the clusters of :func:`hclust.tree.cut`, so a picture and a
labelled table always agree.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ._deprecation import keyword_only
from ._kernels import tree as _k
from ._typing import FloatArray, IntArray
from ._validation import check_option, is_integer
from .tree import _check_n_clusters, _children, _cut_order, check_linkage

__all__ = ["DendrogramLayout", "PALETTE_10", "PALETTE_20", "dendrogram_layout", "segment_colors"]

TRUNCATE_MODES = ("lastp", "level")
ORIENTATIONS = ("top", "bottom", "left", "right")
LEAF_ORDERS = ("count_ascending", "count_descending", "distance_ascending", "distance_descending")

#: matplotlib's tab10 and tab20 colours: the segment colours of :mod:`hclust.plot` and the report.
PALETTE_10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
PALETTE_20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)


def segment_colors(k: int) -> list[str]:
    """Colour of each segment 0..k-1: tab10 up to 10 segments, tab20 (cycling) above.

    Examples
    --------
    >>> from hclust.layout import segment_colors
    >>> segment_colors(2)
    ['#1f77b4', '#ff7f0e']
    """
    palette = PALETTE_10 if k <= 10 else PALETTE_20
    return [palette[i % len(palette)] for i in range(k)]


@dataclass(frozen=True)
class DendrogramLayout:
    """Geometry and colours of a dendrogram; coordinates as scipy's ``dendrogram``.

    Attributes
    ----------
    icoord, dcoord : ndarray of shape (m, 4)
        The U-shaped links: x (leaf axis) and height of the four corners of each link,
        in scipy's order (post-order, first child first). Leaf i (left to right) sits
        at x = 10 i + 5; shown leaves have height 0.
    link_nodes : ndarray of int64, shape (m,)
        The merge node (``n + row``) each link draws.
    leaves : ndarray of int64, shape (n_shown,)
        Node ids shown as leaves, left to right (observations, or merged nodes when
        truncated), as scipy's ``'leaves'``.
    leaf_labels : list of str
        Label of each shown leaf (scipy's ``'ivl'``); truncated leaves read ``"(123)"``,
        the number of observations under them.
    link_colors : ndarray of int64, shape (m,)
        Cluster of each link, the label :func:`hclust.tree.cut` gives its observations;
        -1 for links above the cut.
    leaf_colors : ndarray of int64, shape (n_shown,)
        Cluster of each shown leaf (also for singleton clusters); -1 for a truncated
        leaf that spans several clusters.
    n_clusters : int
        Number of clusters the colours show.
    cut_height : float or None
        Height of the cut line: the colour threshold, or for ``n_clusters`` the middle
        of the gap between the highest kept and the lowest undone merge; None when
        nothing is cut.
    orientation : str
        Where the root is drawn: 'top', 'bottom', 'left' or 'right'.
    max_height : float
        Largest merge height (the extent of the height axis).
    """

    icoord: FloatArray
    dcoord: FloatArray
    link_nodes: IntArray
    leaves: IntArray
    leaf_labels: list[str]
    link_colors: IntArray
    leaf_colors: IntArray
    n_clusters: int
    cut_height: float | None
    orientation: str
    max_height: float

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (``json.dumps``-able), keys as the attribute names,
        plus scipy's names ``'ivl'`` for the leaf labels."""
        return {
            "icoord": self.icoord.tolist(),
            "dcoord": self.dcoord.tolist(),
            "link_nodes": self.link_nodes.tolist(),
            "leaves": self.leaves.tolist(),
            "leaf_labels": list(self.leaf_labels),
            "ivl": list(self.leaf_labels),
            "link_colors": self.link_colors.tolist(),
            "leaf_colors": self.leaf_colors.tolist(),
            "n_clusters": int(self.n_clusters),
            "cut_height": None if self.cut_height is None else float(self.cut_height),
            "orientation": self.orientation,
            "max_height": float(self.max_height),
        }


@keyword_only(2)
def dendrogram_layout(
    Z: Any,
    labels: Sequence[Any] | None = None,
    *,
    truncate_mode: str | None = None,
    p: int = 30,
    n_clusters: int | None = None,
    color_threshold: float | None = None,
    orientation: str = "top",
    leaf_order: str | None = None,
) -> DendrogramLayout:
    """Coordinates, leaf order, labels and cluster colours of a dendrogram.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    labels : sequence of length n, optional
        Observation names (default: their indices).
    truncate_mode : {None, 'lastp', 'level'}, default=None
        As scipy: ``'lastp'`` shows only the last ``p`` merges (p leaves);
        ``'level'`` shows at most ``p`` levels below the root.
    p : int, default=30
        Truncation parameter (0 means no truncation, as in scipy).
    n_clusters : int, optional
        Colour the k clusters of ``cut(Z, n_clusters=k)``; link and leaf colour indices
        equal the cut labels.
    color_threshold : float, optional
        Instead of ``n_clusters``: colour each maximal subtree whose heights are all
        below this value (scipy's rule; default ``0.7 * max height`` as scipy).
    orientation : {'top', 'bottom', 'left', 'right'}, default='top'
        Where the root is drawn (kept for plotting; coordinates do not depend on it).
    leaf_order : {None, 'count_ascending', 'count_descending', 'distance_ascending', 'distance_descending'}, default=None
        None keeps the order stored in ``Z`` (use
        :func:`hclust.tree.optimal_leaf_ordering` first for the optimal order); the
        others put the smaller (fewer observations, or lower) child first or last, as
        scipy's ``count_sort`` / ``distance_sort``.

    Returns
    -------
    DendrogramLayout

    Raises
    ------
    ValueError
        Invalid ``Z``, options, labels of the wrong length, or both ``n_clusters``
        and ``color_threshold``.

    Notes
    -----
    ``icoord``, ``dcoord``, ``leaves`` and ``leaf_labels`` equal scipy's
    ``dendrogram(Z, no_plot=True, truncate_mode=..., p=...)`` output. Colours differ
    from scipy's by design: they are cluster labels (stable, numbered by first
    appearance in the data) rather than a colour cycle, and with ``color_threshold``
    a link is coloured when its whole subtree lies below the threshold (the same as
    scipy on monotone trees). O(n) time and memory, no recursion.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.layout import dendrogram_layout
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> layout = dendrogram_layout(Z, n_clusters=2)
    >>> layout.icoord
    array([[ 5.,  5., 15., 15.],
           [25., 25., 35., 35.],
           [10., 10., 30., 30.]])
    >>> layout.link_colors, layout.leaf_colors, layout.cut_height
    (array([ 0,  1, -1]), array([0, 0, 1, 1]), 2.75)
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    if truncate_mode is not None:
        check_option(truncate_mode, "truncate_mode", TRUNCATE_MODES)
    check_option(orientation, "orientation", ORIENTATIONS)
    if leaf_order is not None:
        check_option(leaf_order, "leaf_order", LEAF_ORDERS)
    if not is_integer(p) or p < 0:
        raise ValueError(f"p must be a non-negative integer (0: no truncation); got {p!r}.")
    if n_clusters is not None and color_threshold is not None:
        raise ValueError("Pass n_clusters or color_threshold, not both.")
    if labels is not None and len(labels) != n:
        raise ValueError(
            f"Dimensions of Z and labels must be consistent. labels has {len(labels)} entries "
            f"but Z has {n} leaves."
        )

    mode = 0
    p_value = int(p)
    if truncate_mode == "lastp":
        mode = 1
        if p_value > n or p_value == 0:
            p_value = n
    elif truncate_mode == "level":
        mode = 2
        if p_value == 0:
            p_value = 2 * n  # deeper than any tree: no truncation
    sort_mode = 0 if leaf_order is None else 1 + LEAF_ORDERS.index(leaf_order)
    order = _cut_order(Z)
    heights = np.ascontiguousarray(Z[:, 2])
    counts = np.ascontiguousarray(Z[:, 3])
    icoord, dcoord, link_nodes, leaves = _k.dendrogram_coordinates(
        order.children, heights, counts, n, mode, p_value, sort_mode
    )

    max_height = float(heights.max())
    cut_height: float | None
    if n_clusters is not None:
        k = _check_n_clusters(n_clusters, n)
        removed = order.removed(k)
        cut_height = order.height_between(k)
    else:
        if color_threshold is None:
            threshold = 0.7 * max_height
        else:
            if isinstance(color_threshold, bool) or not isinstance(color_threshold, numbers.Real):
                raise TypeError(f"color_threshold must be a number; got {color_threshold!r}.")
            threshold = float(color_threshold)
            if np.isnan(threshold):
                raise ValueError("color_threshold is NaN; pass a height.")
        removed = order.keys >= threshold
        cut_height = threshold if threshold > 0 else None
    cluster_labels, node_label = order.labels_where(removed)

    # Names only for the leaves shown (a truncated plot of 1M observations needs 30).
    sizes = Z[:, 3]
    leaf_labels = [
        (str(node) if labels is None else str(labels[node])) if node < n else f"({int(sizes[node - n])})"
        for node in leaves.tolist()
    ]
    return DendrogramLayout(
        icoord=icoord,
        dcoord=dcoord,
        link_nodes=link_nodes,
        leaves=leaves,
        leaf_labels=leaf_labels,
        link_colors=node_label[link_nodes],
        leaf_colors=node_label[leaves],
        n_clusters=int(cluster_labels.max()) + 1,
        cut_height=cut_height,
        orientation=orientation,
        max_height=max_height,
    )


def _inorder_ranks(layout: DendrogramLayout, children: IntArray, n: int) -> IntArray:
    """In-order rank of every link of ``layout`` (left subtree, the link, right subtree).

    scipy's ``dendrogram`` decides link colours in this order. A link's rank is the
    position of the gap between shown leaves that it spans at its split: the first
    shown leaf of its right child, minus one. The child drawn on the left is the one
    whose x equals the link's left leg (the layout kernel computes both the same way);
    the first leaf of a subtree is found by pointer jumping along left children, so
    this takes O(n log n) numpy work and no recursion.
    """
    nodes = layout.link_nodes
    m = nodes.shape[0]
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    n_nodes = 2 * n - 1
    n_shown = layout.leaves.shape[0]
    centre = np.zeros(n_nodes)
    centre[layout.leaves] = 10.0 * np.arange(n_shown) + 5.0
    centre[nodes] = 0.5 * (layout.icoord[:, 1] + layout.icoord[:, 2])
    a = children[nodes - n, 0]
    b = children[nodes - n, 1]
    a_left = centre[a] == layout.icoord[:, 0]
    left = np.where(a_left, a, b)
    right = np.where(a_left, b, a)
    first = np.arange(n_nodes)
    first[nodes] = left
    while True:  # pointer jumping: at most log2(depth) + 1 rounds
        jumped = first[first]
        if np.array_equal(jumped, first):
            break
        first = jumped
    position = np.full(n_nodes, -1, dtype=np.int64)
    position[layout.leaves] = np.arange(n_shown)
    return position[first[right]] - 1


def _scipy_color_indices(
    layout: DendrogramLayout, Z: FloatArray, threshold: float, n_palette: int
) -> IntArray:
    """scipy's link colours: a palette index per link, -1 for links at or above ``threshold``.

    scipy walks the links in order (left subtree, link, right subtree): a link lower
    than the threshold takes the current palette colour, and the colour advances
    each time a link at or above it follows a lower one (cycling through the
    palette). A threshold <= 0 puts every link above.
    """
    n = Z.shape[0] + 1
    m = layout.link_nodes.shape[0]
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(_inorder_ranks(layout, _children(Z), n), kind="stable")
    heights = Z[layout.link_nodes[order] - n, 2]
    above = (heights >= threshold) | (threshold <= 0)
    advance = np.zeros(m, dtype=np.int64)
    advance[1:] = above[1:] & ~above[:-1]
    in_order = np.where(above, -1, np.cumsum(advance) % max(n_palette, 1))
    colors = np.empty(m, dtype=np.int64)
    colors[order] = in_order
    return colors


def _scipy_leaf_links(layout: DendrogramLayout) -> IntArray:
    """For each shown leaf, the link whose colour scipy gives it (-1: none).

    scipy's rule: a corner of a link at height 0 whose x is an odd multiple of 5 is
    the leaf at that x; the last such corner (links in order, corners in order) wins.
    (The x of a zero-height merge can also be an odd multiple of 5; scipy colours
    that leaf the same way, and so does this.)
    """
    n_shown = layout.leaves.shape[0]
    xs = layout.icoord.ravel()
    ys = layout.dcoord.ravel()
    corner = np.flatnonzero((ys == 0.0) & (xs % 5 == 0) & (xs % 2 == 1))
    leaf = (xs[corner].astype(np.int64) - 5) // 10
    last = np.full(n_shown, -1, dtype=np.int64)
    np.maximum.at(last, leaf, corner)
    return np.where(last >= 0, last // 4, -1)
