"""Kernels on a linkage matrix: traversals, flat cuts, cophenetic distances, layout, ordering.

Every kernel walks the tree without recursion: most use the fact that in a valid
``Z`` a merge's children have smaller node ids than the merge itself, so one pass in
row order is bottom-up and one pass in reverse row order is top-down; the few that
must reproduce scipy's depth-first visiting order use an explicit stack.

Common arguments: ``children`` int64[n-1, 2] (the first two columns of ``Z``),
``heights`` float64[n-1] (the third column), ``n`` the number of leaves. Node ``v``
is leaf ``v`` when ``v < n`` and merge ``v - n`` otherwise.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE)
def find_linkage_problem(Z):
    """First problem in a candidate linkage matrix (float64[m, 4]), scanning row by row.

    Returns (code, row, column): 0 none, 1 not finite, 2 child id not whole, 3 child id
    negative, 4 child id not created yet, 5 a row merges a node with itself, 6 node
    merged a second time, 7 negative height, 8 negative size.
    """
    m = Z.shape[0]
    n = m + 1
    used = np.zeros(2 * n - 1, dtype=np.bool_)
    for i in range(m):
        for col in range(4):
            if not np.isfinite(Z[i, col]):
                return 1, i, col
        for col in range(2):
            v = Z[i, col]
            if v != np.floor(v):
                return 2, i, col
            if v < 0:
                return 3, i, col
            if v >= n + i:
                return 4, i, col
        if Z[i, 0] == Z[i, 1]:
            return 5, i, 0
        for col in range(2):
            node = np.int64(Z[i, col])
            if used[node]:
                return 6, i, col
            used[node] = True
        if Z[i, 2] < 0:
            return 7, i, 2
        if Z[i, 3] < 0:
            return 8, i, 3
    return 0, -1, -1


@njit(cache=NUMBA_CACHE)
def leaf_counts(children, n):
    """Number of leaves under every node: int64[2n-1]."""
    size = np.ones(2 * n - 1, dtype=np.int64)
    for i in range(n - 1):
        size[n + i] = size[children[i, 0]] + size[children[i, 1]]
    return size


@njit(cache=NUMBA_CACHE)
def node_parents(children, n):
    """Parent of every node, -1 for the root: int64[2n-1]."""
    parent = np.full(2 * n - 1, -1, dtype=np.int64)
    for i in range(n - 1):
        parent[children[i, 0]] = n + i
        parent[children[i, 1]] = n + i
    return parent


@njit(cache=NUMBA_CACHE)
def leaf_order(children, n):
    """scipy's ``leaves_list`` (pre-order, first child first) and the start of every node.

    Returns (order int64[n], start int64[2n-1]): the leaves of node ``v`` are
    ``order[start[v]:start[v] + size[v]]``.
    """
    size = leaf_counts(children, n)
    start = np.zeros(2 * n - 1, dtype=np.int64)
    # Reverse row order visits every parent before its children (top-down).
    for i in range(n - 2, -1, -1):
        left = children[i, 0]
        right = children[i, 1]
        start[left] = start[n + i]
        start[right] = start[n + i] + size[left]
    order = np.empty(n, dtype=np.int64)
    for leaf in range(n):
        order[start[leaf]] = leaf
    return order, start


@njit(cache=NUMBA_CACHE)
def subtree_max(children, values, n):
    """max of ``values`` (float64[n-1], one per merge) over each merge's subtree: float64[n-1]."""
    out = np.empty(n - 1)
    for i in range(n - 1):
        best = values[i]
        for side in range(2):
            child = children[i, side]
            if child >= n and out[child - n] > best:
                best = out[child - n]
        out[i] = best
    return out


@njit(cache=NUMBA_CACHE)
def monocrit_labels(children, crit, cutoff, n):
    """scipy's ``cluster_monocrit``: 1-based flat labels in scipy's visiting order.

    A merge whose ``crit`` (float64[n-1]) is <= ``cutoff`` and that lies under no such
    merge is one cluster; other leaves are singletons. Labels are numbered in the
    order of scipy's depth-first walk (first child subtree, second child subtree, then
    the leaf children), so that the result equals scipy's element for element.
    Returns int64[n].
    """
    labels = np.zeros(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    state = np.zeros(n, dtype=np.int64)  # 0: descend first child next, 1: second, 2: finish
    top = 0
    stack[0] = n - 2
    state[0] = 0
    n_cluster = 0
    leader = -1
    while top >= 0:
        root = stack[top]
        left = children[root, 0]
        right = children[root, 1]
        if state[top] == 0:
            if leader == -1 and crit[root] <= cutoff:
                leader = root
                n_cluster += 1
            state[top] = 1
            if left >= n:
                top += 1
                stack[top] = left - n
                state[top] = 0
                continue
        if state[top] == 1:
            state[top] = 2
            if right >= n:
                top += 1
                stack[top] = right - n
                state[top] = 0
                continue
        if left < n:
            if leader == -1:
                n_cluster += 1
            labels[left] = n_cluster
        if right < n:
            if leader == -1:
                n_cluster += 1
            labels[right] = n_cluster
        if leader == root:
            leader = -1
        top -= 1
    return labels


@njit(cache=NUMBA_CACHE)
def count_monocrit_clusters(children, crit, thresh, n):
    """Number of clusters ``monocrit_labels`` forms at ``thresh``, in O(n) without a walk."""
    covered = np.zeros(2 * n - 1, dtype=np.bool_)
    count = 0
    for i in range(n - 2, -1, -1):
        node = n + i
        if covered[node]:
            covered[children[i, 0]] = True
            covered[children[i, 1]] = True
        elif crit[i] <= thresh:
            count += 1
            covered[children[i, 0]] = True
            covered[children[i, 1]] = True
    for leaf in range(n):
        if not covered[leaf]:
            count += 1
    return count


@njit(cache=NUMBA_CACHE)
def maxclust_cutoff(children, crit, n, max_nc):
    """scipy's threshold search of ``cluster_maxclust_monocrit`` (bisection over merge rows).

    Returns the cutoff ``crit[upper]`` that scipy passes on to ``cluster_monocrit``.
    """
    lower = -1
    upper = n - 1
    while upper - lower > 1:
        i = (lower + upper) >> 1
        if count_monocrit_clusters(children, crit, crit[i], n) > max_nc:
            lower = i
        else:
            upper = i
    return crit[upper]


@njit(cache=NUMBA_CACHE)
def inconsistency(children, heights, n, d):
    """scipy's inconsistency statistics R: float64[n-1, 4], summed in scipy's order.

    For each merge, the heights of the merges at most ``d - 1`` levels below it (and
    itself) are accumulated in post-order, first child first, as scipy does, so that
    the floating-point sums agree.
    """
    R = np.zeros((n - 1, 4))
    depth = max(min(d, n), 1) + 1
    stack = np.empty(depth, dtype=np.int64)
    state = np.empty(depth, dtype=np.int64)
    for i in range(n - 1):
        top = 0
        stack[0] = i
        state[0] = 0
        count = 0
        total = 0.0
        total_sq = 0.0
        while top >= 0:
            root = stack[top]
            if top < d - 1:
                if state[top] == 0:
                    state[top] = 1
                    left = children[root, 0]
                    if left >= n:
                        top += 1
                        stack[top] = left - n
                        state[top] = 0
                        continue
                if state[top] == 1:
                    state[top] = 2
                    right = children[root, 1]
                    if right >= n:
                        top += 1
                        stack[top] = right - n
                        state[top] = 0
                        continue
            dist = heights[root]
            count += 1
            total += dist
            total_sq += dist * dist
            top -= 1
        R[i, 0] = total / count
        R[i, 2] = count
        if count < 2:
            var = (total_sq - total * total) / count
        else:
            var = (total_sq - (total * total) / count) / (count - 1)
        if var > 0:
            std = np.sqrt(var)
            R[i, 1] = std
            R[i, 3] = (heights[i] - R[i, 0]) / std
    return R


@njit(cache=NUMBA_CACHE)
def cophenetic_condensed(children, heights, n, out):
    """Fill ``out`` (float64[n(n-1)/2]) with the cophenetic distance of every pair.

    Each merge writes its height for all (left leaf, right leaf) pairs; with the leaves
    in pre-order, a node's leaves are one contiguous run, so no lists are built.
    """
    order, start = leaf_order(children, n)
    size = leaf_counts(children, n)
    for i in range(n - 1):
        left = children[i, 0]
        right = children[i, 1]
        h = heights[i]
        for a in range(start[left], start[left] + size[left]):
            x = order[a]
            for b in range(start[right], start[right] + size[right]):
                y = order[b]
                if x < y:
                    p, q = x, y
                else:
                    p, q = y, x
                out[n * p - (p * (p + 1)) // 2 + q - p - 1] = h


@njit(cache=NUMBA_CACHE)
def cut_removal_rank(children, heights, n):
    """Order in which merges are undone to make 2, 3, ... clusters.

    Key: the largest height in the merge's subtree (scipy's ``maxdists``), ties broken
    by later merge first. Returns (rank int64[n-1], maxdist float64[n-1]); merge ``i``
    is undone for ``k`` clusters when ``rank[i] < k - 1``. A parent always ranks before
    its children (its key is >= theirs and its row is later), so the undone merges
    form the top of the tree and every k in 1..n is reachable.
    """
    maxdist = subtree_max(children, heights, n)
    # Stable sort of (-maxdist) on reversed rows = descending maxdist, later rows first.
    rows = np.arange(n - 2, -1, -1)
    keys = -maxdist[rows]
    perm = np.argsort(keys, kind="mergesort")
    rank = np.empty(n - 1, dtype=np.int64)
    for position in range(n - 1):
        rank[rows[perm[position]]] = position
    return rank, maxdist


@njit(cache=NUMBA_CACHE)
def labels_from_removed(children, removed, n):
    """Flat labels 0..k-1 (first appearance in observation order) when ``removed`` merges are undone.

    ``removed`` : bool[n-1], closed under ancestors. Returns (labels int64[n],
    node_label int64[2n-1]) where node_label is the cluster of every node that lies
    inside one cluster and -1 for undone merges.
    """
    root_of = np.empty(2 * n - 1, dtype=np.int64)
    root_of[2 * n - 2] = 2 * n - 2
    # Top-down: a child of an undone merge heads its own cluster, otherwise it
    # belongs to its parent's cluster.
    for i in range(n - 2, -1, -1):
        for side in range(2):
            child = children[i, side]
            if removed[i]:
                root_of[child] = child
            else:
                root_of[child] = root_of[n + i]
    labels = np.empty(n, dtype=np.int64)
    cluster_of_root = np.full(2 * n - 1, -1, dtype=np.int64)
    next_label = 0
    for leaf in range(n):
        r = root_of[leaf]
        if cluster_of_root[r] == -1:
            cluster_of_root[r] = next_label
            next_label += 1
        labels[leaf] = cluster_of_root[r]
    node_label = np.full(2 * n - 1, -1, dtype=np.int64)
    for leaf in range(n):
        node_label[leaf] = labels[leaf]
    for i in range(n - 1):
        if not removed[i]:
            node_label[n + i] = node_label[children[i, 0]]
    return labels, node_label


@njit(cache=NUMBA_CACHE)
def drop_small_clusters(labels, min_size):
    """Relabel clusters smaller than ``min_size`` as -1 and renumber the rest in order."""
    n = labels.shape[0]
    k = 0
    for i in range(n):
        if labels[i] + 1 > k:
            k = labels[i] + 1
    counts = np.zeros(k, dtype=np.int64)
    for i in range(n):
        counts[labels[i]] += 1
    new_label = np.full(k, -1, dtype=np.int64)
    next_label = 0
    for c in range(k):
        if counts[c] >= min_size:
            new_label[c] = next_label
            next_label += 1
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = new_label[labels[i]]
    return out


@njit(cache=NUMBA_CACHE)
def first_merge_heights(children, heights, n):
    """Height of the merge at which each observation first joins another cluster: float64[n]."""
    out = np.empty(n)
    for i in range(n - 1):
        for side in range(2):
            child = children[i, side]
            if child < n:
                out[child] = heights[i]
    return out


@njit(cache=NUMBA_CACHE)
def small_group_outliers(children, heights, n, threshold, max_size):
    """Observations in a group of <= max_size leaves that joins the tree above ``threshold``.

    A group is a node of at most ``max_size`` leaves whose parent has more; it is flagged
    when its parent's height exceeds ``threshold``. Returns bool[n].
    """
    size = leaf_counts(children, n)
    flag = np.zeros(2 * n - 1, dtype=np.bool_)
    for i in range(n - 2, -1, -1):
        node = n + i
        for side in range(2):
            child = children[i, side]
            if flag[node]:
                flag[child] = True
            elif size[child] <= max_size and size[node] > max_size and heights[i] > threshold:
                flag[child] = True
    return flag[:n].copy()


@njit(cache=NUMBA_CACHE)
def dendrogram_coordinates(children, heights, counts, n, mode, p, sort_mode):
    """scipy's ``dendrogram(no_plot=True)`` geometry with an explicit stack.

    mode: 0 no truncation, 1 'lastp', 2 'level'; p as scipy (already normalised);
    sort_mode: 0 as stored, 1 count ascending, 2 count descending, 3 distance
    ascending, 4 distance descending (scipy's count_sort / distance_sort rules).
    Links are emitted in scipy's order (post-order). Returns icoord float64[m, 4],
    dcoord float64[m, 4], link_nodes int64[m], leaves int64[n_shown] (node ids shown
    as leaves, left to right).
    """
    n_nodes = 2 * n - 1
    x = np.zeros(n_nodes)
    y = np.zeros(n_nodes)
    first = np.empty(n_nodes, dtype=np.int64)
    second = np.empty(n_nodes, dtype=np.int64)
    icoord = np.empty((max(n - 1, 0), 4))
    dcoord = np.empty((max(n - 1, 0), 4))
    link_nodes = np.empty(max(n - 1, 0), dtype=np.int64)
    leaves = np.empty(n, dtype=np.int64)
    n_links = 0
    n_leaves = 0
    stack = np.empty(n_nodes, dtype=np.int64)
    levels = np.empty(n_nodes, dtype=np.int64)
    state = np.empty(n_nodes, dtype=np.int64)
    top = 0
    stack[0] = n_nodes - 1
    levels[0] = 0
    state[0] = 0
    while top >= 0:
        node = stack[top]
        level = levels[top]
        if state[top] == 0:
            shown_as_leaf = node < n
            if mode == 1 and n <= node and node < 2 * n - p:
                shown_as_leaf = True
            elif mode == 2 and node > n and level > p:
                shown_as_leaf = True
            if shown_as_leaf:
                x[node] = 10.0 * n_leaves + 5.0
                y[node] = 0.0
                leaves[n_leaves] = node
                n_leaves += 1
                top -= 1
                continue
            row = node - n
            a = children[row, 0]
            b = children[row, 1]
            na = counts[a - n] if a >= n else 1.0
            nb = counts[b - n] if b >= n else 1.0
            da = heights[a - n] if a >= n else 0.0
            db = heights[b - n] if b >= n else 0.0
            swap = False
            if sort_mode == 1:
                swap = na > nb
            elif sort_mode == 2:
                swap = not (na > nb)
            elif sort_mode == 3:
                swap = da > db
            elif sort_mode == 4:
                swap = not (da > db)
            if swap:
                a, b = b, a
            first[node] = a
            second[node] = b
            state[top] = 1
            top += 1
            stack[top] = a
            levels[top] = level + 1
            state[top] = 0
            continue
        if state[top] == 1:
            state[top] = 2
            top += 1
            stack[top] = second[node]
            levels[top] = level + 1
            state[top] = 0
            continue
        a = first[node]
        b = second[node]
        h = heights[node - n]
        icoord[n_links, 0] = x[a]
        icoord[n_links, 1] = x[a]
        icoord[n_links, 2] = x[b]
        icoord[n_links, 3] = x[b]
        dcoord[n_links, 0] = y[a]
        dcoord[n_links, 1] = h
        dcoord[n_links, 2] = h
        dcoord[n_links, 3] = y[b]
        link_nodes[n_links] = node
        n_links += 1
        x[node] = 0.5 * (x[a] + x[b])
        y[node] = h
        top -= 1
    return icoord[:n_links].copy(), dcoord[:n_links].copy(), link_nodes[:n_links].copy(), leaves[:n_leaves].copy()


@njit(cache=NUMBA_CACHE)
def _argsort_like_scipy(vals, idx, size, stack_off, stack_size):
    """In-place quicksort of ``vals`` (float32) carrying ``idx``, step for step as scipy's
    ``_simultaneous_sort`` (median of three, same swaps), so that ties end up in the same
    order. The recursion is replaced by a stack of (offset, size) parts
    (``stack_off``, ``stack_size``: int64 scratch of length >= size + 1).
    """
    top = 0
    stack_off[0] = 0
    stack_size[0] = size
    while top >= 0:
        off = stack_off[top]
        m = stack_size[top]
        top -= 1
        if m <= 1:
            continue
        if m == 2:
            if vals[off] > vals[off + 1]:
                _swap(vals, idx, off, off + 1)
            continue
        if m == 3:
            if vals[off] > vals[off + 1]:
                _swap(vals, idx, off, off + 1)
            if vals[off + 1] > vals[off + 2]:
                _swap(vals, idx, off + 1, off + 2)
                if vals[off] > vals[off + 1]:
                    _swap(vals, idx, off, off + 1)
            continue
        pivot = m // 2
        if vals[off] > vals[off + m - 1]:
            _swap(vals, idx, off, off + m - 1)
        if vals[off + m - 1] > vals[off + pivot]:
            _swap(vals, idx, off + m - 1, off + pivot)
            if vals[off] > vals[off + m - 1]:
                _swap(vals, idx, off, off + m - 1)
        pivot_val = vals[off + m - 1]
        store = 0
        for i in range(m - 1):
            if vals[off + i] < pivot_val:
                _swap(vals, idx, off + i, off + store)
                store += 1
        _swap(vals, idx, off + store, off + m - 1)
        pivot = store
        if pivot > 1:
            top += 1
            stack_off[top] = off
            stack_size[top] = pivot
        if pivot + 2 < m:
            top += 1
            stack_off[top] = off + pivot + 1
            stack_size[top] = m - pivot - 1


@njit(cache=NUMBA_CACHE)
def _swap(vals, idx, i, j):
    """Swap entries i and j of both arrays."""
    t = vals[i]
    vals[i] = vals[j]
    vals[j] = t
    s = idx[i]
    idx[i] = idx[j]
    idx[j] = s


@njit(cache=NUMBA_CACHE)
def _sorted_column(M, vals, idx, lo, hi, col, stack_off, stack_size):
    """Rows lo..hi-1 of column ``col`` of M, sorted ascending with their row ids."""
    for i in range(hi - lo):
        vals[i] = M[lo + i, col]
        idx[i] = lo + i
    _argsort_like_scipy(vals, idx, hi - lo, stack_off, stack_size)


@njit(cache=NUMBA_CACHE)
def reordered_square(condensed, order):
    """Square distance matrix with rows and columns in ``order``, from a condensed vector.

    condensed : float64[n(n-1)/2]; order : int64[n]. Returns float64[n, n]
    (no intermediate square copy).
    """
    n = order.shape[0]
    D = np.zeros((n, n))
    for i in range(n):
        oi = order[i]
        for j in range(i + 1, n):
            oj = order[j]
            lo = min(oi, oj)
            hi = max(oi, oj)
            value = condensed[n * lo - lo * (lo + 1) // 2 + hi - lo - 1]
            D[i, j] = value
            D[j, i] = value
    return D


@njit(cache=NUMBA_CACHE)
def olo_swaps(sorted_children, D, ranges, n):
    """Optimal leaf ordering (Bar-Joseph, Gifford & Jaakkola 2001): which merges to flip.

    sorted_children : int64[n-1, 2], leaves renumbered by their current position;
    D : float64[n, n] distances in that order; ranges : int64[2n-1, 2], the positions
    each node spans. M[u, w] is the cost of the best ordering of a node that starts
    at leaf u and ends at leaf w, kept in float32 with scipy's pruning and tie order so
    that the chosen ordering is scipy's. Returns must_swap int64[n-1].
    """
    M = np.zeros((n, n), dtype=np.float32)
    swap_status = np.zeros((n, n, 2), dtype=np.int8)
    must_swap = np.zeros(n - 1, dtype=np.int64)
    m_vals = np.empty(n, dtype=np.float32)
    m_idx = np.empty(n, dtype=np.int64)
    k_vals = np.empty(n, dtype=np.float32)
    k_idx = np.empty(n, dtype=np.int64)
    stack_off = np.empty(n + 1, dtype=np.int64)
    stack_size = np.empty(n + 1, dtype=np.int64)
    u_clusters = np.empty(2, dtype=np.int64)
    m_clusters = np.empty(2, dtype=np.int64)
    w_clusters = np.empty(2, dtype=np.int64)
    k_clusters = np.empty(2, dtype=np.int64)
    big = np.float32(1073741824.0)
    best_u = 0
    best_w = 0
    for i in range(n - 1):
        v_l = sorted_children[i, 0]
        v_r = sorted_children[i, 1]
        if v_l < n:
            total_u = 1
            u_clusters[0] = v_l
            m_clusters[0] = v_l
        else:
            total_u = 2
            u_clusters[0] = sorted_children[v_l - n, 0]
            m_clusters[0] = sorted_children[v_l - n, 1]
            u_clusters[1] = sorted_children[v_l - n, 1]
            m_clusters[1] = sorted_children[v_l - n, 0]
        if v_r < n:
            total_w = 1
            w_clusters[0] = v_r
            k_clusters[0] = v_r
        else:
            total_w = 2
            w_clusters[0] = sorted_children[v_r - n, 1]
            w_clusters[1] = sorted_children[v_r - n, 0]
            k_clusters[0] = sorted_children[v_r - n, 0]
            k_clusters[1] = sorted_children[v_r - n, 1]
        for swap_l in range(total_u):
            for swap_r in range(total_w):
                u_min = ranges[u_clusters[swap_l], 0]
                u_max = ranges[u_clusters[swap_l], 1]
                m_min = ranges[m_clusters[swap_l], 0]
                m_max = ranges[m_clusters[swap_l], 1]
                w_min = ranges[w_clusters[swap_r], 0]
                w_max = ranges[w_clusters[swap_r], 1]
                k_min = ranges[k_clusters[swap_r], 0]
                k_max = ranges[k_clusters[swap_r], 1]
                min_km = big
                for m in range(m_min, m_max):
                    for k in range(k_min, k_max):
                        if D[m, k] < min_km:
                            min_km = np.float32(D[m, k])
                # scipy sorts M[{k}, w] again for every u; those entries are not written in
                # this block (u and k lie in different children), so sorting once per w
                # gives the same order at a fraction of the cost.
                k_sorted = np.empty((w_max - w_min, k_max - k_min), dtype=np.int64)
                for w in range(w_min, w_max):
                    _sorted_column(M, k_vals, k_idx, k_min, k_max, w, stack_off, stack_size)
                    for ki in range(k_max - k_min):
                        k_sorted[w - w_min, ki] = k_idx[ki]
                for u in range(u_min, u_max):
                    _sorted_column(M, m_vals, m_idx, m_min, m_max, u, stack_off, stack_size)
                    for w in range(w_min, w_max):
                        k_row = k_sorted[w - w_min]
                        cur = big
                        for mi in range(m_max - m_min):
                            m = m_idx[mi]
                            bound = np.float32(np.float32(M[u, m] + M[w, k_row[0]]) + min_km)
                            if bound >= cur:
                                break
                            for ki in range(k_max - k_min):
                                k = k_row[ki]
                                partial = np.float32(M[u, m] + M[w, k])
                                if np.float32(partial + min_km) >= cur:
                                    break
                                value = np.float32(partial + D[m, k])
                                if value < cur:
                                    cur = value
                        M[u, w] = cur
                        M[w, u] = cur
                        swap_status[u, w, 0] = swap_l
                        swap_status[w, u, 0] = swap_l
                        swap_status[u, w, 1] = swap_r
                        swap_status[w, u, 1] = swap_r
        cur = big
        for u in range(ranges[v_l, 0], ranges[v_l, 1]):
            for w in range(ranges[v_r, 0], ranges[v_r, 1]):
                if M[u, w] < cur:
                    cur = M[u, w]
                    best_u = u
                    best_w = w
        if v_l >= n:
            must_swap[v_l - n] = swap_status[best_u, best_w, 0]
        if v_r >= n:
            must_swap[v_r - n] = swap_status[best_u, best_w, 1]
    return must_swap


@njit(cache=NUMBA_CACHE)
def swap_parity(children, must_swap, n):
    """Whether each merge ends up flipped: parity of ``must_swap`` over it and its ancestors."""
    parity = np.zeros(2 * n - 1, dtype=np.int64)
    for i in range(n - 2, -1, -1):
        node = n + i
        parity[node] ^= must_swap[i]
        for side in range(2):
            child = children[i, side]
            if child >= n:
                parity[child] = parity[node]
    return parity[n:].copy()
