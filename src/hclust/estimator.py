"""scikit-learn compatible hierarchical clustering with ``predict``."""

from __future__ import annotations

import numbers
from typing import Any, Iterator

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, check_memory, validate_data

from ._typing import FloatArray, IntArray
from ._validation import is_integer
from ._methods import method_info, methods_where
from ._linkage import METHODS
from ._linkage import linkage as _linkage
from .metrics import METRICS, _default_inverse_covariance, _default_variances, cdist
from .tree import _children

#: Methods defined through Euclidean geometry (centroids, variances).
_EUCLIDEAN_ONLY = methods_where(squared=True)

#: Upper bound on the entries of one block of new-to-training distances.
_BLOCK_ENTRIES = 1 << 22

#: scikit-learn's metric names that hclust spells differently.
_SKLEARN_METRICS = {"l1": "cityblock", "manhattan": "cityblock", "l2": "euclidean"}


class HierarchicalClustering(ClusterMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn has no types: Any bases
    """Agglomerative hierarchical clustering that can assign new observations.

    A drop-in for :class:`sklearn.cluster.AgglomerativeClustering`: the same
    parameters with the same meanings and the same fitted attributes, with
    the exact, faster engine of :func:`hclust.linkage`, every linkage of
    hclust, observation weights, :meth:`predict` (new observations join the
    fitted segments by the linkage's own rule) and :meth:`cut`.

    Parameters
    ----------
    n_clusters : int or None, default=2
        Number of segments. Pass ``None`` together with ``distance_threshold``.
    metric : str or callable, default="euclidean"
        A metric of :data:`hclust.metrics.METRICS` (scipy's names and
        aliases), scikit-learn's ``"l1"``, ``"l2"`` and ``"manhattan"``, a
        function ``f(u, v) -> float`` of two rows (scikit-learn's
        ``pairwise_distances`` convention), or ``"precomputed"``: ``X`` is
        then a square distance matrix in ``fit`` and an ``(n_new, n_train)``
        matrix of distances to the training observations in ``predict``.
        Ward, centroid and median need ``"euclidean"`` (or ``"l2"``).
    memory : str or object with the joblib.Memory interface, default=None
        Caches the tree (``memory.cache``), as scikit-learn does; a string is
        a cache directory.
    connectivity : sparse matrix, array-like or callable, default=None
        Structured clustering: only clusters joined by an edge of this
        ``(n_samples, n_samples)`` graph merge, or a callable that returns
        the graph from ``X`` (e.g. ``functools.partial(kneighbors_graph,
        n_neighbors=10)``). For single, complete, average and ward, with
        scikit-learn's ``ward_tree`` / ``linkage_tree`` meaning (see
        :func:`hclust.linkage`); a graph with several components is
        completed with a :class:`hclust.ConnectivityWarning`.
    compute_full_tree : "auto" or bool, default="auto"
        ``False`` stops merging at ``n_clusters`` segments (only with a
        connectivity graph, as in scikit-learn); ``children_`` and
        ``distances_`` then have ``n_leaves_ - n_clusters`` rows,
        ``linkage_matrix_`` is None and :meth:`cut` is unavailable. ``"auto"``
        is ``True`` with ``distance_threshold`` or when ``n_clusters <
        max(100, 0.02 n_samples)``. Must be ``True`` (or ``"auto"``) with
        ``distance_threshold``.
    linkage : str, default="ward"
        ``"single"``, ``"complete"``, ``"average"``, ``"weighted"``,
        ``"ward"``, ``"centroid"``, ``"median"`` or ``"flexible"``, with the
        meanings of :func:`hclust.linkage`.
    distance_threshold : float or None, default=None
        Cut at this height instead of into ``n_clusters`` segments, by
        scikit-learn's rule: every merge at a height ``>= distance_threshold``
        is undone, so segments are joined only below it (``n_clusters_`` is
        one more than the number of such merges). :func:`hclust.cut` and
        :func:`hclust.fcluster` keep scipy's rule, which also keeps merges
        at exactly the threshold.
    compute_distances : bool, default=False
        Accepted for scikit-learn compatibility: ``distances_`` is always
        set, at no extra cost.
    beta : float, default=-0.25
        The flexible linkage's parameter, ``-1 <= beta < 1``; ignored by the
        other linkages.
    n_jobs : int or None, default=None
        Threads for the distance computations; None uses all cores. The
        result does not depend on it.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_samples,)
        Segment of each training observation, ``0 .. n_clusters_ - 1``.
        Segments are numbered in the lexicographic order of their smallest
        observation (their first appearance once the rows are sorted), so
        the numbers do not depend on the order of the rows; with
        ``metric="precomputed"`` by first appearance in the training rows.
    n_clusters_ : int
        Number of segments.
    n_leaves_ : int
        Leaves of the tree: the training observations of positive weight.
    n_connected_components_ : int
        Connected components of the connectivity graph (1 without one).
    n_features_in_ : int
        Number of features seen in ``fit`` (for ``"precomputed"``, the number
        of training observations).
    feature_names_in_ : ndarray of str, shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string column names.
    children_ : ndarray of shape (``n_leaves_`` - 1, 2)
        The two nodes merged at each step (leaves ``0 .. n_leaves_ - 1``,
        merge ``i`` creates node ``n_leaves_ + i``), smaller node first, as
        scikit-learn's ``children_``.
    distances_ : ndarray of shape (``n_leaves_`` - 1,)
        Height of each merge (scikit-learn's ``distances_``; ward heights are
        ``sqrt(2 * increase of the within-cluster sum of squares)``, as in
        scipy and scikit-learn).
    linkage_matrix_ : ndarray of shape (``n_leaves_`` - 1, 4) or None
        scipy's linkage matrix of the tree (None when
        ``compute_full_tree=False`` stopped early).
    leaf_rows_ : ndarray of int64, shape (``n_leaves_``,)
        The training row of each leaf of the tree (all rows unless some
        sample weights were 0).
    X_ : ndarray of shape (``n_leaves_``, ``n_features_in_``)
        The training data of the leaves (or their distances), kept for
        :meth:`predict`.
    segment_sizes_ : ndarray of int64, shape (``n_clusters_``,)
        Number of leaves in each segment.
    segment_weights_ : ndarray of float64, shape (``n_clusters_``,)
        Sum of the sample weights in each segment (the sizes without weights).
    centroids_ : ndarray of shape (``n_clusters_``, ``n_features_in_``) or None
        Weighted mean of each segment; None for ``"precomputed"``.

    See Also
    --------
    hclust.linkage : the tree itself.
    hclust.cut : flat cuts of a tree with scipy's rules.
    sklearn.cluster.AgglomerativeClustering : the scikit-learn counterpart.

    Notes
    -----
    Segments, as in scikit-learn, are what remains when the last merges of
    the tree are undone (``n_clusters - 1`` of them, or those at or above
    ``distance_threshold``). On a tree whose heights never decrease this is
    :func:`hclust.cut`; on one with inversions (centroid, median, and ward
    or average under a connectivity graph) the last merges in merge order
    are undone, as scikit-learn does.

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
    were merged last (without a connectivity graph: ``predict`` ignores the
    graph). For weighted and flexible the recursion is unrolled at fit time
    into fixed coefficients (``alpha ** depth`` for a leaf at that depth
    below its segment's root), so every rule but ward, centroid and median
    costs one distance per training observation. Ties go to the smaller
    segment label. New observations are processed in blocks, so memory
    stays O(block x n_samples).

    Sample weights are counts (see :func:`hclust.linkage`): weight ``c``
    gives the tree of the row repeated ``c`` times, and weight 0 leaves the
    row out, as scikit-learn's estimators do: the tree is built on the rows
    of positive weight (``leaf_rows_``), and each row of weight 0 gets the
    segment :meth:`predict` gives it. Weights change the tree for average,
    ward and centroid (single, complete, weighted and median are unchanged
    by repeated rows); flexible refuses them (repeating a row changes its
    tree in a way no weight reproduces).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.estimator import HierarchicalClustering
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [2.0, 0.0],
    ...               [9.0, 9.0], [9.0, 10.5], [10.0, 9.0]])
    >>> model = HierarchicalClustering(n_clusters=2, linkage="ward").fit(X)
    >>> model.labels_
    array([0, 0, 0, 1, 1, 1])
    >>> model.children_[:2], model.distances_[:2]
    (array([[0, 1],
           [3, 5]]), array([1., 1.]))
    >>> model.predict([[0.5, 0.5], [8.0, 8.0]])
    array([0, 1])
    >>> model.cut(n_clusters=3)
    array([0, 0, 1, 2, 2, 2])

    Structured clustering: here each row may only merge with the next one
    (a chain graph; a ``kneighbors_graph`` is the usual choice):

    >>> chain = np.eye(6, k=1)
    >>> HierarchicalClustering(n_clusters=2, connectivity=chain).fit(X).labels_
    array([0, 0, 0, 1, 1, 1])
    """

    _left_out_rows: FloatArray | None  # rows the connectivity engine left out, for predict

    def __init__(
        self,
        n_clusters: int | None = 2,
        *,
        metric: Any = "euclidean",
        memory: Any = None,
        connectivity: Any = None,
        compute_full_tree: str | bool = "auto",
        linkage: str = "ward",
        distance_threshold: float | None = None,
        compute_distances: bool = False,
        beta: float = -0.25,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.metric = metric
        self.memory = memory
        self.connectivity = connectivity
        self.compute_full_tree = compute_full_tree
        self.linkage = linkage
        self.distance_threshold = distance_threshold
        self.compute_distances = compute_distances
        self.beta = beta
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> tuple[int | None, float | None]:
        """Cross-parameter checks; return the cut (n_clusters or height)."""
        if not isinstance(self.linkage, str) or self.linkage not in METHODS:
            raise ValueError(
                f"Unknown linkage {self.linkage!r}; valid values are: {', '.join(METHODS)}."
            )
        metric = _metric_of(self.metric)
        if metric == "gower":
            raise ValueError(
                "HierarchicalClustering does not support metric='gower' yet. For mixed-type "
                "tables call hclust.linkage(df, 'average', metric='gower') and cut the tree with "
                "hclust.cut, or encode the table first (hclust.segment.Preparer)."
            )
        if self.linkage in _EUCLIDEAN_ONLY and metric != "euclidean":
            raise ValueError(
                f"linkage={self.linkage!r} needs metric='euclidean', not {self.metric!r}. "
                f"Use linkage='average' or 'complete' with metric={self.metric!r}."
            )
        if not (isinstance(self.compute_full_tree, (bool, np.bool_)) or self.compute_full_tree == "auto"):
            raise ValueError(
                f"compute_full_tree must be 'auto', True or False; got {self.compute_full_tree!r}."
            )
        if not isinstance(self.compute_distances, (bool, np.bool_)):
            raise ValueError(f"compute_distances must be True or False; got {self.compute_distances!r}.")
        if (self.n_clusters is None) == (self.distance_threshold is None):
            raise ValueError(
                "Pass exactly one of n_clusters and distance_threshold; got "
                f"n_clusters={self.n_clusters!r} and distance_threshold={self.distance_threshold!r}. "
                "To cut at a height, set n_clusters=None."
            )
        if self.n_clusters is not None:
            if not is_integer(self.n_clusters) or self.n_clusters < 1:
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
        if self.compute_full_tree is False:
            raise ValueError(
                "compute_full_tree=False stops the tree at n_clusters, so it cannot be cut at "
                "distance_threshold; use compute_full_tree='auto' or True."
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
            Non-negative observation weights (counts); rows of weight 0 are
            left out of the tree and labelled by :meth:`predict`.

        Returns
        -------
        self : HierarchicalClustering
            The fitted estimator.

        Raises
        ------
        ValueError
            Inconsistent parameters (the message names them), fewer than 2
            observations (of positive weight), NaN or infinite values,
            ``n_clusters`` larger than the number of observations, bad sample
            weights, a connectivity graph of the wrong shape.
        """
        n_clusters, height = self._check_params()
        X = validate_data(self, X, ensure_min_samples=2, dtype=np.float64)
        n = X.shape[0]
        metric = _metric_of(self.metric)
        precomputed = metric == "precomputed"
        if precomputed and X.shape[1] != n:
            raise ValueError(
                f"metric='precomputed' needs a square distance matrix; got shape {X.shape}."
            )
        if precomputed:
            _check_distances(X)
        weights = self._check_sample_weight(sample_weight, n)
        keep = np.arange(n) if weights is None else np.flatnonzero(weights > 0)
        leaf_rows, w_tree = keep, (None if weights is None else weights[keep])
        if self.linkage == "flexible" and w_tree is not None:
            # no weighted form: a count is the row repeated (see the class Notes)
            leaf_rows, w_tree = np.repeat(keep, w_tree.astype(np.int64)), None
        n_leaves = leaf_rows.shape[0]
        if n_leaves < 2:
            raise ValueError(
                f"Only {n_leaves} observation(s) have a non-zero sample weight; at least 2 are "
                "needed to build a tree (rows of weight zero are left out)."
            )
        if n_clusters is not None and n_clusters > n_leaves:
            raise ValueError(
                f"n_clusters={n_clusters} is larger than the number of observations "
                f"n_samples={n_leaves}" + ("" if n_leaves == n else " of positive weight")
                + f"; choose n_clusters <= {n_leaves}."
            )
        connectivity = self.connectivity
        if callable(connectivity):
            connectivity = connectivity(X)
        whole = n_leaves == n and np.array_equal(leaf_rows, np.arange(n))
        X_tree = X if whole else (X[np.ix_(leaf_rows, leaf_rows)] if precomputed else X[leaf_rows])
        if connectivity is not None and not whole:
            from ._connectivity import as_graph

            connectivity = as_graph(connectivity, n)[keep][:, keep]
        full = self._full_tree(n_clusters, n_leaves, connectivity is not None)
        n_merges = n_leaves - 1 if full or n_clusters is None else n_leaves - int(n_clusters)
        build = check_memory(self.memory).cache(_build_tree)
        Z, n_components = build(
            X_tree, self.linkage, metric, connectivity, w_tree, self.beta, n_merges, self.n_jobs
        )
        if height is not None:
            n_clusters = int(np.count_nonzero(Z[:, 2] >= height)) + 1
        assert n_clusters is not None
        labels = _undo_last_merges(Z, n_leaves, n_leaves - n_clusters)
        if not precomputed:
            labels = _canonical_labels(labels, X_tree)
        self._adopt_tree(X_tree, Z if full else None, labels, w_tree)
        self.n_connected_components_ = n_components
        self.children_ = Z[:, :2].astype(np.intp)
        self.distances_ = Z[:, 2].copy()
        self.leaf_rows_ = leaf_rows.astype(np.int64)
        self._n_rows = n
        left_out = np.empty(0, dtype=np.int64) if keep.shape[0] == n else np.setdiff1d(np.arange(n), keep)
        if left_out.size:
            self._left_out_rows = X[np.ix_(left_out, leaf_rows)] if precomputed else X[left_out]
        self.labels_ = self._row_labels(labels)
        return self

    def _full_tree(self, n_clusters: int | None, n: int, structured: bool) -> bool:
        """scikit-learn's reading of compute_full_tree (single linkage always builds it whole)."""
        if not structured or n_clusters is None or self.compute_full_tree is True or self.linkage == "single":
            return True
        if self.compute_full_tree == "auto":
            return bool(n_clusters < max(100, 0.02 * n))
        return False

    def _row_labels(self, labels: IntArray) -> IntArray:
        """Labels of the training rows from the leaves' labels; rows of weight 0 by predict."""
        if np.array_equal(self.leaf_rows_, np.arange(self._n_rows)):
            return labels
        full = np.full(self._n_rows, -1, dtype=np.int64)
        # a row repeated by its weight (flexible) takes the label of its first leaf
        full[self.leaf_rows_[::-1]] = labels[::-1]
        if self._left_out_rows is not None:
            full[full < 0] = self._predict_checked(self._left_out_rows)
        return full

    def _adopt_tree(
        self, X: FloatArray, Z: FloatArray | None, labels: IntArray, weights: FloatArray | None
    ) -> None:
        """Set every fitted attribute from a tree and its cut (``fit``, or a saved model)."""
        n = X.shape[0]
        metric = _metric_of(self.metric)
        precomputed = metric == "precomputed"
        k = int(labels.max()) + 1
        w = np.ones(n) if weights is None else weights

        self._metric = metric
        self.linkage_matrix_ = Z
        self.labels_ = labels
        self.n_leaves_ = n
        self.leaf_rows_ = np.arange(n, dtype=np.int64)
        self.n_connected_components_ = 1
        if Z is not None:
            self.children_ = Z[:, :2].astype(np.intp)
            self.distances_ = Z[:, 2].copy()
        self._leaf_weights = weights
        self._left_out_rows = None
        self._n_rows = n
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
            if metric == "seuclidean":
                self._metric_kwargs = {"V": _default_variances(X)}
            elif metric == "mahalanobis":
                self._metric_kwargs = {"VI": _default_inverse_covariance(X)}
        self._order = np.argsort(labels, kind="stable")
        self._starts = np.searchsorted(labels[self._order], np.arange(k))
        self._X_sorted: FloatArray | None = None
        join = method_info(self.linkage).join
        if not precomputed and join in ("min", "max", "linear"):
            # training rows grouped by segment, so that distance blocks need no gather
            self._X_sorted = np.ascontiguousarray(X[self._order])
        if join == "median":
            assert Z is not None
            self._medians = _node_midpoints(Z, X)[_segment_roots(Z, labels, k)]
        elif self.linkage == "average":
            self._coefficients = (w / self.segment_weights_[labels])[self._order]
            self._constants = np.zeros(k)
        elif self.linkage in ("weighted", "flexible"):
            assert Z is not None
            alpha, gamma = (0.5, 0.0) if self.linkage == "weighted" else ((1.0 - self.beta) / 2.0, self.beta)
            roots = _segment_roots(Z, labels, k)
            coefficients, self._constants = _unrolled_recursion(Z, roots, alpha, gamma)
            self._coefficients = coefficients[self._order]

    def _check_sample_weight(self, sample_weight: Any, n: int) -> FloatArray | None:
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(
                f"sample_weight must have shape ({n},), one weight per observation; got shape {w.shape}."
            )
        try:
            w = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("sample_weight must hold numbers.") from None
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"sample_weight must be finite and >= 0; sample_weight[{i}] = {float(w[i])!r}."
            )
        if not (w > 0).any():
            raise ValueError(
                "Every sample weight is zero; at least 2 observations need a non-zero weight."
            )
        if self.linkage == "flexible" and (w != np.round(w)).any():
            i = int(np.flatnonzero(w != np.round(w))[0])
            raise ValueError(
                "linkage='flexible' has no weighted form, so its sample weights must be whole "
                f"counts (a row of weight c is repeated c times); sample_weight[{i}] = {float(w[i])!r}. "
                "Use 'average', 'ward' or 'centroid' for fractional weights."
            )
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
            Number of segments, ``1 .. n_leaves_``.
        height : float, optional
            Cut height, with the rule of ``distance_threshold`` (merges at
            heights ``>= height`` are undone). Pass exactly one of the two.

        Returns
        -------
        labels : ndarray of int64, shape (n_samples,)
            Numbered as ``labels_``; ``cut(n_clusters=model.n_clusters_)`` is
            ``labels_``. Rows of weight 0 join the new segments by the
            :meth:`predict` rule. The fitted segments (``labels_``, used by
            :meth:`predict`) do not change.

        Raises
        ------
        ValueError
            Neither or both of ``n_clusters`` and ``height``, an ``n_clusters``
            outside ``1 .. n_leaves_``, or a tree that ``compute_full_tree=False``
            stopped early.

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
        Z = self.linkage_matrix_
        if Z is None:
            raise ValueError(
                "This model stopped building its tree at n_clusters (compute_full_tree=False); "
                "refit with compute_full_tree=True to cut it elsewhere."
            )
        if (n_clusters is None) == (height is None):
            raise ValueError(
                f"Pass exactly one of n_clusters and height; got n_clusters={n_clusters!r} and height={height!r}."
            )
        n = self.n_leaves_
        if height is not None:
            if not isinstance(height, numbers.Real) or not np.isfinite(height):
                raise ValueError(f"height must be a finite number; got {height!r}.")
            n_clusters = int(np.count_nonzero(Z[:, 2] >= height)) + 1
        if not is_integer(n_clusters) or not 1 <= n_clusters <= n:
            raise ValueError(f"n_clusters must be an integer from 1 to {n}; got {n_clusters!r}.")
        labels = _undo_last_merges(Z, n, n - int(n_clusters))
        if self._metric != "precomputed":
            labels = _canonical_labels(labels, self.X_)
        if self._left_out_rows is None:  # every row is a leaf (possibly repeated)
            return self._row_labels(labels)
        # rows of weight 0 join the new segments by the predict rule
        other = clone(self)
        other.n_features_in_ = self.n_features_in_
        other._adopt_tree(self.X_, Z, labels, self._leaf_weights)
        other.leaf_rows_, other._left_out_rows, other._n_rows = self.leaf_rows_, self._left_out_rows, self._n_rows
        return other._row_labels(labels)

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
        return self._predict_checked(self._check_new(X))

    def _predict_checked(self, X: FloatArray) -> IntArray:
        labels = np.empty(X.shape[0], dtype=np.int64)
        for start, scores in self._blocks_of_scores(X):
            labels[start : start + scores.shape[0]] = np.argmin(scores, axis=1)
        return labels

    def _check_new(self, X: Any) -> FloatArray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self._metric == "precomputed":
            if X.shape[1] != self.X_.shape[0]:
                raise ValueError(
                    f"metric='precomputed': X must hold distances to the {self.X_.shape[0]} "
                    f"observations of the tree; got {X.shape[1]} columns."
                )
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
        join = method_info(self.linkage).join
        if join == "ward":
            np.sqrt(2.0 * heights, out=heights)
        elif join in ("centroid", "median"):
            np.sqrt(heights, out=heights)
        return heights

    def _sorted_distances(self, rows: FloatArray) -> FloatArray:
        """Distances from ``rows`` to the training observations, columns grouped by segment."""
        if self._metric == "precomputed":
            return rows[:, self._order]
        assert self._X_sorted is not None
        return cdist(rows, self._X_sorted, self._metric, n_jobs=self.n_jobs, **self._metric_kwargs)

    def _scores(self, rows: FloatArray) -> FloatArray:
        """Linkage distance between each row and each segment, shape (len(rows), k)."""
        join = method_info(self.linkage).join  # the table: hclust._methods
        if join in ("ward", "centroid"):
            assert self.centroids_ is not None
            sq = cdist(rows, self.centroids_, "sqeuclidean", n_jobs=self.n_jobs)
            if join == "centroid":
                return sq
            size = self.segment_weights_
            return sq * (size / (size + 1.0))
        if join == "median":
            return cdist(rows, self._medians, "sqeuclidean", n_jobs=self.n_jobs)
        D = self._sorted_distances(rows)
        if join == "min":
            return np.minimum.reduceat(D, self._starts, axis=1)
        if join == "max":
            return np.maximum.reduceat(D, self._starts, axis=1)
        # average, weighted, flexible: a fixed linear combination of the distances
        D *= self._coefficients
        return np.add.reduceat(D, self._starts, axis=1) + self._constants

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        precomputed = isinstance(self.metric, str) and self.metric == "precomputed"
        tags.input_tags.pairwise = precomputed
        # distances are non-negative; observations may be anything finite
        tags.input_tags.positive_only = precomputed
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags



def _metric_of(metric: Any) -> Any:
    """hclust's name for a metric given with scikit-learn's or scipy's name (callables as they are)."""
    if callable(metric):
        return metric
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a string or a callable f(u, v); got {metric!r}.")
    if metric in _SKLEARN_METRICS:
        return _SKLEARN_METRICS[metric]
    if metric in ("precomputed", "gower") or metric in METRICS:
        return metric
    from ._metrics import normalize

    try:
        return normalize(metric, extra=("precomputed",))
    except ValueError:
        valid = tuple(sorted(METRICS + ("precomputed",) + tuple(_SKLEARN_METRICS)))
        raise ValueError(
            f"Unknown metric {metric!r}; valid values are: {', '.join(valid)}, scipy's aliases, "
            "or a function f(u, v) -> float."
        ) from None


def _build_tree(
    X: FloatArray,
    method: str,
    metric: Any,
    connectivity: Any,
    weights: FloatArray | None,
    beta: float,
    n_merges: int,
    n_jobs: int | None,
) -> tuple[FloatArray, int]:
    """(Z, connected components): the tree ``fit`` cuts (module level, so that joblib can cache it)."""
    if connectivity is None:
        return _linkage(X, method, metric, weights=weights, beta=beta, n_jobs=n_jobs), 1
    from ._connectivity import constrained_linkage

    return constrained_linkage(
        X, method, metric, connectivity, weights=weights, n_merges=n_merges, n_jobs=n_jobs
    )


def _undo_last_merges(Z: FloatArray, n: int, n_kept_merges: int) -> IntArray:
    """Clusters of the first ``n_kept_merges`` merges of ``Z`` (scikit-learn's ``_hc_cut``).

    A merge is created after its children, so the last merges are always the
    top of the tree and undoing them leaves ``n - n_kept_merges`` subtrees.
    Labels are numbered by first appearance.
    """
    parent = np.arange(2 * n - 1)
    children = _children(Z[:n_kept_merges])
    parent[children[:, 0]] = n + np.arange(n_kept_merges)
    parent[children[:, 1]] = n + np.arange(n_kept_merges)
    # every node's root: parents have larger ids, so one sweep from the top settles all
    root = parent.copy()
    for node in range(n + n_kept_merges - 1, -1, -1):
        root[node] = root[parent[node]]
    _, first, inverse = np.unique(root[:n], return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    return rank[inverse.ravel()]


def _canonical_labels(labels: IntArray, X: FloatArray) -> IntArray:
    """Renumber segments in the lexicographic order of their smallest row (row order free)."""
    order = np.lexsort(X.T[::-1])
    _, first = np.unique(labels[order], return_index=True)
    seen = labels[order][np.sort(first)]
    rank = np.empty(seen.shape[0], dtype=np.int64)
    rank[seen] = np.arange(seen.shape[0])
    return rank[labels]

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
    children = _children(Z)
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
    children = _children(Z)
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
    children = _children(Z)
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
