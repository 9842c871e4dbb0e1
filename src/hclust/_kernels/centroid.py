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

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .generic import heap_remove, heap_sift_down, heap_update

MODE_CENTROID = 0
MODE_MEDIAN = 1
MODE_AVERAGE_SQ = 2


@njit(cache=NUMBA_CACHE, inline="always")
def _sq(C, i, j):
    total = 0.0
    for k in range(C.shape[1]):
        diff = C[i, k] - C[j, k]
        total += diff * diff
    return total


@njit(cache=NUMBA_CACHE)
def _distances(A, S, m, r, buf):
    """Cluster distances from packed row ``r`` to rows ``0 .. m-1``: squared centre distance + S."""
    dim = A.shape[1]
    for t in range(m):
        total = 0.0
        for k in range(dim):
            diff = A[t, k] - A[r, k]
            total += diff * diff
        buf[t] = total + (S[t] + S[r])  # symmetric in t and r: the verification must agree


@njit(cache=NUMBA_CACHE)
def _scan(A, S, live, m, r, buf):
    """(slot, distance) of the nearest active cluster to packed row ``r``; ties to the smaller slot."""
    _distances(A, S, m, r, buf)
    best = np.inf
    arg = -1
    me = live[r]
    for t in range(m):
        d = buf[t]
        j = live[t]
        if j != me and (d < best or (d == best and j < arg)):
            best = d
            arg = j
    return arg, best


@njit(cache=NUMBA_CACHE)
def centroid_init(C, live, nn, key, heap, pos):
    """Exact nearest neighbour of every slot (each pair computed once) and the heap."""
    n = C.shape[0]
    for i in range(n):
        nn[i] = -1
        key[i] = np.inf
    for i in range(n):
        for j in range(i + 1, n):
            d = _sq(C, i, j)
            if d < key[i]:
                key[i] = d
                nn[i] = j
            if d < key[j] or (d == key[j] and i < nn[j]):
                key[j] = d
                nn[j] = i
    for i in range(n):
        heap[i] = live[i]
        pos[live[i]] = i
    for p in range((n - 2) // 2, -1, -1):
        heap_sift_down(heap, pos, key, p, n)


@njit(cache=NUMBA_CACHE)
def centroid_run(A, S, w, live, where, nn, key, heap, pos, state, a, b, h, k_stop, mode, buf):
    """Merge until ``k_stop`` merges are done; resumable (``state`` = [active, heap size, done]).

    A : float64[n, d] centres packed in the order of ``live`` (row ``t`` is
    the centre of slot ``live[t]``; updated in place); w : float64[n]
    weights by slot; S : float64[n] packed like ``A``, each cluster's mean
    squared deviation (``MODE_AVERAGE_SQ``; zeros otherwise); live : int64[n]
    active slots in its first ``state[0]``
    entries, ``where`` the row of each slot (-1 once merged away). Writes
    merges ``a[i] < b[i]`` (slots = representative observations) with
    heights ``h`` (Euclidean). Returns the number of merges done.
    """
    m = state[0]
    size = state[1]
    done = state[2]
    dim = A.shape[1]
    while done < k_stop:
        i = heap[0]
        j = nn[i]
        if j < 0 or where[j] < 0 or _sq(A, where[i], where[j]) + (S[where[i]] + S[where[j]]) != key[i]:
            j, d = _scan(A, S, live, m, where[i], buf)
            nn[i] = j
            heap_update(heap, pos, key, i, d, size)
            continue
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
                A[ry, k] = 0.5 * (A[rx, k] + A[ry, k])
        else:
            # c_x + (c_y - c_x) w_y / (w_x + w_y): equal centres (duplicate rows) stay exactly equal
            share = w[y] / (w[x] + w[y])
            for k in range(dim):
                A[ry, k] = A[rx, k] + (A[ry, k] - A[rx, k]) * share
        w[y] = w[x] + w[y]
        # drop slot x: the last packed row takes its place
        size = heap_remove(heap, pos, key, x, size)
        m -= 1
        last = live[m]
        if rx != m:
            for k in range(dim):
                A[rx, k] = A[m, k]
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
    state[0] = m
    state[1] = size
    state[2] = done
    return done
