"""The kd-tree of the vector engines: built once over the rows of a matrix, kept in flat arrays.

Borůvka's minimum spanning tree, vector ward (and the Dask tier, which
queries one tree per partition) work on the same structure, a ``KDTree``
namedtuple of arrays that a kernel takes as one argument:

- ``data`` : float64[n, d], the rows in tree order (``X[perm]``): a node's
  points are contiguous, so its scans read memory sequentially;
- ``perm`` : int64[n], the row of ``X`` at each tree position;
- ``node_lo``, ``node_hi`` : int64[n_nodes], node ``k`` holds the tree
  positions ``node_lo[k]:node_hi[k]``;
- ``node_left`` : int64[n_nodes], -1 for a leaf, else the left child (the
  right one is ``node_left[k] + 1``; children are numbered after their
  parent; node 0 is the root);
- ``box_lo``, ``box_hi`` : float64[n_nodes, d], the coordinate-wise min and
  max of the node's points;
- ``node_min`` : int64[n_nodes], the smallest row (``perm`` value) in the
  node: distance ties go to the smaller row, so a node whose bound ties the
  best distance found is pruned when its smallest row is larger.

Primitives on it:

- ``build``: the tree (Z-order cells for d <= 3, median splits otherwise);
  ``leaf_nodes`` and ``node_parents`` for leaf-by-leaf work and refits;
- bounds and distances rounded like a point distance (``point_box_dist2``,
  ``box_box_dist2``, ``dist2_block``), so a box bound never exceeds the
  distance of a point inside the box and no safety margin is needed;
- k nearest neighbours of every tree point (``knn_serial``/``knn_parallel``
  point by point, ``knn_leaves_serial``/``knn_leaves_parallel`` leaf by
  leaf) or of other points (``knn_points_*``), all by ``knn_query``;
- ``gather_leaves``: the leaves within a bound of a leaf's box;
- ``nearest_other`` and ``nearest_other_in``: the nearest point with
  another label (Borůvka: another component), pruned by node labels and by
  a bound shared between the points of a label;
- ``refit_all`` and ``refit_path``: the boxes, smallest weights and counts
  of the live points after points moved or died (vector ward's clusters).

Distances are squared Euclidean, summed in dimension order as
``sum((x_f - y_f) ** 2)``, the expression of scipy's ``pdist``.

Numba: kernels that take a ``KDTree`` unpack its arrays into locals before
their loops (reading a field inside a hot loop costs a reference-count
update per read), and the inner helpers take the arrays one by one.
"""

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins
from .sorting import radix_argsort

#: The tree (see the module docstring for the fields).
KDTree = namedtuple(
    "KDTree", ["data", "perm", "node_lo", "node_hi", "node_left", "box_lo", "box_hi", "node_min"]
)

#: Default number of points per leaf (16 measured 10% faster than 32 for
#: Borůvka at 100k x 8, 100k x 16 and 1M x 2 once the box bounds were branch-free).
LEAF_SIZE = 16
#: Up to this dimension the tree's cells come from Morton codes (see build).
MORTON_MAX_DIM = 3
#: Explicit stack depth for one query (tree depth is about log2(n / leaf size)).
STACK_SIZE = 256
#: Queries per parallel work item of ``knn_*`` (consecutive in tree order: nearby points).
BLOCK = 256
#: Leaves per parallel work item of the leaf-batched searches.
LEAF_BLOCK = 4
#: Most candidate leaves gathered for one query leaf (beyond: per-point search).
MAX_CANDIDATES = 2048


# ---------------------------------------------------------------- building


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
def build(X, leaf_size):
    """The KDTree over the rows of X (float64[n, d], C-contiguous, finite).

    For d <= 3 the points are radix-sorted by Morton code and a node splits
    where its codes' highest differing bit changes (a quadtree/octree cell
    halved, empty halves skipped): one sort instead of a selection per
    level, about 4x faster to build at 1M x 2, and the compact cells make
    the neighbour searches faster too. Nodes of more than ``leaf_size``
    points on one grid cell, and every node for d > 3, split at the median
    of their box's widest side. A node of equal points is one leaf, however
    large: every other leaf holds at most ``leaf_size`` points.
    """
    n, d = X.shape
    if d <= MORTON_MAX_DIM:
        perm, codes = radix_argsort(morton_codes(X))
        data = np.empty((n, d))
        for t in range(n):
            for f in range(d):
                data[t, f] = X[perm[t], f]
    else:
        perm = np.arange(n)
        codes = np.zeros(n, dtype=np.uint64)  # one cell: medians everywhere
        data = X.copy()  # rows move with perm: scans stay sequential
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
            _rows_box(data, lo, hi, lo_f, hi_f)
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
                keys[t] = data[t, best_f]
            mid = (lo + hi) // 2
            _select(keys, perm, data, lo, hi - 1, mid)
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
            _rows_box(data, node_lo[k], node_hi[k], box_lo[k], box_hi[k])
            node_min[k] = perm[node_lo[k]:node_hi[k]].min()
        else:
            node_min[k] = min(node_min[left], node_min[left + 1])
            for f in range(d):
                box_lo[k, f] = min(box_lo[left, f], box_lo[left + 1, f])
                box_hi[k, f] = max(box_hi[left, f], box_hi[left + 1, f])
    return KDTree(
        data,
        perm,
        node_lo[:n_nodes].copy(),
        node_hi[:n_nodes].copy(),
        node_left[:n_nodes].copy(),
        box_lo,
        box_hi,
        node_min,
    )


@njit(cache=NUMBA_CACHE)
def leaf_nodes(tree):
    """The leaves of the tree in tree order (by their first position), int64[n_leaves]."""
    node_left = tree.node_left
    n_leaves = 0
    for k in range(node_left.shape[0]):
        if node_left[k] < 0:
            n_leaves += 1
    leaves = np.empty(n_leaves, dtype=np.int64)
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack[0] = 0
    top = 1
    count = 0
    while top > 0:
        top -= 1
        k = stack[top]
        left = node_left[k]
        if left < 0:
            leaves[count] = k
            count += 1
        else:
            stack[top] = left + 1  # the left child's points come first: popped first
            stack[top + 1] = left
            top += 2
    return leaves


@njit(cache=NUMBA_CACHE)
def node_parents(tree):
    """(node_parent, point_leaf): each node's parent (-1 for the root) and each position's leaf."""
    node_left = tree.node_left
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    n_nodes = node_left.shape[0]
    node_parent = np.full(n_nodes, -1, dtype=np.int64)
    point_leaf = np.empty(tree.perm.shape[0], dtype=np.int64)
    for k in range(n_nodes):
        left = node_left[k]
        if left >= 0:
            node_parent[left] = k
            node_parent[left + 1] = k
        else:
            for t in range(node_lo[k], node_hi[k]):
                point_leaf[t] = k
    return node_parent, point_leaf


# ------------------------------------------------------ bounds and distances


@njit(cache=NUMBA_CACHE, inline="always")
def point_box_dist2(q, box_lo, box_hi, k):
    """Squared distance from the point q (float64[d]) to box k, rounded like a point distance."""
    acc = 0.0
    for f in range(q.shape[0]):
        x = q[f]
        # branch-free: at most one of the two differences is positive, and
        # lo - x squares to the same value as x - lo
        diff = max(box_lo[k, f] - x, 0.0) + max(x - box_hi[k, f], 0.0)
        acc += diff * diff
    return acc


@njit(cache=NUMBA_CACHE, inline="always")
def box_box_dist2(box_lo, box_hi, a, k):
    """Squared gap between boxes a and k, never above a distance between their points."""
    acc = 0.0
    for f in range(box_lo.shape[1]):
        # branch-free: at most one of the two gaps is positive
        diff = max(box_lo[k, f] - box_hi[a, f], 0.0) + max(box_lo[a, f] - box_hi[k, f], 0.0)
        acc += diff * diff
    return acc


@njit(cache=NUMBA_CACHE, inline="always")
def dist2_block(data, q, lo, hi, acc):
    """acc[:hi-lo] = squared distances from q to the points lo:hi of data, summed in dimension order."""
    for j in range(lo, hi):
        total = 0.0
        for f in range(q.shape[0]):
            diff = q[f] - data[j, f]
            total += diff * diff
        acc[j - lo] = total


# ------------------------------------------------------- k nearest neighbours


@njit(cache=NUMBA_CACHE, inline="always")
def _knn_scan_leaf(data, perm, q, i, lo, hi, acc, out_j, out_d2):
    """Insert the points lo:hi (except i) into i's list out_j/out_d2[i], sorted by (distance, row)."""
    last = out_j.shape[1] - 1
    dist2_block(data, q, lo, hi, acc)
    for j in range(lo, hi):
        if j == i:
            continue
        dist = acc[j - lo]
        worst = out_d2[i, last]
        if dist > worst:
            continue
        if dist == worst and out_j[i, last] >= 0 and perm[j] > perm[out_j[i, last]]:
            continue
        _knn_insert(out_j, out_d2, perm, i, j, dist)


@njit(cache=NUMBA_CACHE, inline="always")
def _knn_insert(out_j, out_d2, perm, i, j, dist):
    """Insert tree point j at squared distance dist into i's sorted list, dropping its last entry."""
    obs = perm[j]
    r = out_j.shape[1] - 1
    while r > 0 and (
        dist < out_d2[i, r - 1]
        or (dist == out_d2[i, r - 1] and obs < perm[out_j[i, r - 1]])
    ):
        out_j[i, r] = out_j[i, r - 1]
        out_d2[i, r] = out_d2[i, r - 1]
        r -= 1
    out_j[i, r] = j
    out_d2[i, r] = dist


@njit(cache=NUMBA_CACHE)
def knn_query(data, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, q, skip, out_j,
              out_d2, row, stack_node, stack_bound, acc):
    """The k = out_j.shape[1] nearest tree points to q (float64[d]), into out_j/out_d2[row].

    Tree position ``skip`` is left out (the query's own position; -1: none).
    Sorted by (squared distance, row of X); -1 / inf past the end when the
    tree has fewer points. Scratch: stack_node/stack_bound[STACK_SIZE],
    acc[largest leaf].
    """
    k_max = out_j.shape[1]
    n = perm.shape[0]
    for r in range(k_max):
        out_j[row, r] = -1
        out_d2[row, r] = np.inf
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
            dist2_block(data, q, lo, node_hi[k], acc)
            for j in range(lo, node_hi[k]):
                if j == skip:
                    continue
                dist = acc[j - lo]
                if dist < worst or (dist == worst and perm[j] < worst_obs):
                    _knn_insert(out_j, out_d2, perm, row, j, dist)
                    if out_j[row, k_max - 1] >= 0:
                        worst = out_d2[row, k_max - 1]
                        worst_obs = perm[out_j[row, k_max - 1]]
            continue
        # Visit the nearer child first: push it last. (Written out in each
        # search: through an inlined helper this loop measured 5% slower at
        # 100k x 8, the branch compiled into selects.)
        bound_left = point_box_dist2(q, box_lo, box_hi, left)
        bound_right = point_box_dist2(q, box_lo, box_hi, left + 1)
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


def _knn(tree, out_j, out_d2, block, max_leaf, first, stop):
    data = tree.data
    perm = tree.perm
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    node_min = tree.node_min
    n, d = data.shape
    for b in prange(first, stop):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        q = np.empty(d)
        acc = np.empty(max_leaf)
        for i in range(b * block, min(n, (b + 1) * block)):
            for f in range(d):
                q[f] = data[i, f]
            knn_query(data, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, q, i, out_j,
                      out_d2, i, stack_node, stack_bound, acc)


def _knn_points(tree, Q, out_j, out_d2, max_leaf):
    data = tree.data
    perm = tree.perm
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    node_min = tree.node_min
    n_queries = Q.shape[0]
    n_blocks = (n_queries + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        acc = np.empty(max_leaf)
        for r in range(b * BLOCK, min(n_queries, (b + 1) * BLOCK)):
            knn_query(data, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, Q[r], -1,
                      out_j, out_d2, r, stack_node, stack_bound, acc)


#: The k nearest tree points of every row of Q (float64[m, d], points that
#: need not be in the tree: another partition's, new observations), sorted
#: by (squared distance, row of the tree's X): out_j int64[m, k] tree
#: positions (``tree.perm[out_j]`` are rows; -1 past the end), out_d2
#: float64[m, k]; max_leaf the largest leaf's size.
knn_points_serial, knn_points_parallel = twins(_knn_points)


#: The k nearest other points of every point (tree positions), sorted by
#: (squared distance, row): out_j int64[n, k] (-1 past the end when
#: n - 1 < k), out_d2 float64[n, k]; ``block`` points per parallel work
#: item, ``max_leaf`` the largest leaf's size; only the blocks ``first`` to
#: ``stop - 1`` (points ``first * block`` to ``stop * block - 1``), so that a
#: driver can run a long list in calls. Parallel twin over blocks.
knn_serial, knn_parallel = twins(_knn)


def _knn_leaves(tree, out_j, out_d2, leaves, max_leaf, first, stop):
    data = tree.data
    perm = tree.perm
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    node_min = tree.node_min
    dim = data.shape[1]
    k_list = out_j.shape[1]
    for b in prange(first, stop):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        q = np.empty(dim)
        acc = np.empty(max_leaf)
        cand = np.empty(MAX_CANDIDATES, dtype=np.int64)
        radius = np.empty(1)
        for s in range(b * LEAF_BLOCK, min(leaves.shape[0], (b + 1) * LEAF_BLOCK)):
            leaf = leaves[s]
            lo = node_lo[leaf]
            hi = node_hi[leaf]
            # Each point's k nearest within its own leaf bound its true ones.
            leaf_radius = np.inf
            if hi - lo > k_list:
                leaf_radius = 0.0
                for i in range(lo, hi):
                    for r in range(k_list):
                        out_j[i, r] = -1
                        out_d2[i, r] = np.inf
                    for f in range(dim):
                        q[f] = data[i, f]
                    _knn_scan_leaf(data, perm, q, i, lo, hi, acc, out_j, out_d2)
                    if out_d2[i, k_list - 1] > leaf_radius:
                        leaf_radius = out_d2[i, k_list - 1]
            count = -1
            if leaf_radius < np.inf:
                radius[0] = leaf_radius
                count, _, _ = gather_leaves(node_left, box_lo, box_hi, None, -2, radius, 0,
                                            leaf, cand, stack_node, stack_bound)
            for i in range(lo, hi):
                for f in range(dim):
                    q[f] = data[i, f]
                if count < 0:
                    knn_query(data, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, q, i,
                              out_j, out_d2, i, stack_node, stack_bound, acc)
                    continue
                for r in range(count):
                    k = cand[r]
                    bound = point_box_dist2(q, box_lo, box_hi, k)
                    worst = out_d2[i, k_list - 1]
                    if bound > worst:
                        continue
                    if bound == worst and node_min[k] > perm[out_j[i, k_list - 1]]:
                        continue
                    _knn_scan_leaf(data, perm, q, i, node_lo[k], node_hi[k], acc, out_j, out_d2)


#: The same lists, worked by leaves (``leaves``: the leaf nodes in tree
#: order): each point's k nearest within its leaf bound the search radius of
#: the whole leaf, whose candidate leaves are gathered once with box-to-box
#: bounds. Pays in low dimension, where leaves are compact. ``first`` and
#: ``stop``: blocks of ``LEAF_BLOCK`` leaves, as in ``_search`` of boruvka.
knn_leaves_serial, knn_leaves_parallel = twins(_knn_leaves)


# ----------------------------------------------- searches pruned by labels


@njit(cache=NUMBA_CACHE)
def gather_leaves(node_left, box_lo, box_hi, node_label, label, bound, b, leaf, cand, stack_node,
                  stack_bound):
    """Leaves that may hold a point within ``bound[b]`` of a point of leaf ``leaf``, into cand.

    Skips ``leaf`` itself and the nodes whose points all have ``label``
    (``node_label[k] == label``; -1 marks a mixed node); ``node_label``
    None: no labels (numba compiles that case without the label reads). ``bound[b]`` may
    be lowered meanwhile (by other threads): the smallest value seen prunes.
    Returns (count, bound_min, cut): count = -1 when more than
    ``cand.shape[0]`` leaves qualify; bound_min the smallest ``bound[b]``
    seen; cut the smallest box gap of a node pruned by the bound (inf when
    none), so every point outside the gathered leaves (and not of
    ``label``) is at least ``min(bound_min, cut)`` from the leaf's points.
    """
    bound_min = bound[b]
    cut = np.inf
    count = 0
    stack_node[0] = 0
    stack_bound[0] = 0.0
    top = 1
    if node_label is not None:
        if node_label[0] == label:
            top = 0
    while top > 0:
        top -= 1
        k = stack_node[top]
        gap = stack_bound[top]
        live = bound[b]
        if live < bound_min:
            bound_min = live
        if gap > bound_min:
            if gap < cut:
                cut = gap
            continue
        if k == leaf:
            continue
        left = node_left[k]
        if left < 0:
            if count == cand.shape[0]:
                return -1, bound_min, cut
            cand[count] = k
            count += 1
            continue
        right = left + 1
        near = left
        far = right
        if node_label is None:
            gap_near = box_box_dist2(box_lo, box_hi, leaf, left)
            gap_far = box_box_dist2(box_lo, box_hi, leaf, right)
        else:
            gap_near = -1.0
            gap_far = -1.0
            if node_label[left] != label:
                gap_near = box_box_dist2(box_lo, box_hi, leaf, left)
            if node_label[right] != label:
                gap_far = box_box_dist2(box_lo, box_hi, leaf, right)
        if gap_near < 0.0 or (gap_far >= 0.0 and gap_far < gap_near):
            near, far = far, near
            gap_near, gap_far = gap_far, gap_near
        if gap_far >= 0.0:
            stack_node[top] = far
            stack_bound[top] = gap_far
            top += 1
        if gap_near >= 0.0:
            stack_node[top] = near
            stack_bound[top] = gap_near
            top += 1
    return count, bound_min, cut


@njit(cache=NUMBA_CACHE, inline="always")
def _scan_other(data, perm, point_label, q, c, lo, hi, best, best_j, best_obs, shared, acc):
    """Improve (best, best_j, best_obs) with the points lo:hi not labelled c; lowers shared[c]."""
    dist2_block(data, q, lo, hi, acc)
    improved = False
    for j in range(lo, hi):
        if point_label[j] == c:
            continue
        dist = acc[j - lo]
        if dist < best or (dist == best and perm[j] < best_obs):
            best = dist
            best_j = j
            best_obs = perm[j]
            improved = True
    if improved and best < shared[c]:
        shared[c] = best
    return best, best_j, best_obs


@njit(cache=NUMBA_CACHE)
def nearest_other(data, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, point_label,
                  node_label, q, c, best, best_j, shared, stack_node, stack_bound, acc):
    """The nearest point to q whose label is not c, improving on the candidate (best, best_j).

    point_label : int64[n] by tree position; node_label : int64[n_nodes],
    the label of all of a node's points, -1 when mixed. ``shared[c]`` is an
    upper bound on the best distance of every point labelled c (Borůvka:
    the cheapest edge of the component found so far); nodes beyond it are
    pruned, and it is lowered to a better distance found (racy but safe
    between threads: any value written is a real distance). Ties go to the
    smaller row. Returns (best, best_j, shared_min, cut): shared_min the
    smallest ``shared[c]`` seen, cut the smallest bound of a node pruned by
    the shared bound only (inf when none). The candidate is the exact
    nearest when best <= shared_min; in any case every point of another
    label is at least min(best, cut) away.
    """
    best_obs = perm[best_j] if best_j >= 0 else perm.shape[0]
    shared_min = shared[c]
    cut = np.inf
    top = 0
    if node_label[0] != c:
        stack_node[0] = 0
        stack_bound[0] = 0.0
        top = 1
    while top > 0:
        top -= 1
        k = stack_node[top]
        bound = stack_bound[top]
        live = shared[c]
        if live < shared_min:
            shared_min = live
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
            best, best_j, best_obs = _scan_other(data, perm, point_label, q, c, node_lo[k],
                                                 node_hi[k], best, best_j, best_obs, shared, acc)
            continue
        right = left + 1
        near = left
        far = right
        bound_near = -1.0
        bound_far = -1.0
        if node_label[left] != c:
            bound_near = point_box_dist2(q, box_lo, box_hi, left)
        if node_label[right] != c:
            bound_far = point_box_dist2(q, box_lo, box_hi, right)
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
    return best, best_j, shared_min, cut


@njit(cache=NUMBA_CACHE)
def nearest_other_in(data, perm, node_lo, node_hi, box_lo, box_hi, node_min, point_label, q, c,
                     best, best_j, shared, shared_min, cut, cand, count, acc):
    """``nearest_other`` over the leaves cand[:count] only (from ``gather_leaves`` on q's leaf,
    whose shared_min and cut come in and are lowered). Same returns."""
    best_obs = perm[best_j] if best_j >= 0 else perm.shape[0]
    for r in range(count):
        k = cand[r]
        live = shared[c]
        if live < shared_min:
            shared_min = live
        bound = point_box_dist2(q, box_lo, box_hi, k)
        if bound > best:
            continue
        if bound > shared_min:
            if bound < cut:
                cut = bound
            continue
        if bound == best and node_min[k] > best_obs:
            continue
        best, best_j, best_obs = _scan_other(data, perm, point_label, q, c, node_lo[k], node_hi[k],
                                             best, best_j, best_obs, shared, acc)
    return best, best_j, shared_min, cut


# ------------------------------------------------- refits of a moving point set


@njit(cache=NUMBA_CACHE)
def refit_leaf(P, w, alive, node_lo, node_hi, box_lo, box_hi, node_wmin, node_count, k):
    """Recompute leaf k's box, smallest weight and count from its live points (rows of P)."""
    d = P.shape[1]
    for f in range(d):
        box_lo[k, f] = np.inf
        box_hi[k, f] = -np.inf
    wmin = np.inf
    count = 0
    for s in range(node_lo[k], node_hi[k]):
        if not alive[s]:
            continue
        count += 1
        if w[s] < wmin:
            wmin = w[s]
        for f in range(d):
            v = P[s, f]
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
def refit_all(tree, P, w, alive, node_wmin, node_count):
    """Refit every node of the tree from the live points: tree.box_lo/box_hi, node_wmin
    (float64[n_nodes]) and node_count (int64[n_nodes]) are written; P : float64[n, d] the
    points by tree position (they may have moved since the build), w : float64[n], alive : bool[n]."""
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    for k in range(node_left.shape[0] - 1, -1, -1):  # children before parents
        if node_left[k] < 0:
            refit_leaf(P, w, alive, node_lo, node_hi, box_lo, box_hi, node_wmin, node_count, k)
        else:
            refit_inner(node_left, box_lo, box_hi, node_wmin, node_count, k)


@njit(cache=NUMBA_CACHE)
def refit_path(P, w, alive, node_lo, node_hi, node_left, node_parent, point_leaf, box_lo, box_hi,
               node_wmin, node_count, s):
    """Refit the leaf holding position s and its ancestors (see refit_all)."""
    k = point_leaf[s]
    refit_leaf(P, w, alive, node_lo, node_hi, box_lo, box_hi, node_wmin, node_count, k)
    k = node_parent[k]
    while k >= 0:
        refit_inner(node_left, box_lo, box_hi, node_wmin, node_count, k)
        k = node_parent[k]
