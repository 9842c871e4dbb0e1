"""Divisive (top-down) hierarchical clustering: DIANA and bisecting k-means.

Both return scipy's linkage matrix ``Z`` (float64, shape (n-1, 4), leaves
``0..n-1``, row ``i`` creates node ``n + i``), listed bottom-up with
non-decreasing heights, so every tool that takes a ``Z`` (cuts, cophenetic
distances, dendrograms) works on a divisive tree too.
"""

from __future__ import annotations

import heapq
import warnings
from typing import Any

import numpy as np

from ._kernels import divisive as _k
from ._kernels.unionfind import merges_to_linkage
from ._typing import FloatArray
from ._validation import (
    as_observations,
    check_count,
    check_memory,
    check_option,
    check_squares,
    format_bytes,
    scan_distances,
)

__all__ = ["bisecting_kmeans", "diana", "divisive_coefficient"]

BISECTING_STRATEGIES: tuple[str, ...] = ("biggest_inertia", "largest_cluster")


def _diana_distances(X: Any, metric: Any) -> tuple[FloatArray, int]:
    """Condensed distances for DIANA, with the memory checked before allocating."""
    from ._metrics import normalize
    from ._inputs import check_distance_scale as _check_distance_scale, prepare_input as _prepare_input

    metric = normalize(metric)  # scipy's and scikit-learn's aliases too
    data, n, kind, _ = _prepare_input(X, metric, "average")
    if kind == "vectors":
        from .metrics import pdist

        need = 8.0 * (n * (n - 1) // 2)
        check_memory(
            need,
            f"diana on {n:,} observations stores the condensed distance matrix ({format_bytes(need)})",
            "Alternatives: hclust.divisive.bisecting_kmeans (O(n d) memory), or "
            "hclust.summarize(X, n_micro=...) to cluster weighted micro-clusters.",
        )
        X_checked = data
        data = pdist(X_checked, metric)
        largest = scan_distances(data, "distances", n, metric, X_checked)
    else:
        largest = float(data.max())
    # DIANA sums a row of distances (average dissimilarities): n * largest must fit
    _check_distance_scale(largest, "average", None, n, "The distances")
    return data, n


def _diana(X: Any, metric: Any = "euclidean") -> tuple[FloatArray, np.ndarray]:
    """DIANA's ``Z`` and R's leaf ``order`` (0-based)."""
    D, n = _diana_distances(X, metric)
    ner, start, middle, _stop, height, depth = _k.diana_splits(D, n)
    # Splits from the widest cluster down; a child has a diameter no larger than
    # its parent's and a larger depth, so parents always come before children.
    order = np.lexsort((start, depth, -height))
    merges = order[::-1]
    a = ner[start[merges]]
    b = ner[middle[merges]]
    Z: FloatArray = merges_to_linkage(a, b, np.ascontiguousarray(height[merges]), np.ones(n))
    return Z, ner


def diana(X: Any, metric: Any = "euclidean") -> FloatArray:
    """DIANA divisive clustering (Kaufman and Rousseeuw), as R's ``cluster::diana``.

    Starting from one cluster of all observations, the cluster with the
    largest diameter is split, until every observation stands alone. A split
    opens a *splinter group* with the object of the largest average
    dissimilarity to the others of its cluster, then repeatedly moves to it
    the object whose average dissimilarity to the remaining objects minus
    its average dissimilarity to the splinter group is largest, as long as
    that difference is positive.

    Parameters
    ----------
    X : array-like or DataFrame
        Observations ``(n, d)``, a condensed distance vector of length
        ``n (n - 1) / 2``, or a square distance matrix with
        ``metric="precomputed"`` (as :func:`hclust.linkage` accepts).
    metric : str or callable, default="euclidean"
        Distance between observations (:data:`hclust.METRICS`, ``"gower"``
        or ``"precomputed"``); ignored for a condensed vector. R's
        ``metric="manhattan"`` is ``"cityblock"`` here.

    Returns
    -------
    Z : ndarray of shape (n - 1, 4), float64
        scipy's linkage matrix. The height of a node is the diameter (largest
        dissimilarity between two of its observations) of the cluster that
        was split there, R's ``height``; rows are listed bottom-up in
        non-decreasing height, so ``Z`` is monotone.

    Raises
    ------
    ValueError
        NaN or infinite values, fewer than 2 observations, a vector whose
        length is not ``n (n - 1) / 2``, a bad square matrix, unknown metric.
    hclust.InsufficientMemoryError
        The ``n (n - 1) / 2`` distances would not fit in memory (checked
        before allocating).

    See Also
    --------
    divisive_coefficient : R's ``dc`` of the result.
    bisecting_kmeans : a divisive tree in O(n d) memory.
    hclust.linkage : agglomerative clustering.

    Notes
    -----
    The tree does not depend on the order in which clusters are split (each
    split looks only at its own cluster), so the clusters are split depth
    first and the splits then sorted by decreasing diameter; ``Z`` lists them
    in reverse. Averages are kept as running sums, updated as objects move,
    so one split of ``m`` objects costs O(m^2) and the whole tree O(n^2) for
    balanced splits, O(n^3) in the worst case (a split that peels off one
    object at a time); memory is the condensed matrix plus O(n).

    Ties go to the smallest observation index, as in R: the splinter group
    starts from the first object (in increasing index order) of largest
    average dissimilarity, the object moved next is the first of largest
    difference, and an object moves only when its difference is strictly
    positive. R's ``order`` (leaves listed so that each cluster is a
    contiguous block, the group holding the smallest index first) and tree
    are reproduced exactly, tied dissimilarities included, on every
    reference data set in the tests. Averages are kept as running sums
    here but recomputed in R, so two differences equal in exact arithmetic
    but not exactly representable may round apart differently and break a
    tie the other way; integer-valued dissimilarities always match.

    References
    ----------
    .. [1] L. Kaufman and P. J. Rousseeuw, *Finding Groups in Data: An
       Introduction to Cluster Analysis*, ch. 6, Wiley (1990),
       :doi:`10.1002/9780470316801`.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.divisive import diana
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 3.0]])
    >>> diana(X)
    array([[0.        , 1.        , 1.        , 2.        ],
           [2.        , 3.        , 3.        , 2.        ],
           [4.        , 5.        , 5.83095189, 4.        ]])
    """
    Z, _ = _diana(X, metric)
    return Z


def divisive_coefficient(Z: Any) -> float:
    """Kaufman and Rousseeuw's divisive coefficient of a DIANA tree (R's ``dc``).

    For each observation i, d(i) is the diameter of the last cluster it
    belongs to before being split off as a single observation (the height of
    its parent node), divided by the diameter of the whole data set (the
    largest height). The coefficient is the mean of ``1 - d(i)``.

    Parameters
    ----------
    Z : array-like of shape (n - 1, 4)
        A linkage matrix, usually from :func:`diana`.

    Returns
    -------
    dc : float
        In [0, 1]; values near 1 mean a strong clustering structure.

    Raises
    ------
    ValueError
        ``Z`` is not a linkage matrix, or all its heights are 0.

    Notes
    -----
    Like the agglomerative coefficient, it grows with the number of
    observations; compare it only between data sets of similar size. O(n).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.divisive import diana, divisive_coefficient
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 3.0]])
    >>> round(divisive_coefficient(diana(X)), 6)   # mean of 1 - (1, 1, 3, 3) / 5.83
    0.657003
    """
    from .tree import _first_merge_heights, check_linkage

    Z = check_linkage(Z)
    top = float(Z[:, 2].max())
    if top <= 0.0:
        raise ValueError("All heights of Z are 0, so the divisive coefficient is undefined.")
    return float(np.mean(1.0 - _first_merge_heights(Z) / top))


# --------------------------------------------------------------------------- bisecting k-means


def _sse(X: FloatArray) -> float:
    centred = X - X.mean(axis=0)
    return float(np.einsum("ij,ij->", centred, centred))


def bisecting_kmeans(
    X: Any,
    n_clusters: int | None = None,
    *,
    random_state: int = 0,
    bisecting_strategy: str = "biggest_inertia",
    n_init: int = 1,
) -> FloatArray:
    """Bisecting k-means as a full hierarchical tree (scipy's ``Z``).

    Starting from all observations, a cluster is split in two by k-means
    (k = 2) until every cluster is a single observation, or, with
    ``n_clusters``, until there are ``n_clusters`` clusters. Unlike
    :class:`sklearn.cluster.BisectingKMeans`, which keeps only the final
    partition, the whole tree of splits is returned.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, d)
        Observations (Euclidean geometry).
    n_clusters : int, optional
        Stop splitting at this many clusters (1..n). Default: split down to
        single observations (n - 1 k-means runs; for large n pass
        ``n_clusters``).
    random_state : int, default=0
        Seed of the k-means initialisations; the same seed gives the same tree.
    bisecting_strategy : {"biggest_inertia", "largest_cluster"}, default="biggest_inertia"
        Which cluster to split next: the one with the largest sum of squared
        deviations (SSE), or the one with the most observations. It only
        matters when ``n_clusters`` stops the splitting early.
    n_init : int, default=1
        k-means runs (different initialisations) per split; the best is kept.

    Returns
    -------
    Z : ndarray of shape (n - 1, 4), float64
        scipy's linkage matrix, bottom-up with non-decreasing heights. The
        height of a split is the SSE (sum of squared Euclidean distances to
        the mean) of the cluster being split, which is never smaller than a
        child's SSE, so ``Z`` is monotone.

    Raises
    ------
    ValueError
        NaN or infinite values, fewer than 2 observations, ``n_clusters``
        outside 1..n, unknown strategy, bad ``n_init``.

    See Also
    --------
    diana : divisive clustering from dissimilarities.
    hclust.tree.cut : flat clusters from ``Z``.

    Notes
    -----
    With ``n_clusters=k``, the members of each of the k final clusters are
    joined below the splits at height 0 (a chain in index order) so that
    ``Z`` still covers all n observations; cut such a tree into at most k
    clusters (``cut(Z, n_clusters=k)`` gives the k bisecting k-means
    clusters). With ``"biggest_inertia"`` the splits are made in decreasing
    SSE, so cutting at any ``j <= k`` gives the clusters after ``j - 1``
    splits; with ``"largest_cluster"`` that holds for ``j = k`` only (the
    tree orders splits by SSE, not by the order they were made in).

    A cluster whose observations are all identical (SSE 0) is not given to
    k-means: its members are joined at height 0. The k-means runs use
    scikit-learn's :class:`~sklearn.cluster.KMeans` (Lloyd) seeded from one
    ``numpy.random.RandomState(random_state)``, in a fixed order, so the
    result is deterministic. Time: one k-means per split, O(n d) per
    iteration on the cluster being split.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.divisive import bisecting_kmeans
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 2.0]])
    >>> bisecting_kmeans(X)
    array([[ 0.  ,  1.  ,  0.5 ,  2.  ],
           [ 2.  ,  3.  ,  2.  ,  2.  ],
           [ 4.  ,  5.  , 27.75,  4.  ]])
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    data = as_observations(X)
    check_squares(data, "bisecting_kmeans' sums of squares")
    n = data.shape[0]
    k = None if n_clusters is None else check_count(n_clusters, "n_clusters")
    if k is not None and k > n:
        raise ValueError(f"n_clusters must be between 1 and n = {n}; got {n_clusters!r}.")
    target = n if k is None else k
    strategy = check_option(bisecting_strategy, "bisecting_strategy", BISECTING_STRATEGIES)
    n_init_ = check_count(n_init, "n_init")
    rng = np.random.RandomState(random_state)

    merge_a: list[int] = []
    merge_b: list[int] = []
    merge_h: list[float] = []
    # Heap of clusters still splittable: (-key, creation number, members).
    heap: list[tuple[float, int, np.ndarray, float]] = []
    created = 0
    leaves: list[np.ndarray] = []

    def push(members: np.ndarray) -> None:
        nonlocal created
        rows = data[members]
        # Identical rows cannot be split (their SSE may still round above 0).
        splittable = members.shape[0] > 1 and bool((rows != rows[0]).any())
        sse = _sse(rows) if splittable else 0.0
        if splittable:
            key = sse if strategy == "biggest_inertia" else float(members.shape[0])
            heapq.heappush(heap, (-key, created, members, sse))
            created += 1
        else:
            leaves.append(members)

    push(np.arange(n))
    n_parts = 1
    while heap and n_parts < target:
        _, _, members, sse = heapq.heappop(heap)
        model = KMeans(n_clusters=2, n_init=n_init_, random_state=rng)
        with warnings.catch_warnings():
            # Near-identical rows may give one distinct cluster; handled below.
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = model.fit_predict(data[members])
        left = members[labels == labels[0]]
        right = members[labels != labels[0]]
        if right.shape[0] == 0:  # degenerate k-means run: split off the farthest point
            centred = data[members] - data[members].mean(axis=0)
            far = int(np.argmax(np.einsum("ij,ij->i", centred, centred)))
            right = members[far : far + 1]
            left = np.delete(members, far)
        merge_a.append(int(left[0]))
        merge_b.append(int(right[0]))
        merge_h.append(sse)
        n_parts += 1
        push(left)
        push(right)
    for _, _, members, _ in heap:
        leaves.append(members)
    # Members of unsplit clusters are joined at height 0, below every split.
    low_a: list[int] = []
    low_b: list[int] = []
    for members in leaves:
        for j in range(1, members.shape[0]):
            low_a.append(int(members[0]))
            low_b.append(int(members[j]))
    heights = np.array(merge_h[::-1], dtype=np.float64)
    # Splits were made in decreasing key; sort by SSE (stable) so Z is monotone.
    order = np.argsort(heights, kind="mergesort")
    a = np.array(low_a + [merge_a[::-1][i] for i in order], dtype=np.int64)
    b = np.array(low_b + [merge_b[::-1][i] for i in order], dtype=np.int64)
    h = np.concatenate([np.zeros(len(low_a)), heights[order]])
    Z: FloatArray = merges_to_linkage(a, b, h, np.ones(n))
    return Z
