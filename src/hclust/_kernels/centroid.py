"""Centroid and median linkage on observation vectors, O(n d) memory.

The generic algorithm (Muellner 2011, Fig. 3) with distances computed from
the cluster centres instead of read from a matrix. Every slot keeps a lower
bound ``key`` of its squared distance to the nearest other active cluster
and a candidate neighbour ``nn``; an indexed heap orders the slots by key.
The top of the heap is checked by recomputing one distance: when its
candidate is still active and at exactly ``key``, the pair is the closest
one (``key`` bounds every other pair from below); otherwise the slot's
nearest neighbour is found by a full scan and pushed back. A merge writes the
new centre into the slot of the larger index and scans all active clusters
once, lowering the keys it beats, which keeps every key a lower bound
(centroid distances can shrink after a merge: inversions).

Centres: centroid linkage uses the weighted mean, median linkage (WPGMC) the
midpoint of the two parts' centres. Squared Euclidean distances are compared;
the heights are their square roots.

Average linkage on squared Euclidean distances (``MODE_AVERAGE_SQ``) runs on
the same engine: the mean of ``||a - b||^2`` over the pairs of two clusters
is ``||c_A - c_B||^2 + s_A + s_B`` with ``s`` a cluster's mean squared
deviation from its (weighted) centroid, so each cluster needs only its
centroid, weight and ``s``; the heights are these means themselves.
"""

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins
from . import new_cursor
from .generic import heap_remove, heap_sift_down, heap_update

MODE_CENTROID = 0
MODE_MEDIAN = 1
MODE_AVERAGE_SQ = 2

#: Clusters per block of a distance scan (the block's sums stay in L1 while
#: the features are added one after the other).
BLOCK = 512

#: The counters of a run (``CentroidState.counts``, one record): active
#: clusters, heap size, merges done, and the distance evaluations left to
#: the current call's recomputation scans (set by the caller before each call).
CENTROID_COUNTS = np.dtype(
    [("active", np.int64), ("heap_size", np.int64), ("merges", np.int64), ("budget", np.int64)],
    align=True,
)

#: The arrays of a run (n observations, d features):
#:
#: - ``A`` float64[d, n]: the centres, feature-major, packed in the order of
#:   ``live`` (column t is the centre of slot live[t]; updated in place);
#: - ``S`` float64[n]: packed like A, each cluster's mean squared deviation
#:   (``MODE_AVERAGE_SQ``; zeros otherwise);
#: - ``w`` float64[n]: the weights by slot;
#: - ``live`` int64[n]: the active slots in its first ``counts.active``
#:   entries; ``where`` int64[n]: the column of each slot (-1 once merged away);
#: - ``nn`` int64[n], ``key`` float64[n]: each slot's candidate neighbour and
#:   a lower bound of its squared distance to the nearest active cluster;
#: - ``heap``/``pos`` int64[n]: the indexed heap of slots by key;
#: - ``buf`` float64[n]: scratch of a scan;
#: - ``a``, ``b``, ``h`` [n - 1]: merges a[i] < b[i] (slots = representative
#:   observations), heights (Euclidean, or the mean squared distance for
#:   ``MODE_AVERAGE_SQ``), in merge order;
#: - ``counts`` CENTROID_COUNTS[1].
CentroidState = namedtuple(
    "CentroidState",
    ["A", "S", "w", "live", "where", "nn", "key", "heap", "pos", "buf", "a", "b", "h", "counts"],
)


def new_state(A, w):
    """The CentroidState of a run over the n columns of A (float64[d, n], kept) with weights w."""
    n = A.shape[1]
    counts = new_cursor(CENTROID_COUNTS)
    counts["active"] = n
    counts["heap_size"] = n
    return CentroidState(
        A=A, S=np.zeros(n), w=w, live=np.arange(n, dtype=np.int64),
        where=np.arange(n, dtype=np.int64), nn=np.empty(n, dtype=np.int64), key=np.empty(n),
        heap=np.empty(n, dtype=np.int64), pos=np.empty(n, dtype=np.int64), buf=np.empty(n),
        a=np.empty(max(n - 1, 0), dtype=np.int64), b=np.empty(max(n - 1, 0), dtype=np.int64),
        h=np.empty(max(n - 1, 0)), counts=counts,
    )


@njit(cache=NUMBA_CACHE, inline="always")
def _sq(A, i, j):
    """Squared distance between packed columns i and j of the feature-major centres A."""
    total = 0.0
    for k in range(A.shape[0]):
        diff = A[k, i] - A[k, j]
        total += diff * diff
    return total


@njit(cache=NUMBA_CACHE, inline="always")
def _distance_block(A, S, r, lo, hi, buf):
    """buf[lo:hi] = squared distances from column r to columns lo:hi of A, plus S.

    Feature by feature over the block, so the inner loop runs across clusters
    while each distance still sums its features in order: the same value as
    ``_sq`` (the heap-top check compares them for equality). The sums go to
    a fresh local array, which LLVM knows aliases nothing and so vectorises
    (into ``buf`` directly it did not: 2.3x slower, measured).
    """
    size = hi - lo
    acc = np.empty(BLOCK)
    x = A[0, r]
    row = A[0, lo:hi]
    for t in range(size):
        diff = row[t] - x
        acc[t] = diff * diff
    for k in range(1, A.shape[0]):
        x = A[k, r]
        row = A[k, lo:hi]
        for t in range(size):
            diff = row[t] - x
            acc[t] += diff * diff
    s = S[r]
    for t in range(size):
        buf[lo + t] = acc[t] + (S[lo + t] + s)  # symmetric in t and r: the verification must agree


@njit(cache=NUMBA_CACHE, inline="always")
def _distances(A, S, m, r, buf):
    """Cluster distances from packed column ``r`` to columns ``0 .. m-1`` into buf[:m]."""
    for c in range((m + BLOCK - 1) // BLOCK):
        _distance_block(A, S, r, c * BLOCK, min(m, (c + 1) * BLOCK), buf)


@njit(cache=NUMBA_CACHE, inline="always")
def _nearest_in(buf, live, m, me):
    """(slot, distance) smallest in buf[:m] over slots other than ``me``; ties to the smaller slot."""
    best = np.inf
    arg = -1
    for t in range(m):
        d = buf[t]
        j = live[t]
        if j != me and (d < best or (d == best and j < arg)):
            best = d
            arg = j
    return arg, best


@njit(cache=NUMBA_CACHE, inline="always")
def _scan(A, S, live, m, r, buf):
    """(slot, distance) of the nearest active cluster to packed column ``r``; ties to the smaller slot."""
    _distances(A, S, m, r, buf)
    return _nearest_in(buf, live, m, live[r])


def _centroid_init(state):
    A = state.A
    S = state.S
    live = state.live
    nn = state.nn
    key = state.key
    heap = state.heap
    pos = state.pos
    n = A.shape[1]
    n_rows = (n + BLOCK - 1) // BLOCK
    for c in prange(n_rows):
        row_buf = np.empty(n)
        for r in range(c * BLOCK, min(n, (c + 1) * BLOCK)):
            _distances(A, S, n, r, row_buf)
            j, d = _nearest_in(row_buf, live, n, live[r])
            nn[live[r]] = j
            key[live[r]] = d
    for i in range(n):
        heap[i] = live[i]
        pos[live[i]] = i
    for p in range((n - 2) // 2, -1, -1):
        heap_sift_down(heap, pos, key, p, n)


#: Exact nearest neighbour of every slot (a full scan per slot, slots in
#: parallel) and the heap, from a new state (every slot active).
centroid_init_serial, centroid_init_parallel = twins(_centroid_init)


@njit(cache=NUMBA_CACHE)
def centroid_run(state, k_stop, mode):
    """Merge until ``k_stop`` merges are done; resumable (see CentroidState).

    Returns the number of merges done (``counts.merges``). (Serial: a
    parallel region per merge cost more than it saved at 20 000 x 8.)
    ``counts.budget``: distance evaluations left for recomputation scans in
    this call; the call returns early when it runs out. Returns -1 if no
    merge can be found (only with NaN distances).
    """
    A = state.A
    S = state.S
    w = state.w
    live = state.live
    where = state.where
    nn = state.nn
    key = state.key
    heap = state.heap
    pos = state.pos
    buf = state.buf
    a = state.a
    b = state.b
    h = state.h
    counts = state.counts[0]
    m = counts.active
    size = counts.heap_size
    done = counts.merges
    dim = A.shape[0]
    scans = 0
    while done < k_stop:
        i = heap[0]
        j = nn[i]
        if j < 0 or where[j] < 0 or _sq(A, where[i], where[j]) + (S[where[i]] + S[where[j]]) != key[i]:
            # at most one scan per cluster between merges (a scan makes its key
            # exact); more happens only with NaN distances (defence in depth).
            # The scans also count against the call's budget, so a call
            # returns in bounded time (Ctrl-C).
            scans += 1
            if scans > m:
                return -1
            counts.budget -= m
            if counts.budget < 0:
                break
            j, d = _scan(A, S, live, m, where[i], buf)
            nn[i] = j
            heap_update(heap, pos, key, i, d, size)
            continue
        scans = 0
        d_ij = key[i]
        x = min(i, j)
        y = max(i, j)
        a[done] = x
        b[done] = y
        h[done] = d_ij if mode == MODE_AVERAGE_SQ else np.sqrt(d_ij)
        done += 1
        # the union lives in slot y
        rx = where[x]
        ry = where[y]
        if mode == MODE_AVERAGE_SQ:
            # pooled mean squared deviation: (SS_x + SS_y + w_x w_y / W ||c_x - c_y||^2) / W
            total = w[x] + w[y]
            between = _sq(A, rx, ry)
            S[ry] = (S[rx] * w[x] + S[ry] * w[y] + w[x] * w[y] / total * between) / total
        if mode == MODE_MEDIAN:
            for k in range(dim):
                A[k, ry] = 0.5 * (A[k, rx] + A[k, ry])
        else:
            # c_x + (c_y - c_x) w_y / (w_x + w_y): equal centres (duplicate rows) stay exactly equal
            share = w[y] / (w[x] + w[y])
            for k in range(dim):
                A[k, ry] = A[k, rx] + (A[k, ry] - A[k, rx]) * share
        w[y] = w[x] + w[y]
        # drop slot x: the last packed column takes its place
        size = heap_remove(heap, pos, key, x, size)
        m -= 1
        last = live[m]
        if rx != m:
            for k in range(dim):
                A[k, rx] = A[k, m]
            S[rx] = S[m]
            live[rx] = last
            where[last] = rx
        where[x] = -1
        if m == 1:
            break
        # distances to the new cluster: lower the keys it beats, and find its neighbour
        ry = where[y]
        _distances(A, S, m, ry, buf)
        best = np.inf
        arg = -1
        for t in range(m):
            z = live[t]
            if z == y:
                continue
            d = buf[t]
            if d < best or (d == best and z < arg):
                best = d
                arg = z
            if d < key[z] or (d == key[z] and y < nn[z]):
                nn[z] = y
                heap_update(heap, pos, key, z, d, size)
        nn[y] = arg
        heap_update(heap, pos, key, y, best, size)
    counts.active = m
    counts.heap_size = size
    counts.merges = done
    return done
