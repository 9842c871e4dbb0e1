"""Agglomerative clustering constrained by a sparse connectivity graph.

Only two clusters joined by an edge of the graph may merge (scikit-learn's
structured ``ward_tree`` / ``linkage_tree``). Every live edge between two
clusters sits once in an indexed heap; every cluster keeps a linked list of
its half-edges. Merging never creates an edge, so memory stays O(n + edges).

* ward: the new cluster's centroid moves, so every edge of both parts is
  re-keyed: the two lists are walked, an edge to a neighbour of both
  collapses into one, and the heap order is (inertia, larger node id,
  smaller node id), the order of scikit-learn's heap of tuples; the values
  are computed as scikit-learn computes them, so the trees are the same
  even with ties. A merge costs O((deg s + deg t) (d + log edges)).
* single: Kruskal's algorithm over the edges sorted by distance (ties in
  the order of the edges), the minimum spanning forest's merges.
* complete, average: only edges to common neighbours change value,
  so the part with fewer edges ``t`` is merged into the other ``s``: each
  edge of ``t`` is looked up in a global hash table of cluster pairs,
  collapsed into the edge ``s`` already has to that neighbour, or handed to
  ``s``. A merge costs O(deg t log edges), O(edges log^2 edges) in all; the
  heap order is (distance, edge index).

A half-edge ``h = 2 e + side`` belongs to the cluster in slot ``end[h]`` and
points to ``end[h ^ 1]``; a cluster lives in the slot of one of its rows.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins
from .mst import _vector_distance
from .unionfind import uf_find

CONN_SINGLE = 0
CONN_COMPLETE = 1
CONN_AVERAGE = 2
CONN_WARD = 3

#: The resumable cursor of a constrained run (one record): heap size, merges
#: done, hash-table slots in use (live or deleted).
CONN_CURSOR = np.dtype(
    [("heap_size", np.int64), ("merges", np.int64), ("table_used", np.int64)], align=True
)


@njit(cache=NUMBA_CACHE, inline="always")
def _before(rec, e, f):
    """Heap order of edges: smaller key ``rec[:, 0]``, then smaller tie ``rec[:, 1]``.

    One record per edge, so that a comparison reads one cache line: ward's tie
    is ``larger node id * 2n + smaller node id`` (scikit-learn's tuple order),
    the other linkages' the edge's index.
    """
    a = rec[e, 0]
    b = rec[f, 0]
    if a != b:
        return a < b
    return rec[e, 1] < rec[f, 1]


@njit(cache=NUMBA_CACHE)
def _sift_up(heap, pos, rec, p):
    item = heap[p]
    while p > 0:
        parent = (p - 1) // 2
        if _before(rec, item, heap[parent]):
            heap[p] = heap[parent]
            pos[heap[p]] = p
            p = parent
        else:
            break
    heap[p] = item
    pos[item] = p


@njit(cache=NUMBA_CACHE)
def _sift_down(heap, pos, rec, p, size):
    item = heap[p]
    while True:
        child = 2 * p + 1
        if child >= size:
            break
        if child + 1 < size and _before(rec, heap[child + 1], heap[child]):
            child += 1
        if _before(rec, heap[child], item):
            heap[p] = heap[child]
            pos[heap[p]] = p
            p = child
        else:
            break
    heap[p] = item
    pos[item] = p


@njit(cache=NUMBA_CACHE)
def _remove(heap, pos, rec, e, size):
    """Remove edge ``e`` from the heap; returns the new size."""
    p = pos[e]
    size -= 1
    pos[e] = -1
    if p == size:
        return size
    moved = heap[size]
    heap[p] = moved
    pos[moved] = p
    _sift_up(heap, pos, rec, p)
    _sift_down(heap, pos, rec, pos[moved], size)
    return size


@njit(cache=NUMBA_CACHE, inline="always")
def _ward_inertia(m1, centre, s, c):
    """Increase of the within-cluster sum of squares if clusters ``s`` and ``c`` merged.

    Computed as scikit-learn's ``compute_ward_dist`` does (size factor times
    the squared distance of the centroids, features summed in order), so the
    values are bit for bit the same.
    """
    factor = (m1[s] * m1[c]) / (m1[s] + m1[c])
    acc = 0.0
    for f in range(centre.shape[1]):
        diff = centre[s, f] - centre[c, f]
        acc += diff * diff
    return acc * factor


_EMPTY = -1
_DELETED = -2


@njit(cache=NUMBA_CACHE, inline="always")
def _pair_key(a, b, n):
    if a > b:
        a, b = b, a
    return a * n + b


@njit(cache=NUMBA_CACHE, inline="always")
def _slot_of(pair, mask):
    # Fibonacci hashing: the multiplication wraps modulo 2**64 on purpose
    return np.int64((np.uint64(pair) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(17)) & mask


@njit(cache=NUMBA_CACHE)
def _hash_find(keys, mask, pair):
    """Position of ``pair`` in the open-addressing table, or -1."""
    p = _slot_of(pair, mask)
    while keys[p] != _EMPTY:
        if keys[p] == pair:
            return p
        p = (p + 1) & mask
    return -1


@njit(cache=NUMBA_CACHE)
def _hash_insert(keys, values, mask, pair, e):
    p = _slot_of(pair, mask)
    while keys[p] != _EMPTY and keys[p] != _DELETED:
        p = (p + 1) & mask
    fresh = keys[p] == _EMPTY
    keys[p] = pair
    values[p] = e
    return fresh


@njit(cache=NUMBA_CACHE)
def _hash_rebuild(keys, values, end, pos, n):
    """Drop the tombstones: clear the table and insert every live edge again."""
    keys[:] = _EMPTY
    mask = keys.shape[0] - 1
    used = 0
    for e in range(pos.shape[0]):
        if pos[e] >= 0:
            _hash_insert(keys, values, mask, _pair_key(end[2 * e], end[2 * e + 1], n), e)
            used += 1
    return used


@njit(cache=NUMBA_CACHE)
def connectivity_init(n, u, v, values, method, m1, centre):
    """Arrays of the constrained engine for the edges ``(u[e], v[e])``, ``u[e] > v[e]``.

    n : int64; u, v : int64[E]; values : float64[E] (the edges' distances; unused
    for ward); method : CONN_*; m1 : float64[n] (weights); centre : float64[n, d]
    (the rows; ward only, else shape (n, 0)). Returns (end, nxt, head, degree,
    rec, heap, pos, table_keys, table_values, state): rec[e] = (key, tie), pos[e] the
    edge's heap position (-1 once it is gone), state : CONN_CURSOR[1]
    (heap size, merges done, table slots in use, live or deleted).
    """
    m = u.shape[0]
    end = np.empty(2 * m, dtype=np.int64)
    nxt = np.empty(2 * m, dtype=np.int64)
    head = np.full(n, -1, dtype=np.int64)
    degree = np.zeros(n, dtype=np.int64)
    rec = np.empty((m, 2))
    for e in range(m):
        a = u[e]
        b = v[e]
        end[2 * e] = a
        end[2 * e + 1] = b
        nxt[2 * e] = head[a]
        head[a] = 2 * e
        nxt[2 * e + 1] = head[b]
        head[b] = 2 * e + 1
        degree[a] += 1
        degree[b] += 1
        if method == CONN_WARD:
            rec[e, 0] = _ward_inertia(m1, centre, a, b)
            rec[e, 1] = max(a, b) * (2.0 * n) + min(a, b)
        else:
            rec[e, 0] = values[e]
            rec[e, 1] = e
    heap = np.arange(m, dtype=np.int64)
    pos = np.arange(m, dtype=np.int64)
    for p in range(m // 2 - 1, -1, -1):
        _sift_down(heap, pos, rec, p, m)
    # the table of cluster pairs (not needed by ward): load <= 1/2 after a rebuild
    capacity = 16
    if method != CONN_WARD:
        while capacity < 2 * m:
            capacity *= 2
    table_keys = np.empty(capacity, dtype=np.int64)
    table_values = np.empty(capacity, dtype=np.int64)
    state = np.zeros(1, dtype=CONN_CURSOR)
    cursor = state[0]
    cursor.heap_size = m
    if method != CONN_WARD:
        cursor.table_used = _hash_rebuild(table_keys, table_values, end, pos, n)
    return end, nxt, head, degree, rec, heap, pos, table_keys, table_values, state


@njit(cache=NUMBA_CACHE)
def _merge_ward(s, t, k, end, nxt, head, rec, heap, pos, size, m1, m2, centre, node, mark):
    """Merge slot t into slot s for ward in one pass over each list; returns the heap size."""
    n = head.shape[0]
    tie = k * (2.0 * n)
    # the merged cluster's moments first, so that each edge is re-keyed as it is walked
    m1[s] = m1[s] + m1[t]
    for f in range(m2.shape[1]):
        m2[s, f] = m2[s, f] + m2[t, f]
        centre[s, f] = m2[s, f] / m1[s]
    node[s] = k
    merged = -1
    # the edges of s: remember each neighbour, re-key the edge
    h = head[s]
    while h >= 0:
        following = nxt[h]
        e = h >> 1
        if pos[e] >= 0:
            c = end[h ^ 1]
            mark[c] = k
            nxt[h] = merged
            merged = h
            rec[e, 0] = _ward_inertia(m1, centre, s, c)
            rec[e, 1] = tie + node[c]
            _sift_up(heap, pos, rec, pos[e])
            _sift_down(heap, pos, rec, pos[e], size)
        h = following
    # the edges of t: drop those to common neighbours (s's edge has the new key), hand
    # the others to s and re-key them
    h = head[t]
    while h >= 0:
        following = nxt[h]
        e = h >> 1
        if pos[e] >= 0:
            c = end[h ^ 1]
            if mark[c] == k:
                size = _remove(heap, pos, rec, e, size)
            else:
                mark[c] = k
                end[h] = s
                nxt[h] = merged
                merged = h
                rec[e, 0] = _ward_inertia(m1, centre, s, c)
                rec[e, 1] = tie + node[c]
                _sift_up(heap, pos, rec, pos[e])
                _sift_down(heap, pos, rec, pos[e], size)
        h = following
    head[s] = merged
    head[t] = -1
    return size


@njit(cache=NUMBA_CACHE)
def connectivity_run(
    method, end, nxt, head, degree, rec, heap, pos, table_keys, table_values, state,
    m1, m2, centre, node, count, mark, Z, stop,
):
    """Merge the closest connected pair until ``state[0].merges == stop``; resumable.

    Stops early when no edge is left.

    m1 : float64[n] cluster weights; m2 : float64[n, d] weighted sums of rows
    (ward; else (n, 0)); centre : float64[n, d] m2 / m1 (ward); node : int64[n]
    node id of the cluster in each slot; count : int64[n] rows per cluster;
    mark : int64[n] (-1 initially); Z : float64[n-1, 4] filled row by row in
    merge order (ward heights are sqrt(2 * inertia)).
    """
    n = head.shape[0]
    cursor = state[0]
    size = cursor.heap_size
    step = cursor.merges
    used = cursor.table_used
    mask = table_keys.shape[0] - 1
    while step < stop and size > 0:
        best = heap[0]
        s = end[2 * best]
        t = end[2 * best + 1]
        height = rec[best, 0]
        size = _remove(heap, pos, rec, best, size)
        a = node[s]
        b = node[t]
        if a > b:
            a, b = b, a
        Z[step, 0] = a
        Z[step, 1] = b
        Z[step, 2] = np.sqrt(2.0 * height) if method == CONN_WARD else height
        Z[step, 3] = count[s] + count[t]
        k = n + step
        if method == CONN_WARD:
            size = _merge_ward(s, t, k, end, nxt, head, rec, heap, pos, size, m1, m2, centre, node, mark)
        else:
            if degree[t] > degree[s]:
                s, t = t, s
            ns = m1[s]
            nt = m1[t]
            table_keys[_hash_find(table_keys, mask, _pair_key(s, t, n))] = _DELETED
            degree[s] -= 1
            h = head[t]
            while h >= 0:
                following = nxt[h]
                e = h >> 1
                if pos[e] >= 0:
                    c = end[h ^ 1]
                    table_keys[_hash_find(table_keys, mask, _pair_key(t, c, n))] = _DELETED
                    p = _hash_find(table_keys, mask, _pair_key(s, c, n))
                    if p >= 0:
                        # c touches both parts: one edge remains, with the combined value
                        f = table_values[p]
                        if method == CONN_COMPLETE:
                            merged_value = max(rec[f, 0], rec[e, 0])
                        elif method == CONN_SINGLE:
                            merged_value = min(rec[f, 0], rec[e, 0])
                        else:
                            # scikit-learn's average_merge: the size-weighted mean where both
                            # parts touch c; a part without an edge to c does not count
                            merged_value = (ns * rec[f, 0] + nt * rec[e, 0]) / (ns + nt)
                        size = _remove(heap, pos, rec, e, size)
                        degree[c] -= 1
                        rec[f, 0] = merged_value
                        _sift_up(heap, pos, rec, pos[f])
                        _sift_down(heap, pos, rec, pos[f], size)
                    else:
                        if _hash_insert(table_keys, table_values, mask, _pair_key(s, c, n), e):
                            used += 1
                        end[h] = s
                        nxt[h] = head[s]
                        head[s] = h
                        degree[s] += 1
                h = following
            head[t] = -1
            degree[t] = 0
            m1[s] = ns + nt
            node[s] = k
            if 4 * used > 3 * table_keys.shape[0]:
                used = _hash_rebuild(table_keys, table_values, end, pos, n)
        count[s] += count[t]
        step += 1
    cursor.heap_size = size
    cursor.merges = step
    cursor.table_used = used


def _paired_vector_distances(X, u, v, metric):
    """Distance of every edge ``(u[e], v[e])`` between rows of X (mst.VEC_* metrics)."""
    m = u.shape[0]
    out = np.empty(m)
    for e in prange(m):
        out[e] = _vector_distance(X, u[e], v[e], metric)
    return out


paired_distances_serial, paired_distances_parallel = twins(_paired_vector_distances)


@njit(cache=NUMBA_CACHE)
def _closest_row(X, order, x, j0, j1, metric):
    """(distance, row) of the first nearest row to ``x`` among ``order[j0:j1]``."""
    best = np.inf
    best_y = -1
    for r in range(j0, j1):
        y = order[r]
        dxy = _vector_distance(X, x, y, metric)
        if dxy < best:
            best = dxy
            best_y = y
    return best, best_y


def _closest_pairs_between(X, order, starts, metric):
    """For every pair of components ``i > j``, their closest rows (scikit-learn's completion).

    order : int64[n] rows grouped by component, ascending within each; starts :
    int64[C + 1]. Returns (a, b, dist) of length C (C - 1) / 2, pairs listed as
    (1, 0), (2, 0), (2, 1), ...: ``a`` in component i, ``b`` in j, the first
    minimum in row-major order over (rows of i) x (rows of j), as
    ``numpy.argmin`` over the distance block. Parallel over pairs when there
    are many, else over the rows of component i.
    """
    n_comp = starts.shape[0] - 1
    n_pairs = n_comp * (n_comp - 1) // 2
    first = np.empty(n_pairs, dtype=np.int64)
    a = np.empty(n_pairs, dtype=np.int64)
    b = np.empty(n_pairs, dtype=np.int64)
    dist = np.empty(n_pairs)
    q = 0
    for i in range(n_comp):
        for j in range(i):
            first[q] = i * n_comp + j
            q += 1
    if n_pairs >= 64:
        for q in prange(n_pairs):
            i = first[q] // n_comp
            j = first[q] % n_comp
            best = np.inf
            for p in range(starts[i], starts[i + 1]):
                dxy, y = _closest_row(X, order, order[p], starts[j], starts[j + 1], metric)
                if dxy < best:
                    best = dxy
                    a[q] = order[p]
                    b[q] = y
            dist[q] = best
        return a, b, dist
    for q in range(n_pairs):
        i = first[q] // n_comp
        j = first[q] % n_comp
        rows = starts[i + 1] - starts[i]
        row_best = np.empty(rows)
        row_arg = np.empty(rows, dtype=np.int64)
        for p in prange(rows):
            row_best[p], row_arg[p] = _closest_row(
                X, order, order[starts[i] + p], starts[j], starts[j + 1], metric
            )
        best = np.inf
        for p in range(rows):
            if row_best[p] < best:
                best = row_best[p]
                a[q] = order[starts[i] + p]
                b[q] = row_arg[p]
        dist[q] = best
    return a, b, dist


closest_pairs_serial, closest_pairs_parallel = twins(_closest_pairs_between)


@njit(cache=NUMBA_CACHE)
def kruskal_merges(u, v, values, order, n):
    """Single linkage under a graph: Kruskal's algorithm over the edges in ``order``.

    u, v : int64[E]; values : float64[E]; order : int64[E] (edges by value, stable);
    returns (count, a, b, h): the first ``count`` merges as representative rows and heights.
    """
    parent = np.arange(n)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    h = np.empty(n - 1)
    count = 0
    for idx in order:
        x = uf_find(parent, u[idx])
        y = uf_find(parent, v[idx])
        if x == y:
            continue
        parent[x] = y
        a[count] = u[idx]
        b[count] = v[idx]
        h[count] = values[idx]
        count += 1
        if count == n - 1:
            break
    return count, a, b, h
