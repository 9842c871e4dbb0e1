"""Lance-Williams updates and condensed-matrix helpers shared by the matrix engines.

Method codes (``METHOD_*``) are plain integers so that kernels can branch on
them. Ward, centroid and median work on squared Euclidean distances, where
their updates are linear (Muellner 2011, Table 1); the others on the
distances themselves.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from ._prefetch import PREFETCH_AHEAD, prefetch

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
        return max(d_ki, d_kj)
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


@njit(cache=NUMBA_CACHE)
def scan_nearest(D, offsets, active, lo, hi, px, x):
    """(slot, distance) nearest to x among ``active[lo:hi]`` except position px; ties to the smaller slot."""
    best = -1
    current = np.inf
    stop = min(hi, px)
    for t in range(lo, stop):
        if t + PREFETCH_AHEAD < stop:  # strided: see _prefetch
            prefetch(D, offsets[active[t + PREFETCH_AHEAD]] + x)
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


@njit(cache=NUMBA_CACHE)
def nearest_active(D, offsets, active, m, x):
    """(slot, distance) nearest to x among all active slots; ties to the smaller slot."""
    return scan_nearest(D, offsets, active, 0, m, position_of(active, m, x), x)


@njit(cache=NUMBA_CACHE)
def update_merged(D, offsets, active, m, size, x, y, d_xy, method, beta):
    """Overwrite row/column ``y`` with distances to the union of x and y (x < y).

    Only active clusters other than x and y are updated; ``size`` still holds
    the sizes before the merge. (Serial on purpose: a parallel region per
    merge measured slower than one thread, even on an idle machine.)
    """
    n_x = size[x]
    n_y = size[y]
    px = position_of(active, m, x)
    py = position_of(active, m, y)
    ox = offsets[x]
    oy = offsets[y]
    # the strided reads prefetched PREFETCH_AHEAD slots ahead (see _prefetch)
    for t in range(px):
        if t + PREFETCH_AHEAD < px:
            ahead = offsets[active[t + PREFETCH_AHEAD]]
            prefetch(D, ahead + x)
            prefetch(D, ahead + y)
        k = active[t]
        D[offsets[k] + y] = lw_update(
            method, D[offsets[k] + x], D[offsets[k] + y], d_xy, n_x, n_y, size[k], beta
        )
    for t in range(px + 1, py):
        if t + PREFETCH_AHEAD < py:
            prefetch(D, offsets[active[t + PREFETCH_AHEAD]] + y)
        k = active[t]
        D[offsets[k] + y] = lw_update(method, D[ox + k], D[offsets[k] + y], d_xy, n_x, n_y, size[k], beta)
    for t in range(py + 1, m):
        k = active[t]
        D[oy + k] = lw_update(method, D[ox + k], D[oy + k], d_xy, n_x, n_y, size[k], beta)


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
