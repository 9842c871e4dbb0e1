"""Summary tier: hierarchical clustering of weighted micro-clusters (an approximation).

:func:`summarize` compresses the rows into micro-clusters, each kept as
(count, mean, sum of squared deviations), runs the *exact* weighted
agglomerative clustering of :func:`hclust.linkage` on the micro-cluster
means, and keeps the row -> micro-cluster assignment, so that any cut of the
tree labels every original row. The tree is exact for the micro-clusters,
not for the rows: it is a summary, and :class:`Summary` reports how much of
the data's variance the compression hides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._deprecation import keyword_only
from ._kernels import cftree as _cf
from ._typing import FloatArray, IntArray, ProgressCallback
from ._methods import methods_where
from ._validation import as_observations, check_option, check_squares, check_weights, is_integer

__all__ = ["SUMMARY_METHODS", "Summary", "SummaryQuality", "merge_moments", "summarize"]

#: Linkages run on the micro-clusters.
SUMMARY_METHODS: tuple[str, ...] = methods_where(summary=True)

ALGORITHMS: tuple[str, ...] = ("birch", "kmeans")

#: Rows inserted per kernel call between progress reports.
_CHUNK = 200_000

#: Growth of the squared threshold on each CF-tree rebuild (2% in radius).
_GROWTH_SQ = 1.02**2


@dataclass(frozen=True)
class SummaryQuality:
    """How faithful a micro-cluster summary is.

    Attributes
    ----------
    within_share : float
        Share of the total (weighted) sum of squares that lies inside the
        micro-clusters, ``sum(ssd) / total SS``, in [0, 1]: the variance the
        tree cannot see. 0 when every micro-cluster holds identical rows.
    max_radius : float
        Largest micro-cluster radius, ``sqrt(ssd / count)`` (root mean
        squared distance of its rows to its mean).
    threshold : float
        The radius threshold the CF tree ended with (``nan`` for k-means).
    n_micro : int
        Number of micro-clusters.
    """

    within_share: float
    max_radius: float
    threshold: float
    n_micro: int


@dataclass(frozen=True)
class Summary:
    """Weighted micro-clusters of a data set and the hierarchical tree over them.

    An approximation of hierarchical clustering of the rows (see
    :func:`summarize`).

    Attributes
    ----------
    counts : ndarray of shape (m,)
        Weight (number of rows, or sum of row weights) of each micro-cluster.
    means : ndarray of shape (m, d)
        Weighted mean of each micro-cluster.
    ssd : ndarray of shape (m,)
        Weighted sum of squared Euclidean deviations from the mean.
    labels_ : ndarray of int64, shape (n,)
        Micro-cluster of every row.
    Z : ndarray of shape (m - 1, 4)
        Linkage matrix over the micro-clusters (leaf j is micro-cluster j),
        from ``hclust.linkage(means, method, weights=counts)``.
    quality : SummaryQuality
        Share of the variance inside micro-clusters, largest radius.
    method : str
        The linkage used for ``Z``.
    """

    counts: FloatArray
    means: FloatArray
    ssd: FloatArray
    labels_: IntArray
    Z: FloatArray
    quality: SummaryQuality
    method: str = field(default="ward")

    @property
    def n_micro(self) -> int:
        """Number of micro-clusters."""
        return int(self.counts.shape[0])

    def micro_labels(self, n_clusters: int) -> IntArray:
        """Cluster (0..n_clusters-1) of each micro-cluster, from cutting ``Z``."""
        m = self.n_micro
        if not is_integer(n_clusters):
            raise TypeError(f"n_clusters must be an integer; got {n_clusters!r}.")
        if not 1 <= n_clusters <= m:
            raise ValueError(
                f"n_clusters must be between 1 and the number of micro-clusters ({m}); "
                f"got {n_clusters}. Summarize with a larger n_micro for finer cuts."
            )
        if m == 1:
            return np.zeros(1, dtype=np.int64)
        from .tree import cut

        return cut(self.Z, n_clusters=int(n_clusters))

    def labels(self, n_clusters: int) -> IntArray:
        """Cluster (0..n_clusters-1) of every original row, from cutting the tree.

        Parameters
        ----------
        n_clusters : int
            Number of clusters, 1..``n_micro``.

        Returns
        -------
        labels : ndarray of int64, shape (n,)
            Rows of one micro-cluster always share a label.
        """
        return self.micro_labels(n_clusters)[self.labels_]


def merge_moments(
    count_a: Any, mean_a: Any, ssd_a: Any, count_b: Any, mean_b: Any, ssd_b: Any
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Merge two sets of (count, mean, ssd) with Chan et al.'s pairwise update.

    ``count`` arrays of shape (m,), ``mean`` (m, d), ``ssd`` (m,): row j of
    the result describes the union of the groups in row j of a and b.

    Notes
    -----
    ``n = n_a + n_b``, ``mean = mean_a + (mean_b - mean_a) n_b / n``,
    ``ssd = ssd_a + ssd_b + |mean_b - mean_a|^2 n_a n_b / n``: no sums of
    squares are formed, so nothing cancels far from the origin.

    References
    ----------
    T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise
    algorithm for computing sample variances", Stanford CS tech. report
    STAN-CS-79-773 (1979).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.summary import merge_moments
    >>> merge_moments(np.array([2.0]), np.array([[0.0]]), np.array([2.0]),
    ...               np.array([1.0]), np.array([[3.0]]), np.array([0.0]))
    (array([3.]), array([[1.]]), array([8.]))
    """
    na = np.asarray(count_a, dtype=np.float64)
    nb = np.asarray(count_b, dtype=np.float64)
    ma = np.asarray(mean_a, dtype=np.float64)
    mb = np.asarray(mean_b, dtype=np.float64)
    n = na + nb
    delta = mb - ma
    mean = ma + delta * (nb / n)[:, None]
    ssd = np.asarray(ssd_a, dtype=np.float64) + np.asarray(ssd_b, dtype=np.float64)
    ssd = ssd + np.einsum("ij,ij->i", delta, delta) * (na * nb / n)
    return n, mean, ssd


def _check_sizes(n_micro: Any, threshold: Any, n: int, algorithm: str) -> tuple[int | None, float | None]:
    m: int | None = None
    if n_micro is not None:
        if not is_integer(n_micro) or n_micro < 1:
            raise ValueError(f"n_micro must be a positive integer; got {n_micro!r}.")
        if n_micro > n:
            raise ValueError(
                f"n_micro = {n_micro} is more than the {n} rows; use n_micro <= {n} "
                "(or hclust.linkage on the rows themselves, which is exact)."
            )
        m = int(n_micro)
    t: float | None = None
    if threshold is not None:
        if algorithm == "kmeans":
            raise ValueError("threshold applies to algorithm='birch' only; k-means uses n_micro.")
        try:
            t = float(threshold)
        except (TypeError, ValueError):
            raise TypeError(f"threshold must be a number; got {threshold!r}.") from None
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"threshold must be a finite radius >= 0; got {threshold!r}.")
    if algorithm == "kmeans" and m is None:
        raise ValueError("algorithm='kmeans' needs n_micro, the number of micro-clusters.")
    return m, t


class _CFTree:
    """The flat arrays of a CF tree, grown on demand."""

    def __init__(self, d: int, branching: int, nodes: int, entries: int) -> None:
        self.node_entries = np.zeros((nodes, branching + 1), dtype=np.int64)
        self.node_n = np.zeros(nodes, dtype=np.int64)
        self.node_leaf = np.zeros(nodes, dtype=np.bool_)
        self.e_count = np.zeros(entries)
        self.e_mean = np.zeros((entries, d))
        self.e_ssd = np.zeros(entries)
        self.e_child = np.full(entries, -1, dtype=np.int64)
        # One empty leaf as the root.
        self.node_leaf[0] = True
        self.meta = np.array([1, 0, 0, 0, 0], dtype=np.int64)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (
            self.node_entries, self.node_n, self.node_leaf,
            self.e_count, self.e_mean, self.e_ssd, self.e_child, self.meta,
        )

    def grow(self) -> None:
        def bigger(a: np.ndarray, fill: Any = 0) -> np.ndarray:
            out = np.full((2 * a.shape[0],) + a.shape[1:], fill, dtype=a.dtype)
            out[: a.shape[0]] = a
            return out

        self.node_entries = bigger(self.node_entries)
        self.node_n = bigger(self.node_n)
        self.node_leaf = bigger(self.node_leaf, False)
        self.e_count = bigger(self.e_count)
        self.e_mean = bigger(self.e_mean)
        self.e_ssd = bigger(self.e_ssd)
        self.e_child = bigger(self.e_child, -1)

    def leaf_slots(self) -> IntArray:
        used = int(self.meta[1])
        return np.flatnonzero(self.e_child[:used] < 0).astype(np.int64)


def _rebuild(tree: _CFTree, threshold_sq: float, branching: int) -> tuple[_CFTree, IntArray]:
    """A new tree of the leaf entries of ``tree``; the map old slot -> new slot."""
    slots = tree.leaf_slots()
    m = slots.shape[0]
    d = tree.e_mean.shape[1]
    new = _CFTree(d, branching, max(16, m // max(1, branching // 4)), 2 * m + 16)
    redirect = np.empty(m, dtype=np.int64)
    count = np.ascontiguousarray(tree.e_count[slots])
    mean = np.ascontiguousarray(tree.e_mean[slots])
    ssd = np.ascontiguousarray(tree.e_ssd[slots])
    done = 0
    while done < m:
        done, status = _cf.cf_insert_entries(count, mean, ssd, done, threshold_sq, *new.arrays(), redirect)
        if status == _cf.STATUS_GROW:
            new.grow()
    mapping = np.full(tree.e_count.shape[0], -1, dtype=np.int64)
    mapping[slots] = redirect
    return new, mapping


def _next_threshold_sq(tree: _CFTree, threshold_sq: float) -> float:
    """The squared threshold for a rebuild: a little larger than the last one.

    The number of micro-clusters falls roughly like threshold^-d (d: the
    data's intrinsic dimension), so the threshold grows by a small factor,
    keeping the count after a rebuild near the cap. The first positive
    threshold is the median, over leaf entries, of the radius of the entry
    merged with its closest sibling (BIRCH's heuristic in spirit).
    """
    if threshold_sq > 0.0:
        return threshold_sq * _GROWTH_SQ
    radii = _cf.cf_merge_radii_sq(
        tree.node_entries, tree.node_n, tree.node_leaf, tree.e_count, tree.e_mean, tree.e_ssd, tree.meta
    )
    positive = radii[radii > 0]
    if positive.size:
        return float(np.median(positive))
    # Only single-entry leaves: a quarter of the squared distance of two entries.
    slots = tree.leaf_slots()
    gap = tree.e_mean[slots[0]] - tree.e_mean[slots[1]]
    return max(float(gap @ gap) / 4.0, np.finfo(np.float64).tiny)


def _birch(
    X: FloatArray,
    w: FloatArray,
    n_micro: int | None,
    threshold: float | None,
    branching: int,
    progress: ProgressCallback | None,
) -> tuple[IntArray, int, float]:
    n, d = X.shape
    cap = n if n_micro is None else n_micro
    threshold_sq = 0.0 if threshold is None else threshold * threshold
    start_entries = max(64, min(2 * cap + 16, n + 16))
    tree = _CFTree(d, branching, max(16, start_entries // max(1, branching // 4)), start_entries)
    labels = np.empty(n, dtype=np.int64)
    done = 0
    while done < n:
        stop = min(n, done + _CHUNK)
        done, status = _cf.cf_insert_rows(X, w, done, stop, threshold_sq, cap, *tree.arrays(), labels)
        if status == _cf.STATUS_GROW:
            tree.grow()
        elif status == _cf.STATUS_OVER:
            while tree.meta[3] > cap:
                threshold_sq = _next_threshold_sq(tree, threshold_sq)
                tree, mapping = _rebuild(tree, threshold_sq, branching)
                _cf.relabel(labels, mapping, done)
        if progress is not None:
            progress(done, n)
    slots = tree.leaf_slots()
    compact = np.full(tree.e_count.shape[0], -1, dtype=np.int64)
    compact[slots] = np.arange(slots.shape[0])
    _cf.relabel(labels, compact, n)
    return labels, int(slots.shape[0]), math.sqrt(threshold_sq)


def _kmeans(X: FloatArray, w: FloatArray, n_micro: int, random_state: Any) -> tuple[IntArray, int]:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=n_micro, n_init=1, random_state=random_state)
    raw = model.fit_predict(X, sample_weight=w)
    used, labels = np.unique(raw, return_inverse=True)
    return labels.astype(np.int64), int(used.shape[0])


@keyword_only(2)
def summarize(
    X: Any,
    n_micro: int | None = None,
    *,
    threshold: float | None = None,
    weights: Any = None,
    method: str = "ward",
    algorithm: str = "birch",
    branching_factor: int = 50,
    random_state: Any = 0,
    progress: ProgressCallback | None = None,
) -> Summary:
    """Hierarchical clustering of many rows through weighted micro-clusters (a summary).

    The rows are compressed into micro-clusters (count, mean, sum of squared
    deviations) by a BIRCH CF tree or by k-means; the micro-cluster means are
    clustered exactly with :func:`hclust.linkage` (each mean weighted by its
    count); each row keeps its micro-cluster, so cutting the tree labels
    every row. This is an approximation of clustering the rows themselves:
    rows of one micro-cluster always end in the same cluster, and the tree
    sees each micro-cluster as its mean. :attr:`Summary.quality` says how
    much variance that hides.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, d)
        Numeric observations (Euclidean geometry).
    n_micro : int, optional
        Largest number of micro-clusters (1..n). With BIRCH the radius
        threshold is raised (and the CF tree rebuilt from its entries, as
        BIRCH does) whenever the count would exceed it; the result has at
        most ``n_micro`` micro-clusters, usually 70 to 100 % of it.
        With k-means, exactly the number of non-empty clusters found
        (normally ``n_micro``). Default: ``min(n, 10_000)`` when
        ``threshold`` is not given either.
    threshold : float, optional
        BIRCH only: the largest radius (root mean squared distance to the
        mean) of a micro-cluster that a row may join; a row farther from
        every micro-cluster starts a new one. With ``n_micro`` as well, the
        starting threshold. Default 0 (only identical rows merge until
        ``n_micro`` forces a larger threshold).
    weights : array-like of shape (n,), optional
        Positive row weights: row i counts as ``weights[i]`` identical rows.
    method : {"ward", "average", "centroid", "complete", "single"}, default="ward"
        Linkage on the micro-cluster means. Ward, centroid and average use
        the counts as weights (ward's heights are then exactly the increase
        of the within-cluster sum of squares between micro-cluster groups);
        complete and single ignore them.
    algorithm : {"birch", "kmeans"}, default="birch"
        How micro-clusters are formed: a BIRCH CF tree in one pass over the
        rows (O(n d) memory, O(n B d log m) time), or scikit-learn's
        :class:`~sklearn.cluster.KMeans` with ``n_micro`` clusters (tighter
        micro-clusters, but O(n m d) per iteration).
    branching_factor : int, default=50
        BIRCH only: largest number of entries in a CF-tree node (>= 2).
    random_state : int, optional
        k-means only: seed of the initialisation. BIRCH is deterministic
        (it depends on the order of the rows).
    progress : callable, optional
        ``progress(done, total)``, called with the number of rows inserted so far.

    Returns
    -------
    Summary
        ``counts``, ``means``, ``ssd``, ``labels_`` (row -> micro-cluster),
        ``Z`` (the tree over micro-clusters), ``quality``; ``labels(k)``
        gives a label for every row.

    Raises
    ------
    ValueError
        NaN or infinite values, fewer than 2 rows, ``n_micro`` not in 1..n,
        a negative or non-finite threshold, bad weights, unknown method or
        algorithm.
    TypeError
        Non-numeric data.

    See Also
    --------
    hclust.linkage : the exact tree of the rows (O(n^2) memory for most methods).

    Notes
    -----
    Micro-cluster statistics are recomputed at the end from the final
    assignment, in two passes (mean, then squared deviations), so they are
    exactly those of the rows assigned: the counts add up to the total
    weight, the weighted mean of the means is the data mean, and
    ``sum(ssd)`` plus the between-micro-cluster sum of squares is the total
    sum of squares. Inside the CF tree, entries are merged with Chan et
    al.'s pairwise update (:func:`merge_moments`), never from raw sums of
    squares. A CF-tree row goes down to the closest entry (by mean) at every
    level and joins the closest leaf entry if the merged radius stays within
    the threshold; overfull nodes split around their two farthest entries.

    A tree of ``m`` micro-clusters with ward/average/complete/centroid needs
    the ``m (m - 1) / 2`` distances (0.4 GB for ``m = 10 000``).

    References
    ----------
    .. [1] T. Zhang, R. Ramakrishnan, M. Livny, "BIRCH: an efficient data
       clustering method for very large databases", SIGMOD 1996,
       :doi:`10.1145/233269.233324`.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.summary import summarize
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (500, 2)), rng.normal(20, 1, (500, 2))])
    >>> s = summarize(X, n_micro=50)
    >>> s.n_micro <= 50, int(s.counts.sum())   # n_micro is an upper bound
    (True, 1000)
    >>> np.bincount(s.labels(2))
    array([500, 500])
    """
    method = check_option(method, "method", SUMMARY_METHODS)
    algorithm = check_option(algorithm, "algorithm", ALGORITHMS)
    data = as_observations(X)
    check_squares(data, "summarize's sums of squares (BIRCH clustering features)")
    n = data.shape[0]
    w = np.ones(n) if weights is None else check_weights(weights, n)
    m_max, t = _check_sizes(n_micro, threshold, n, algorithm)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")
    if m_max is None and t is None:
        m_max = min(n, 10_000)
    if algorithm == "birch":
        if not is_integer(branching_factor) or branching_factor < 2:
            raise ValueError(f"branching_factor must be an integer >= 2; got {branching_factor!r}.")
        labels, m, used_threshold = _birch(data, w, m_max, t, int(branching_factor), progress)
    else:
        assert m_max is not None
        labels, m = _kmeans(data, w, m_max, random_state)
        used_threshold = float("nan")
        if progress is not None:
            progress(n, n)
    counts, means, ssd = _cf.group_stats(data, w, labels, m)
    quality = _quality(data, w, counts, means, ssd, used_threshold)
    if m >= 2:
        from ._linkage import linkage

        Z = linkage(means, method, weights=counts)
    else:
        Z = np.empty((0, 4))
    return Summary(counts=counts, means=means, ssd=ssd, labels_=labels, Z=Z, quality=quality, method=method)


def _quality(
    X: FloatArray, w: FloatArray, counts: FloatArray, means: FloatArray, ssd: FloatArray, threshold: float
) -> SummaryQuality:
    grand = (counts[:, None] * means).sum(axis=0) / counts.sum()
    # The total from the rows (not within + between from the means, whose
    # rounding is |X| * eps and swamps the between part far from the origin).
    total = float(_cf.total_ss(X, w, np.ascontiguousarray(grand)))
    within = float(ssd.sum())
    share = min(1.0, within / total) if total > 0 else 0.0
    radius = float(np.sqrt(ssd / counts).max())
    return SummaryQuality(within_share=share, max_radius=radius, threshold=threshold, n_micro=int(counts.shape[0]))
