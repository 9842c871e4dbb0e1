"""Lance-Williams updates and condensed-matrix helpers shared by the matrix engines.

Method codes (``METHOD_*``) are plain integers so that kernels can branch on
them. Ward, centroid and median work on squared Euclidean distances, where
their updates are linear (Muellner 2011, Table 1); the others on the
distances themselves.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE

METHOD_SINGLE = 0
METHOD_COMPLETE = 1
METHOD_AVERAGE = 2
METHOD_WEIGHTED = 3
METHOD_WARD = 4
METHOD_CENTROID = 5
METHOD_MEDIAN = 6
METHOD_FLEXIBLE = 7


@njit(cache=NUMBA_CACHE, inline="always")
def lw_update(method, d_ki, d_kj, d_ij, n_i, n_j, n_k, beta):
    """Distance from cluster k to the union of clusters i and j (all float64)."""
    if method == METHOD_COMPLETE:
        return d_ki if d_ki > d_kj else d_kj
    if method == METHOD_AVERAGE:
        return (n_i * d_ki + n_j * d_kj) / (n_i + n_j)
    if method == METHOD_WEIGHTED:
        return 0.5 * (d_ki + d_kj)
    if method == METHOD_WARD:
        return ((n_i + n_k) * d_ki + (n_j + n_k) * d_kj - n_k * d_ij) / (n_i + n_j + n_k)
    if method == METHOD_CENTROID:
        n_ij = n_i + n_j
        return ((n_i * d_ki + n_j * d_kj) - n_i * n_j * d_ij / n_ij) / n_ij
    if method == METHOD_MEDIAN:
        return 0.5 * (d_ki + d_kj) - 0.25 * d_ij
    if method == METHOD_FLEXIBLE:
        return 0.5 * (1.0 - beta) * (d_ki + d_kj) + beta * d_ij
    # single
    return d_ki if d_ki < d_kj else d_kj


@njit(cache=NUMBA_CACHE)
def row_offsets(n):
    """int64[n]: ``offsets[i] + j`` is the condensed index of (i, j) for i < j."""
    offsets = np.empty(n, dtype=np.int64)
    for i in range(n):
        offsets[i] = i * (2 * n - i - 3) // 2 - 1
    return offsets


@njit(cache=NUMBA_CACHE)
def position_of(active, m, x):
    """Index of ``x`` in the sorted prefix ``active[:m]`` (x must be present)."""
    lo = 0
    hi = m
    while lo < hi:
        mid = (lo + hi) // 2
        if active[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=NUMBA_CACHE)
def remove_active(active, m, x):
    """Remove ``x`` from the sorted prefix ``active[:m]``; returns the new length."""
    p = position_of(active, m, x)
    for t in range(p, m - 1):
        active[t] = active[t + 1]
    return m - 1


#: Below this many active clusters a scan runs on one thread: starting a
#: parallel region costs more than the scan.
PARALLEL_MIN_ACTIVE = 4096


@njit(cache=NUMBA_CACHE, inline="always")
def _distance_at(D, offsets, active, t, px, x):
    i = active[t]
    if t < px:
        return D[offsets[i] + x]
    return D[offsets[x] + i]


@njit(cache=NUMBA_CACHE)
def scan_nearest(D, offsets, active, lo, hi, px, x):
    """(slot, distance) nearest to x among ``active[lo:hi]`` except position px; ties to the smaller slot."""
    best = -1
    current = np.inf
    for t in range(lo, min(hi, px)):
        i = active[t]
        d = D[offsets[i] + x]
        if d < current:
            current = d
            best = i
    ox = offsets[x]
    for t in range(max(lo, px + 1), hi):
        i = active[t]
        d = D[ox + i]
        if d < current:
            current = d
            best = i
    return best, current


def _nearest_active(D, offsets, active, m, x, n_chunks, best_slot, best_dist):
    """(slot, distance) nearest to x among all active slots; ties to the smaller slot.

    best_slot/best_dist : int64/float64[n_chunks] scratch for the parallel scan.
    """
    px = position_of(active, m, x)
    if n_chunks == 1 or m < PARALLEL_MIN_ACTIVE:
        return scan_nearest(D, offsets, active, 0, m, px, x)
    for c in prange(n_chunks):
        best_slot[c], best_dist[c] = scan_nearest(
            D, offsets, active, (m * c) // n_chunks, (m * (c + 1)) // n_chunks, px, x
        )
    best = -1
    current = np.inf
    for c in range(n_chunks):
        if best_dist[c] < current:
            current = best_dist[c]
            best = best_slot[c]
    return best, current


def _update_merged(D, offsets, active, m, size, x, y, d_xy, method, beta, n_chunks):
    """Overwrite row/column ``y`` with distances to the union of x and y (x < y).

    Only active clusters other than x and y are updated; ``size`` still holds
    the sizes before the merge.
    """
    n_x = size[x]
    n_y = size[y]
    px = position_of(active, m, x)
    py = position_of(active, m, y)
    ox = offsets[x]
    oy = offsets[y]
    chunks = 1 if m < PARALLEL_MIN_ACTIVE else n_chunks
    for c in prange(chunks):
        lo = (m * c) // chunks
        hi = (m * (c + 1)) // chunks
        for t in range(lo, min(hi, px)):
            k = active[t]
            D[offsets[k] + y] = lw_update(
                method, D[offsets[k] + x], D[offsets[k] + y], d_xy, n_x, n_y, size[k], beta
            )
        for t in range(max(lo, px + 1), min(hi, py)):
            k = active[t]
            D[offsets[k] + y] = lw_update(
                method, D[ox + k], D[offsets[k] + y], d_xy, n_x, n_y, size[k], beta
            )
        for t in range(max(lo, py + 1), hi):
            k = active[t]
            D[oy + k] = lw_update(method, D[ox + k], D[oy + k], d_xy, n_x, n_y, size[k], beta)


nearest_active_serial = njit(cache=NUMBA_CACHE)(_nearest_active)
nearest_active_parallel = njit(cache=NUMBA_CACHE, parallel=True)(_nearest_active)
update_merged_serial = njit(cache=NUMBA_CACHE)(_update_merged)
update_merged_parallel = njit(cache=NUMBA_CACHE, parallel=True)(_update_merged)


@njit(cache=NUMBA_CACHE)
def square_in_place(D):
    """D <- D * D (condensed float64)."""
    for t in range(D.shape[0]):
        D[t] = D[t] * D[t]


@njit(cache=NUMBA_CACHE)
def ward_weight_scale(D, weights):
    """Squared distances of weighted points to Ward's merge cost scale.

    Two points of weights w_i, w_j (w copies each) merge at squared height
    2 w_i w_j / (w_i + w_j) * |x_i - x_j|^2, which is 1 for unit weights.
    """
    n = weights.shape[0]
    t = 0
    for i in range(n):
        w_i = weights[i]
        for j in range(i + 1, n):
            w_j = weights[j]
            D[t] *= 2.0 * w_i * w_j / (w_i + w_j)
            t += 1
