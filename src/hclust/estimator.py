"""scikit-learn compatible hierarchical clustering with ``predict``."""

from __future__ import annotations

import numbers
from typing import Any, Iterator

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._typing import FloatArray, IntArray
from .linkage import METHODS
from .linkage import linkage as _linkage
from .metrics import METRICS, _default_inverse_covariance, _default_variances, cdist
from .tree import cut as _cut

#: Methods defined through Euclidean geometry (centroids, variances).
_EUCLIDEAN_ONLY = ("ward", "centroid", "median")

#: Upper bound on the entries of one block of new-to-training distances.
_BLOCK_ENTRIES = 1 << 22


class HierarchicalClustering(ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """Agglomerative hierarchical clustering that can assign new observations.

    Builds the full tree with :func:`hclust.linkage` (exact, scipy's ``Z``),
    cuts it into segments, and joins new observations to the fitted
    segments by the linkage's own rule (:meth:`predict`).

    Parameters
    ----------
    n_clusters : int or None, default=2
        Number of segments. Pass ``None`` together with ``distance_threshold``.
    linkage : str, default="ward"
        ``"single"``, ``"complete"``, ``"average"``, ``"weighted"``,
        ``"ward"``, ``"centroid"``, ``"median"`` or ``"flexible"``, with the
        meanings of :func:`hclust.linkage`.
    metric : str, default="euclidean"
        A metric of :data:`hclust.metrics.METRICS`, or ``"precomputed"``:
        ``X`` is then a square distance matrix in ``fit`` and an
        ``(n_new, n_train)`` matrix of distances to the training
        observations in ``predict``. Ward, centroid and median need
        ``"euclidean"``.
    distance_threshold : float or None, default=None
        Cut the tree at this height instead of into ``n_clusters`` segments:
        merges above it are undone (scipy's ``fcluster(Z, t, "distance")``).
    beta : float, default=-0.25
        The flexible linkage's parameter, ``-1 <= beta < 1``; ignored by the
        other linkages.
    n_jobs : int or None, default=None
        Threads for the distance computations; None uses all cores. The
        result does not depend on it.

    Attributes
    ----------
    linkage_matrix_ : ndarray of shape (n_samples - 1, 4)
        scipy's linkage matrix of the training data.
    labels_ : ndarray of int64, shape (n_samples,)
        Segment of each training observation, ``0 .. n_clusters_ - 1``,
        numbered in order of first appearance (see :func:`hclust.tree.cut`).
    n_clusters_ : int
        Number of segments.
    n_features_in_ : int
        Number of features seen in ``fit`` (for ``"precomputed"``, the number
        of training observations).
    feature_names_in_ : ndarray of str, shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string column names.
    X_ : ndarray of shape (n_samples, ``n_features_in_``)
        The training data (or distance matrix), kept for :meth:`predict`.
    segment_sizes_ : ndarray of int64, shape (``n_clusters_``,)
        Number of training observations in each segment.
    segment_weights_ : ndarray of float64, shape (``n_clusters_``,)
        Sum of the sample weights in each segment (the sizes without weights).
    centroids_ : ndarray of shape (``n_clusters_``, ``n_features_in_``) or None
        Weighted mean of each segment; None for ``"precomputed"``.

    See Also
    --------
    hclust.linkage : the tree itself.
    hclust.tree.cut : the flat cut used for ``labels_``.
    sklearn.cluster.AgglomerativeClustering : the scikit-learn counterpart, without ``predict``.

    Notes
    -----
    ``predict`` joins a new observation ``x`` to the segment ``S`` (with
    weights ``w_j``, total ``W_S``, weighted centroid ``c_S``) that minimises
    the linkage's distance between ``{x}`` and ``S``:

    * single: ``min_j d(x, x_j)``, the segment of the nearest training
      observation (so the training data predict their own ``labels_``);
    * complete: ``max_j d(x, x_j)``;
    * average: ``sum_j w_j d(x, x_j) / W_S``;
    * ward: ``W_S / (W_S + 1) * ||x - c_S||^2``, the increase of the
      within-segment sum of squares (a new observation has weight 1);
    * centroid: ``||x - c_S||``;
    * median: ``||x - m_S||`` where ``m`` of a merge is the midpoint of its
      two parts' ``m`` (WPGMC's unweighted centre);
    * weighted and flexible: the Lance-Williams recursion evaluated down the
      segment's subtree, ``d(x, A+B) = (d(x, A) + d(x, B)) / 2`` (weighted),
      ``(1 - beta) / 2 (d(x, A) + d(x, B)) + beta h(A, B)`` (flexible, with
      the merge height ``h``).

    These are exactly the distances at which ``x`` would join ``S`` if it
    were merged last. For weighted and flexible the recursion is unrolled at
    fit time into fixed coefficients (``alpha ** depth`` for a leaf at that
    depth below its segment's root), so every rule but ward, centroid and
    median costs one distance per training observation. Ties go to the
    smaller segment label. New observations are processed in blocks, so
    memory stays O(block x n_samples).

    Sample weights are counts (see :func:`hclust.linkage`): weight ``c``
    gives the tree of the row repeated ``c`` times. They must be positive
    (drop rows of weight 0 before fitting); they change the tree for
    average, ward and centroid (single, complete, weighted and median are
    unchanged by repeated rows) and flexible refuses them (repeating a row
    changes its tree in a way no weight reproduces).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.estimator import HierarchicalClustering
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [2.0, 0.0],
    ...               [9.0, 9.0], [9.0, 10.5], [10.0, 9.0]])
    >>> model = HierarchicalClustering(n_clusters=2, linkage="ward").fit(X)
    >>> model.labels_
    array([0, 0, 0, 1, 1, 1])
    >>> model.predict([[0.5, 0.5], [8.0, 8.0]])
    array([0, 1])
    >>> model.cut(n_clusters=3)
    array([0, 0, 1, 2, 2, 2])
    """

    def __init__(
        self,
        n_clusters: int | None = 2,
        *,
        linkage: str = "ward",
        metric: str = "euclidean",
        distance_threshold: float | None = None,
        beta: float = -0.25,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.linkage = linkage
        self.metric = metric
        self.distance_threshold = distance_threshold
        self.beta = beta
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> tuple[int | None, float | None]:
        """Cross-parameter checks; return the cut (n_clusters or height)."""
        if not isinstance(self.linkage, str) or self.linkage not in METHODS:
            raise ValueError(
                f"Unknown linkage {self.linkage!r}; valid values are: {', '.join(METHODS)}."
            )
        if self.metric == "gower":
            raise ValueError(
                "HierarchicalClustering does not support metric='gower' yet. For mixed-type "
                "tables call hclust.linkage(df, 'average', metric='gower') and cut the tree with "
                "hclust.cut, or encode the table first (hclust.segment.Preparer)."
            )
        valid_metrics = tuple(sorted(METRICS + ("precomputed",)))
        if not isinstance(self.metric, str) or self.metric not in valid_metrics:
            raise ValueError(
                f"Unknown metric {self.metric!r}; valid values are: {', '.join(valid_metrics)}."
            )
        if self.linkage in _EUCLIDEAN_ONLY and self.metric != "euclidean":
            raise ValueError(
                f"linkage={self.linkage!r} needs metric='euclidean', not {self.metric!r}. "
                f"Use linkage='average' or 'complete' with metric={self.metric!r}."
            )
        if (self.n_clusters is None) == (self.distance_threshold is None):
            raise ValueError(
                "Pass exactly one of n_clusters and distance_threshold; got "
                f"n_clusters={self.n_clusters!r} and distance_threshold={self.distance_threshold!r}. "
                "To cut at a height, set n_clusters=None."
            )
        if self.n_clusters is not None:
            if (
                not isinstance(self.n_clusters, numbers.Integral)
                or isinstance(self.n_clusters, bool)
                or self.n_clusters < 1
            ):
                raise ValueError(f"n_clusters must be a positive integer; got {self.n_clusters!r}.")
            return int(self.n_clusters), None
        threshold = self.distance_threshold
        if (
            not isinstance(threshold, numbers.Real)
            or isinstance(threshold, bool)
            or not np.isfinite(threshold)
            or threshold < 0
        ):
            raise ValueError(
                f"distance_threshold must be a finite number >= 0; got {threshold!r}."
            )
        return None, float(threshold)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> HierarchicalClustering:
        """Build the tree of ``X`` and cut it into segments.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric observations, or a square distance matrix with
            ``metric="precomputed"``.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), optional
            Positive observation weights (counts).

        Returns
        -------
        self : HierarchicalClustering
            The fitted estimator.

        Raises
        ------
        ValueError
            Inconsistent parameters (the message names them), fewer than 2
            observations, NaN or infinite values, ``n_clusters`` larger than
            the number of observations, bad sample weights.
        """
        n_clusters, height = self._check_params()
        X = validate_data(self, X, ensure_min_samples=2, dtype=np.float64)
        n = X.shape[0]
        precomputed = self.metric == "precomputed"
        if precomputed and X.shape[1] != n:
            raise ValueError(
                f"metric='precomputed' needs a square distance matrix; got shape {X.shape}."
            )
        if precomputed:
            _check_distances(X)
        if n_clusters is not None and n_clusters > n:
            raise ValueError(
                f"n_clusters={n_clusters} is larger than the number of observations "
                f"n_samples={n}; choose n_clusters <= {n}."
            )
        weights = self._check_sample_weight(sample_weight, n)
        Z = _linkage(
            X,
            self.linkage,
            self.metric,
            weights=weights,
            beta=self.beta,
            n_jobs=self.n_jobs,
        )
        self._adopt_tree(X, Z, _cut(Z, n_clusters=n_clusters, height=height), weights)
        return self

    def _adopt_tree(
        self, X: FloatArray, Z: FloatArray, labels: IntArray, weights: FloatArray | None
    ) -> None:
        """Set every fitted attribute from a tree and its cut (``fit``, or a saved model)."""
        n = X.shape[0]
        precomputed = self.metric == "precomputed"
        k = int(labels.max()) + 1
        w = np.ones(n) if weights is None else weights

        self.linkage_matrix_ = Z
        self.labels_ = labels
        self.n_clusters_ = k
        self.X_ = X
        self.segment_sizes_ = np.bincount(labels, minlength=k).astype(np.int64)
        self.segment_weights_ = np.bincount(labels, weights=w, minlength=k)
        self._metric_kwargs: dict[str, Any] = {}
        if precomputed:
            self.centroids_ = None
        else:
            sums = np.zeros((k, X.shape[1]))
            np.add.at(sums, labels, w[:, None] * X)
            self.centroids_ = sums / self.segment_weights_[:, None]
            if self.metric == "seuclidean":
                self._metric_kwargs = {"V": _default_variances(X)}
            elif self.metric == "mahalanobis":
                self._metric_kwargs = {"VI": _default_inverse_covariance(X)}
        self._order = np.argsort(labels, kind="stable")
        self._starts = np.searchsorted(labels[self._order], np.arange(k))
        self._X_sorted: FloatArray | None = None
        if not precomputed and self.linkage not in ("ward", "centroid", "median"):
            # training rows grouped by segment, so that distance blocks need no gather
            self._X_sorted = np.ascontiguousarray(X[self._order])
        if self.linkage == "median":
            self._medians = _node_midpoints(Z, X)[_segment_roots(Z, labels, k)]
        elif self.linkage == "average":
            self._coefficients = (w / self.segment_weights_[labels])[self._order]
            self._constants = np.zeros(k)
        elif self.linkage in ("weighted", "flexible"):
            alpha, gamma = (0.5, 0.0) if self.linkage == "weighted" else ((1.0 - self.beta) / 2.0, self.beta)
            roots = _segment_roots(Z, labels, k)
            coefficients, self._constants = _unrolled_recursion(Z, roots, alpha, gamma)
            self._coefficients = coefficients[self._order]

    def _check_sample_weight(self, sample_weight: Any, n: int) -> FloatArray | None:
        if sample_weight is None:
            return None
        if self.linkage == "flexible":
            raise ValueError(
                "sample_weight has no meaning for linkage='flexible': its update does not "
                "reduce to repeated observations. Use 'average', 'ward' or 'centroid' for "
                "weighted data, or fit without sample_weight."
            )
        w = np.asarray(sample_weight)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(
                f"sample_weight must have shape ({n},), one weight per observation; got shape {w.shape}."
            )
        try:
            w = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("sample_weight must hold numbers.") from None
        zero = np.flatnonzero(w == 0)
        if zero.size:
            raise ValueError(
                f"sample_weight has {zero.size} zero weight(s), first at position {int(zero[0])}; "
                "every observation in the tree needs a positive weight. Drop the rows of weight 0 "
                "before fitting (predict can assign them afterwards)."
            )
        # the other values (negative, NaN) are checked by hclust.linkage
        return w

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> IntArray:
        """Fit and return ``labels_``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            As in :meth:`fit`.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), optional
            As in :meth:`fit`.

        Returns
        -------
        labels : ndarray of int64, shape (n_samples,)
            Segment of each observation.
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    # ------------------------------------------------------------------ use

    def cut(self, n_clusters: int | None = None, height: float | None = None) -> IntArray:
        """Labels of the training observations for another cut, without refitting.

        Parameters
        ----------
        n_clusters : int, optional
            Number of segments, ``1 .. n_samples``.
        height : float, optional
            Cut height. Pass exactly one of the two.

        Returns
        -------
        labels : ndarray of int64, shape (n_samples,)
            As :func:`hclust.tree.cut` of ``linkage_matrix_``. The fitted
            segments (``labels_``, used by :meth:`predict`) do not change.

        Examples
        --------
        >>> import numpy as np
        >>> from hclust.estimator import HierarchicalClustering
        >>> X = np.array([[0.0], [1.0], [10.0], [11.0], [30.0]])
        >>> model = HierarchicalClustering(n_clusters=2, linkage="single").fit(X)
        >>> model.cut(height=5.0)
        array([0, 0, 1, 1, 2])
        """
        check_is_fitted(self)
        return _cut(self.linkage_matrix_, n_clusters=n_clusters, height=height)

    def predict(self, X: Any) -> IntArray:
        """Join each new observation to one of the fitted segments.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_new, ``n_features_in_``)
            New observations with the training features; for
            ``metric="precomputed"``, their distances to the ``n_samples``
            training observations.

        Returns
        -------
        labels : ndarray of int64, shape (n_new,)
            The segment (of ``labels_``) each new observation joins, by the
            linkage's rule (see the class Notes).

        Raises
        ------
        ValueError
            NaN or infinite values, or a different number of features than in
            ``fit`` (both numbers are named).
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        X = self._check_new(X)
        labels = np.empty(X.shape[0], dtype=np.int64)
        for start, scores in self._blocks_of_scores(X):
            labels[start : start + scores.shape[0]] = np.argmin(scores, axis=1)
        return labels

    def _check_new(self, X: Any) -> FloatArray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.metric == "precomputed":
            _check_distances(X)
        return X

    def _blocks_of_scores(self, X: FloatArray) -> Iterator[tuple[int, FloatArray]]:
        """(first row, linkage scores of a block of rows), block by block: memory O(block x n)."""
        block = max(1, _BLOCK_ENTRIES // self.X_.shape[0])
        for start in range(0, X.shape[0], block):
            yield start, self._scores(X[start : start + block])

    def join_heights(self, X: Any) -> FloatArray:
        """Height at which each new observation would join each fitted segment.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_new, ``n_features_in_``)
            As for :meth:`predict`.

        Returns
        -------
        heights : ndarray of shape (n_new, ``n_clusters_``)
            The linkage distance between ``{x}`` and each segment, in the units
            of the tree's heights (``linkage_matrix_[:, 2]``): ward
            ``sqrt(2 W_S / (W_S + 1)) ||x - c_S||``, centroid ``||x - c_S||``,
            median ``||x - m_S||``, and for the other linkages the distances of
            the class Notes. :meth:`predict` is the argmin of each row (ties
            to the smaller label).
        """
        X = self._check_new(X)
        heights = np.empty((X.shape[0], self.n_clusters_))
        for start, scores in self._blocks_of_scores(X):
            heights[start : start + scores.shape[0]] = scores
        if self.linkage == "ward":
            np.sqrt(2.0 * heights, out=heights)
        elif self.linkage in ("centroid", "median"):
            np.sqrt(heights, out=heights)
        return heights

    def _sorted_distances(self, rows: FloatArray) -> FloatArray:
        """Distances from ``rows`` to the training observations, columns grouped by segment."""
        if self.metric == "precomputed":
            return rows[:, self._order]
        assert self._X_sorted is not None
        return cdist(rows, self._X_sorted, self.metric, n_jobs=self.n_jobs, **self._metric_kwargs)

    def _scores(self, rows: FloatArray) -> FloatArray:
        """Linkage distance between each row and each segment, shape (len(rows), k)."""
        method = self.linkage
        if method in ("ward", "centroid"):
            assert self.centroids_ is not None
            sq = cdist(rows, self.centroids_, "sqeuclidean", n_jobs=self.n_jobs)
            if method == "centroid":
                return sq
            size = self.segment_weights_
            return sq * (size / (size + 1.0))
        if method == "median":
            return cdist(rows, self._medians, "sqeuclidean", n_jobs=self.n_jobs)
        D = self._sorted_distances(rows)
        if method == "single":
            return np.minimum.reduceat(D, self._starts, axis=1)
        if method == "complete":
            return np.maximum.reduceat(D, self._starts, axis=1)
        # average, weighted, flexible: a fixed linear combination of the distances
        D *= self._coefficients
        return np.add.reduceat(D, self._starts, axis=1) + self._constants

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        # distances are non-negative; observations may be anything finite
        tags.input_tags.positive_only = self.metric == "precomputed"
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


def _check_distances(D: FloatArray) -> None:
    negative = np.flatnonzero(D.ravel() < 0)
    if negative.size:
        i, j = np.unravel_index(int(negative[0]), D.shape)
        raise ValueError(
            f"Negative values in data passed as distances (metric='precomputed'): "
            f"X[{i}, {j}] = {D[i, j]!r}. Distances must be >= 0; pass observations with a "
            "metric instead if X holds features."
        )


def _segment_roots(Z: FloatArray, labels: IntArray, k: int) -> IntArray:
    """Tree node of each segment: the largest node whose leaves all carry its label."""
    n = labels.shape[0]
    node_label = np.full(2 * n - 1, -1, dtype=np.int64)
    node_label[:n] = labels
    children = Z[:, :2].astype(np.int64)
    for i in range(n - 1):
        a, b = children[i]
        if node_label[a] == node_label[b]:
            node_label[n + i] = node_label[a]
    roots = np.full(k, -1, dtype=np.int64)
    intact = np.flatnonzero(node_label >= 0)
    np.maximum.at(roots, node_label[intact], intact)
    return roots


def _node_midpoints(Z: FloatArray, X: FloatArray) -> FloatArray:
    """WPGMC centre of every node: a leaf's row, a merge's midpoint of its parts."""
    n = X.shape[0]
    centres = np.empty((2 * n - 1, X.shape[1]))
    centres[:n] = X
    children = Z[:, :2].astype(np.int64)
    for i in range(n - 1):
        a, b = children[i]
        centres[n + i] = 0.5 * (centres[a] + centres[b])
    return centres


def _unrolled_recursion(
    Z: FloatArray, roots: IntArray, alpha: float, gamma: float
) -> tuple[FloatArray, FloatArray]:
    """Unroll ``d(x, A+B) = alpha (d(x, A) + d(x, B)) + gamma h(A, B)`` down each segment.

    Returns ``coefficients`` (n,) and ``constants`` (k,) with
    ``d(x, S) = sum_{j in S} coefficients[j] d(x, x_j) + constants[S]``: a leaf's
    coefficient is ``alpha ** depth`` below its segment root, and each merge
    inside the segment adds ``alpha ** depth * gamma * h``. Parents are visited
    before children (descending node numbers), no recursion.
    """
    n = Z.shape[0] + 1
    k = roots.shape[0]
    coefficients = np.zeros(2 * n - 1)
    segment = np.full(2 * n - 1, -1, dtype=np.int64)
    coefficients[roots] = 1.0
    segment[roots] = np.arange(k)
    constants = np.zeros(k)
    children = Z[:, :2].astype(np.int64)
    for i in range(n - 2, -1, -1):
        s = segment[n + i]
        if s < 0:  # above the cut
            continue
        c = coefficients[n + i]
        a, b = children[i]
        coefficients[a] = coefficients[b] = alpha * c
        segment[a] = segment[b] = s
        constants[s] += c * gamma * Z[i, 2]
    return coefficients[:n], constants
