"""Agglomerative hierarchical clustering: ``linkage(X or y, method) -> Z``.

The public function validates and dispatches; the algorithms are numba
kernels in ``hclust._kernels`` (DESIGN.md, "The engine: algorithm per
linkage").
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np

from . import _metrics
from ._kernels import generic as _generic
from ._kernels import new_cursor
from ._kernels import lance_williams as _lw
from ._kernels import mst as _mst
from ._kernels import nnchain as _nnchain
from ._kernels.unionfind import merges_to_linkage
from ._inputs import (
    check_distance_scale,
    check_method_weights,
    check_observation_scale,
    prepare_input,
)
from ._methods import METHODS as _METHODS
from ._methods import method_info
from ._threads import ParallelChooser, numba_threads
from ._typing import FloatArray, ProgressCallback
from ._validation import check_memory, check_option, format_bytes, no_progress, scan_distances

#: Names of the linkage methods (the table: hclust._methods).
METHODS: tuple[str, ...] = _METHODS

#: Metrics for which single linkage runs on the vectors without a matrix.
_VECTOR_METRICS = {
    "euclidean": _mst.VEC_EUCLIDEAN,
    "sqeuclidean": _mst.VEC_SQEUCLIDEAN,
    "cityblock": _mst.VEC_CITYBLOCK,
    "chebyshev": _mst.VEC_CHEBYSHEV,
}

#: Work per resumable kernel call (distance reads), so that progress is
#: reported and Ctrl-C is honoured a few times a second.
_WORK_PER_CALL = 20_000_000

#: Work (distance reads) of a kernel's first call, before its speed is
#: known; later calls are sized to last about 10 ms (ParallelChooser).
_FIRST_WORK = 200_000

#: Recomputation reads (times n^2) the generic algorithm may spend on a
#: reducible method before the nearest-neighbour chain takes over.
_GENERIC_BUDGET = 3


def linkage(
    y: Any,
    method: str = "single",
    metric: str = "euclidean",
    optimal_ordering: bool = False,
    *,
    weights: Any = None,
    beta: float = -0.25,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
    algorithm: str = "auto",
    connectivity: Any = None,
) -> FloatArray:
    """Hierarchical agglomerative clustering, exact, with scipy's output format.

    Parameters
    ----------
    y : array-like or DataFrame
        Either an observation matrix of shape ``(n, d)`` (numbers; a DataFrame
        must have numeric columns), a condensed distance vector of length
        ``n (n - 1) / 2`` as returned by :func:`hclust.pdist` or
        ``scipy.spatial.distance.pdist``, or, with ``metric="precomputed"``, a
        square symmetric distance matrix.
    method : str, default="single"
        ``"single"``, ``"complete"``, ``"average"`` (UPGMA), ``"weighted"``
        (WPGMA), ``"ward"``, ``"centroid"`` (UPGMC), ``"median"`` (WPGMC) with
        scipy's meanings, or ``"flexible"``: the Lance-Williams flexible
        strategy ``d(k, i+j) = (1 - beta) / 2 (d(k, i) + d(k, j)) + beta d(i, j)``.
    metric : str or callable, default="euclidean"
        Distance between observations: a name of :data:`hclust.metrics.METRICS`
        or any alias scipy or scikit-learn accepts (``"cos"``, ``"cb"``,
        ``"euclid"``, ``"manhattan"``, ``"l2"``, ...), a function
        ``f(u, v) -> float``, ``"gower"`` for mixed-type tables (a DataFrame
        with numeric, categorical, ordinal and binary columns and missing
        values; see :class:`hclust.Gower`), or ``"precomputed"``. Ignored for
        a condensed vector. Ward, centroid and median need Euclidean distances.
    optimal_ordering : bool, default=False
        Reorder the tree's leaves so that neighbouring leaves are as close as
        possible (Bar-Joseph et al. 2001); the merges are unchanged.
    weights : array-like of shape (n,), optional
        Positive observation weights: row ``i`` stands for ``weights[i]``
        identical observations (R's ``hclust(members=)``). A data set with
        duplicated rows and its deduplicated rows with counts as weights give
        the same tree above height 0. Weights change the tree for average,
        ward and centroid; single, complete, weighted and median are
        unaffected; flexible refuses them (it has no weighted form).
        ``Z[:, 3]`` still counts rows (leaves), as scipy requires.
    beta : float, default=-0.25
        The flexible method's parameter, ``-1 <= beta < 1``. ``beta = 0`` is
        ``"weighted"``.
    n_jobs : int, optional
        Threads for the parallel parts (distance computation, vector single
        linkage); default all cores.
    progress : callable, optional
        ``progress(done, total)``, called from time to time with the number
        of merges done so far out of ``n - 1``.
    algorithm : {"auto", "matrix", "vector"}, default="auto"
        ``"vector"`` works on the observations in O(n d) memory, without a
        distance matrix: single linkage (euclidean, sqeuclidean, cityblock,
        chebyshev), ward (reciprocal-nearest-neighbour rounds on
        centroids and weights, with a kd-tree), centroid and median (the
        generic algorithm on cluster centres, distances computed when
        needed) and average with ``metric="sqeuclidean"`` (the same engine
        with the mean squared distance between clusters, from their
        centroids, weights and mean squared deviations). ``"matrix"``
        stores one condensed distance matrix. ``"auto"`` uses the vector
        algorithm for single linkage, for ward from 2 048 observations with
        up to 32 features, for the others up to 16 features, and whenever the
        matrix would not fit in memory.
    connectivity : sparse matrix, array-like or callable, optional
        Structured clustering: only clusters joined by an edge of this
        ``(n, n)`` graph may merge (any scipy.sparse format; the structure
        of ``C + C.T`` counts, values do not; a callable is called on ``X``
        and returns the graph, e.g. a ``kneighbors_graph``). For
        ``"single"``, ``"complete"``, ``"average"`` and ``"ward"`` (ward
        needs observations), with scikit-learn's ``ward_tree`` /
        ``linkage_tree`` meaning and the same merges: complete and single
        take the largest and smallest distance over the edges between two
        clusters; average merges ``d(A+B, C)`` as the size-weighted mean of
        ``d(A, C)`` and ``d(B, C)`` where both are joined to ``C``, else the
        one that is; ward uses centroids and sizes. Rows of ``Z`` are in
        merge order, and ward and average heights may then decrease. A graph
        with several components is completed as scikit-learn does (an edge
        between the closest observations of every two components) with a
        ``hclust.ConnectivityWarning``. Memory is O(n + edges). Ties: ward
        merges the pair with the smaller larger node id, then the smaller
        smaller node id (scikit-learn's order, so even its ties agree); the
        others take the edges in the order of the graph (by larger row, then
        smaller row). ``optimal_ordering`` and ``algorithm`` do not apply.

    Returns
    -------
    Z : ndarray of shape (n - 1, 4), float64
        scipy's linkage matrix: row ``i`` merges nodes ``Z[i, 0] < Z[i, 1]``
        at height ``Z[i, 2]`` into node ``n + i`` of size ``Z[i, 3]``;
        leaves are ``0 .. n-1``.

    Raises
    ------
    ValueError
        NaN or infinite values (the first is named), fewer than 2
        observations, a vector whose length is not ``n (n - 1) / 2``, a
        square matrix that is not a distance matrix, unknown method or
        metric, a non-Euclidean metric with ward/centroid/median, bad weights.
    TypeError
        Non-numeric data.
    hclust.InsufficientMemoryError
        The ``n x n`` distance matrix, or the linear-memory engine's arrays,
        would not fit in the available memory (checked before allocating).
    KeyboardInterrupt
        Ctrl-C stops the run between steps; the input is left untouched.

    Warns
    -----
    scipy.cluster.hierarchy.ClusterWarning
        Observations that look like a square distance matrix (square, symmetric,
        non-negative, zero diagonal; also 2 x 2), as scipy warns: pass
        ``metric="precomputed"`` if they are distances.

    See Also
    --------
    hclust.pdist : the distances used for an observation matrix.
    scipy.cluster.hierarchy.linkage : the reference this function matches.

    Notes
    -----
    Algorithms (Muellner 2011): single linkage is a minimum spanning tree:
    for euclidean observations with up to 32 features, Borůvka's algorithm
    on a kd-tree with component-aware pruning (O(n (d + k)) memory, k <= 6
    neighbours kept per point); otherwise Prim's algorithm, computed from
    the vectors without storing distances for the euclidean, sqeuclidean,
    cityblock and chebyshev metrics (O(n d) memory) and from the condensed
    matrix for other metrics. Centroid and median on euclidean observations
    with up to 16 features run the generic algorithm on cluster centres
    (O(n d) memory). Ward, centroid, median and average on sqeuclidean from
    observations collapse exact duplicate rows into one weighted row first
    (Borůvka too, when a row has more copies than a kd-tree leaf holds);
    their zero-height merges come first, for centroid, median and average
    in the order the generic algorithm would make them, so ``Z`` is the
    same as without. The other methods run on one
    condensed matrix updated in place with the generic algorithm
    (nearest-neighbour list and heap; it always merges the closest pair),
    which reads the matrix's strided columns far less often than the
    nearest-neighbour chain. Its worst case is O(n^3), so for complete,
    average, weighted and ward a budget of recomputations hands the rest of
    the run to the nearest-neighbour chain (O(n^2)), which gives the same
    tree. Centroid and median may produce inversions (a merge lower than an
    earlier one), exactly as scipy does. Flexible always merges the closest
    pair first: its update is not independent of the order in which
    reciprocal nearest neighbours merge, so the nearest-neighbour chain
    would give a different tree than R's ``agnes(method="flexible")``.
    Time is O(n^2) (O(n^2 d) for vector single linkage; up to O(n^3) for
    centroid, median and flexible on adversarial data).

    Ward, centroid and median run on squared Euclidean distances, where
    their Lance-Williams updates are linear, and report Euclidean heights.

    Ties are broken deterministically. Observation ``i`` starts in slot
    ``i`` and a merged cluster keeps the larger slot of its two parts; the
    closest pair of clusters merges first, and among equally close pairs the
    one with the smallest smaller slot, then the smallest larger slot. (After
    a hand-over to the nearest-neighbour chain, a chain's nearest neighbour
    is the previous chain element if it is among the nearest, else the
    smallest slot.) Single linkage adds, in Prim's algorithm, the smallest
    index among equally near observations; Borůvka orders edges by squared
    distance, then smaller index, then larger index (a strict order, so its
    tree is unique and the same for any number of threads), and equal
    heights merge in that order. Either way the clusters at every height
    are those of scipy. Ward on observations (the vector engine) merges
    reciprocal nearest neighbours in rounds: among equally near clusters a
    cluster's neighbour is the one whose largest row index is smallest, and
    its merges of equal height are listed by round, then by the smaller of
    the two clusters' largest row indices. Other merges of equal height keep
    the order in which they were made. The same input always gives the same
    ``Z``, whatever ``n_jobs``.

    References
    ----------
    .. [1] D. Muellner, "Modern hierarchical, agglomerative clustering
       algorithms", arXiv:1109.2378 (2011).
    .. [2] G. N. Lance and W. T. Williams, "A general theory of classificatory
       sorting strategies", :doi:`10.1093/comjnl/9.4.373` (1967).

    Examples
    --------
    >>> import numpy as np
    >>> import hclust
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 2.0]])
    >>> hclust.linkage(X, "average")
    array([[0.        , 1.        , 1.        , 2.        ],
           [2.        , 3.        , 2.        , 2.        ],
           [4.        , 5.        , 5.14580096, 4.        ]])
    """
    method = check_option(method, "method", METHODS)
    if not isinstance(metric, str) and not callable(metric):
        raise TypeError(f"metric must be a string or a callable; got {type(metric).__name__}.")
    metric = _metrics.normalize(metric, strict=False)  # aliases ("cos", "l2", ...) to canonical names
    beta = _check_beta(method, beta)
    if connectivity is not None:
        if optimal_ordering or algorithm != "auto":
            raise ValueError("optimal_ordering and algorithm do not apply with connectivity=.")
        from ._connectivity import constrained_linkage

        return constrained_linkage(
            y, method, metric, connectivity, weights=weights, n_jobs=n_jobs, progress=progress
        )[0]

    algorithm = check_option(algorithm, "algorithm", ("auto", "matrix", "vector"))
    data, n, kind, columns = prepare_input(y, metric, method)
    w = check_method_weights(weights, n, method)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")
    engine = _choose_engine(algorithm, method, metric, kind, data.shape)
    if kind == "vectors":
        check_observation_scale(data, columns, method, metric, engine, w)
    else:
        check_distance_scale(float(data.max()), method, w, n, "The distances")
    if engine != "matrix":
        _check_vector_memory(engine, method, metric, data.shape)

    with numba_threads(n_jobs) as threads:
        if engine == "single-vector":
            if _uses_boruvka(metric, data.shape[1]):
                from ._emst import euclidean_mst

                a, b, h = _sorted_merges(*euclidean_mst(data, threads, progress))
            else:
                a, b, h = _single_vectors(data, _VECTOR_METRICS[metric], threads, progress)
        elif engine == "ward-vector":
            from ._linkage_vector import ward_vectors

            a, b, h = ward_vectors(data, w, threads, progress)
        elif engine == "centroid-vector":
            from ._linkage_vector import centroid_vectors

            kind_of = "average_sq" if method == "average" else method
            a, b, h = centroid_vectors(data, w, kind_of, progress, _WORK_PER_CALL, threads)
        else:
            if n >= _PRELOAD_FROM:
                # compile/load the kernels now, not while the matrix is alive
                _preload_matrix_kernels(kind == "vectors")
            copy = False
            init = None
            if kind == "vectors" and _computes_nearest(metric, method, w):
                D, init = _vector_matrix(data, metric, n, method, w, threads)
            elif kind == "vectors":
                D = _distances(data, metric, n, method, n_jobs, w)
            elif method == "single":
                D = data  # Prim only reads the matrix
            else:
                D = data
                copy = _may_share(data, y)
                if copy:
                    # the caller's matrix: the engine updates a copy in place
                    _check_matrix_memory(n, method, copy=True)
            a, b, h = _run_matrix(D, n, method, beta, w, progress, threads, copy=copy, init=init)

    Z = merges_to_linkage(a, b, h, np.ones(n))
    if optimal_ordering:
        Z = _optimal_ordering(Z, data, kind, metric)
    return Z


#: Up to this dimension euclidean single linkage uses the kd-tree Borůvka
#: minimum spanning tree; above it the kd-tree prunes little and Prim's scans
#: win (measured crossover between 48 and 64 at n = 20 000; it rises with n).
_BORUVKA_MAX_DIM = 32

#: Up to this dimension "auto" runs ward on the observations (kd-tree) even
#: when the matrix fits. Measured at n = 20 000: blobs with d = 32 and 64
#: took 2.9 s and 6.0 s against 14.3 s and 19.8 s for the matrix engine;
#: uniform noise with d = 32 (no structure for the tree) 24.6 s against 10.3 s.
_VECTOR_WARD_MAX_DIM = 32

#: Below this many observations "auto" runs ward on the matrix: a small matrix
#: is quick (420 rows: 2 ms against 10 ms), and a first run compiles three
#: kernels fewer (the bundled demo's first run compiled 12 kernels, 72% of the
#: time in the vector-ward ones).
_VECTOR_WARD_MIN_N = 2_048

#: Up to this dimension "auto" runs centroid and median on the observations.
_VECTOR_CENTROID_MAX_DIM = 16


def _choose_engine(algorithm: str, method: str, metric: Any, kind: str, shape: tuple[int, ...]) -> str:
    """'single-vector', 'ward-vector', 'centroid-vector' or 'matrix', or a clear refusal."""
    n = shape[0]
    engine = method_info(method).vector_engine
    vector_single = engine == "single" and isinstance(metric, str) and metric in _VECTOR_METRICS
    vector_ward = engine == "ward" and metric == "euclidean"
    # average on squared Euclidean distances runs on the centroid engine too (sizes, means, deviations)
    vector_centroid = (engine == "centroid" and metric == "euclidean") or (
        method == "average" and metric == "sqeuclidean"
    )
    if algorithm == "vector":
        if kind != "vectors":
            raise ValueError(
                "algorithm='vector' needs observations (an n x d matrix), not distances."
            )
        if not (vector_single or vector_ward or vector_centroid):
            raise ValueError(
                f"method={method!r} with metric={metric!r} has no linear-memory algorithm "
                "(hclust has one for ward, centroid and median with metric='euclidean', average with "
                "metric='sqeuclidean', and for single with "
                f"{', '.join(sorted(_VECTOR_METRICS))}); the matrix engine needs "
                f"{format_bytes(_matrix_bytes(n))} for {n:,} observations. Use "
                "algorithm='matrix', or hclust.summarize for micro-cluster summaries."
            )
    if kind != "vectors" or algorithm == "matrix":
        return "matrix"
    if vector_single:
        return "single-vector"
    if vector_ward and (
        algorithm == "vector"
        or (n >= _VECTOR_WARD_MIN_N and shape[1] <= _VECTOR_WARD_MAX_DIM)
        or not _matrix_fits(n)
    ):
        return "ward-vector"
    if vector_centroid and (
        algorithm == "vector" or shape[1] <= _VECTOR_CENTROID_MAX_DIM or not _matrix_fits(n)
    ):
        return "centroid-vector"
    return "matrix"


#: Working memory of the linear-memory engines beyond the input, in bytes
#: per observation: 8 (a d + b) for d features. Peak resident memory
#: measured at 20 000 to 300 000 rows (d = 2, 8, 32), rounded up; it covers
#: the duplicate collapse, the engine's arrays and Z.
_VECTOR_BYTES = {
    "boruvka": (1.5, 34.0),
    "single-vector": (1.0, 10.0),  # Prim
    "ward-vector": (3.0, 38.0),
    "centroid-vector": (2.0, 22.0),
}


def _uses_boruvka(metric: Any, d: int) -> bool:
    """Whether vector single linkage runs Borůvka (else Prim) for this metric and dimension."""
    return metric == "euclidean" and 1 <= d <= _BORUVKA_MAX_DIM


def _check_vector_memory(engine: str, method: str, metric: Any, shape: tuple[int, ...]) -> None:
    """Refuse, before allocating, a linear-memory run whose arrays would not fit."""
    n, d = shape[0], shape[1]
    if engine == "single-vector" and _uses_boruvka(metric, d):
        engine = "boruvka"
    a, b = _VECTOR_BYTES[engine]
    check_memory(
        8.0 * n * (a * d + b),
        f"linkage(method={method!r}) on {n:,} observations x {d} features (the linear-memory "
        "engine's working arrays, besides the input)",
        "Alternatives: hclust.summarize(X, n_micro=...) clusters weighted micro-clusters in far "
        "less memory; deduplicate rows and pass their counts as weights; or keep fewer features.",
    )


def _matrix_fits(n: int) -> bool:
    from ._config import memory_fraction
    from ._validation import available_memory

    return _matrix_bytes(n) <= available_memory() * memory_fraction()


def _check_beta(method: str, beta: Any) -> float:
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise TypeError(f"beta must be a number; got {beta!r}.") from None
    if method == "flexible" and not (-1.0 <= value < 1.0 and math.isfinite(value)):
        raise ValueError(f"beta must satisfy -1 <= beta < 1 for method='flexible'; got {beta!r}.")
    return value


def _matrix_bytes(n: int) -> int:
    return 8 * (n * (n - 1) // 2)


def _check_matrix_memory(n: int, method: str, copy: bool) -> None:
    need = _matrix_bytes(n)
    what = (
        f"linkage(method={method!r}) on {n:,} observations copies the condensed distance "
        f"matrix ({format_bytes(need)})"
        if copy
        else f"The condensed distance matrix for {n:,} observations"
    )
    check_memory(
        need,
        what,
        "Alternatives: method='single' or method='ward' on the observations need no matrix "
        "(O(n d) memory: algorithm='vector'); "
        "hclust.summarize(X, n_micro=...) clusters weighted micro-clusters; or reduce n "
        "(deduplicate rows and pass their counts as weights).",
    )


def _may_share(data: np.ndarray, given: Any) -> bool:
    """Whether ``data`` may be (part of) the caller's own array."""
    for candidate in (given, getattr(given, "values", None)):
        if isinstance(candidate, np.ndarray) and np.shares_memory(data, candidate):
            return True
    return False


#: From this many observations (a 64 MB matrix) the matrix engine compiles or
#: loads its kernels before allocating the matrix, so that a first run in a
#: fresh process peaks at one matrix plus O(n), as later runs do.
_PRELOAD_FROM = 4_096


def _preload_matrix_kernels(distances: bool) -> None:
    """Run the generic algorithm's twins (and the distance twins) on 4 points."""
    if distances:
        from .metrics import preload_kernels

        preload_kernels()
        XT = np.array([[0.0, 1.0, 3.0, 6.0]])
        bounds = np.array([0, 3], dtype=np.int64)
        for init in (_generic.vector_init, _generic.vector_init_parallel):
            init(XT, np.empty(6), _lw.row_offsets(4), bounds, True, False,
                 np.full(4, -1, dtype=np.int64), np.full(4, np.inf))
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    for run in (_generic.generic_run, _generic.generic_run_parallel):
        D = y.copy()
        offsets = _lw.row_offsets(4)
        active = np.arange(4, dtype=np.int64)
        neighbour = np.full(4, -1, dtype=np.int64)
        mindist = np.full(4, np.inf)
        heap = np.empty(4, dtype=np.int64)
        pos = np.full(4, -1, dtype=np.int64)
        # generic_init: weighted ward's first scan (its matrix is scaled before)
        _generic.generic_init(D, offsets, active, 4, neighbour, mindist, heap, pos)
        heap_size = _generic.copy_init(y, D, 4, False, neighbour, mindist, heap, pos)
        state = _generic_cursor(heap_size, 4)
        merges = np.empty(3, dtype=np.int64), np.empty(3, dtype=np.int64), np.empty(3)
        run(D, offsets, np.ones(4), active, neighbour, mindist, heap, pos, state, *merges,
            _lw.METHOD_AVERAGE, 0.0, 3, np.array([100], dtype=np.int64), np.zeros(4, dtype=np.uint8),
            _PARALLEL_COLUMN)


def _generic_cursor(heap_size: int, live: int) -> np.ndarray:
    """A generic run's cursor (``GENERIC_CURSOR[1]``) before its first merge."""
    state = new_cursor(_generic.GENERIC_CURSOR)
    state[0]["heap_size"] = heap_size
    state[0]["live"] = live
    return state


def _distances(
    X: FloatArray, metric: Any, n: int, method: str, n_jobs: int | None, w: FloatArray | None
) -> FloatArray:
    """The condensed matrix of X, checked: finite (every metric, callables included)
    and small enough for the method's sums."""
    from .metrics import pdist

    _check_matrix_memory(n, method, copy=False)
    y = pdist(X, metric, n_jobs=n_jobs)
    largest = scan_distances(y, "distances", n, metric, X)
    name = metric if isinstance(metric, str) else "metric function"
    check_distance_scale(largest, method, w, n, f"The {name} distances")
    return y


def _computes_nearest(metric: Any, method: str, w: FloatArray | None) -> bool:
    """Whether the matrix engine computes the distances and the first nearest
    neighbours in one pass (``_vector_matrix``) rather than pdist, then ``copy_init``."""
    if metric not in ("euclidean", "sqeuclidean") or method == "single":
        return False
    # weighted ward scales its matrix before the first scan
    return not (method == "ward" and w is not None)


def _vector_matrix(
    X: FloatArray, metric: str, n: int, method: str, w: FloatArray | None, threads: int
) -> tuple[FloatArray, tuple[Any, ...] | None]:
    """The condensed (squared) euclidean matrix of X and the generic algorithm's
    first state (neighbour, mindist, heap, pos, heap size), from one pass.

    The same matrix and state as ``_distances`` then ``copy_init`` (the
    distances bit for bit as scipy's pdist), without reading the matrix back
    nor scanning it for its largest value: the diagonal of the observations'
    bounding box, summed in feature order like a distance, is never below a
    computed distance (rounding is monotone), so where it passes
    ``check_distance_scale`` every distance does. Where it does not (huge or
    overflowing coordinates), the distances come from ``_distances``, whose
    scan names the problem, and the state is None (``copy_init`` makes it).
    """
    spans = X.max(axis=0) - X.min(axis=0)
    bound = 0.0
    for span in spans.tolist():
        bound += span * span
    if metric == "euclidean":
        bound = math.sqrt(bound)
    try:
        check_distance_scale(bound, method, w, n, "")
        fits = math.isfinite(bound)
    except ValueError:
        fits = False
    if not fits:
        return _distances(X, metric, n, method, threads, w), None
    _check_matrix_memory(n, method, copy=False)
    D = np.empty(n * (n - 1) // 2)
    XT = np.ascontiguousarray(X.T)
    d = XT.shape[0]
    offsets = _lw.row_offsets(n)
    rows = np.arange(n, dtype=np.int64)
    pairs_before = rows * (n - 1) - (rows * (rows - 1)) // 2  # pairs in the rows before each row
    neighbour = np.full(n, -1, dtype=np.int64)
    mindist = np.full(n, np.inf)
    root = metric == "euclidean"
    square = method_info(method).squared
    from .metrics import _row_bounds

    chooser = ParallelChooser(
        "vector_init", threads, enabled=n * n * d >= _VECTOR_INIT_PARALLEL_WORK, first_work=_FIRST_WORK * 16
    )
    r0 = 0
    while r0 < n - 1:
        parallel, guess = chooser.next()
        target = pairs_before[r0] + max(1.0, min(guess, _WORK_PER_CALL) / d)
        r1 = int(min(n - 1, max(r0 + 1, np.searchsorted(pairs_before, target, side="left"))))
        bounds = _row_bounds(pairs_before, r0, r1, 4 * threads) if parallel else np.array([r0, r1], np.int64)
        kernel = _generic.vector_init_parallel if parallel else _generic.vector_init
        start = time.perf_counter()
        kernel(XT, D, offsets, bounds, root, square, neighbour, mindist)
        chooser.record(parallel, float(pairs_before[r1] - pairs_before[r0]) * d, time.perf_counter() - start)
        r0 = r1
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    heap_size = _generic.heapify_slots(mindist, heap, pos, n - 1)
    return D, (neighbour, mindist, heap, pos, heap_size)


#: Work (n^2 d) from which the one-pass matrix and nearest neighbours may run
#: on all threads (ParallelChooser decides).
_VECTOR_INIT_PARALLEL_WORK = 1 << 24


def _single_vectors(
    X: FloatArray, metric_code: int, threads: int, progress: ProgressCallback | None
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    n, d = X.shape
    outside = np.arange(1, n, dtype=np.int64)
    dist = np.full(n, np.inf)
    parent = np.zeros(n, dtype=np.int64)
    state = new_cursor(_mst.PRIM_CURSOR)
    state[0]["outside"] = n - 1
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    h = np.empty(n - 1)
    # a parallel region per step: whether it pays is measured as it runs
    chooser = ParallelChooser("prim", threads, enabled=n * (d + 6) >= _PRIM_PARALLEL_WORK, first_work=_FIRST_WORK)
    # Euclidean: compare squared distances (no square root per pair) and take
    # the root of the n - 1 tree edges only; sqrt is correctly rounded, so the
    # heights equal pdist's values exactly.
    euclidean = metric_code == _mst.VEC_EUCLIDEAN
    code = _mst.VEC_SQEUCLIDEAN if euclidean else metric_code
    done = 0
    while done < n - 1:
        parallel, guess = chooser.next()
        m = n - done
        work = max(1, int(min(guess, _WORK_PER_CALL)))
        step = max(1, work // max(1, m * d))
        run = _mst.prim_vectors_run_parallel if parallel else _mst.prim_vectors_run_serial
        start = time.perf_counter()
        new_done = run(X, outside, dist, parent, state, a, b, h, min(n - 1, done + step), code,
                       4 * threads if parallel else 1)
        seconds = time.perf_counter() - start
        if new_done < 0:
            raise no_progress("single")
        chooser.record(parallel, (new_done - done) * (m - 0.5 * (new_done - done)) * d, seconds)
        done = new_done
        if progress is not None:
            progress(done, n - 1)
    if euclidean:
        h = np.sqrt(h)
    return _sorted_merges(a, b, h)


def _sorted_merges(
    a: np.ndarray, b: np.ndarray, h: FloatArray
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Merges in height order; equal heights keep the order they were found in."""
    order = np.argsort(h, kind="mergesort")
    return a[order], b[order], h[order]


#: Slots before the merged one from which the generic algorithm's column
#: pass runs on all threads.
_PARALLEL_COLUMN = 512

#: Prim's steps scan in parallel from this much work per step, counted as
#: n * (d + 6) (a point costs about six coordinates' worth besides its
#: distance). Measured on 2 threads: a step pays for waking them from about
#: 4 microseconds of serial work (3 000 x 2: 14.4 against 17.5 ms; 1 000 x 8:
#: 2.9 against 2.5 ms; 1 000 x 32: 6.4 against 9.5 ms).
_PRIM_PARALLEL_WORK = 20_000


def _run_matrix(
    D: FloatArray,
    n: int,
    method: str,
    beta: float,
    w: FloatArray | None,
    progress: ProgressCallback | None,
    threads: int = 1,
    copy: bool = False,
    init: tuple[Any, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Merges from a condensed matrix ``D`` (modified, except for single, unless
    ``copy``: then the engine works on a copy). init: the first state
    (neighbour, mindist, heap, pos, heap size) where ``D`` came with it
    (``_vector_matrix``: already squared for the squared methods)."""
    offsets = _lw.row_offsets(n)
    size = np.ones(n) if w is None else w.copy()
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    h = np.empty(n - 1)
    step = max(1, _WORK_PER_CALL // n)
    done = 0

    def report() -> None:
        if progress is not None:
            progress(done, n - 1)

    if method == "single":
        outside = np.arange(1, n, dtype=np.int64)
        dist = np.full(n, np.inf)
        parent = np.zeros(n, dtype=np.int64)
        state = new_cursor(_mst.PRIM_CURSOR)
        state[0]["outside"] = n - 1
        while done < n - 1:
            done = _mst.prim_condensed_run(
                D, offsets, outside, dist, parent, state, a, b, h, min(n - 1, done + step)
            )
            if done < 0:
                raise no_progress(method)
            report()
        return _sorted_merges(a, b, h)

    code = method_info(method).code
    squared = method_info(method).squared
    active = np.arange(n, dtype=np.int64)
    # The generic algorithm reads the strided columns of the condensed matrix
    # about 2.5 times less often than the nearest-neighbour chain, which is
    # what bounds both on large matrices, so it runs first for every method.
    # Its worst case is O(n^3): for the reducible methods a budget of
    # recomputations hands the rest over to the chain (any order of
    # reciprocal-nearest merges gives their tree), keeping O(n^2).
    # Flexible is reducible for beta <= 0 but not order-independent: merging
    # two reciprocal-nearest pairs in the other order changes their distance
    # by (1 - beta) * beta * (d_ij - d_kl) / 2, so only the closest-pair-first
    # order gives its defined tree and it never hands over.
    reducible = method_info(method).reducible
    total_left = int(_GENERIC_BUDGET * n * n) if reducible else None
    neighbour = np.full(n, -1, dtype=np.int64)
    mindist = np.full(n, np.inf)
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    if init is not None:
        neighbour, mindist, heap, pos, heap_size = init
    elif squared and method == "ward" and w is not None:
        if copy:
            D = D.copy()
        _lw.square_in_place(D)
        _lw.ward_weight_scale(D, w)
        heap_size = _generic.generic_init(D, offsets, active, n, neighbour, mindist, heap, pos)
    else:
        # the copy (or squaring) and the first nearest neighbours in one pass
        # over the matrix (measured at 5 000 rows: 12 ms against 25 ms)
        source = D
        if copy:
            D = np.empty_like(source)
        heap_size = _generic.copy_init(source, D, n, squared, neighbour, mindist, heap, pos)
        del source
    state = _generic_cursor(heap_size, n)
    # The column pass can run on all threads (same merges): whether that pays
    # is measured call by call, since on a busy machine a region per merge
    # loses to one thread (ParallelChooser).
    chooser = ParallelChooser("generic", threads, enabled=n >= 2 * _PARALLEL_COLUMN, first_work=_FIRST_WORK)
    flag = np.zeros(n, dtype=np.uint8)
    budget = np.zeros(1, dtype=np.int64)
    stuck = 0
    while done < n - 1:
        parallel, guess = chooser.next()
        m = int(state[0]["live"])
        work = max(1, int(min(guess, _WORK_PER_CALL)))
        k_stop = min(n - 1, done + max(1, work // m))
        # recomputations allowed in this call: bounded, so Ctrl-C is seen
        allowance = 4 * work if total_left is None else min(4 * work, total_left)
        budget[0] = allowance
        run = _generic.generic_run_parallel if parallel else _generic.generic_run
        start = time.perf_counter()
        new_done = run(
            D, offsets, size, active, neighbour, mindist, heap, pos, state,
            a, b, h, code, beta, k_stop, budget, flag, _PARALLEL_COLUMN,
        )
        seconds = time.perf_counter() - start
        if new_done < 0:
            raise no_progress(method)
        used = allowance - int(budget[0])
        live = int(state[0]["live"])
        chooser.record(parallel, (new_done - done) * 0.5 * (m + live) + used, seconds)
        # no merge for longer than a full recomputation of every key: only NaN does that
        stuck = stuck + used if new_done == done else 0
        if stuck > 2 * m * m:
            raise no_progress(method)
        done = new_done
        report()
        if total_left is not None:
            total_left -= used
            if total_left < 0:
                break
    if done < n - 1:
        chain = np.empty(n, dtype=np.int64)
        live = int(state[0]["live"])
        state = new_cursor(_nnchain.CHAIN_CURSOR)
        state[0]["live"] = live
        state[0]["merges"] = done
        while done < n - 1:
            done = _nnchain.nn_chain_run(
                D, offsets, size, active, chain, state, a, b, h, code, beta,
                min(n - 1, done + step),
            )
            if done < 0:
                raise no_progress(method)
            report()
        a, b, h = _sorted_merges(a, b, h)
    if squared:
        h = np.sqrt(np.maximum(h, 0.0))
    return a, b, h


def _optimal_ordering(Z: FloatArray, data: FloatArray, kind: str, metric: Any) -> FloatArray:
    from .tree import optimal_leaf_ordering

    if kind == "vectors":
        return optimal_leaf_ordering(Z, data, metric=metric)
    return optimal_leaf_ordering(Z, data)
