"""Exact Euclidean minimum spanning tree: Borůvka rounds over a kd-tree.

Every round each point looks for its nearest point in a *different*
component (its nearest "foreign" point) in a static kd-tree, every component
keeps the cheapest such edge of its points, and all these edges are added at
once (Borůvka 1926); the number of components at least halves per round.

Edges are compared by the key (squared distance, smaller observation index,
larger observation index), a strict total order, so the tree is the unique
minimum spanning tree under that order and does not depend on the thread
count. Squared distances are computed as ``sum((x_f - y_f) ** 2)`` in
dimension order, the same expression as scipy's ``pdist``, so that
``sqrt`` of an edge equals pdist's value bit for bit.

The search prunes a tree node when

- its box is farther than the point's best candidate (the box bound is
  computed with the same roundings as a distance, hence never above the
  distance of a point inside the box: no safety margin is needed),
- all of its points are in the query's component,
- its box is farther than the best edge found so far for the query's
  component (an upper bound shared between the points of a component).

A point whose previous nearest foreign point is still foreign keeps it:
components only grow, so the foreign set only shrinks. For the same reason
the first round (every point alone) computes each point's k nearest
neighbours: in later rounds the first foreign point of that list, when there
is one, is the point's nearest foreign point, and otherwise the k-th
distance is a lower bound; each point keeps a lower bound on its distance
to foreign points and is skipped while it exceeds its component's best edge.
Later rounds work by leaves: a leaf inside one component first gathers,
with box-to-box bounds, the leaves that can matter to any of its points,
and its points then scan only those.

Points are stored in tree order (``Xt = X[perm]``); all arrays below index
tree positions, and ``perm`` maps them back to observation indices.
"""

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins
from .sorting import radix_argsort
from .unionfind import uf_find

#: Default number of points per leaf (16 measured 10% faster than 32 at
#: 100k x 8, 100k x 16 and 1M x 2 once the box bounds were branch-free).
LEAF_SIZE = 16
#: Queries per parallel work item (consecutive in tree order: nearby points).
BLOCK = 256
#: Leaves per parallel work item of the leaf-batched search.
LEAF_BLOCK = 4
#: Most candidate leaves gathered for one query leaf (beyond: per-point search).
MAX_CANDIDATES = 2048
#: Up to this dimension the tree's cells come from Morton codes (see build_tree).
MORTON_MAX_DIM = 3
#: Explicit stack depth for one query (tree depth is about log2(n / LEAF_SIZE)).
STACK_SIZE = 256


@njit(cache=NUMBA_CACHE)
def _select(keys, perm, W, lo, hi, k):
    """Reorder keys[lo:hi+1], perm and the rows of W alike, keys[k] landing in its sorted place."""
    while hi > lo:
        a = keys[lo]
        b = keys[(lo + hi) // 2]
        c = keys[hi]
        # median of three as the pivot
        if a < b:
            pivot = b if b < c else (c if a < c else a)
        else:
            pivot = a if a < c else (c if b < c else b)
        i = lo
        j = hi
        while i <= j:
            while keys[i] < pivot:
                i += 1
            while keys[j] > pivot:
                j -= 1
            if i <= j:
                keys[i], keys[j] = keys[j], keys[i]
                perm[i], perm[j] = perm[j], perm[i]
                for f in range(W.shape[1]):
                    W[i, f], W[j, f] = W[j, f], W[i, f]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=NUMBA_CACHE, inline="always")
def _spread(v, d):
    """The low 64 // d bits of v spread d apart (bit i moves to bit d * i)."""
    x = np.uint64(v)
    if d == 1:
        return x & np.uint64(0xFFFFFFFF)
    if d == 2:
        x &= np.uint64(0xFFFFFFFF)
        x = (x | (x << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
        x = (x | (x << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
        x = (x | (x << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        x = (x | (x << np.uint64(2))) & np.uint64(0x3333333333333333)
        return (x | (x << np.uint64(1))) & np.uint64(0x5555555555555555)
    x &= np.uint64(0x1FFFFF)
    x = (x | (x << np.uint64(32))) & np.uint64(0x001F00000000FFFF)
    x = (x | (x << np.uint64(16))) & np.uint64(0x001F0000FF0000FF)
    x = (x | (x << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
    x = (x | (x << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
    return (x | (x << np.uint64(2))) & np.uint64(0x1249249249249249)


@njit(cache=NUMBA_CACHE, inline="always")
def _rows_box(Y, lo, hi, box_lo, box_hi):
    """box_lo/box_hi (float64[d], out) = coordinate-wise min/max of rows lo:hi of Y."""
    for f in range(Y.shape[1]):
        box_lo[f] = np.inf
        box_hi[f] = -np.inf
    for t in range(lo, hi):
        for f in range(Y.shape[1]):
            v = Y[t, f]
            if v < box_lo[f]:
                box_lo[f] = v
            if v > box_hi[f]:
                box_hi[f] = v


@njit(cache=NUMBA_CACHE)
def morton_codes(X):
    """Z-order codes of the rows of X (d <= 3): coordinates on one square grid, bits interleaved.

    The grid has 2^32 (d <= 2) or 2^21 (d = 3) steps along the widest side
    of the data's box, the same step on every axis, so the code's splits cut
    each cell in halves along every side that is at least half the widest.
    """
    n, d = X.shape
    lo = np.empty(d)
    hi = np.empty(d)
    _rows_box(X, 0, n, lo, hi)
    span = 0.0
    for f in range(d):
        span = max(span, hi[f] - lo[f])
    top = float((1 << (32 if d <= 2 else 21)) - 1)
    scale = top / span if span > 0.0 else 0.0
    codes = np.empty(n, dtype=np.uint64)
    for i in range(n):
        code = np.uint64(0)
        for f in range(d):
            q = min(max((X[i, f] - lo[f]) * scale, 0.0), top)
            code |= _spread(np.uint64(q), d) << np.uint64(f)
        codes[i] = code
    return codes


@njit(cache=NUMBA_CACHE)
def _high_bit(x):
    """Position of the highest set bit of x (uint64, nonzero)."""
    bit = 0
    while x > np.uint64(1):
        x >>= np.uint64(1)
        bit += 1
    return bit


@njit(cache=NUMBA_CACHE)
def build_tree(X, leaf_size):
    """Spatial tree over the rows of X: Z-order cells for d <= 3, kd-tree medians otherwise.

    X : float64[n, d] C-contiguous. Returns (Xt, perm, node_lo, node_hi,
    node_left, box_lo, box_hi, node_min): Xt = X[perm] (tree order); node k
    holds tree positions node_lo[k]:node_hi[k]; node_left[k] = -1 for a
    leaf, else its left child (the right one is node_left[k] + 1, children
    have larger numbers than their parent); box_lo/box_hi[k] : the
    coordinate-wise min/max of its points; node_min[k] : the smallest
    observation index in it. Node 0 is the root.

    For d <= 3 the points are radix-sorted by Morton code and a node splits
    where its codes' highest differing bit changes (a quadtree/octree cell
    halved, empty halves skipped): one sort instead of a selection per
    level, about 4x faster to build at 1M x 2, and the compact cells make
    the neighbour searches faster too. Nodes of more than ``leaf_size``
    points on one grid cell, and every node for d > 3, split at the median
    of their box's widest side. A node of equal points is one leaf.
    """
    n, d = X.shape
    if d <= MORTON_MAX_DIM:
        perm, codes = radix_argsort(morton_codes(X))
        Xt = np.empty((n, d))
        for t in range(n):
            for f in range(d):
                Xt[t, f] = X[perm[t], f]
    else:
        perm = np.arange(n)
        codes = np.zeros(n, dtype=np.uint64)  # one cell: medians everywhere
        Xt = X.copy()  # rows move with perm: scans stay sequential
    max_nodes = 2 * n + 1
    node_lo = np.empty(max_nodes, dtype=np.int64)
    node_hi = np.empty(max_nodes, dtype=np.int64)
    node_left = np.full(max_nodes, -1, dtype=np.int64)
    by_median = np.zeros(max_nodes, dtype=np.bool_)
    node_lo[0] = 0
    node_hi[0] = n
    n_nodes = 1
    stack = np.empty(max_nodes, dtype=np.int64)
    stack[0] = 0
    top = 1
    keys = np.empty(n)
    lo_f = np.empty(d)
    hi_f = np.empty(d)
    while top > 0:
        top -= 1
        k = stack[top]
        lo = node_lo[k]
        hi = node_hi[k]
        if hi - lo <= leaf_size:
            continue
        mid = lo
        if not by_median[k]:
            diff = codes[lo] ^ codes[hi - 1]
            if diff != 0:
                # codes share their bits above the highest differing one:
                # the first code with that bit set starts the right child
                bit = np.uint64(1) << np.uint64(_high_bit(diff))
                left_end = lo
                right_start = hi - 1
                while left_end + 1 < right_start:
                    m = (left_end + right_start) // 2
                    if codes[m] & bit:
                        right_start = m
                    else:
                        left_end = m
                mid = right_start
            else:
                by_median[k] = True
        if by_median[k]:
            _rows_box(Xt, lo, hi, lo_f, hi_f)
            best_f = 0
            best_span = 0.0
            for f in range(d):
                span = hi_f[f] - lo_f[f]
                if span > best_span:
                    best_span = span
                    best_f = f
            if best_span <= 0.0:
                continue  # all points equal: one (large) leaf
            for t in range(lo, hi):
                keys[t] = Xt[t, best_f]
            mid = (lo + hi) // 2
            _select(keys, perm, Xt, lo, hi - 1, mid)
        left = n_nodes
        node_left[k] = left
        node_lo[left] = lo
        node_hi[left] = mid
        node_lo[left + 1] = mid
        node_hi[left + 1] = hi
        by_median[left] = by_median[k]
        by_median[left + 1] = by_median[k]
        n_nodes += 2
        stack[top] = left
        stack[top + 1] = left + 1
        top += 2
    box_lo = np.empty((n_nodes, d))
    box_hi = np.empty((n_nodes, d))
    node_min = np.empty(n_nodes, dtype=np.int64)
    for k in range(n_nodes - 1, -1, -1):
        left = node_left[k]
        if left < 0:
            _rows_box(Xt, node_lo[k], node_hi[k], box_lo[k], box_hi[k])
            node_min[k] = perm[node_lo[k]:node_hi[k]].min()
        else:
            node_min[k] = min(node_min[left], node_min[left + 1])
            for f in range(d):
                box_lo[k, f] = min(box_lo[left, f], box_lo[left + 1, f])
                box_hi[k, f] = max(box_hi[left, f], box_hi[left + 1, f])
    return (
        Xt,
        perm,
        node_lo[:n_nodes].copy(),
        node_hi[:n_nodes].copy(),
        node_left[:n_nodes].copy(),
        box_lo,
        box_hi,
        node_min,
    )


def _prepare_round(parent, comp, node_lo, node_hi, node_left, node_comp, leaves, knn_j, knn_d2,
                   nn_j, nn_d2, nn_exact, comp_best, lower, need):
    n = comp.shape[0]
    k_max = knn_j.shape[1]
    for t in prange(n):
        comp[t] = _find_root(parent, t)
    for t in prange(n):
        parent[t] = comp[t]  # flattened: the next round's finds take one step
    for s in prange(leaves.shape[0]):
        node_comp[leaves[s]] = _leaf_comp(comp, node_lo, node_hi, leaves[s])
    for k in range(node_comp.shape[0] - 1, -1, -1):
        left = node_left[k]
        if left >= 0:
            both = node_comp[left]
            node_comp[k] = both if node_comp[left + 1] == both else -1
    for t in prange(n):
        comp_best[t] = np.inf
        need[t] = _known_candidate(comp, knn_j, knn_d2, nn_j, nn_d2, nn_exact, lower, t)
    for t in range(n):
        if nn_j[t] >= 0 and nn_d2[t] < comp_best[comp[t]]:
            comp_best[comp[t]] = nn_d2[t]


@njit(cache=NUMBA_CACHE, inline="always")
def _find_root(parent, t):
    """Root of t in the forest parent, without path halving (safe in parallel)."""
    # Starts from parent[t], not t: in a prange body numba (0.68) compiled
    # ``root = t; while parent[root] != root: root = parent[root]`` into a
    # loop that never ended on trees of depth >= 2.
    root = parent[t]
    while parent[root] != root:
        root = parent[root]
    return root


@njit(cache=NUMBA_CACHE, inline="always")
def _leaf_comp(comp, node_lo, node_hi, k):
    """The component of all points of leaf k, or -1 when mixed."""
    c = comp[node_lo[k]]
    for t in range(node_lo[k] + 1, node_hi[k]):
        if comp[t] != c:
            return -1
    return c


@njit(cache=NUMBA_CACHE, inline="always")
def _known_candidate(comp, knn_j, knn_d2, nn_j, nn_d2, nn_exact, lower, t):
    """Update t's candidate from its last one and its neighbour list; True when t needs a search."""
    k_max = knn_j.shape[1]
    j = nn_j[t]
    c = comp[t]
    still = j >= 0 and comp[j] != c
    if not (still and nn_exact[t]):
        for r in range(k_max):
            jj = knn_j[t, r]
            if jj < 0:
                break
            if comp[jj] != c:
                nn_j[t] = jj
                nn_d2[t] = knn_d2[t, r]
                nn_exact[t] = True
                return False
    if still:
        return not nn_exact[t]
    nn_j[t] = -1
    nn_d2[t] = np.inf
    nn_exact[t] = False
    if k_max > 0 and knn_d2[t, k_max - 1] > lower[t]:
        lower[t] = knn_d2[t, k_max - 1]
    return True


#: Start a round: component labels, node labels, candidates known without
#: search. parent : int64[n], union-find over tree positions (flattened
#: here); comp : int64[n] (out) each point's component root; node_comp :
#: int64[n_nodes] (out) the component of all points of the node, or -1 when
#: mixed; leaves : the leaf nodes; knn_j / knn_d2 : int64/float64[n, k],
#: each point's k nearest points sorted by (squared distance, observation
#: index), -1 / inf past the end; nn_j / nn_d2 / nn_exact : each point's
#: candidate from the last round (-1 / inf when none) and whether it is its
#: exact nearest foreign point; comp_best : float64[n] (out) per root, an
#: upper bound on its cheapest edge; lower : float64[n], lower bounds on the
#: squared distance to foreign points; need : bool[n] (out) the points to
#: search. A point's nearest foreign point is known when its last one is
#: still foreign or when its neighbour list holds a foreign point (the
#: first one is it).
prepare_round_serial, prepare_round_parallel = twins(_prepare_round)


@njit(cache=NUMBA_CACHE, inline="always")
def _leaf_distances(Xt, q, lo, hi, acc):
    """acc[:hi-lo] = squared distances from q to points lo:hi, summed in dimension order."""
    d = q.shape[0]
    for j in range(lo, hi):
        total = 0.0
        for f in range(d):
            diff = q[f] - Xt[j, f]
            total += diff * diff
        acc[j - lo] = total


@njit(cache=NUMBA_CACHE)
def _knn_query(Xt, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, i, out_j, out_d2,
               stack_node, stack_bound, q, acc):
    for f in range(q.shape[0]):
        q[f] = Xt[i, f]
    k_max = out_j.shape[1]
    n = perm.shape[0]
    for r in range(k_max):
        out_j[i, r] = -1
        out_d2[i, r] = np.inf
    worst = np.inf
    worst_obs = n
    stack_node[0] = 0
    stack_bound[0] = 0.0
    top = 1
    while top > 0:
        top -= 1
        k = stack_node[top]
        bound = stack_bound[top]
        if bound > worst or (bound == worst and node_min[k] > worst_obs):
            continue
        left = node_left[k]
        if left < 0:
            lo = node_lo[k]
            _leaf_distances(Xt, q, lo, node_hi[k], acc)
            for j in range(lo, node_hi[k]):
                if j == i:
                    continue
                dist = acc[j - lo]
                if dist < worst or (dist == worst and perm[j] < worst_obs):
                    obs = perm[j]
                    r = k_max - 1
                    while r > 0 and (
                        dist < out_d2[i, r - 1]
                        or (dist == out_d2[i, r - 1] and obs < perm[out_j[i, r - 1]])
                    ):
                        out_j[i, r] = out_j[i, r - 1]
                        out_d2[i, r] = out_d2[i, r - 1]
                        r -= 1
                    out_j[i, r] = j
                    out_d2[i, r] = dist
                    if out_j[i, k_max - 1] >= 0:
                        worst = out_d2[i, k_max - 1]
                        worst_obs = perm[out_j[i, k_max - 1]]
            continue
        right = left + 1
        bound_left = _box_bound(q, box_lo, box_hi, left)
        bound_right = _box_bound(q, box_lo, box_hi, right)
        if bound_left <= bound_right:
            stack_node[top] = right
            stack_bound[top] = bound_right
            stack_node[top + 1] = left
            stack_bound[top + 1] = bound_left
        else:
            stack_node[top] = left
            stack_bound[top] = bound_left
            stack_node[top + 1] = right
            stack_bound[top + 1] = bound_right
        top += 2


def _knn(Xt, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, out_j, out_d2, block,
         max_leaf):
    n, d = Xt.shape
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        q = np.empty(d)
        acc = np.empty(max_leaf)
        for i in range(b * block, min(n, (b + 1) * block)):
            _knn_query(Xt, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, i, out_j,
                       out_d2, stack_node, stack_bound, q, acc)


#: The k nearest other points of every point (tree positions), sorted by
#: (squared distance, observation index): out_j int64[n, k] (-1 past the
#: end when n - 1 < k), out_d2 float64[n, k]. Parallel twin over blocks.
knn_serial, knn_parallel = twins(_knn)


@njit(cache=NUMBA_CACHE, inline="always")
def _knn_scan_leaf(Xt, perm, q, i, lo, hi, acc, out_j, out_d2):
    """Insert the points lo:hi (except i) into i's sorted k-nearest list."""
    k_max = out_j.shape[1]
    _leaf_distances(Xt, q, lo, hi, acc)
    for j in range(lo, hi):
        if j == i:
            continue
        dist = acc[j - lo]
        worst = out_d2[i, k_max - 1]
        if dist > worst:
            continue
        obs = perm[j]
        if dist == worst and out_j[i, k_max - 1] >= 0 and obs > perm[out_j[i, k_max - 1]]:
            continue
        r = k_max - 1
        while r > 0 and (
            dist < out_d2[i, r - 1]
            or (dist == out_d2[i, r - 1] and obs < perm[out_j[i, r - 1]])
        ):
            out_j[i, r] = out_j[i, r - 1]
            out_d2[i, r] = out_d2[i, r - 1]
            r -= 1
        out_j[i, r] = j
        out_d2[i, r] = dist


def _knn_leaves(Xt, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, out_j, out_d2,
                leaves, max_leaf):
    n, d = Xt.shape
    k_max = out_j.shape[1]
    n_blocks = (leaves.shape[0] + LEAF_BLOCK - 1) // LEAF_BLOCK
    for b in prange(n_blocks):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        q = np.empty(d)
        acc = np.empty(max_leaf)
        cand = np.empty(MAX_CANDIDATES, dtype=np.int64)
        for s in range(b * LEAF_BLOCK, min(leaves.shape[0], (b + 1) * LEAF_BLOCK)):
            leaf = leaves[s]
            lo = node_lo[leaf]
            hi = node_hi[leaf]
            # Each point's k nearest within its own leaf bound its true ones.
            radius = np.inf
            if hi - lo > k_max:
                radius = 0.0
                for i in range(lo, hi):
                    for r in range(k_max):
                        out_j[i, r] = -1
                        out_d2[i, r] = np.inf
                    for f in range(d):
                        q[f] = Xt[i, f]
                    _knn_scan_leaf(Xt, perm, q, i, lo, hi, acc, out_j, out_d2)
                    if out_d2[i, k_max - 1] > radius:
                        radius = out_d2[i, k_max - 1]
            count = -1
            if radius < np.inf:
                # leaves within radius of the leaf's box (itself excluded)
                count = 0
                stack_node[0] = 0
                stack_bound[0] = 0.0
                top = 1
                while top > 0:
                    top -= 1
                    k = stack_node[top]
                    if stack_bound[top] > radius or k == leaf:
                        continue
                    left = node_left[k]
                    if left < 0:
                        if count == cand.shape[0]:
                            count = -1
                            break
                        cand[count] = k
                        count += 1
                        continue
                    bound_left = _box_box_bound(box_lo, box_hi, leaf, left)
                    bound_right = _box_box_bound(box_lo, box_hi, leaf, left + 1)
                    if bound_left <= bound_right:
                        stack_node[top] = left + 1
                        stack_bound[top] = bound_right
                        stack_node[top + 1] = left
                        stack_bound[top + 1] = bound_left
                    else:
                        stack_node[top] = left
                        stack_bound[top] = bound_left
                        stack_node[top + 1] = left + 1
                        stack_bound[top + 1] = bound_right
                    top += 2
            for i in range(lo, hi):
                if count < 0:
                    _knn_query(Xt, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, i,
                               out_j, out_d2, stack_node, stack_bound, q, acc)
                    continue
                for f in range(d):
                    q[f] = Xt[i, f]
                for r in range(count):
                    k = cand[r]
                    bound = _box_bound(q, box_lo, box_hi, k)
                    worst = out_d2[i, k_max - 1]
                    if bound > worst:
                        continue
                    if bound == worst and node_min[k] > perm[out_j[i, k_max - 1]]:
                        continue
                    _knn_scan_leaf(Xt, perm, q, i, node_lo[k], node_hi[k], acc, out_j, out_d2)


#: The same lists, worked by leaves (``leaves``: the leaf nodes): each
#: point's k nearest within its leaf bound the search radius of the whole
#: leaf, whose candidate leaves are gathered once with box-to-box bounds.
#: Pays in low dimension, where leaves are compact.
knn_leaves_serial, knn_leaves_parallel = twins(_knn_leaves)


@njit(cache=NUMBA_CACHE, inline="always")
def _box_bound(q, box_lo, box_hi, k):
    """Squared distance from the point q to box k, rounded like a point distance."""
    acc = 0.0
    for f in range(q.shape[0]):
        x = q[f]
        # branch-free: at most one of the two differences is positive, and
        # lo - x squares to the same value as x - lo
        diff = max(box_lo[k, f] - x, 0.0) + max(x - box_hi[k, f], 0.0)
        acc += diff * diff
    return acc


@njit(cache=NUMBA_CACHE)
def _query(Xt, perm, comp, node_lo, node_hi, node_left, box_lo, box_hi, node_comp, node_min,
           nn_j, nn_d2, nn_exact, comp_best, lower, i, stack_node, stack_bound, q, acc):
    c = comp[i]
    if lower[i] > comp_best[c]:
        return  # no foreign point of i can beat its component's best edge
    for f in range(q.shape[0]):
        q[f] = Xt[i, f]
    best = nn_d2[i]
    best_j = nn_j[i]
    best_obs = perm[best_j] if best_j >= 0 else perm.shape[0]
    shared_min = comp_best[c]
    cut = np.inf  # smallest bound of a node pruned by the shared bound only
    top = 0
    if node_comp[0] != c:
        stack_node[0] = 0
        stack_bound[0] = 0.0
        top = 1
    while top > 0:
        top -= 1
        k = stack_node[top]
        bound = stack_bound[top]
        shared = comp_best[c]
        if shared < shared_min:
            shared_min = shared
        if bound > best:
            continue
        if bound > shared_min:
            if bound < cut:
                cut = bound
            continue
        if bound == best and node_min[k] > best_obs:
            continue
        left = node_left[k]
        if left < 0:
            improved = False
            lo = node_lo[k]
            _leaf_distances(Xt, q, lo, node_hi[k], acc)
            for j in range(lo, node_hi[k]):
                if comp[j] == c:
                    continue
                dist = acc[j - lo]
                if dist < best or (dist == best and perm[j] < best_obs):
                    best = dist
                    best_j = j
                    best_obs = perm[j]
                    improved = True
            if improved and best < comp_best[c]:
                comp_best[c] = best  # racy but safe: any value written is a real edge
            continue
        right = left + 1
        near = left
        far = right
        bound_near = -1.0
        bound_far = -1.0
        if node_comp[left] != c:
            bound_near = _box_bound(q, box_lo, box_hi, left)
        if node_comp[right] != c:
            bound_far = _box_bound(q, box_lo, box_hi, right)
        if bound_near < 0.0 or (bound_far >= 0.0 and bound_far < bound_near):
            near, far = far, near
            bound_near, bound_far = bound_far, bound_near
        if bound_far >= 0.0:
            stack_node[top] = far
            stack_bound[top] = bound_far
            top += 1
        if bound_near >= 0.0:
            stack_node[top] = near
            stack_bound[top] = bound_near
            top += 1
    nn_j[i] = best_j
    nn_d2[i] = best
    # Every pruned node was farther than min(best, shared_min) or tied with
    # a larger index: the candidate is exact when best <= shared_min.
    nn_exact[i] = best <= shared_min
    # Foreign points of i are at least min(best, cut) away, this round and
    # the next ones (the foreign set only shrinks).
    low = min(best, cut)
    if low > lower[i]:
        lower[i] = low


@njit(cache=NUMBA_CACHE, inline="always")
def _box_box_bound(box_lo, box_hi, a, k):
    """Squared gap between boxes a and k, never above a distance between their points."""
    acc = 0.0
    for f in range(box_lo.shape[1]):
        # branch-free: at most one of the two gaps is positive
        diff = max(box_lo[k, f] - box_hi[a, f], 0.0) + max(box_lo[a, f] - box_hi[k, f], 0.0)
        acc += diff * diff
    return acc


@njit(cache=NUMBA_CACHE)
def _gather(node_left, box_lo, box_hi, node_comp, comp_best, leaf, c, cand, stack_node,
            stack_bound):
    """Leaves that may hold a foreign point within the shared bound of any point of ``leaf``.

    Returns (count, shared_min, cut), count = -1 when more than cand.shape[0];
    cut : the smallest box gap of a node pruned by the shared bound.
    """
    shared_min = comp_best[c]
    cut = np.inf
    count = 0
    top = 0
    if node_comp[0] != c:
        stack_node[0] = 0
        stack_bound[0] = 0.0
        top = 1
    while top > 0:
        top -= 1
        k = stack_node[top]
        bound = stack_bound[top]
        shared = comp_best[c]
        if shared < shared_min:
            shared_min = shared
        if bound > shared_min:
            if bound < cut:
                cut = bound
            continue
        left = node_left[k]
        if left < 0:
            if count == cand.shape[0]:
                return -1, shared_min, cut
            cand[count] = k
            count += 1
            continue
        right = left + 1
        bound_left = -1.0
        bound_right = -1.0
        if node_comp[left] != c:
            bound_left = _box_box_bound(box_lo, box_hi, leaf, left)
        if node_comp[right] != c:
            bound_right = _box_box_bound(box_lo, box_hi, leaf, right)
        near = left
        far = right
        if bound_left < 0.0 or (bound_right >= 0.0 and bound_right < bound_left):
            near, far = far, near
            bound_left, bound_right = bound_right, bound_left
        if bound_right >= 0.0:
            stack_node[top] = far
            stack_bound[top] = bound_right
            top += 1
        if bound_left >= 0.0:
            stack_node[top] = near
            stack_bound[top] = bound_left
            top += 1
    return count, shared_min, cut


@njit(cache=NUMBA_CACHE)
def _query_candidates(Xt, perm, comp, node_lo, node_hi, box_lo, box_hi, node_min, nn_j, nn_d2,
                      nn_exact, comp_best, lower, i, c, cand, count, shared_min, cut, q, acc):
    """_query restricted to the candidate leaves of i's leaf (pruned nodes: see _gather)."""
    for f in range(q.shape[0]):
        q[f] = Xt[i, f]
    best = nn_d2[i]
    best_j = nn_j[i]
    best_obs = perm[best_j] if best_j >= 0 else perm.shape[0]
    for r in range(count):
        k = cand[r]
        shared = comp_best[c]
        if shared < shared_min:
            shared_min = shared
        bound = _box_bound(q, box_lo, box_hi, k)
        if bound > best:
            continue
        if bound > shared_min:
            if bound < cut:
                cut = bound
            continue
        if bound == best and node_min[k] > best_obs:
            continue
        lo = node_lo[k]
        _leaf_distances(Xt, q, lo, node_hi[k], acc)
        improved = False
        for j in range(lo, node_hi[k]):
            if comp[j] == c:
                continue
            dist = acc[j - lo]
            if dist < best or (dist == best and perm[j] < best_obs):
                best = dist
                best_j = j
                best_obs = perm[j]
                improved = True
        if improved and best < comp_best[c]:
            comp_best[c] = best
    nn_j[i] = best_j
    nn_d2[i] = best
    nn_exact[i] = best <= shared_min
    low = min(best, cut)
    if low > lower[i]:
        lower[i] = low


def _search(Xt, perm, comp, node_lo, node_hi, node_left, box_lo, box_hi, node_comp, node_min,
            nn_j, nn_d2, nn_exact, comp_best, lower, need, leaves, max_leaf):
    n_blocks = (leaves.shape[0] + LEAF_BLOCK - 1) // LEAF_BLOCK
    for b in prange(n_blocks):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        q = np.empty(Xt.shape[1])
        acc = np.empty(max_leaf)
        cand = np.empty(MAX_CANDIDATES, dtype=np.int64)
        for s in range(b * LEAF_BLOCK, min(leaves.shape[0], (b + 1) * LEAF_BLOCK)):
            leaf = leaves[s]
            lo = node_lo[leaf]
            hi = node_hi[leaf]
            n_need = 0
            for t in range(lo, hi):
                if need[t]:
                    n_need += 1
            if n_need == 0:
                continue
            c = node_comp[leaf]
            count = -1
            shared_min = np.inf
            cut = np.inf
            if c >= 0 and n_need > 1:
                count, shared_min, cut = _gather(node_left, box_lo, box_hi, node_comp, comp_best,
                                                 leaf, c, cand, stack_node, stack_bound)
            for t in range(lo, hi):
                if not need[t]:
                    continue
                if count < 0:
                    _query(Xt, perm, comp, node_lo, node_hi, node_left, box_lo, box_hi, node_comp,
                           node_min, nn_j, nn_d2, nn_exact, comp_best, lower, t, stack_node,
                           stack_bound, q, acc)
                elif lower[t] <= comp_best[c]:
                    _query_candidates(Xt, perm, comp, node_lo, node_hi, box_lo, box_hi, node_min,
                                      nn_j, nn_d2, nn_exact, comp_best, lower, t, c, cand, count,
                                      shared_min, cut, q, acc)


#: Nearest foreign point of every point with need[t] (tree positions),
#: written to nn_j/nn_d2/nn_exact; comp_best is lowered on the way (racy
#: writes are safe: any value written is a real edge); lower : float64[n], a
#: lower bound on each point's squared distance to foreign points, raised by
#: the search (points whose bound exceeds their component's best edge are
#: skipped). Work goes by leaves (``leaves``: the leaf nodes in tree order):
#: a leaf inside one component first gathers, with box-to-box bounds, the
#: leaves that can matter to any of its points. Both twins give the same
#: per-component minima (pruning is strict, ties keyed by index).
search_serial, search_parallel = twins(_search)


def _merge_round(parent, size, comp, perm, node_lo, node_hi, node_comp, leaves, nn_j, nn_d2, a,
                 b, h, n_edges, cand_d2, cand_lo, cand_hi, cand_t, leaf_t):
    n = comp.shape[0]
    for t in prange(n):
        cand_t[t] = -1
    # A leaf inside one component first reduces its own points (in
    # parallel); mixed leaves leave theirs to the serial pass.
    for s in prange(leaves.shape[0]):
        k = leaves[s]
        leaf_t[s] = -2
        if node_comp[k] < 0:
            continue
        best_t = -1
        best_d2 = np.inf
        best_lo = 0
        best_hi = 0
        for t in range(node_lo[k], node_hi[k]):
            j = nn_j[t]
            if j < 0:
                continue
            d2 = nn_d2[t]
            lo = perm[t]
            hi = perm[j]
            if hi < lo:
                lo, hi = hi, lo
            if best_t < 0 or d2 < best_d2 or (
                d2 == best_d2 and (lo < best_lo or (lo == best_lo and hi < best_hi))
            ):
                best_t = t
                best_d2 = d2
                best_lo = lo
                best_hi = hi
        leaf_t[s] = best_t
    for s in range(leaves.shape[0]):
        k = leaves[s]
        first = node_lo[k]
        last = node_hi[k]
        if leaf_t[s] != -2:
            if leaf_t[s] < 0:
                continue
            first = leaf_t[s]
            last = first + 1
        for t in range(first, last):
            j = nn_j[t]
            if j < 0:
                continue
            c = comp[t]
            d2 = nn_d2[t]
            lo = perm[t]
            hi = perm[j]
            if hi < lo:
                lo, hi = hi, lo
            if cand_t[c] < 0 or d2 < cand_d2[c] or (
                d2 == cand_d2[c] and (lo < cand_lo[c] or (lo == cand_lo[c] and hi < cand_hi[c]))
            ):
                cand_d2[c] = d2
                cand_lo[c] = lo
                cand_hi[c] = hi
                cand_t[c] = t
    for r in range(n):
        if cand_t[r] < 0:
            continue
        t = cand_t[r]
        j = nn_j[t]
        x = uf_find(parent, t)
        y = uf_find(parent, j)
        if x == y:
            continue  # the same edge, chosen from both sides
        if size[x] < size[y]:
            x, y = y, x
        parent[y] = x
        size[x] += size[y]
        a[n_edges] = cand_lo[r]
        b[n_edges] = cand_hi[r]
        h[n_edges] = cand_d2[r]
        n_edges += 1
    return n_edges


#: Add every component's cheapest edge; returns the new number of edges.
#: Edges (observation a, observation b, squared distance h) are appended at
#: a/b/h[n_edges:]; components are visited by increasing root position.
#: cand_* : scratch arrays of length n; leaf_t : int64[len(leaves)] scratch.
merge_round_serial, merge_round_parallel = twins(_merge_round)
