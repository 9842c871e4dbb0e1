"""Ward linkage from cluster statistics, O(n d) memory (no distance matrix).

A cluster is (weight, centroid); Ward's merge cost of clusters a and b is
``w_a w_b / (w_a + w_b) * |c_a - c_b|^2`` and the merge height is
``sqrt(2 * cost)``, scipy's convention. Merges happen in rounds of
reciprocal nearest neighbours (Muellner 2011, sec. 3.2): Ward is reducible
and order-independent, so any sequence of reciprocal-nearest merges gives
its unique tree. Nearest neighbours are found in a kd-tree over the slots
whose boxes are refitted to the moving centroids, pruned by Ward's bound
``f(w_x, w_min) * mindist(c_x, box)^2`` with ``f`` increasing in the weight.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE

LEAF_SIZE = 16
# Lower bounds are computed in floating point: shrink them slightly so that
# rounding can never prune a node holding the exact nearest neighbour.
BOUND_SHRINK = 1.0 - 1e-12


@njit(cache=NUMBA_CACHE)
def build_kdtree(X, leaf_size):
    """Static kd-tree over the rows of X (median splits on the widest box side).

    Returns (perm, node_lo, node_hi, node_left, n_nodes): leaf ranges are
    perm[node_lo:node_hi]; node_left[k] = -1 for a leaf, else its left child
    (the right child is node_left[k] + 1); node 0 is the root.
    """
    n, d = X.shape
    perm = np.arange(n)
    max_nodes = 2 * (n // max(1, leaf_size) + 1) * 2 + 1
    node_lo = np.empty(max_nodes, dtype=np.int64)
    node_hi = np.empty(max_nodes, dtype=np.int64)
    node_left = np.full(max_nodes, -1, dtype=np.int64)
    node_lo[0] = 0
    node_hi[0] = n
    n_nodes = 1
    stack = np.empty(max_nodes, dtype=np.int64)
    top = 0
    stack[top] = 0
    top += 1
    keys = np.empty(n)
    while top > 0:
        top -= 1
        k = stack[top]
        lo = node_lo[k]
        hi = node_hi[k]
        if hi - lo <= leaf_size:
            continue
        best_f = 0
        best_span = -1.0
        for f in range(d):
            mn = np.inf
            mx = -np.inf
            for t in range(lo, hi):
                v = X[perm[t], f]
                if v < mn:
                    mn = v
                if v > mx:
                    mx = v
            if mx - mn > best_span:
                best_span = mx - mn
                best_f = f
        if best_span <= 0.0:
            continue  # all points equal: keep as one (large) leaf
        for t in range(lo, hi):
            keys[t] = X[perm[t], best_f]
        order = np.argsort(keys[lo:hi], kind="mergesort")
        segment = perm[lo:hi].copy()
        for t in range(hi - lo):
            perm[lo + t] = segment[order[t]]
        mid = (lo + hi) // 2
        left = n_nodes
        node_left[k] = left
        node_lo[left] = lo
        node_hi[left] = mid
        node_lo[left + 1] = mid
        node_hi[left + 1] = hi
        n_nodes += 2
        stack[top] = left
        stack[top + 1] = left + 1
        top += 2
    return perm, node_lo[:n_nodes].copy(), node_hi[:n_nodes].copy(), node_left[:n_nodes].copy(), n_nodes


@njit(cache=NUMBA_CACHE)
def refit_leaf(C, w, alive, perm, node_lo, node_hi, box_lo, box_hi, node_wmin, node_count, k):
    """Recompute a leaf's box, smallest weight and count from its live slots."""
    d = C.shape[1]
    for f in range(d):
        box_lo[k, f] = np.inf
        box_hi[k, f] = -np.inf
    wmin = np.inf
    count = 0
    for t in range(node_lo[k], node_hi[k]):
        s = perm[t]
        if not alive[s]:
            continue
        count += 1
        if w[s] < wmin:
            wmin = w[s]
        for f in range(d):
            v = C[s, f]
            if v < box_lo[k, f]:
                box_lo[k, f] = v
            if v > box_hi[k, f]:
                box_hi[k, f] = v
    node_wmin[k] = wmin
    node_count[k] = count


@njit(cache=NUMBA_CACHE)
def refit_inner(node_left, box_lo, box_hi, node_wmin, node_count, k):
    """An inner node's box, smallest weight and count from its two children."""
    left = node_left[k]
    right = left + 1
    for f in range(box_lo.shape[1]):
        box_lo[k, f] = min(box_lo[left, f], box_lo[right, f])
        box_hi[k, f] = max(box_hi[left, f], box_hi[right, f])
    node_wmin[k] = min(node_wmin[left], node_wmin[right])
    node_count[k] = node_count[left] + node_count[right]


@njit(cache=NUMBA_CACHE)
def refit_all(C, w, alive, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_wmin, node_count):
    """Refit every node, children before parents (children have larger ids)."""
    for k in range(node_left.shape[0] - 1, -1, -1):
        if node_left[k] < 0:
            refit_leaf(C, w, alive, perm, node_lo, node_hi, box_lo, box_hi, node_wmin, node_count, k)
        else:
            refit_inner(node_left, box_lo, box_hi, node_wmin, node_count, k)


@njit(cache=NUMBA_CACHE)
def refit_path(C, w, alive, perm, node_lo, node_hi, node_left, node_parent, slot_leaf,
               box_lo, box_hi, node_wmin, node_count, s):
    """Refit the leaf holding slot s and its ancestors."""
    k = slot_leaf[s]
    refit_leaf(C, w, alive, perm, node_lo, node_hi, box_lo, box_hi, node_wmin, node_count, k)
    k = node_parent[k]
    while k >= 0:
        refit_inner(node_left, box_lo, box_hi, node_wmin, node_count, k)
        k = node_parent[k]


@njit(cache=NUMBA_CACHE, inline="always")
def _ward_cost(C, w, x, j):
    acc = 0.0
    for f in range(C.shape[1]):
        diff = C[x, f] - C[j, f]
        acc += diff * diff
    return w[x] * w[j] / (w[x] + w[j]) * acc


@njit(cache=NUMBA_CACHE, inline="always")
def _box_gap(C, x, box_lo, box_hi, k):
    gap = 0.0
    for f in range(C.shape[1]):
        v = C[x, f]
        if v < box_lo[k, f]:
            diff = box_lo[k, f] - v
            gap += diff * diff
        elif v > box_hi[k, f]:
            diff = v - box_hi[k, f]
            gap += diff * diff
    return gap


@njit(cache=NUMBA_CACHE)
def nearest_ward(C, w, alive, perm, node_lo, node_hi, node_left, box_lo, box_hi,
                 node_wmin, node_count, x, guess):
    """(slot, cost) of x's nearest live cluster by Ward's cost; ties to the smaller slot.

    guess : a live slot other than x to start from, or -1.
    """
    # Depth-first: at most one pending sibling per level (median splits keep
    # the depth near log2(n / LEAF_SIZE)), plus the node being expanded.
    stack = np.empty(2 * 64 + 2, dtype=np.int64)
    wx = w[x]
    best = -1
    current = np.inf
    if guess >= 0:
        best = guess
        current = _ward_cost(C, w, x, guess)
    top = 0
    stack[top] = 0
    top += 1
    while top > 0:
        top -= 1
        k = stack[top]
        if node_count[k] == 0:
            continue
        gap = _box_gap(C, x, box_lo, box_hi, k)
        wmin = node_wmin[k]
        bound = wx * wmin / (wx + wmin) * gap * BOUND_SHRINK
        if bound > current:
            continue
        left = node_left[k]
        if left < 0:
            for t in range(node_lo[k], node_hi[k]):
                j = perm[t]
                if j == x or not alive[j]:
                    continue
                cost = _ward_cost(C, w, x, j)
                if cost < current or (cost == current and j < best):
                    current = cost
                    best = j
            continue
        # Visit the nearer child first: push it last.
        gap_left = _box_gap(C, x, box_lo, box_hi, left)
        gap_right = _box_gap(C, x, box_lo, box_hi, left + 1)
        if gap_left <= gap_right:
            stack[top] = left + 1
            stack[top + 1] = left
        else:
            stack[top] = left
            stack[top + 1] = left + 1
        top += 2
    return best, current


@njit(cache=NUMBA_CACHE)
def nearest_ward_scan(C, w, live, m, x):
    """(slot, cost) of x's nearest live cluster by a full scan; ties to the smaller slot."""
    best = -1
    current = np.inf
    for t in range(m):
        j = live[t]
        if j == x:
            continue
        cost = _ward_cost(C, w, x, j)
        if cost < current or (cost == current and j < best):
            current = cost
            best = j
    return best, current


def _nearest_batch(C, w, alive, live, m, perm, node_lo, node_hi, node_left, box_lo, box_hi,
                   node_wmin, node_count, todo, n_todo, nn, nn_cost, into, slot_leaf, use_tree):
    for t in prange(n_todo):
        x = todo[t]
        if use_tree:
            # The old neighbour, or the cluster it merged into: usually near,
            # so the search starts with a tight bound.
            guess = nn[x]
            while guess >= 0 and not alive[guess]:
                guess = into[guess]
            if guess == x:
                guess = -1
            if guess < 0:
                # First search: start from a live neighbour in x's own leaf.
                k = slot_leaf[x]
                for q in range(node_lo[k], node_hi[k]):
                    if perm[q] != x and alive[perm[q]]:
                        guess = perm[q]
                        break
            nn[x], nn_cost[x] = nearest_ward(
                C, w, alive, perm, node_lo, node_hi, node_left, box_lo, box_hi,
                node_wmin, node_count, x, guess,
            )
        else:
            nn[x], nn_cost[x] = nearest_ward_scan(C, w, live, m, x)


nearest_batch_serial = njit(cache=NUMBA_CACHE)(_nearest_batch)
nearest_batch_parallel = njit(cache=NUMBA_CACHE, parallel=True)(_nearest_batch)


@njit(cache=NUMBA_CACHE)
def tree_parents(node_left, node_lo, node_hi, perm, n):
    """(node_parent, slot_leaf): each node's parent (-1 at the root), each slot's leaf."""
    n_nodes = node_left.shape[0]
    node_parent = np.full(n_nodes, -1, dtype=np.int64)
    slot_leaf = np.empty(n, dtype=np.int64)
    for k in range(n_nodes):
        left = node_left[k]
        if left >= 0:
            node_parent[left] = k
            node_parent[left + 1] = k
        else:
            for t in range(node_lo[k], node_hi[k]):
                slot_leaf[perm[t]] = k
    return node_parent, slot_leaf


@njit(cache=NUMBA_CACHE)
def ward_rounds(C, w, alive, live, perm, node_lo, node_hi, node_left, node_parent, slot_leaf,
                box_lo, box_hi, node_wmin, node_count, nn, nn_cost, into, todo, changed, state,
                a, b, h, k_stop, parallel, use_tree):
    """Rounds of reciprocal-nearest-neighbour merges until ``state[1] >= k_stop``.

    C : float64[n, d] centroids by slot (modified); w : float64[n] weights
    (modified); alive : bool[n]; live : int64[n], live slots in
    ``live[:state[2]]``; nn/nn_cost : each live slot's nearest neighbour and
    Ward cost; todo : int64[n], slots whose neighbour must be (re)computed
    in ``todo[:state[0]]``; into : int64[n], the slot a dead slot merged
    into; changed : bool[n] scratch; state : int64[3]
    (todo count, merges done, live count); a, b, h : merge records (slot,
    slot, height), in round order. A merged cluster keeps the larger slot.

    A neighbour stays exact while it lives unchanged: Ward's merge cost to a
    union is at least the smaller of the costs to its parts (reducibility).
    """
    n_todo = state[0]
    k = state[1]
    m = state[2]
    while k < k_stop and m > 1:
        if parallel:
            nearest_batch_parallel(C, w, alive, live, m, perm, node_lo, node_hi, node_left,
                                   box_lo, box_hi, node_wmin, node_count, todo, n_todo, nn,
                                   nn_cost, into, slot_leaf, use_tree)
        else:
            nearest_batch_serial(C, w, alive, live, m, perm, node_lo, node_hi, node_left,
                                 box_lo, box_hi, node_wmin, node_count, todo, n_todo, nn,
                                 nn_cost, into, slot_leaf, use_tree)
        pairs = 0
        for t in range(m):
            x = live[t]
            y = nn[x]
            if x < y and nn[y] == x:
                a[k] = x
                b[k] = y
                h[k] = np.sqrt(2.0 * nn_cost[x])
                k += 1
                pairs += 1
                wx = w[x]
                wy = w[y]
                total = wx + wy
                for f in range(C.shape[1]):
                    C[y, f] = (wx * C[x, f] + wy * C[y, f]) / total
                w[y] = total
                alive[x] = False
                into[x] = y
                changed[y] = True
        if pairs == 0:
            # Stale neighbours tied with a smaller slot can hide every
            # reciprocal pair; fresh neighbours always have one.
            for t in range(m):
                todo[t] = live[t]
            n_todo = m
            continue
        for t in range(k - pairs, k):
            refit_path(C, w, alive, perm, node_lo, node_hi, node_left, node_parent, slot_leaf,
                       box_lo, box_hi, node_wmin, node_count, a[t])
            refit_path(C, w, alive, perm, node_lo, node_hi, node_left, node_parent, slot_leaf,
                       box_lo, box_hi, node_wmin, node_count, b[t])
        n_todo = 0
        kept = 0
        for t in range(m):
            x = live[t]
            if not alive[x]:
                continue
            live[kept] = x
            kept += 1
            y = nn[x]
            if changed[x] or not alive[y] or changed[y]:
                todo[n_todo] = x
                n_todo += 1
        for t in range(k - pairs, k):
            changed[b[t]] = False
        m = kept
    state[0] = n_todo
    state[1] = k
    state[2] = m
    return k
