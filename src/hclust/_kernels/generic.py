"""The generic algorithm with a nearest-neighbour list and an indexed heap.

Muellner 2011, Fig. 3 (Generic-linkage): exact for every Lance-Williams
method, including the non-reducible ones (centroid, median, flexible with
beta > 0) whose trees may contain inversions. The merged cluster takes the
slot of the larger index; merges are produced in order and never re-sorted.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._prefetch import PREFETCH_AHEAD, prefetch
from ._twins import twins
from .lance_williams import lw_update, position_of, remove_active, scan_nearest

#: The resumable cursor of a generic run (one record): heap size, live
#: (active) slots, merges done.
GENERIC_CURSOR = np.dtype(
    [("heap_size", np.int64), ("live", np.int64), ("merges", np.int64)], align=True
)


@njit(cache=NUMBA_CACHE, inline="always")
def _before(key, i, j):
    """Heap order: smaller key first, ties to the smaller slot."""
    return key[i] < key[j] or (key[i] == key[j] and i < j)


@njit(cache=NUMBA_CACHE)
def heap_sift_up(heap, pos, key, p):
    item = heap[p]
    while p > 0:
        parent = (p - 1) // 2
        if _before(key, item, heap[parent]):
            heap[p] = heap[parent]
            pos[heap[p]] = p
            p = parent
        else:
            break
    heap[p] = item
    pos[item] = p


@njit(cache=NUMBA_CACHE)
def heap_sift_down(heap, pos, key, p, size):
    item = heap[p]
    while True:
        child = 2 * p + 1
        if child >= size:
            break
        if child + 1 < size and _before(key, heap[child + 1], heap[child]):
            child += 1
        if _before(key, heap[child], item):
            heap[p] = heap[child]
            pos[heap[p]] = p
            p = child
        else:
            break
    heap[p] = item
    pos[item] = p


@njit(cache=NUMBA_CACHE)
def heap_update(heap, pos, key, i, value, size):
    """Set key[i] = value and restore the heap."""
    old = key[i]
    key[i] = value
    if value < old:
        heap_sift_up(heap, pos, key, pos[i])
    else:
        heap_sift_down(heap, pos, key, pos[i], size)


@njit(cache=NUMBA_CACHE)
def heap_remove(heap, pos, key, i, size):
    """Remove slot i from the heap; returns the new size."""
    p = pos[i]
    size -= 1
    pos[i] = -1
    if p == size:
        return size
    moved = heap[size]
    heap[p] = moved
    pos[moved] = p
    heap_sift_up(heap, pos, key, p)
    heap_sift_down(heap, pos, key, pos[moved], size)
    return size


@njit(cache=NUMBA_CACHE)
def _nearest_after(D, offsets, active, m, x):
    """(slot, distance) of the nearest active slot y > x; ties to the smaller y."""
    px = position_of(active, m, x)
    return scan_nearest(D, offsets, active, px + 1, m, px, x)


@njit(cache=NUMBA_CACHE)
def generic_init(D, offsets, active, m, neighbour, mindist, heap, pos):
    """Nearest neighbours ``y > x`` of every slot and the heap over them; returns heap size."""
    size = 0
    for t in range(m - 1):
        x = active[t]
        y, d = _nearest_after(D, offsets, active, m, x)
        neighbour[x] = y
        mindist[x] = d
        heap[size] = x
        pos[x] = size
        size += 1
    for p in range((size - 2) // 2, -1, -1):
        heap_sift_down(heap, pos, mindist, p, size)
    return size


@njit(cache=NUMBA_CACHE)
def copy_init(source, D, n, square, neighbour, mindist, heap, pos):
    """``generic_init`` on every slot of a fresh matrix, in the same pass that writes it.

    D <- source (squared when ``square``; ``source`` may be ``D`` itself): row
    x's later slots are the contiguous run of condensed entries that the copy
    walks anyway, so each slot's nearest later slot (ties to the smaller
    slot, as ``scan_nearest``) comes with the copy instead of a second pass
    over the matrix. Returns the heap size; same state as copying, squaring
    and ``generic_init`` with every slot active.
    """
    k = 0
    for x in range(n - 1):
        best = -1
        current = np.inf
        for y in range(x + 1, n):
            v = source[k]
            if square:
                v = v * v
            D[k] = v
            if v < current:
                current = v
                best = y
            k += 1
        neighbour[x] = best
        mindist[x] = current
    return heapify_slots(mindist, heap, pos, n - 1)


@njit(cache=NUMBA_CACHE)
def heapify_slots(mindist, heap, pos, size):
    """The heap over slots 0..size-1 keyed by mindist (every slot active); returns size."""
    for x in range(size):
        heap[x] = x
        pos[x] = x
    for p in range((size - 2) // 2, -1, -1):
        heap_sift_down(heap, pos, mindist, p, size)
    return size


def _vector_init(XT, D, offsets, bounds, root, square, neighbour, mindist):
    """Rows bounds[0]..bounds[-1]-1 of the euclidean matrix of XT's columns, with their nearest later slots.

    ``copy_init``'s pass for distances computed here instead of copied: while
    row i is in the cache its nearest later slot (ties to the smaller slot)
    comes with it, so the matrix is written once and not read back before
    the run. XT : float64[d, n], the observations as columns. Each distance sums
    the squared coordinate differences in feature order, as scipy's
    ``pdist`` (bit for bit: four features per pass over the row add the same
    terms in the same order); root: then its square root (euclidean, else
    sqeuclidean); square: then that value squared (the squared methods, as
    ``copy_init`` squares given distances). Chunks of rows (bounds) run in
    parallel in the parallel twin. ``heapify_slots`` then builds the heap.
    """
    d, n = XT.shape
    for c in prange(bounds.shape[0] - 1):
        acc = np.empty(n)
        for i in range(bounds[c], bounds[c + 1]):
            j = i + 1
            m = n - j
            for q in range(m):
                acc[q] = 0.0
            k = 0
            while k + 4 <= d:
                a0 = XT[k, i]
                a1 = XT[k + 1, i]
                a2 = XT[k + 2, i]
                a3 = XT[k + 3, i]
                r0 = XT[k, j:]
                r1 = XT[k + 1, j:]
                r2 = XT[k + 2, j:]
                r3 = XT[k + 3, j:]
                for q in range(m):
                    t0 = a0 - r0[q]
                    t1 = a1 - r1[q]
                    t2 = a2 - r2[q]
                    t3 = a3 - r3[q]
                    acc[q] = (((acc[q] + t0 * t0) + t1 * t1) + t2 * t2) + t3 * t3
                k += 4
            while k < d:
                a0 = XT[k, i]
                r0 = XT[k, j:]
                for q in range(m):
                    t0 = a0 - r0[q]
                    acc[q] += t0 * t0
                k += 1
            # the roots (and squares) in loops LLVM vectorizes, then the scan
            if root:
                for q in range(m):
                    acc[q] = np.sqrt(acc[q])
            o = offsets[i] + j
            if square:
                for q in range(m):
                    D[o + q] = acc[q] * acc[q]
            else:
                for q in range(m):
                    D[o + q] = acc[q]
            best = -1
            current = np.inf
            for q in range(m):
                v = D[o + q]
                if v < current:
                    current = v
                    best = j + q
            neighbour[i] = best
            mindist[i] = current


vector_init, vector_init_parallel = twins(_vector_init)


@njit(cache=NUMBA_CACHE, inline="always")
def _column_update(D, i_zx, i_zy, n_z, d_xy, n_x, n_y, method, beta):
    """Distance from a slot z before y to the union of x and y, from D[i_zx]
    (z to x) and D[i_zy] (z to y), written into D[i_zy]; returns it."""
    d = lw_update(method, D[i_zx], D[i_zy], d_xy, n_x, n_y, n_z, beta)
    D[i_zy] = d
    return d


@njit(cache=NUMBA_CACHE, inline="always")
def _take_union(neighbour, mindist, heap, pos, heap_size, z, x, y, d):
    """Slot z's neighbour list after x merged into y (d: z's distance to the union)."""
    if neighbour[z] == x:
        neighbour[z] = y
    if d < mindist[z]:
        neighbour[z] = y
        heap_update(heap, pos, mindist, z, d, heap_size)


@njit(cache=NUMBA_CACHE, inline="always")
def _merge_and_update_neighbours(D, offsets, size, active, m, neighbour, mindist, heap, pos,
                                 heap_size, x, y, d_xy, method, beta, flag, par_min):
    """Write distances to the union of x < y into slot y and keep the neighbour list.

    One pass over column and row y (Muellner 2011, Fig. 3, lines 23-31):
    slots before y take y as neighbour where it is nearer (a decrease of
    their key), a neighbour x becomes y (still a lower bound); y's own
    neighbour among later slots is found in the same pass. Returns the heap size.

    The column pass (strided reads: the cost of the whole algorithm) only
    computes and stores the new distances and flags the slots whose
    neighbour changes; a second, serial pass updates those in slot order,
    so the heap sees the same updates as in one interleaved loop. Measured:
    2.5x faster than that loop even on one thread (n = 1 000 to 8 000, with
    heap updates inside the strided loop every read waited on the stores).
    From ``par_min`` slots before y the first pass is a ``prange`` loop,
    parallel when the caller is compiled with parallel=True.
    """
    n_x = size[x]
    n_y = size[y]
    px = position_of(active, m, x)
    py = position_of(active, m, y)
    # The flag test stays in the loops: moved into _column_update (with
    # neighbour, mindist and flag as arguments) the serial pass was 1.5x
    # slower (5 000 rows, one thread: 0.50 against 0.33 s). Each loop
    # prefetches the lines of the slot PREFETCH_AHEAD places on: their
    # stride shrinks row by row, which the hardware prefetchers do not
    # follow (measured: this pass 3x faster at 5 000 rows, one thread).
    ox = offsets[x]
    if py >= par_min:
        for t in prange(px):
            if t + PREFETCH_AHEAD < px:
                ahead = offsets[active[t + PREFETCH_AHEAD]]
                prefetch(D, ahead + x)
                prefetch(D, ahead + y)
            z = active[t]
            d = _column_update(D, offsets[z] + x, offsets[z] + y, size[z], d_xy, n_x, n_y, method, beta)
            if neighbour[z] == x or d < mindist[z]:
                flag[t] = 1
        for t in prange(px + 1, py):
            if t + PREFETCH_AHEAD < py:
                prefetch(D, offsets[active[t + PREFETCH_AHEAD]] + y)
            z = active[t]
            d = _column_update(D, ox + z, offsets[z] + y, size[z], d_xy, n_x, n_y, method, beta)
            if neighbour[z] == x or d < mindist[z]:
                flag[t] = 1
    else:
        for t in range(px):
            if t + PREFETCH_AHEAD < px:
                ahead = offsets[active[t + PREFETCH_AHEAD]]
                prefetch(D, ahead + x)
                prefetch(D, ahead + y)
            z = active[t]
            d = _column_update(D, offsets[z] + x, offsets[z] + y, size[z], d_xy, n_x, n_y, method, beta)
            if neighbour[z] == x or d < mindist[z]:
                flag[t] = 1
        for t in range(px + 1, py):
            if t + PREFETCH_AHEAD < py:
                prefetch(D, offsets[active[t + PREFETCH_AHEAD]] + y)
            z = active[t]
            d = _column_update(D, ox + z, offsets[z] + y, size[z], d_xy, n_x, n_y, method, beta)
            if neighbour[z] == x or d < mindist[z]:
                flag[t] = 1
    for t in range(py):
        if flag[t] != 0:
            flag[t] = 0
            z = active[t]
            _take_union(neighbour, mindist, heap, pos, heap_size, z, x, y, D[offsets[z] + y])
    oy = offsets[y]
    best = -1
    current = np.inf
    for t in range(py + 1, m):
        z = active[t]
        d = lw_update(method, D[ox + z], D[oy + z], d_xy, n_x, n_y, size[z], beta)
        D[oy + z] = d
        if d < current:
            current = d
            best = z
    if best < 0:
        # y is the last active slot: it has no later neighbour.
        if pos[y] >= 0:
            heap_size = heap_remove(heap, pos, mindist, y, heap_size)
    else:
        neighbour[y] = best
        heap_update(heap, pos, mindist, y, current, heap_size)
    return heap_size


def _generic_run(D, offsets, size, active, neighbour, mindist, heap, pos, state,
                 a, b, h, method, beta, k_stop, budget, flag, par_min):
    """Run merges until ``state[0].merges == k_stop`` or the budget runs out; resumable.

    state : GENERIC_CURSOR[1] (heap size, number active, merges done). ``mindist`` is a
    lower bound of each slot's distance to its later slots; a stale entry is
    recomputed when it reaches the top of the heap. budget : int64[1],
    distance reads left for recomputations (the generic algorithm is O(n^3)
    in the worst case); when it drops below 0 the run stops with a
    consistent state. Ties: the heap orders equal keys by slot, neighbours
    are the smallest equally near slot, so the lexicographically smallest
    closest pair of slots merges first. flag : uint8[n] zeros, scratch;
    par_min: see ``_merge_and_update_neighbours`` (``generic_run_parallel``
    runs that pass on all threads; both give the same merges). Returns -1
    if a merge cannot be found (only with NaN distances).
    """
    cursor = state[0]
    heap_size = cursor.heap_size
    m = cursor.live
    k = cursor.merges
    while k < k_stop:
        x = heap[0]
        y = neighbour[x]
        scans = 0
        while size[y] == 0 or mindist[x] != D[offsets[x] + y]:
            if budget[0] < 0:
                cursor.heap_size = heap_size
                cursor.live = m
                cursor.merges = k
                return k
            # each recomputation makes one key exact: more than m before a
            # merge only happens with NaN distances (defence in depth)
            scans += 1
            if scans > m:
                return -1
            y, d = _nearest_after(D, offsets, active, m, x)
            budget[0] -= m
            neighbour[x] = y
            heap_update(heap, pos, mindist, x, d, heap_size)
            x = heap[0]
            y = neighbour[x]
        d_xy = mindist[x]
        heap_size = heap_remove(heap, pos, mindist, x, heap_size)
        a[k] = x
        b[k] = y
        h[k] = d_xy
        heap_size = _merge_and_update_neighbours(
            D, offsets, size, active, m, neighbour, mindist, heap, pos,
            heap_size, x, y, d_xy, method, beta, flag, par_min,
        )
        size[y] = size[x] + size[y]
        size[x] = 0.0
        m = remove_active(active, m, x)
        k += 1
    cursor.heap_size = heap_size
    cursor.live = m
    cursor.merges = k
    return k


generic_run, generic_run_parallel = twins(_generic_run)
