"""Everything on a linkage matrix ``Z``: flat cuts, cophenetic distances, orderings, export.

``Z`` is scipy's linkage matrix: float64 of shape (n-1, 4) with rows
``(child a, child b, height, size)``; leaves are nodes ``0..n-1`` and row ``i`` creates
node ``n + i``. Any valid ``Z`` works, whether it comes from :func:`hclust.linkage`,
:func:`scipy.cluster.hierarchy.linkage`, or scikit-learn (:func:`from_sklearn`), and
whether or not its heights are monotone (centroid and median linkages can produce
inversions).

The functions scipy also has (:func:`fcluster`, :func:`cophenet`, :func:`inconsistent`,
:func:`leaves_list`, :func:`optimal_leaf_ordering`, :func:`is_valid_linkage`,
:func:`is_monotonic`, :func:`cut_tree`) return scipy's results; they run in time linear
or ``n log n`` in the number of leaves (except where the output itself is quadratic)
and never recurse, so they work on trees with millions of leaves.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ._deprecation import keyword_only, renamed_keywords
from ._kernels import tree as _k
from ._typing import BoolArray, FloatArray, IntArray
from ._validation import as_condensed, as_observations, check_memory, check_option, is_integer

__all__ = [
    "agglomerative_coefficient",
    "check_linkage",
    "cophenet",
    "cut",
    "cut_tree",
    "fcluster",
    "fclusterdata",
    "from_sklearn",
    "inconsistent",
    "is_monotonic",
    "is_valid_linkage",
    "leaves_list",
    "optimal_leaf_ordering",
    "outliers",
    "to_json",
    "to_newick",
]

FCLUSTER_CRITERIA = ("inconsistent", "distance", "maxclust", "monocrit", "maxclust_monocrit")


# --------------------------------------------------------------------------- validation


def check_linkage(Z: Any, name: str = "Z") -> FloatArray:
    """Validate a linkage matrix and return it as a C-contiguous float64 array.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        scipy's linkage matrix: child a, child b, height, size.
    name : str, default="Z"
        Name used in error messages.

    Returns
    -------
    Z : ndarray of float64, shape (n-1, 4)
        The same values; a copy only when the input was not already float64 and
        C-contiguous.

    Raises
    ------
    TypeError
        If ``Z`` is not numeric.
    ValueError
        If the shape is not (n-1, 4) with n >= 2, an entry is NaN or infinite, a child
        id is not a whole number, is negative, refers to the merge itself or a later
        one, appears twice, a height or size is negative, or a size exceeds the number
        of observations n (as in scipy since gh-22183).

    Notes
    -----
    The checks are O(n) and vectorised. Sizes (column 3) are not required to equal the
    number of leaves under a node (scipy does not require it either), but none may
    exceed n.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import check_linkage
    >>> check_linkage([[0, 1, 0.5, 2], [2, 3, 1.0, 3]]).dtype
    dtype('float64')
    >>> check_linkage([[0, 1, 0.5, 2], [0, 2, 1.0, 3]])
    Traceback (most recent call last):
    ...
    ValueError: Z is not a valid linkage: node 0 is merged twice (rows 0 and 1); every node can be merged only once.
    """
    array = np.asarray(Z)
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a numeric linkage matrix (float64, shape (n-1, 4)); got dtype {array.dtype}."
        )
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"{name} must be a linkage matrix of shape (n-1, 4) (child a, child b, height, size); "
            f"got shape {array.shape}."
        )
    m = array.shape[0]
    if m == 0:
        raise ValueError(
            f"{name} has no rows: a linkage matrix needs at least 2 observations (1 merge)."
        )
    array = np.ascontiguousarray(array, dtype=np.float64)
    prefix = f"{name} is not a valid linkage: "
    code, row, col = _k.find_linkage_problem(array)
    n = m + 1
    if code == 0:
        too_large = array[:, 3] > n
        if too_large.any():  # scipy gh-22183: a cluster larger than the tree
            row = int(np.flatnonzero(too_large)[0])
            raise ValueError(
                prefix + f"row {row} has size {float(array[row, 3])!r}, more than the {n} "
                "observations of the tree (excessive observations in a cluster)."
            )
        return array
    value = float(array[row, col])
    if code == 1:
        what = ("child a", "child b", "height", "size")[col]
        raise ValueError(
            prefix + f"row {row} has {value!r} as its {what} (column {col}); all entries must be finite numbers."
        )
    if code == 2:
        raise ValueError(prefix + f"row {row} has child id {value!r}, which is not a whole number.")
    if code == 3:
        raise ValueError(prefix + f"row {row} has a negative child id {int(value)}.")
    if code == 4:
        child = int(value)
        what = "itself" if child == n + row else "a merge that has not happened yet"
        raise ValueError(
            prefix + f"row {row} (node {n + row}) merges node {child}, which is {what}; "
            f"row i may only merge leaves 0..{n - 1} and nodes created by earlier rows."
        )
    if code == 5:
        raise ValueError(prefix + f"row {row} merges node {int(value)} with itself.")
    if code == 6:
        node = int(value)
        first = int(np.flatnonzero((array[:row, :2] == node).any(axis=1))[0])
        raise ValueError(
            prefix + f"node {node} is merged twice (rows {first} and {row}); every node can be merged only once."
        )
    if code == 7:
        raise ValueError(prefix + f"row {row} has a negative height {value!r}.")
    raise ValueError(prefix + f"row {row} has a negative size {value!r}.")


def _children(Z: FloatArray) -> IntArray:
    """The two children of every merge, int64 (n-1, 2), C-contiguous: what the kernels take.

    The one conversion of ``Z[:, :2]`` in the package (every module that walks a tree uses it).
    """
    return np.ascontiguousarray(Z[:, :2], dtype=np.int64)


@dataclass(frozen=True)
class _CutOrder:
    """The order in which cuts by number of clusters undo the merges of a tree.

    The one implementation of "cut into k clusters" (:func:`cut`, :func:`cut_tree`, the
    dendrogram layout, the choose-k criteria and the segmentation summary use it); see
    :func:`cut`'s Notes for the rule. Built by :func:`_cut_order` in O(n log n); each cut
    then costs O(n).

    Attributes
    ----------
    children : ndarray of int64, shape (n-1, 2)
    rank : ndarray of int64, shape (n-1,)
        Merge ``i`` is undone for ``k`` clusters when ``rank[i] < k - 1``.
    keys : ndarray of float64, shape (n-1,)
        The largest height in each merge's subtree (scipy's ``maxdists``).
    n : int
        Number of leaves.
    """

    children: IntArray
    rank: IntArray
    keys: FloatArray
    n: int

    def removed(self, n_clusters: int) -> BoolArray:
        """Which merges are undone to leave ``n_clusters`` clusters."""
        return self.rank < n_clusters - 1

    def labels(self, n_clusters: int) -> tuple[IntArray, IntArray]:
        """``(labels, node_label)`` of the cut into ``n_clusters`` (see :meth:`labels_where`)."""
        return self.labels_where(self.removed(n_clusters))

    def labels_where(self, removed: BoolArray) -> tuple[IntArray, IntArray]:
        """Cut labels when the merges ``removed`` are undone (a set closed under ancestors).

        Returns ``labels`` (n,) numbered by first appearance, as :func:`cut`, and
        ``node_label`` (2n-1,): the cluster of every node inside one cluster, -1 above.
        """
        return _k.labels_from_removed(self.children, removed, self.n)

    def roots(self, n_clusters: int) -> list[int]:
        """The node heading each cluster of the cut into ``n_clusters``, by label."""
        _, node_label = self.labels(n_clusters)
        roots = [-1] * n_clusters
        # Parents have larger ids than their children, so scanning ids downwards meets
        # each cluster's top node first.
        for node in np.flatnonzero(node_label >= 0)[::-1].tolist():
            label = int(node_label[node])
            if roots[label] < 0:
                roots[label] = int(node)
        return roots

    def height_between(self, n_clusters: int) -> float | None:
        """A height that cuts the tree into ``n_clusters`` (None for one cluster).

        Midway between the lowest key undone and the highest kept (0 when none is kept),
        so a line drawn there separates the clusters of a monotone tree.
        """
        if n_clusters <= 1:
            return None
        removed = self.removed(n_clusters)
        kept = self.keys[~removed]
        return 0.5 * (float(self.keys[removed].min()) + (float(kept.max()) if kept.size else 0.0))

    def keys_in_undo_order(self) -> FloatArray:
        """Entry r is the key of the merge undone to go from r + 1 to r + 2 clusters."""
        out = np.empty(self.n - 1)
        out[self.rank] = self.keys
        return out


def _first_merge_heights(Z: FloatArray) -> FloatArray:
    """Height of the merge at which each leaf first joins another cluster, float64 (n,)."""
    return _k.first_merge_heights(_children(Z), np.ascontiguousarray(Z[:, 2]), Z.shape[0] + 1)


def _cut_order(Z: FloatArray) -> _CutOrder:
    """The :class:`_CutOrder` of a checked linkage matrix (see :func:`check_linkage`)."""
    n = Z.shape[0] + 1
    children = _children(Z)
    rank, keys = _k.cut_removal_rank(children, np.ascontiguousarray(Z[:, 2]), n)
    return _CutOrder(children=children, rank=rank, keys=keys, n=n)


def _check_n_clusters(k: Any, n: int, name: str = "n_clusters") -> int:
    if not is_integer(k):
        raise TypeError(f"{name} must be an integer between 1 and {n}; got {k!r}.")
    if not 1 <= int(k) <= n:
        raise ValueError(
            f"{name}={int(k)} is out of range: a tree of {n} observations can be cut into "
            f"1 to {n} clusters."
        )
    return int(k)


def _check_height(h: Any, name: str = "height") -> float:
    if isinstance(h, bool) or not isinstance(h, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {h!r}.")
    value = float(h)
    if math.isnan(value):
        raise ValueError(f"{name} is NaN; pass a number (the height at which to cut).")
    return value


def _check_per_merge(values: Any, n: int, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n - 1,):
        raise ValueError(f"{name} must have one value per merge, shape ({n - 1},); got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return np.ascontiguousarray(array)


# --------------------------------------------------------------------------- scipy's functions


def fcluster(
    Z: Any,
    t: float,
    criterion: str = "inconsistent",
    depth: int = 2,
    R: Any = None,
    monocrit: Any = None,
) -> np.ndarray:
    """Flat clusters from a tree, exactly as :func:`scipy.cluster.hierarchy.fcluster`.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    t : float
        Threshold, or for ``'maxclust'`` / ``'maxclust_monocrit'`` the largest number
        of clusters.
    criterion : {'inconsistent', 'distance', 'maxclust', 'monocrit', 'maxclust_monocrit'}, default='inconsistent'
        ``'inconsistent'``: a node and all below it form one cluster when every
        inconsistency coefficient in it is <= t. ``'distance'``: when every height in
        it is <= t. ``'maxclust'``: the smallest height threshold (among the subtree
        maxima) that gives at most t clusters. ``'monocrit'`` / ``'maxclust_monocrit'``:
        the same with the per-merge values ``monocrit``.
    depth : int, default=2
        Depth of the inconsistency statistics when ``R`` is not given.
    R : array-like of shape (n-1, 4), optional
        Precomputed :func:`inconsistent` matrix.
    monocrit : array-like of shape (n-1,), optional
        One value per merge, for the monocrit criteria (should not decrease towards
        the root).

    Returns
    -------
    labels : ndarray of int32, shape (n,)
        1-based cluster numbers, numbered as scipy numbers them.

    Raises
    ------
    ValueError
        Unknown criterion, invalid ``Z``/``R``/``monocrit``, or a ``maxclust`` value < 1.

    See Also
    --------
    cut : 0-based labels with exactly k clusters, also on trees with inversions or ties.

    Notes
    -----
    Labels are numbered in scipy's depth-first order, so the output equals scipy's
    element for element. ``'maxclust'`` follows scipy's bisection over merge rows, so
    with tied heights it can return fewer than t clusters; :func:`cut` always returns
    exactly k. O(n) per threshold, O(n log n) for the maxclust criteria.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import fcluster
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> fcluster(Z, 2.0, criterion="distance")
    array([1, 1, 2, 2], dtype=int32)
    >>> fcluster(Z, 3, criterion="maxclust")
    array([1, 1, 2, 3], dtype=int32)
    """
    Z = check_linkage(Z)
    check_option(criterion, "criterion", FCLUSTER_CRITERIA)
    n = Z.shape[0] + 1
    children = _children(Z)
    if criterion in ("maxclust", "maxclust_monocrit"):
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not float(t) >= 1:
            raise ValueError(
                f"t is the largest number of clusters for criterion={criterion!r}; it must be >= 1, got {t!r}."
            )
        max_nc = int(t)
        if criterion == "maxclust":
            crit = _k.subtree_max(children, np.ascontiguousarray(Z[:, 2]), n)
        else:
            if monocrit is None:
                raise ValueError("criterion='maxclust_monocrit' needs monocrit (one value per merge).")
            crit = _check_per_merge(monocrit, n, "monocrit")
        if max_nc >= n:
            return np.arange(1, n + 1, dtype=np.intc)
        cutoff = _k.maxclust_cutoff(children, crit, n, max_nc)
        return _k.monocrit_labels(children, crit, cutoff, n).astype(np.intc)
    cutoff = _check_height(t, "t")
    if criterion == "distance":
        crit = _k.subtree_max(children, np.ascontiguousarray(Z[:, 2]), n)
    elif criterion == "monocrit":
        if monocrit is None:
            raise ValueError("criterion='monocrit' needs monocrit (one value per merge).")
        crit = _check_per_merge(monocrit, n, "monocrit")
    else:
        if R is None:
            R = inconsistent(Z, depth)
        else:
            R = np.asarray(R, dtype=np.float64)
            if R.shape != (n - 1, 4):
                raise ValueError(f"R must have shape ({n - 1}, 4), one row per merge of Z; got {R.shape}.")
            if not np.isfinite(R).all():
                raise ValueError("R contains NaN or infinite values.")
        crit = _k.subtree_max(children, np.ascontiguousarray(R[:, 3]), n)
    return _k.monocrit_labels(children, crit, cutoff, n).astype(np.intc)


def fclusterdata(
    X: Any,
    t: float,
    criterion: str = "inconsistent",
    metric: str | Callable[..., float] = "euclidean",
    depth: int = 2,
    method: str = "single",
    R: Any = None,
) -> np.ndarray:
    """Cluster observations and cut the tree, as :func:`scipy.cluster.hierarchy.fclusterdata`.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Observations.
    t : float
        Threshold, or the largest number of clusters for ``criterion='maxclust'``
        (see :func:`fcluster`).
    criterion : str, default='inconsistent'
        One of :func:`fcluster`'s criteria.
    metric : str or callable, default='euclidean'
        Distance between observations: any metric name or alias of
        :func:`hclust.pdist`, or a function ``f(u, v) -> float``.
    depth : int, default=2
        Depth of the inconsistency statistics (``criterion='inconsistent'``).
    method : str, default='single'
        Linkage method (see :func:`hclust.linkage`).
    R : array-like of shape (n-1, 4), optional
        Precomputed :func:`inconsistent` matrix.

    Returns
    -------
    labels : ndarray of int32, shape (n,)
        1-based cluster numbers, as :func:`fcluster` returns them.

    See Also
    --------
    hclust.linkage, fcluster, cut

    Notes
    -----
    Observations go to :func:`hclust.linkage` directly, so single linkage and (with the
    euclidean metric) ward, centroid and median need no distance matrix. Like scipy,
    ward, centroid and median with another metric cluster its distances as given.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import fclusterdata
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [20.0, 0.0]])
    >>> fclusterdata(X, 2.0, criterion="distance")
    array([1, 1, 2, 2, 3], dtype=int32)
    """
    from ._metrics import normalize
    from ._inputs import EUCLIDEAN_ONLY as _EUCLIDEAN_ONLY
    from ._linkage import linkage
    from .metrics import pdist

    data = as_observations(X, "X")
    metric = normalize(metric, extra=())
    square = data.shape[0] == data.shape[1]  # scipy does not warn "looks like distances" here
    if not isinstance(metric, str) or square or (method in _EUCLIDEAN_ONLY and metric != "euclidean"):
        Z = linkage(pdist(data, metric), method)
    else:
        Z = linkage(data, method, metric)
    return fcluster(Z, t, criterion=criterion, depth=depth, R=R)


def inconsistent(Z: Any, d: int = 2) -> FloatArray:
    """Inconsistency statistics of every merge, as :func:`scipy.cluster.hierarchy.inconsistent`.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    d : int, default=2
        Number of levels included: the merge itself and the merges up to ``d - 1``
        levels below it.

    Returns
    -------
    R : ndarray of shape (n-1, 4)
        Per merge: mean height, standard deviation (n-1 denominator), number of
        merges included, inconsistency coefficient ``(height - mean) / std`` (0 when
        the standard deviation is 0).

    Notes
    -----
    O(n 2^d) time, O(d) extra memory; the sums run in scipy's order so the values
    agree to the last bit.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import inconsistent
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> inconsistent(Z)[-1]
    array([2.16666667, 1.60727513, 3.        , 1.14064686])
    """
    Z = check_linkage(Z)
    if not is_integer(d) or d < 0:
        raise ValueError(f"d must be a non-negative integer (the number of levels); got {d!r}.")
    n = Z.shape[0] + 1
    return _k.inconsistency(_children(Z), np.ascontiguousarray(Z[:, 2]), n, int(d))


def cophenet(Z: Any, Y: Any = None) -> FloatArray | tuple[float, FloatArray]:
    """Cophenetic distances, as :func:`scipy.cluster.hierarchy.cophenet`.

    The cophenetic distance of two observations is the height of the merge that
    first joins them.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    Y : array-like of shape (n(n-1)/2,), optional
        Condensed original distances; when given, the cophenetic correlation is
        returned too.

    Returns
    -------
    d : ndarray of shape (n(n-1)/2,)
        Condensed cophenetic distances (when ``Y`` is None).
    (c, d) : tuple of float and ndarray
        The cophenetic correlation coefficient and the distances (when ``Y`` is given);
        ``c`` is nan when either set of distances is constant (e.g. n = 2).

    Raises
    ------
    InsufficientMemoryError
        If the n(n-1)/2 result does not fit in memory; it is checked before allocating.

    Notes
    -----
    O(n^2) time and memory (the size of the output).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import cophenet
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> cophenet(Z)
    array([1. , 4. , 4. , 4. , 4. , 1.5])
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    m = n * (n - 1) // 2
    y = None
    if Y is not None:
        y, n_y = as_condensed(Y, "Y")
        if n_y != n:
            raise ValueError(f"Y has distances for {n_y} observations but Z has {n} leaves.")
    check_memory(
        8.0 * m * (1 if y is None else 3),
        f"cophenet for {n} observations",
        "Use cut() or fcluster() for flat clusters, which need O(n) memory, or compare a sample.",
    )
    d = np.zeros(m)
    _k.cophenetic_condensed(_children(Z), np.ascontiguousarray(Z[:, 2]), n, d)
    if y is None:
        return d
    y_centred = y - y.mean()
    d_centred = d - d.mean()
    with np.errstate(invalid="ignore", divide="ignore"):  # constant distances: nan, as scipy
        c = float(np.sum(y_centred * d_centred) / np.sqrt(np.sum(y_centred**2) * np.sum(d_centred**2)))
    return c, d


def leaves_list(Z: Any) -> IntArray:
    """Leaves in dendrogram order (left to right), as :func:`scipy.cluster.hierarchy.leaves_list`.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import leaves_list
    >>> leaves_list(np.array([[0, 3, 1.0, 2], [1, 4, 2.0, 3], [2, 5, 3.0, 4]]))
    array([2, 1, 0, 3])
    """
    Z = check_linkage(Z)
    order, _ = _k.leaf_order(_children(Z), Z.shape[0] + 1)
    return order


def is_valid_linkage(Z: Any, warning: bool = False, throw: bool = False, name: str | None = None) -> bool:
    """Whether ``Z`` is a valid linkage matrix, as :func:`scipy.cluster.hierarchy.is_valid_linkage`.

    Parameters
    ----------
    Z : array-like
        Candidate linkage matrix; like scipy, it must be float64.
    warning : bool, default=False
        Warn (``scipy.cluster.hierarchy.ClusterWarning``) with the reason when invalid.
    throw : bool, default=False
        Raise the ``TypeError`` / ``ValueError`` of :func:`check_linkage` when invalid.
    name : str, optional
        Name used in the messages.

    Notes
    -----
    Stricter than scipy in two ways that matter for every function here: NaN or
    infinite entries and non-integral child ids make ``Z`` invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import is_valid_linkage
    >>> is_valid_linkage(np.array([[0.0, 1.0, 0.5, 2.0]]))
    True
    >>> is_valid_linkage(np.array([[0.0, 0.0, 0.5, 2.0]]))
    False
    """
    label = name or "Z"
    try:
        array = np.asarray(Z)
        if array.dtype != np.float64:
            raise TypeError(f"Linkage matrix {label} must contain float64 values; got dtype {array.dtype}.")
        check_linkage(array, label)
    except (TypeError, ValueError) as exc:
        if throw:
            raise
        if warning:
            from scipy.cluster.hierarchy import ClusterWarning

            warnings.warn(str(exc), ClusterWarning, stacklevel=2)
        return False
    return True


def is_monotonic(Z: Any) -> bool:
    """Whether the heights never decrease from one row to the next, as scipy's ``is_monotonic``.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import is_monotonic
    >>> is_monotonic(np.array([[0, 1, 1.0, 2], [2, 3, 0.5, 3]]))
    False
    """
    Z = check_linkage(Z)
    return bool(np.all(Z[1:, 2] >= Z[:-1, 2]))


def optimal_leaf_ordering(Z: Any, y: Any, metric: str | Callable[..., float] = "euclidean") -> FloatArray:
    """Flip merges so that neighbouring leaves are as close as possible (scipy's ordering).

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    y : array-like
        Condensed distances (length n(n-1)/2) or observations (n, d).
    metric : str or callable, default="euclidean"
        Metric of :func:`hclust.pdist` (any name or alias) used when ``y`` holds
        observations.

    Returns
    -------
    Z_ordered : ndarray of shape (n-1, 4)
        ``Z`` with the children of some merges swapped; same tree, same heights.

    Raises
    ------
    InsufficientMemoryError
        The algorithm needs about 18 n^2 bytes; checked before allocating.

    Notes
    -----
    The algorithm of Bar-Joseph, Gifford and Jaakkola (2001): for every merge and
    every pair of outer leaves (u, w), the cheapest ordering of the subtree that
    starts at u and ends at w, with the early-termination bound of the paper. It keeps
    the costs in float32 and visits candidates in the same order as scipy, so that the
    chosen ordering (including the choice among equally good ones) is scipy's.
    O(n^3) time in the worst case, O(n^2) memory.

    References
    ----------
    Z. Bar-Joseph, D. K. Gifford, T. S. Jaakkola, "Fast optimal leaf ordering for
    hierarchical clustering", Bioinformatics 17 (2001), :doi:`10.1093/bioinformatics/17.suppl_1.S22`.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import optimal_leaf_ordering, leaves_list
    >>> X = np.array([[0.0], [10.0], [1.0], [11.0], [5.0]])
    >>> Z = np.array([[0, 2, 1.0, 2], [1, 3, 1.0, 2], [4, 5, 4.5, 3], [6, 7, 5.5, 5]])
    >>> leaves_list(Z)
    array([1, 3, 4, 0, 2])
    >>> leaves_list(optimal_leaf_ordering(Z, X))   # 11, 10, 5, 1, 0: neighbours close
    array([3, 1, 4, 2, 0])
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    array = np.asarray(y)
    # the reordered square matrix (8 n^2 bytes) and the kernel's tables (6 n^2),
    # plus the condensed distances when they are computed here (4 n^2)
    check_memory(
        (18.0 if array.ndim == 2 else 14.0) * n * n,
        f"optimal_leaf_ordering for {n:,} observations",
        "Order a cut instead (e.g. the tree of cluster centres), or a sample.",
    )
    if array.ndim == 2:
        from .metrics import pdist

        X = as_observations(array, "y")
        if X.shape[0] != n:
            raise ValueError(f"y has {X.shape[0]} observations but Z has {n} leaves.")
        condensed = pdist(X, metric)
        from ._validation import scan_distances

        scan_distances(condensed, "distances", n, metric, X)
    else:
        condensed, n_y = as_condensed(array, "y")
        if n_y != n:
            raise ValueError(f"y has distances for {n_y} observations but Z has {n} leaves.")
    children = _children(Z)
    order, start = _k.leaf_order(children, n)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    sorted_children = children.copy()
    is_leaf = sorted_children < n
    sorted_children[is_leaf] = position[sorted_children[is_leaf]]
    D = _k.reordered_square(condensed, order)
    del condensed
    size = _k.leaf_counts(children, n)
    ranges = np.empty((2 * n - 1, 2), dtype=np.int64)
    ranges[:n, 0] = np.arange(n)
    ranges[:n, 1] = np.arange(1, n + 1)
    ranges[n:, 0] = start[n:]
    ranges[n:, 1] = start[n:] + size[n:]
    must_swap = _k.olo_swaps(sorted_children, D, ranges, n)
    flip = _k.swap_parity(children, must_swap, n).astype(bool)
    out = Z.copy()
    out[flip, 0] = Z[flip, 1]
    out[flip, 1] = Z[flip, 0]
    return out


@renamed_keywords(heights="height")
def cut_tree(
    Z: Any,
    n_clusters: int | Sequence[int] | None = None,
    height: float | Sequence[float] | None = None,
) -> IntArray:
    """Labels for several cuts at once, one column per cut, each equal to :func:`cut`.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    n_clusters : int or sequence of int, optional
        Numbers of clusters, each in 1..n.
    height : float or sequence of float, optional
        Cut heights (see :func:`cut` for the rule); scipy's name, and hclust's everywhere
        (``heights=``, hclust 0.1's plural, works until hclust 0.3 with a FutureWarning).

    Returns
    -------
    labels : ndarray of int64, shape (n, n_cuts)
        Column j holds ``cut(Z, n_clusters=n_clusters[j])`` (or the height cut). With
        neither argument, all cuts from n clusters down to 1, like scipy.

    Notes
    -----
    For monotone trees without tied heights this equals
    :func:`scipy.cluster.hierarchy.cut_tree`, except that a height equal to a merge
    height keeps that merge here (as in ``fcluster`` and R's ``cutree``) while scipy's
    ``cut_tree`` undoes it; on trees with inversions scipy's
    cut can return the wrong number of clusters, this one never does. The merge
    order and ranks are computed once (O(n log n)); each column then costs O(n).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import cut_tree
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> cut_tree(Z, n_clusters=[1, 2, 4])
    array([[0, 0, 0],
           [0, 0, 1],
           [0, 1, 2],
           [0, 1, 3]])
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    if n_clusters is not None and height is not None:
        raise ValueError("Pass n_clusters or height, not both.")
    order = _cut_order(Z)
    if height is not None:
        values = [_check_height(h, "height") for h in np.atleast_1d(np.asarray(height, dtype=object))]
        masks = [order.keys > h for h in values]
    else:
        ks = list(range(n, 0, -1)) if n_clusters is None else list(np.atleast_1d(np.asarray(n_clusters, dtype=object)))
        masks = [order.removed(_check_n_clusters(k, n)) for k in ks]
    check_memory(8.0 * n * len(masks), f"cut_tree with {len(masks)} cuts of {n} observations", "Ask for fewer cuts.")
    out = np.empty((n, len(masks)), dtype=np.int64)
    for column, removed in enumerate(masks):
        out[:, column] = order.labels_where(removed)[0]
    return out


# --------------------------------------------------------------------------- cuts


@keyword_only(3)
def cut(
    Z: Any,
    n_clusters: int | None = None,
    height: float | None = None,
    *,
    min_cluster_size: int | None = None,
) -> IntArray:
    """Flat clusters with exactly ``n_clusters`` clusters, or at a height.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix (monotone or not).
    n_clusters : int, optional
        Number of clusters, 1..n. Exactly this many clusters are returned.
    height : float, optional
        Cut height. Pass exactly one of ``n_clusters`` and ``height``.
    min_cluster_size : int, optional
        Clusters with fewer observations are labelled -1 ("noise") and the other
        clusters renumbered 0..k'-1 in the same order.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster of each observation, 0..k-1, numbered in order of first appearance:
        observation 0 is in cluster 0, the first observation not in cluster 0 is in
        cluster 1, and so on (-1 for clusters below ``min_cluster_size``).

    Raises
    ------
    ValueError
        Neither or both of ``n_clusters`` and ``height``; ``n_clusters`` outside 1..n
        (the message names the range); a bad ``min_cluster_size``.

    See Also
    --------
    cut_tree : several cuts in one call.
    fcluster : scipy's criteria and 1-based numbering.

    Notes
    -----
    Every merge has a key, the largest height in its subtree (scipy's ``maxdists``;
    for monotone trees simply its own height).

    * ``n_clusters=k`` undoes the k-1 merges with the largest keys, ties broken by
      undoing the later merge (higher row) first. A parent's key is never below its
      children's and its row is later, so the undone merges are always the top of the
      tree: every k in 1..n gives exactly k clusters, also on trees with inversions
      (centroid, median) and with tied heights. For monotone trees with rows in merge
      order (every ``Z`` from hclust or scipy) this means undoing the last k-1 rows.
    * ``height=h`` undoes every merge whose key is > h: a merge is undone when its
      own height exceeds h or a merge inside it is undone, so each cluster is a whole
      subtree whose heights are all <= h. This is scipy's ``fcluster(Z, h,
      'distance')`` partition, and it is one of the ``n_clusters`` cuts, so the two
      modes nest. With tied heights some k have no height of their own; ``n_clusters``
      still gives exactly k.

    O(n log n) time (a sort of the keys), O(n) memory, no recursion.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import cut
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 1.5, 2], [4, 5, 4.0, 4]])
    >>> cut(Z, n_clusters=2)
    array([0, 0, 1, 1])
    >>> cut(Z, height=1.2)
    array([0, 0, 1, 2])
    >>> cut(Z, n_clusters=3, min_cluster_size=2)
    array([ 0,  0, -1, -1])
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    if (n_clusters is None) == (height is None):
        raise ValueError("Pass exactly one of n_clusters (number of clusters) or height (cut height).")
    if n_clusters is not None:
        labels, _ = _cut_order(Z).labels(_check_n_clusters(n_clusters, n))
    else:
        h = _check_height(height)
        children = _children(Z)
        # no ranking needed: the keys alone say which merges lie above h
        removed = _k.subtree_max(children, np.ascontiguousarray(Z[:, 2]), n) > h
        labels, _ = _k.labels_from_removed(children, removed, n)
    if min_cluster_size is not None:
        if not is_integer(min_cluster_size) or min_cluster_size < 1:
            raise ValueError(f"min_cluster_size must be a positive integer; got {min_cluster_size!r}.")
        labels = _k.drop_small_clusters(labels, int(min_cluster_size))
    return labels


# --------------------------------------------------------------------------- summaries


def agglomerative_coefficient(Z: Any) -> float:
    """Kaufman and Rousseeuw's agglomerative coefficient (R's ``agnes`` ``ac``).

    For each observation i, m(i) is the height of the first merge it takes part in
    divided by the height of the final merge; the coefficient is the mean of
    1 - m(i). Values near 1 mean tight groups that join late.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.

    Returns
    -------
    ac : float
        In [0, 1] for monotone trees.

    Raises
    ------
    ValueError
        If all heights are 0 (the ratio is undefined).

    Notes
    -----
    "Final merge" is taken as the largest height, which is the last merge's height for
    monotone trees (as in R) and keeps the value in [0, 1] for trees with inversions.
    The coefficient grows with n, so compare it only between data sets of similar size.
    O(n).

    References
    ----------
    L. Kaufman, P. J. Rousseeuw, *Finding Groups in Data* (1990), ch. 5;
    R package cluster, ``coef.hclust``.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import agglomerative_coefficient
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 3, 2.0, 2], [4, 5, 4.0, 4]])
    >>> agglomerative_coefficient(Z)   # mean of 1-1/4, 1-1/4, 1-2/4, 1-2/4
    0.625
    """
    Z = check_linkage(Z)
    top = float(Z[:, 2].max())
    if top <= 0:
        raise ValueError("All merge heights are 0, so the agglomerative coefficient is undefined.")
    return float(np.mean(1.0 - _first_merge_heights(Z) / top))


def outliers(Z: Any, fraction: float = 0.5, max_size: int = 1) -> BoolArray:
    """Observations that join the rest of the tree only near the top.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    fraction : float, default=0.5
        A group is late when the merge that joins it to a larger cluster is higher
        than ``fraction`` times the largest height in ``Z``; in (0, 1].
    max_size : int, default=1
        Largest group counted as outlying: 1 flags single observations, 3 also pairs
        and triples that stay apart until late.

    Returns
    -------
    mask : ndarray of bool, shape (n,)
        True for the observations in such a group.

    Notes
    -----
    Rule: for every node with at most ``max_size`` observations whose parent has
    more (a maximal small group), flag its observations when the parent's height is
    > ``fraction * max(Z[:, 2])``. With ``max_size=1`` this is "observations whose
    first merge is above the threshold". O(n).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import outliers
    >>> Z = np.array([[0, 1, 1.0, 2], [2, 5, 1.5, 3], [3, 6, 2.0, 4], [4, 7, 9.0, 5]])
    >>> outliers(Z)
    array([False, False, False, False,  True])
    """
    Z = check_linkage(Z)
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < float(fraction) <= 1:
        raise ValueError(f"fraction must be a number in (0, 1]; got {fraction!r}.")
    n = Z.shape[0] + 1
    if not is_integer(max_size) or not 1 <= max_size < n:
        raise ValueError(f"max_size must be an integer in 1..{n - 1}; got {max_size!r}.")
    threshold = float(fraction) * float(Z[:, 2].max())
    return _k.small_group_outliers(_children(Z), np.ascontiguousarray(Z[:, 2]), n, threshold, int(max_size))


# --------------------------------------------------------------------------- conversions


@keyword_only(2)
def from_sklearn(
    children: Any,
    distances: Any = None,
    *,
    n_samples: int | None = None,
    counts: Any = None,
) -> FloatArray:
    """Linkage matrix from a fitted scikit-learn model, or from its ``children_`` / ``distances_``.

    Parameters
    ----------
    children : fitted estimator or array-like of int, shape (n-1, 2)
        A fitted ``AgglomerativeClustering`` or ``FeatureAgglomeration`` (or
        :class:`hclust.HierarchicalClustering`), whose ``children_``,
        ``distances_`` and ``n_leaves_`` are read; or ``model.children_``:
        the two nodes merged at each step, leaves 0..n-1 and step i creating
        node n + i (scipy's numbering).
    distances : array-like of float, shape (n-1,), optional
        ``model.distances_`` (fit with ``compute_distances=True`` or a
        ``distance_threshold``); taken from the model when one is given.
    n_samples : int, optional
        Number of observations (leaves); checked against ``len(children) + 1``.
        A model's ``n_leaves_`` is used by default.
    counts : array-like, shape (n-1,), optional
        Size (or total weight) of every merged cluster; by default the number of
        observations under it.

    Returns
    -------
    Z : ndarray of shape (n-1, 4)
        Valid for every function here and in scipy.

    Raises
    ------
    ValueError
        An unfitted model, missing distances, a partial tree
        (``compute_full_tree=False`` stopped early), or children that do not
        form a tree.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import from_sklearn
    >>> from_sklearn([[0, 1], [2, 3]], [0.5, 2.0])
    array([[0. , 1. , 0.5, 2. ],
           [2. , 3. , 2. , 3. ]])

    A fitted model directly:

    >>> from sklearn.cluster import AgglomerativeClustering
    >>> X = np.array([[0.0], [1.0], [5.0]])
    >>> model = AgglomerativeClustering(n_clusters=2, compute_distances=True).fit(X)
    >>> from_sklearn(model)
    array([[0.        , 1.        , 1.        , 2.        ],
           [2.        , 3.        , 5.19615242, 3.        ]])
    """
    if hasattr(children, "get_params") and not isinstance(children, np.ndarray):
        model = children
        name = type(model).__name__
        if not hasattr(model, "children_"):
            raise ValueError(f"{name} is not fitted: call fit before from_sklearn.")
        children = model.children_
        if distances is None:
            distances = getattr(model, "distances_", None)
            if distances is None:
                raise ValueError(
                    f"{name} has no distances_: fit it with compute_distances=True (or a "
                    "distance_threshold) so that it stores the merge heights."
                )
        leaves = getattr(model, "n_leaves_", None)
        if n_samples is None and leaves is not None:
            n_samples = int(leaves)
    if distances is None:
        raise ValueError(
            "distances is None: fit AgglomerativeClustering with compute_distances=True "
            "(or a distance_threshold) so that it stores distances_."
        )
    ids = np.asarray(children)
    if ids.ndim != 2 or ids.shape[1] != 2:
        raise ValueError(f"children must have shape (n-1, 2); got {ids.shape}.")
    heights = np.asarray(distances, dtype=np.float64)
    m = ids.shape[0]
    if heights.shape != (m,):
        raise ValueError(f"distances must have one value per merge, shape ({m},); got {heights.shape}.")
    if n_samples is not None and n_samples != m + 1:
        raise ValueError(
            f"children has {m} merges, which is a full tree of {m + 1} observations, but n_samples={n_samples}. "
            "Fit with compute_full_tree=True to get the whole tree."
        )
    Z = np.empty((m, 4))
    Z[:, :2] = np.sort(ids, axis=1)  # smaller node first, as in scipy (sklearn single may swap)
    Z[:, 2] = heights
    Z[:, 3] = 1.0
    Z = check_linkage(Z, "the tree from children/distances")
    if counts is None:
        Z[:, 3] = _k.leaf_counts(_children(Z), m + 1)[m + 1 :]
    else:
        Z[:, 3] = _check_per_merge(counts, m + 1, "counts")
    return Z


def _newick_label(text: str) -> str:
    if text and not any(ch in text for ch in " \t\n()[]':;,"):
        return text
    return "'" + text.replace("'", "''") + "'"


def _leaf_names(labels: Any, n: int) -> list[str]:
    if labels is None:
        return [str(i) for i in range(n)]
    names = [str(label) for label in labels]
    if len(names) != n:
        raise ValueError(f"labels has {len(names)} entries but Z has {n} leaves.")
    return names


def to_newick(Z: Any, labels: Sequence[Any] | None = None) -> str:
    """Newick string of the tree, with branch lengths = parent height - child height.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    labels : sequence, optional
        Leaf names (default: observation indices). Names with spaces or Newick
        punctuation are single-quoted.

    Returns
    -------
    str
        Ending in ``;``. Trees with inversions give negative branch lengths.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.tree import to_newick
    >>> to_newick(np.array([[0, 1, 1.0, 2], [2, 3, 3.0, 3]]), labels=["a", "b", "c d"])
    "('c d':3,(a:1,b:1):2);"
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    names = [_newick_label(name) for name in _leaf_names(labels, n)]
    children = _children(Z).tolist()
    heights = Z[:, 2].tolist()
    # Explicit stack of nodes to expand (int) and text to emit (str): O(n), no recursion.
    tokens: list[str] = []
    stack: list[int | str] = [2 * n - 2]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            tokens.append(item)
        elif item < n:
            tokens.append(names[item])
        else:
            row = item - n
            a, b = children[row]
            length_a = heights[row] - (heights[a - n] if a >= n else 0.0)
            length_b = heights[row] - (heights[b - n] if b >= n else 0.0)
            stack.extend([")", f":{length_b:.17g}", b, ",", f":{length_a:.17g}", a, "("])
    return "".join(tokens) + ";"


def to_json(Z: Any, labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """The tree as plain JSON-serialisable flat arrays, for web front ends.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix.
    labels : sequence, optional
        Leaf names (default: observation indices as strings).

    Returns
    -------
    dict
        ``format`` ("hclust-tree"), ``version`` (1), ``n_leaves`` (n), ``children``
        (list of [a, b] per merge, node ids as in ``Z``), ``heights``, ``sizes``
        (lists per merge), ``labels`` (n leaf names), ``leaf_order`` (leaves left to
        right, as :func:`leaves_list`). Only lists, ints, floats and strings, so
        ``json.dumps`` works directly; flat arrays keep it linear in size and easy to
        load into typed arrays, with no nesting depth limit.

    Examples
    --------
    >>> import json
    >>> import numpy as np
    >>> from hclust.tree import to_json
    >>> doc = to_json(np.array([[0, 1, 1.0, 2], [2, 3, 3.0, 3]]))
    >>> doc["children"], doc["leaf_order"]
    ([[0, 1], [2, 3]], [2, 0, 1])
    >>> json.loads(json.dumps(doc)) == doc
    True
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    return {
        "format": "hclust-tree",
        "version": 1,
        "n_leaves": n,
        "children": _children(Z).tolist(),
        "heights": Z[:, 2].tolist(),
        "sizes": Z[:, 3].tolist(),
        "labels": _leaf_names(labels, n),
        "leaf_order": leaves_list(Z).tolist(),
    }
