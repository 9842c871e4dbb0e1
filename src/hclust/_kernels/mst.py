"""Minimum spanning trees for single linkage (Prim, O(n^2) time).

Single linkage is the MST sorted by edge weight (Gower & Ross 1969). Prim's
algorithm needs no stored matrix when distances are computed on the fly, so
the vector variant uses O(n d) memory.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins

# Vector metrics computed on the fly; codes shared with hclust.linkage.
VEC_EUCLIDEAN = 0
VEC_SQEUCLIDEAN = 1
VEC_CITYBLOCK = 2
VEC_CHEBYSHEV = 3

#: The resumable cursor of a Prim run (one record): slots still outside the
#: tree, edges done, the slot added last.
PRIM_CURSOR = np.dtype(
    [("outside", np.int64), ("edges", np.int64), ("last", np.int64)], align=True
)


@njit(cache=NUMBA_CACHE, inline="always")
def _vector_distance(X, i, j, metric):
    d = X.shape[1]
    acc = 0.0
    if metric == VEC_CHEBYSHEV:
        for f in range(d):
            diff = abs(X[i, f] - X[j, f])
            if diff > acc:
                acc = diff
        return acc
    if metric == VEC_CITYBLOCK:
        for f in range(d):
            acc += abs(X[i, f] - X[j, f])
        return acc
    for f in range(d):
        diff = X[i, f] - X[j, f]
        acc += diff * diff
    if metric == VEC_EUCLIDEAN:
        return np.sqrt(acc)
    return acc


@njit(cache=NUMBA_CACHE)
def prim_condensed_run(D, offsets, outside, dist, parent, state, a, b, h, k_stop):
    """Prim on a condensed matrix until ``state[0].edges == k_stop``; resumable.

    outside : int64[n], slots not yet in the tree, sorted, in
    ``outside[:state[0].outside]``; dist/parent : float64[n]/int64[n], best edge into
    the tree; state : PRIM_CURSOR[1] (number outside, edges done, last added slot).
    Ties: the smallest slot index among equally near candidates. Returns
    -1 if no outside slot has a finite distance (no progress possible).
    """
    cursor = state[0]
    m = cursor.outside
    k = cursor.edges
    x = cursor.last
    while k < k_stop:
        best_t = -1
        best = np.inf
        # outside is sorted: slots below x read column x (strided), the
        # others read row x (contiguous).
        t = 0
        while t < m and outside[t] < x:
            i = outside[t]
            d = D[offsets[i] + x]
            if d < dist[i]:
                dist[i] = d
                parent[i] = x
            if dist[i] < best:
                best = dist[i]
                best_t = t
            t += 1
        ox = offsets[x]
        while t < m:
            i = outside[t]
            d = D[ox + i]
            if d < dist[i]:
                dist[i] = d
                parent[i] = x
            if dist[i] < best:
                best = dist[i]
                best_t = t
            t += 1
        if best_t < 0:
            return -1  # no finite distance left (the caller validated: defence in depth)
        x = outside[best_t]
        a[k] = parent[x]
        b[k] = x
        h[k] = best
        m -= 1
        for t in range(best_t, m):
            outside[t] = outside[t + 1]
        k += 1
    cursor.outside = m
    cursor.edges = k
    cursor.last = x
    return k


@njit(cache=NUMBA_CACHE)
def _prim_scan(X, outside, lo, hi, x, dist, parent, metric):
    best_t = -1
    best = np.inf
    best_slot = -1
    for t in range(lo, hi):
        i = outside[t]
        d = _vector_distance(X, x, i, metric)
        if d < dist[i]:
            dist[i] = d
            parent[i] = x
        di = dist[i]
        if di < best or (di == best and i < best_slot):
            best = di
            best_t = t
            best_slot = i
    return best_t, best, best_slot


def _prim_vectors_run(X, outside, dist, parent, state, a, b, h, k_stop, metric, n_chunks):
    cursor = state[0]
    m = cursor.outside
    k = cursor.edges
    x = cursor.last
    chunk_t = np.empty(n_chunks, dtype=np.int64)
    chunk_d = np.empty(n_chunks)
    chunk_s = np.empty(n_chunks, dtype=np.int64)
    while k < k_stop:
        for c in prange(n_chunks):
            lo = (m * c) // n_chunks
            hi = (m * (c + 1)) // n_chunks
            chunk_t[c], chunk_d[c], chunk_s[c] = _prim_scan(
                X, outside, lo, hi, x, dist, parent, metric
            )
        best_t = -1
        best = np.inf
        best_slot = -1
        for c in range(n_chunks):
            if chunk_t[c] >= 0 and (
                chunk_d[c] < best or (chunk_d[c] == best and chunk_s[c] < best_slot)
            ):
                best = chunk_d[c]
                best_t = chunk_t[c]
                best_slot = chunk_s[c]
        if best_t < 0:
            return -1  # no finite distance left
        a[k] = parent[best_slot]
        b[k] = best_slot
        h[k] = best
        m -= 1
        outside[best_t] = outside[m]
        x = best_slot
        k += 1
    cursor.outside = m
    cursor.edges = k
    cursor.last = x
    return k


#: Prim on vectors (distances on the fly, O(n d) memory); resumable like
#: ``prim_condensed_run``. X : float64[n, d] C-contiguous; metric : VEC_* code;
#: n_chunks : scan blocks per step (1 for the serial twin).
prim_vectors_run_serial, prim_vectors_run_parallel = twins(_prim_vectors_run)
