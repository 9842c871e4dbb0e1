"""Exact Euclidean minimum spanning tree of observations (Borůvka on a kd-tree)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ._kernels import boruvka as _boruvka
from ._kernels import kdtree as _kdtree
from ._kernels import sorting as _sorting
from ._threads import ParallelChooser
from ._typing import FloatArray, IntArray, ProgressCallback

#: Up to this dimension the first round's neighbour lists are computed
#: leaf by leaf (compact leaves make one candidate list serve all points).
_KNN_BY_LEAVES_MAX_DIM = 2

#: Below this many points the parallel search does not pay for its threads.
_PARALLEL_MIN_POINTS = 512

#: From this many points a round's label and merge passes (a few
#: milliseconds per 100 000 points) may run on all threads; below, the
#: parallel regions cost more than they save (measured at 5 000 points, one
#: core busy: 100-250 ms against 3 ms serially, six rounds).
_PARALLEL_PASS_MIN_POINTS = 100_000

#: The first call of a search whose rates are not known yet: points.
_FIRST_POINTS = 2_000


def euclidean_mst(
    X: FloatArray,
    threads: int,
    progress: ProgressCallback | None = None,
    leaf_size: int = _kdtree.LEAF_SIZE,
    n_neighbors: int | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Edges of the Euclidean minimum spanning tree of the rows of ``X``.

    Parameters
    ----------
    X : ndarray of float64, shape (n, d)
        Observations, C-contiguous and finite (not checked: callers validate).
    threads : int
        Numba threads available; above 1 the nearest-neighbour searches run
        in calls of a few milliseconds on all threads or on one, whichever is
        faster at the time (``ParallelChooser``; same result either way).
    progress : callable, optional
        ``progress(done, total)`` after every round, with ``done`` edges found
        out of ``total = n - 1``.
    leaf_size : int, default 16
        Points per kd-tree leaf.
    n_neighbors : int, optional
        Nearest neighbours kept per point from the first round; later rounds
        take a point's nearest other-component point from this list when it
        holds one, and search the tree otherwise. Default: 6 for d <= 4
        (neighbours are cheap in low dimension), else 3.

    Returns
    -------
    a, b : ndarray of int64, shape (n - 1,)
        Observation indices of each edge, ``a < b``.
    h : ndarray of float64, shape (n - 1,)
        Euclidean edge lengths, ``sqrt(sum((X[a] - X[b]) ** 2))`` with the
        sum in dimension order (equal to scipy's ``pdist``).
        Edges come sorted by (squared length, a, b).

    Notes
    -----
    Borůvka's algorithm on a kd-tree: every round, each component is joined
    to its nearest other component; rounds (at most log2 n) are separate
    kernel calls, so Ctrl-C stops the run between rounds. The first round
    finds every point's ``n_neighbors`` nearest neighbours; later rounds read
    a point's nearest other-component point from that list when it holds
    one and search the tree (pruned by component) otherwise. Memory is
    O(n (d + n_neighbors)): a copy of ``X`` in kd-tree order, the neighbour
    lists and a few arrays of length n (about ``8 n (d + 2 n_neighbors + 16)``
    bytes).

    The kd-tree prunes well in low dimension; for d above about 32-48 (and
    for uniform, structureless data sooner) the searches approach a full
    scan and Prim's O(n^2 d) algorithm is as fast.

    Ties: edges are ordered by squared distance, then by the smaller
    observation index, then by the larger one. This is a strict total order,
    so the result is the unique minimum spanning tree under it, whatever the
    number of threads.
    """
    n = X.shape[0]
    if n < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    tree = _kdtree.build(X, leaf_size)
    leaves = _kdtree.leaf_nodes(tree)
    max_leaf = int((tree.node_hi[leaves] - tree.node_lo[leaves]).max())
    if max_leaf > leaf_size:
        # only equal rows make a leaf this big: searches inside it would be
        # quadratic in its size, so the duplicates collapse first
        del tree, leaves
        return _mst_of_distinct_rows(X, threads, progress, leaf_size, n_neighbors)
    # Each search runs in calls of a few milliseconds, on all threads or on
    # one, whichever is faster now (ParallelChooser: a busy machine can make
    # the threads lose); both twins find the same edges.
    searching = threads > 1 and n >= _PARALLEL_MIN_POINTS
    knn_chooser = ParallelChooser("boruvka-knn", threads, enabled=searching, first_work=_FIRST_POINTS)
    search_chooser = ParallelChooser("boruvka-search", threads, enabled=searching,
                                     first_work=_FIRST_POINTS)
    # a round's label and merge passes: one call each, by round
    pass_chooser = ParallelChooser("boruvka-passes", threads,
                                   enabled=threads > 1 and n >= _PARALLEL_PASS_MIN_POINTS)
    # points before each leaf (leaves are in tree order), n at the end
    leaf_start = np.append(tree.node_lo[leaves], n)
    leaf_blocks = -(-leaves.shape[0] // _kdtree.LEAF_BLOCK)
    leaf_cuts = np.minimum(np.arange(leaf_blocks + 1) * _kdtree.LEAF_BLOCK, leaves.shape[0])
    # First round: every point is its own component, and its k nearest
    # neighbours serve the next rounds as well.
    knn_j, knn_d2 = neighbour_lists(tree, threads, n_neighbors, leaves, max_leaf, knn_chooser)
    state = _boruvka.new_state(n, tree.node_lo.shape[0], leaves, knn_j, knn_d2)
    needed = np.zeros(n + 1)
    done = 0
    while done < n - 1:
        parallel, _ = pass_chooser.next()
        start = time.perf_counter()
        (_boruvka.prepare_round_parallel if parallel else _boruvka.prepare_round_serial)(tree, state)
        seconds = time.perf_counter() - start
        # the search's work: the points it searches, counted before each block
        np.cumsum(state.need, out=needed[1:])
        _in_calls(search_chooser, _boruvka.search_serial, _boruvka.search_parallel,
                  (tree, state, max_leaf), needed[leaf_start[leaf_cuts]])
        start = time.perf_counter()
        merge = _boruvka.merge_round_parallel if parallel else _boruvka.merge_round_serial
        new_done = merge(tree, state, done)
        pass_chooser.record(parallel, n, seconds + time.perf_counter() - start)
        if new_done == done:  # cannot happen on finite input; never loop forever
            raise RuntimeError("euclidean_mst made no progress (non-finite input?)")
        done = new_done
        if progress is not None:
            progress(done, n - 1)
    a, b, h = state.edge_a, state.edge_b, state.edge_h
    # (squared length, a, b) order: a radix sort on the lengths' bits, ties by (a, b)
    order = _sorting.edge_order(h, a, b)
    return a[order], b[order], np.sqrt(h[order])


def _in_calls(
    chooser: ParallelChooser,
    serial: Callable[..., Any],
    parallel: Callable[..., Any],
    args: tuple[Any, ...],
    work_before: FloatArray,
) -> None:
    """Run ``kernel(*args, first, stop)`` over all its blocks, in calls sized and
    given to the serial or parallel twin by ``chooser``.

    ``work_before[b]`` is the work (points) before block ``b``, non-decreasing,
    with the total at the end; blocks without work ride along with the next call.
    """
    n_blocks = work_before.shape[0] - 1
    first = 0
    while first < n_blocks and work_before[first] < work_before[-1]:
        use_parallel, guess = chooser.next()
        stop = int(np.searchsorted(work_before, work_before[first] + guess, side="left"))
        stop = min(n_blocks, max(first + 1, stop))
        kernel = parallel if use_parallel else serial
        start = time.perf_counter()
        kernel(*args, first, stop)
        chooser.record(use_parallel, float(work_before[stop] - work_before[first]),
                       time.perf_counter() - start)
        first = stop


def neighbour_lists(
    tree: _kdtree.KDTree,
    threads: int,
    n_neighbors: int | None = None,
    leaves: IntArray | None = None,
    max_leaf: int | None = None,
    chooser: ParallelChooser | None = None,
) -> tuple[IntArray, FloatArray]:
    """Borůvka's first-round lists: every tree point's ``n_neighbors`` nearest other points.

    Returns (knn_j, knn_d2), int64/float64 of shape (n, k): tree positions
    sorted by (squared distance, row), -1 / inf past the end; k is
    ``n_neighbors`` (default 6 for d <= 4, else 3) capped at n - 1, at least 1.
    ``leaves``/``max_leaf`` (the tree's leaves and largest leaf size) are
    computed when not given. The search runs in calls of a few milliseconds
    on the twin ``chooser`` picks (default: a chooser of its own, on all
    ``threads`` from ``_PARALLEL_MIN_POINTS`` points); both twins find the
    same lists.
    """
    n, d = tree.data.shape
    if leaves is None:
        leaves = _kdtree.leaf_nodes(tree)
    if max_leaf is None:
        max_leaf = int((tree.node_hi[leaves] - tree.node_lo[leaves]).max())
    if n_neighbors is None:
        n_neighbors = 6 if d <= 4 else 3
    if chooser is None:
        chooser = ParallelChooser("boruvka-knn", threads, enabled=threads > 1 and n >= _PARALLEL_MIN_POINTS,
                                  first_work=_FIRST_POINTS)
    k_max = max(1, min(n_neighbors, n - 1))
    knn_j = np.empty((n, k_max), dtype=np.int64)
    knn_d2 = np.empty((n, k_max))
    if d <= _KNN_BY_LEAVES_MAX_DIM:
        # points before each leaf (leaves are in tree order), n at the end
        leaf_start = np.append(tree.node_lo[leaves], n)
        leaf_blocks = -(-leaves.shape[0] // _kdtree.LEAF_BLOCK)
        leaf_cuts = np.minimum(np.arange(leaf_blocks + 1) * _kdtree.LEAF_BLOCK, leaves.shape[0])
        _in_calls(chooser, _kdtree.knn_leaves_serial, _kdtree.knn_leaves_parallel,
                  (tree, knn_j, knn_d2, leaves, max_leaf), leaf_start[leaf_cuts].astype(np.float64))
    else:
        point_blocks = -(-n // _kdtree.BLOCK)
        point_cuts = np.minimum(np.arange(point_blocks + 1) * _kdtree.BLOCK, n)
        _in_calls(chooser, _kdtree.knn_serial, _kdtree.knn_parallel,
                  (tree, knn_j, knn_d2, _kdtree.BLOCK, max_leaf), point_cuts.astype(np.float64))
    return knn_j, knn_d2


def _mst_of_distinct_rows(
    X: FloatArray,
    threads: int,
    progress: ProgressCallback | None,
    leaf_size: int,
    n_neighbors: int | None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """euclidean_mst with duplicated rows joined to their first occurrence first.

    Under the (squared length, a, b) order each set of equal rows is a star
    on its smallest index, and between two sets the least edge joins their
    smallest indices: the tree is the MST of the distinct rows (first
    occurrences) plus those stars, edge for edge.
    """
    from ._linkage_vector import collapse_duplicates

    a, b, h = collapse_duplicates(
        X, None, progress,
        lambda Xu, wu, report: euclidean_mst(Xu, threads, report, leaf_size, n_neighbors),
    )
    zero = h == 0.0  # the stars, and edges between distinct rows whose length underflows
    by_pair = np.flatnonzero(zero)[np.lexsort((b[zero], a[zero]))]
    order = np.concatenate([by_pair, np.flatnonzero(~zero)])
    return a[order], b[order], h[order]
