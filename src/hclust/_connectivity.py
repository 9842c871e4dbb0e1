"""Agglomerative clustering under a connectivity graph (structured clustering).

``hclust.linkage(X, method, connectivity=G)`` and
``HierarchicalClustering(connectivity=G)`` call :func:`constrained_linkage`;
the merging runs in ``_kernels/connectivity.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ._kernels import connectivity as _kc
from ._kernels import mst as _mst
from ._kernels.unionfind import merges_to_linkage
from ._methods import methods_where
from ._threads import numba_threads
from ._typing import FloatArray, IntArray, ProgressCallback
from ._validation import check_memory

#: Linkages that accept a connectivity graph (scikit-learn's structured ones; the table: hclust._methods).
CONNECTIVITY_METHODS: tuple[str, ...] = methods_where(connectivity=True)

_METHOD_CODES = {
    "single": _kc.CONN_SINGLE,
    "complete": _kc.CONN_COMPLETE,
    "average": _kc.CONN_AVERAGE,
    "ward": _kc.CONN_WARD,
}

_VECTOR_METRICS = {
    "euclidean": _mst.VEC_EUCLIDEAN,
    "sqeuclidean": _mst.VEC_SQEUCLIDEAN,
    "cityblock": _mst.VEC_CITYBLOCK,
    "chebyshev": _mst.VEC_CHEBYSHEV,
}

#: Merges per kernel call, so that progress is reported and Ctrl-C honoured.
_MERGES_PER_CALL = 200_000

#: Bytes per edge of the engine: edge, half-edge and heap arrays (72), the pair
#: table (up to 64), the symmetric graph and the edge lists built from it (48).
_BYTES_PER_EDGE = 184


class ConnectivityWarning(UserWarning):
    """The connectivity graph has several connected components and was completed."""


def constrained_linkage(
    X: Any,
    method: str,
    metric: Any,
    connectivity: Any,
    *,
    weights: Any = None,
    n_merges: int | None = None,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[FloatArray, int]:
    """Linkage matrix under a connectivity graph, and the graph's number of components.

    ``n_merges`` stops after that many merges (scikit-learn's
    ``compute_full_tree=False``); the rows of ``Z`` are then those merges.
    The merges are in the order they are made (heights of ward and average
    may decrease: a merge can bring two clusters closer to a neighbour).
    """
    from ._inputs import (
        check_distance_scale as _check_distance_scale,
        check_method_weights as _check_weights,
        check_observation_scale as _check_observation_scale,
        prepare_input as _prepare_input,
    )

    if method not in CONNECTIVITY_METHODS:
        raise ValueError(
            f"connectivity= supports method 'average', 'complete', 'single' or 'ward' "
            f"(scikit-learn's structured linkages); got method={method!r}."
        )
    if callable(connectivity):
        connectivity = connectivity(X)
    data, n, kind, columns = _prepare_input(X, metric, method)
    if method == "ward" and kind != "vectors":
        raise ValueError(
            "method='ward' with connectivity needs observations (an n x d matrix): its "
            "distances come from cluster centroids. Pass X itself, or use 'average', "
            "'complete' or 'single' with distances."
        )
    w = _check_weights(weights, n, method)
    # the values the merges may reach, refused before any work (ward: centroid sums)
    if kind == "vectors":
        _check_observation_scale(data, columns, method, metric, "ward-vector" if method == "ward" else "matrix", w)
    else:
        _check_distance_scale(float(data.max()), method, w, n, "The distances")
    graph = as_graph(connectivity, n)
    n_edges = graph.nnz // 2
    check_memory(
        _BYTES_PER_EDGE * n_edges + 8.0 * n * (8 + 2 * (data.shape[1] if kind == "vectors" else 0)),
        f"linkage(method={method!r}, connectivity=...) on {n:,} observations and {n_edges:,} edges",
        "Use a sparser graph (fewer neighbours) or fewer observations.",
    )
    if n_merges is None:
        n_merges = n - 1
    with numba_threads(n_jobs) as threads:
        n_components, labels = connected_components(graph, directed=False)
        lower = sparse.tril(graph, k=-1).tocoo()
        u = lower.row.astype(np.int64)
        v = lower.col.astype(np.int64)
        if n_components > 1:
            warnings.warn(
                f"the connectivity graph has {n_components} connected components; completing it "
                "as scikit-learn does (an edge between the closest observations of every two "
                "components) so that the tree reaches one cluster.",
                ConnectivityWarning,
                stacklevel=3,
            )
            a, b = _completion_edges(data, n, kind, metric, labels, n_components, threads)
            u = np.concatenate([u, np.maximum(a, b)])
            v = np.concatenate([v, np.minimum(a, b)])
        Z = _run(data, n, kind, metric, method, w, u, v, n_merges, progress, threads)
    return Z, int(n_components)


def as_graph(connectivity: Any, n: int) -> Any:
    """The symmetric structure ``C + C.T`` as CSR, without the diagonal or zeros."""
    if sparse.issparse(connectivity):
        C = sparse.csr_array(connectivity)
    else:
        try:
            dense = np.asarray(connectivity)
        except (TypeError, ValueError):
            dense = np.asarray(connectivity, dtype=object)
        if dense.ndim != 2:
            raise ValueError(
                f"connectivity must be a square (n, n) matrix, sparse or dense; got shape {dense.shape}."
            )
        if dense.dtype == np.bool_:
            dense = dense.astype(np.float64)
        if not np.issubdtype(dense.dtype, np.number):
            raise TypeError(f"connectivity must hold numbers; got dtype {dense.dtype}.")
        C = sparse.csr_array(dense)
    if C.shape != (n, n):
        raise ValueError(
            f"connectivity has shape {C.shape}, but X has {n} observations: it needs shape "
            f"({n}, {n}), one row and one column per observation."
        )
    if C.dtype == np.bool_:
        C = C.astype(np.float64)
    if not np.issubdtype(C.dtype, np.number):
        raise TypeError(f"connectivity must hold numbers; got dtype {C.dtype}.")
    if C.nnz and not np.isfinite(C.data).all():
        raise ValueError("connectivity has NaN or infinite entries; mark edges with finite non-zero values.")
    both = (C + C.T).tocoo()
    off_diagonal = (both.row != both.col) & (both.data != 0)
    graph = sparse.csr_array(
        (both.data[off_diagonal], (both.row[off_diagonal], both.col[off_diagonal])), shape=(n, n)
    )
    graph.sum_duplicates()
    graph.sort_indices()
    return graph


def _completion_edges(
    data: FloatArray, n: int, kind: str, metric: Any, labels: IntArray, n_components: int, threads: int
) -> tuple[IntArray, IntArray]:
    """The closest pair of rows of every two components, as scikit-learn's completion adds."""
    n_pairs = n_components * (n_components - 1) // 2
    check_memory(
        (_BYTES_PER_EDGE + 24.0) * n_pairs,
        f"completing a connectivity graph with {n_components:,} components ({n_pairs:,} new edges)",
        "Connect the graph first (more neighbours, or join the components yourself).",
    )
    order = np.argsort(labels, kind="stable").astype(np.int64)
    starts = np.searchsorted(labels[order], np.arange(n_components + 1)).astype(np.int64)
    if kind == "vectors" and isinstance(metric, str) and metric in _VECTOR_METRICS:
        closest = _kc.closest_pairs_parallel if threads > 1 else _kc.closest_pairs_serial
        a, b, _ = closest(data, order, starts, _VECTOR_METRICS[metric])
        return a, b
    a = np.empty(n_pairs, dtype=np.int64)
    b = np.empty(n_pairs, dtype=np.int64)
    q = 0
    for i in range(n_components):
        rows_i = order[starts[i] : starts[i + 1]]
        for j in range(i):
            rows_j = order[starts[j] : starts[j + 1]]
            if kind == "vectors":
                block = _distances_between(data, rows_i, rows_j, metric)
            else:
                block = data[_condensed_index(rows_i[:, None], rows_j[None, :], n)]
            ii, jj = np.unravel_index(int(np.argmin(block)), block.shape)
            a[q], b[q] = rows_i[ii], rows_j[jj]
            q += 1
    return a, b


def _condensed_index(i: Any, j: Any, n: int) -> Any:
    """Index of the pair (i, j), i != j, in a condensed vector (works on arrays)."""
    lo = np.minimum(i, j)
    hi = np.maximum(i, j)
    return n * lo - lo * (lo + 1) // 2 + (hi - lo - 1)


def _metric_kwargs(data: FloatArray, metric: Any) -> dict[str, Any]:
    """V / VI estimated from all observations (as pdist does), not from a block."""
    from .metrics import _default_inverse_covariance, _default_variances

    if metric == "seuclidean":
        return {"V": _default_variances(data)}
    if metric == "mahalanobis":
        return {"VI": _default_inverse_covariance(data)}
    return {}


def _distances_between(data: FloatArray, rows_a: IntArray, rows_b: IntArray, metric: Any) -> FloatArray:
    from .metrics import cdist

    return cdist(data[rows_a], data[rows_b], metric, **_metric_kwargs(data, metric))


def _edge_distances(
    data: FloatArray, n: int, kind: str, metric: Any, u: IntArray, v: IntArray, threads: int
) -> FloatArray:
    """Distance of every edge between its two observations."""
    if kind == "condensed":
        return np.ascontiguousarray(data[_condensed_index(u, v, n)])
    if isinstance(metric, str) and metric in _VECTOR_METRICS:
        paired = _kc.paired_distances_parallel if threads > 1 else _kc.paired_distances_serial
        return paired(data, u, v, _VECTOR_METRICS[metric])
    values = np.empty(u.shape[0])
    if callable(metric):
        for e in range(u.shape[0]):
            values[e] = float(metric(data[u[e]], data[v[e]]))
    else:
        from .metrics import cdist

        kwargs = _metric_kwargs(data, metric)
        order = np.argsort(u, kind="stable")
        starts = np.searchsorted(u[order], np.arange(n + 1))
        for row in np.flatnonzero(np.diff(starts)):
            edges = order[starts[row] : starts[row + 1]]
            values[edges] = cdist(data[row : row + 1], data[v[edges]], metric, **kwargs)[0]
    negative = np.flatnonzero(values < 0)
    if negative.size:
        e = int(negative[0])
        raise ValueError(
            f"the metric gave a negative distance, {float(values[e])!r}, between observations "
            f"{int(v[e])} and {int(u[e])}; distances must be >= 0."
        )
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        e = int(bad[0])
        raise ValueError(
            f"the {metric!r} distance between observations {int(v[e])} and {int(u[e])} is "
            f"{float(values[e])!r}, so the edge between them cannot be ranked (for cosine or "
            "correlation: a row of zeros or a constant row). Drop or fix those rows."
        )
    return values


def _run(
    data: FloatArray,
    n: int,
    kind: str,
    metric: Any,
    method: str,
    w: FloatArray | None,
    u: IntArray,
    v: IntArray,
    n_merges: int,
    progress: ProgressCallback | None,
    threads: int,
) -> FloatArray:
    code = _METHOD_CODES[method]
    m1 = np.ones(n) if w is None else w.copy()
    if method == "ward":
        m2 = data * m1[:, None] if w is not None else data.copy()
        centre = m2 / m1[:, None]
        values = np.empty(0)
    else:
        m2 = np.empty((n, 0))
        centre = np.empty((n, 0))
        values = _edge_distances(data, n, kind, metric, u, v, threads)
    if method == "single":
        count, a, b, h = _kc.kruskal_merges(u, v, values, np.argsort(values, kind="stable"), n)
        if count < n - 1:
            raise AssertionError("the completed connectivity graph is not connected")  # pragma: no cover
        if progress is not None:
            progress(n - 1, n - 1)
        return merges_to_linkage(a, b, h, np.ones(n))[:n_merges]
    arrays = _kc.connectivity_init(n, u, v, values, code, m1, centre)
    node = np.arange(n, dtype=np.int64)
    count = np.ones(n, dtype=np.int64)
    mark = np.full(n, -1, dtype=np.int64)
    state = arrays[-1]
    Z = np.empty((n - 1, 4))
    while int(state[0]["merges"]) < n_merges:
        before = int(state[0]["merges"])
        stop = min(n_merges, before + _MERGES_PER_CALL)
        _kc.connectivity_run(code, *arrays, m1, m2, centre, node, count, mark, Z, stop)
        if int(state[0]["merges"]) == before:
            raise AssertionError("the completed connectivity graph ran out of edges")  # pragma: no cover
        if progress is not None:
            progress(int(state[0]["merges"]), n - 1)
    return Z[:n_merges]
