"""Linear-memory engines driven from Python: progress, Ctrl-C, thread choice."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ._kernels import kdtree as _kdtree
from ._kernels import new_cursor
from ._kernels import vector as _vector
from ._threads import ParallelChooser
from ._typing import FloatArray, ProgressCallback
from ._validation import no_progress

#: Merges between two progress reports of the vector engine (it returns to
#: Python after every round, where Ctrl-C is seen).
_MERGES_PER_REPORT = 2_000


#: Above this dimension vector ward scans the live clusters instead of the
#: kd-tree. Measured at n = 10 000: the tree was 5-8x faster than the scan
#: on blobs with d = 32, 64 and 128, and 1.4x slower on uniform noise with
#: d = 16 and 32 (no structure to prune with).
_TREE_MAX_DIM = 128

#: Below this many clusters vector ward finishes in one stage (no rebuild).
_REBUILD_MIN = 256

#: Candidate neighbours kept per cluster by vector ward (see ward_todo).
_CANDIDATES = 8

#: Each round recomputes the stale neighbours whose lower bound is within
#: this quantile of all stale bounds (1.0: every stale neighbour).
_QUANTILE = 0.5

#: Live clusters from which a vector ward stage searches on all threads.
_WARD_PARALLEL_FROM = 512

#: Counters of the last vector ward run (printed by benchmarks/bench_ward.py).
_STATS: dict[str, int] = {}


def collapse_duplicates(
    X: FloatArray,
    weights: FloatArray | None,
    progress: ProgressCallback | None,
    run: Callable[[FloatArray, FloatArray, ProgressCallback | None], tuple[np.ndarray, np.ndarray, FloatArray]],
    keep: str = "first",
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Merges of ``run`` on the distinct rows of X, after zero-height merges of the duplicates.

    Each set of equal rows collapses into one representative row, which
    carries the set's total weight. With ``keep="first"`` the representative
    is the first occurrence (the smallest index) and every other row of the
    set joins it at height 0, in increasing order of the row. With
    ``keep="last"`` it is the last occurrence, and the zero merges are those
    of the generic algorithm's tie rule (a merged cluster keeps the larger
    slot; among equal pairs the smallest smaller slot first): each row joins
    the next row of its set, in increasing order of the row. ``run(X_unique,
    w_unique, progress)`` returns merges (a, b, h) between rows of X_unique,
    whose row order is that of the representatives, so index ties keep going
    the way they went on X. ``progress`` counts the zero merges as done.
    Returns (a, b, h) in original row indices.
    """
    n = X.shape[0]
    if keep == "last":
        # np.unique reports first occurrences: run it on the reversed rows
        unique, first, inverse = np.unique(X[::-1], axis=0, return_index=True, return_inverse=True)
        first = n - 1 - first
        inverse = inverse.ravel()[::-1]
    else:
        unique, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    w = np.ones(n) if weights is None else weights
    if unique.shape[0] == n:
        return run(X, w, progress)
    order = np.argsort(first, kind="mergesort")
    representatives = first[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    group = rank[inverse]
    # float64 with weights (numpy's stubs say intp): asarray states it without a copy
    w_unique = np.asarray(np.bincount(group, weights=w, minlength=representatives.shape[0]), dtype=np.float64)
    if keep == "last":
        # row r joins the next row of its set: sort rows by (set, row)
        by_set = np.lexsort((np.arange(n), group))
        same = group[by_set[1:]] == group[by_set[:-1]]
        dup_a, duplicates = by_set[:-1][same], by_set[1:][same]
        in_order = np.argsort(dup_a, kind="mergesort")
        dup_a, duplicates = dup_a[in_order], duplicates[in_order]
    else:
        duplicates = np.setdiff1d(np.arange(n), representatives, assume_unique=True)
        dup_a = representatives[group[duplicates]]
    n_dup = duplicates.shape[0]
    if representatives.shape[0] == 1:
        a_u = b_u = np.empty(0, dtype=np.int64)
        h_u = np.empty(0)
    else:

        def shifted(done: int, total: int) -> None:
            assert progress is not None
            progress(done + n_dup, n - 1)

        a_u, b_u, h_u = run(
            np.ascontiguousarray(X[representatives]), w_unique, shifted if progress is not None else None
        )
    a = np.concatenate([dup_a, representatives[a_u]]).astype(np.int64)
    b = np.concatenate([duplicates, representatives[b_u]]).astype(np.int64)
    h = np.concatenate([np.zeros(n_dup), h_u])
    return a, b, h


def ward_vectors(
    X: FloatArray,
    weights: FloatArray | None,
    threads: int,
    progress: ProgressCallback | None,
    use_tree: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Ward merges (observation, observation, height) from observations, O(n d) memory.

    Exact duplicate rows collapse first into one weighted row (the first
    occurrence), joined by merges at height 0; heights come out sorted.
    """
    return collapse_duplicates(
        X, weights, progress, lambda Xu, wu, report: _ward_unique(Xu, wu, threads, report, use_tree)
    )


def _ward_unique(
    X: FloatArray,
    weights: FloatArray | None,
    threads: int,
    progress: ProgressCallback | None,
    use_tree: bool | None,
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Ward on distinct rows in stages: each stage rebuilds the kd-tree over
    the live centroids, stores them in tree order (a leaf's clusters sit
    side by side in memory: 3x faster at 100k rows than scattered slots),
    and runs reciprocal-nearest-neighbour rounds until half of them merged.
    """
    n, d = X.shape
    if use_tree is None:
        use_tree = d <= _TREE_MAX_DIM
    C = np.array(X, dtype=np.float64, order="C", copy=True)
    w = np.ones(n) if weights is None else np.array(weights, dtype=np.float64, copy=True)
    ids = np.arange(n, dtype=np.int64)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    h = np.empty(n - 1)
    rnd = np.empty(n - 1, dtype=np.int64)
    counts = new_cursor(_vector.WARD_COUNTS)
    # Per-cluster search state, carried from stage to stage (by slot).
    nn = np.full(n, -1, dtype=np.int64)
    nn_cost = np.zeros(n)
    stale = np.ones(n, dtype=np.bool_)
    cand = np.full((n, _CANDIDATES), -1, dtype=np.int64)
    bound = np.zeros(n)
    # rounds cannot be sized: probes are full rounds, so they come rarely
    chooser = ParallelChooser("ward-vector", threads, longest_interval=256)
    done = 0
    while done < n - 1:
        m = C.shape[0]
        tree = _kdtree.build(C, _vector.LEAF_SIZE)
        perm = tree.perm
        C = tree.data  # C[perm]: the centroids move with the merges, the tree's boxes are refitted
        w = w[perm]
        ids = ids[perm]
        slot_of = np.empty(m + 1, dtype=np.int64)  # old slot -> new slot; -1 stays -1
        slot_of[perm] = np.arange(m)
        slot_of[m] = -1
        nn = slot_of[nn[perm]]
        cand = slot_of[cand[perm]]
        nn_cost = nn_cost[perm]
        stale = stale[perm]
        bound = bound[perm]
        node_parent, slot_leaf = _kdtree.node_parents(tree)
        state = _vector.new_state(C, w, ids, nn, nn_cost, stale, cand, bound, tree, node_parent,
                                  slot_leaf, a, b, h, rnd, counts)
        _kdtree.refit_all(tree, C, w, state.alive, state.node_wmin, state.node_count)
        counts["live"] = m
        stage_end = n - 1 if m <= _REBUILD_MIN else done + m // 2
        all_stale = True  # a stage's first round: every stale cluster
        reported = done
        while done < stage_end and counts["live"][0] > 1:
            every = all_stale or _QUANTILE >= 1.0
            n_todo = _vector.ward_todo(state, _QUANTILE, every)
            # a round's searches run on all threads where that pays (measured
            # round by round: on a busy machine one thread can be faster)
            parallel = chooser.next()[0] and int(counts["live"][0]) >= _WARD_PARALLEL_FROM
            batch = _vector.nearest_batch_parallel if parallel else _vector.nearest_batch_serial
            start = time.perf_counter()
            batch(tree, state, n_todo, use_tree)
            chooser.record(parallel, n_todo, time.perf_counter() - start)
            pairs = _vector.ward_merge(tree, state, n_todo, every)
            if pairs == 0 and every:
                raise no_progress("ward")  # every neighbour was fresh and none reciprocal: NaN
            all_stale = pairs == 0
            done = int(counts["merges"][0])
            if progress is not None and done - reported >= _MERGES_PER_REPORT:
                progress(done, n - 1)
                reported = done
        if progress is not None:
            progress(done, n - 1)
        keep = np.sort(state.live[: counts["live"][0]])
        # Compact: slots name the live clusters they became; -1 at index m.
        kept_of = np.full(m + 1, -1, dtype=np.int64)
        kept_of[keep] = np.arange(keep.shape[0])
        nn = kept_of[_vector.follow_slots(nn[keep], state.into, state.alive)]
        cand = kept_of[_vector.follow_slots(cand[keep], state.into, state.alive)]
        C = C[keep]
        w = w[keep]
        ids = ids[keep]
        nn_cost = nn_cost[keep]
        stale = stale[keep]
        bound = bound[keep]
        del tree, state
    _STATS["searches"] = int(counts["searches"][0])
    _STATS["rounds"] = int(counts["rounds"][0])
    # Equal heights: in round order, then by the smaller cluster id.
    order = np.lexsort((np.minimum(a, b), rnd, h))
    return a[order], b[order], h[order]


#: Observations from which the centroid/median start (every cluster's
#: nearest neighbour by a full scan each, n^2 d work) runs on all threads.
_CENTROID_PARALLEL_FROM = 1_024


def centroid_vectors(
    X: FloatArray,
    weights: FloatArray | None,
    method: str,
    progress: ProgressCallback | None,
    work_per_call: int = 1 << 26,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Centroid, median (WPGMC) or average-on-squared-Euclidean merges from observations.

    ``method`` is ``"centroid"``, ``"median"`` or ``"average_sq"``. Merges
    come in merge order (centroid and median may have inversions; they are
    not re-sorted, as in scipy); O(n d) memory. Exact duplicate rows
    collapse first into their last occurrence (the slot the generic
    algorithm would give their cluster), so the tree is the one the
    uncollapsed rows give, at a fraction of the O(n^2 d) work.
    """
    return collapse_duplicates(
        X,
        weights,
        progress,
        lambda Xu, wu, report: _centroid_unique(Xu, wu, method, report, work_per_call, threads),
        keep="last",
    )


def _centroid_unique(
    X: FloatArray,
    weights: FloatArray | None,
    method: str,
    progress: ProgressCallback | None,
    work_per_call: int,
    threads: int,
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """centroid_vectors on distinct rows."""
    from ._kernels import centroid as _centroid

    mode = {
        "centroid": _centroid.MODE_CENTROID,
        "median": _centroid.MODE_MEDIAN,
        "average_sq": _centroid.MODE_AVERAGE_SQ,
    }[method]
    n = X.shape[0]
    # feature-major (a scan runs across clusters, one feature at a time); a
    # copy always (for d = 1 the transpose is already contiguous: a view)
    C = np.array(np.asarray(X, dtype=np.float64).T, order="C", copy=True)
    w = np.ones(n) if weights is None else np.array(weights, dtype=np.float64, copy=True)
    state = _centroid.new_state(C, w)
    parallel = threads > 1 and n >= _CENTROID_PARALLEL_FROM
    init = _centroid.centroid_init_parallel if parallel else _centroid.centroid_init_serial
    init(state)
    counts = state.counts
    # each merge scans the active clusters once: about n * d operations
    step = max(1, work_per_call // max(1, n * X.shape[1]))
    done = 0
    while done < n - 1:
        # each call's recomputation scans are bounded too, so Ctrl-C is seen
        counts["budget"] = work_per_call // max(1, X.shape[1])
        done = int(_centroid.centroid_run(state, min(n - 1, done + step), mode))
        if done < 0:
            raise no_progress(method)
        if progress is not None:
            progress(done, n - 1)
    return state.a, state.b, state.h

