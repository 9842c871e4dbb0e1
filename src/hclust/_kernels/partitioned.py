"""Borůvka rounds across row partitions: nearest foreign point of one partition in another.

hclust.dask's exact single linkage keeps a kd-tree per partition (the shared
:func:`hclust._kernels.kdtree.build`) and, every round, asks for each
component its lightest edge to another component. A query runs the points of
one partition against the tree of another (or of the same) partition: for
every query point the nearest point of a *different* component, pruned by the
tree's boxes, by nodes wholly inside the query's component, and by a bound
shared by the points of a component (a real edge of it, found earlier in the
task or given by the caller).

Edges are compared by (squared distance, smaller observation index, larger
observation index), the total order of the in-process engine
(:mod:`hclust._kernels.boruvka`); squared distances are summed in dimension
order as there, so the edges are bit for bit the same and the minimum
spanning tree is the same tree.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .kdtree import MAX_CANDIDATES, STACK_SIZE, gather_leaves, leaf_nodes, nearest_other, nearest_other_in

@njit(cache=NUMBA_CACHE)
def node_components(comp, node_lo, node_hi, node_left):
    """Component shared by all points of each node, -1 where they differ.

    comp : int64[n] component of each tree position. Children have larger
    node numbers than their parent, so one backward pass suffices.
    """
    n_nodes = node_lo.shape[0]
    out = np.empty(n_nodes, dtype=np.int64)
    for k in range(n_nodes - 1, -1, -1):
        left = node_left[k]
        if left < 0:
            c = comp[node_lo[k]]
            for t in range(node_lo[k] + 1, node_hi[k]):
                if comp[t] != c:
                    c = -1
                    break
            out[k] = c
        else:
            c = out[left]
            out[k] = c if c == out[left + 1] else -1
    return out


@njit(cache=NUMBA_CACHE, inline="always")
def _before(d2, lo, hi, best_d2, best_lo, best_hi):
    """Whether edge (d2, lo, hi) precedes (best_d2, best_lo, best_hi)."""
    if d2 != best_d2:
        return d2 < best_d2
    if lo != best_lo:
        return lo < best_lo
    return hi < best_hi


@njit(cache=NUMBA_CACHE, inline="always")
def _keep_edge(qo, t_obs, best, best_j, s, best_d2, best_lo, best_hi):
    """Offer the edge from query observation qo to tree point best_j to slot s's lightest edge."""
    lo = min(qo, t_obs[best_j])
    hi = max(qo, t_obs[best_j])
    if best_lo[s] < 0 or _before(best, lo, hi, best_d2[s], best_lo[s], best_hi[s]):
        best_d2[s] = best
        best_lo[s] = lo
        best_hi[s] = hi


@njit(cache=NUMBA_CACHE)
def lightest_foreign_edges(Q, q_obs, q_slot, shared, lower, knn_j, knn_d2, tree, t_obs, t_slot,
                           node_slot, best_d2, best_lo, best_hi, low_out, near_obs, near_d2):
    """Lightest edge from each query component to a tree point of another component.

    Q : float64[m, d] query points, q_obs their observation indices, q_slot
    the slot (0..s-1) of their component; t_slot : int64[n] the slot of each
    tree point's component (one numbering for queries and tree: equal slots,
    same component) and node_slot that of each node (-1 when mixed, from
    :func:`node_components`). tree : a ``kdtree.KDTree`` whose rows are in
    observation order (its ``perm`` and ``node_min`` order ties as
    observation indices would), t_obs : int64[n] the observation index of
    each tree position. shared : float64[s], for each slot a squared length
    that the component's lightest edge does not exceed (a real edge, or
    inf): nodes strictly farther are pruned; lowered as edges are found.
    best_d2/best_lo/best_hi [s]: in/out, each slot's lightest edge under
    (d2, lo, hi), lo < hi observation indices, best_lo = -1 while none is
    known.

    knn_j/knn_d2 : int64/float64[m, k], for queries that are the tree's own
    points (query i = tree position i), their k nearest other tree points by
    (squared distance, row), -1 past the end (k = 0 for other queries): the
    first one of another component is the query's nearest, and when none
    is, the k-th distance bounds the others (``kdtree.knn_*``). The queries
    answered by their list go first, so that their edges prune the searches.

    lower : float64[m], a lower bound on each query's squared distance to
    any point of another component (0 when unknown): a query whose bound
    exceeds its component's shared bound is skipped. low_out : float64[m],
    out: a lower bound on the query's squared distance to the tree's points
    of other components, never below ``lower`` (components only grow, so
    the bound holds in later rounds too). near_obs/near_d2 : int64/float64[m],
    out: the nearest other-component point each query found in the tree
    (-1 when none or skipped), an upper bound for its component later on.
    The traversal is ``kdtree.nearest_other``, Borůvka's in-process search.
    """
    data = tree.data
    perm = tree.perm
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    node_min = tree.node_min
    m, d = Q.shape
    k_list = knn_j.shape[1]
    max_leaf = 1
    for k in range(node_lo.shape[0]):
        if node_left[k] < 0 and node_hi[k] - node_lo[k] > max_leaf:
            max_leaf = node_hi[k] - node_lo[k]
    stack_node = np.empty(STACK_SIZE, dtype=np.int64)
    stack_bound = np.empty(STACK_SIZE)
    acc = np.empty(max_leaf)
    q = np.empty(d)
    cand = np.empty(MAX_CANDIDATES, dtype=np.int64)
    search = np.zeros(m, dtype=np.bool_)
    for i in range(m):
        near_obs[i] = -1
        near_d2[i] = np.inf
        low_out[i] = lower[i]
        if k_list == 0:
            search[i] = True
            continue
        s = q_slot[i]
        for r in range(k_list):
            j = knn_j[i, r]
            if j < 0:  # the list holds every other tree point: none is foreign
                low_out[i] = np.inf
                break
            if t_slot[j] != s:
                low_out[i] = max(lower[i], knn_d2[i, r])
                near_obs[i] = t_obs[j]
                near_d2[i] = knn_d2[i, r]
                if knn_d2[i, r] < shared[s]:
                    shared[s] = knn_d2[i, r]
                _keep_edge(q_obs[i], t_obs, knn_d2[i, r], j, s, best_d2, best_lo, best_hi)
                break
            if r == k_list - 1:
                search[i] = True
                low_out[i] = max(lower[i], knn_d2[i, r])
    if k_list == 0:
        for i in range(m):
            if search[i] and low_out[i] <= shared[q_slot[i]]:
                _search_one(Q, q_obs, q_slot, i, q, tree, t_obs, t_slot, node_slot, shared, -1, np.inf,
                            np.inf, cand, 0, stack_node, stack_bound, acc, best_d2, best_lo, best_hi,
                            low_out, near_obs, near_d2)
        return
    # The queries are the tree's points: work by leaves, as the in-process
    # search does; a leaf inside one component gathers once the leaves that
    # can matter to its points (box-to-box bounds), and they scan only those.
    leaves = leaf_nodes(tree)
    for leaf in leaves:
        n_need = 0
        for t in range(node_lo[leaf], node_hi[leaf]):
            if search[t] and low_out[t] <= shared[q_slot[t]]:
                n_need += 1
        if n_need == 0:
            continue
        c = node_slot[leaf]
        count = -1
        shared_min = np.inf
        cut = np.inf
        if c >= 0 and n_need > 1:
            count, shared_min, cut = gather_leaves(node_left, box_lo, box_hi, node_slot, c, shared, c,
                                                   leaf, cand, stack_node, stack_bound)
        for t in range(node_lo[leaf], node_hi[leaf]):
            if search[t] and low_out[t] <= shared[q_slot[t]]:
                _search_one(Q, q_obs, q_slot, t, q, tree, t_obs, t_slot, node_slot, shared, count,
                            shared_min, cut, cand, count, stack_node, stack_bound, acc, best_d2,
                            best_lo, best_hi, low_out, near_obs, near_d2)


@njit(cache=NUMBA_CACHE, inline="always")
def _search_one(Q, q_obs, q_slot, i, q, tree, t_obs, t_slot, node_slot, shared, gathered, shared_min,
                cut, cand, count, stack_node, stack_bound, acc, best_d2, best_lo, best_hi, low_out,
                near_obs, near_d2):
    """Query i's nearest tree point of another component: the whole tree (gathered < 0) or the
    leaves cand[:count]; its bound, nearest point and its slot's lightest edge updated."""
    s = q_slot[i]
    for f in range(q.shape[0]):
        q[f] = Q[i, f]
    if gathered < 0:
        best, best_j, _, cut = nearest_other(tree.data, tree.perm, tree.node_lo, tree.node_hi,
                                             tree.node_left, tree.box_lo, tree.box_hi, tree.node_min,
                                             t_slot, node_slot, q, s, np.inf, -1, shared, stack_node,
                                             stack_bound, acc)
    else:
        best, best_j, _, cut = nearest_other_in(tree.data, tree.perm, tree.node_lo, tree.node_hi,
                                                tree.box_lo, tree.box_hi, tree.node_min, t_slot, q, s,
                                                np.inf, -1, shared, shared_min, cut, cand, count, acc)
    # every point of another component is at least min(best, cut) away
    low_out[i] = max(low_out[i], min(best, cut))
    if best_j < 0:
        return
    near_obs[i] = t_obs[best_j]
    near_d2[i] = best
    _keep_edge(q_obs[i], t_obs, best, best_j, s, best_d2, best_lo, best_hi)


@njit(cache=NUMBA_CACHE)
def add_edges(parent, lo, hi, d2, out_a, out_b, out_d2, done):
    """Join the components of edges (lo, hi) in order; keep the edges that joined two.

    parent : int64[n] union-find forest (roots point to themselves), updated.
    The edges are every component's lightest edge under a strict total
    order: such a set has no cycle except an edge picked by both of its
    components, which the second time finds them joined. Returns the new
    number of edges in out_*.
    """
    for r in range(lo.shape[0]):
        x = lo[r]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        y = hi[r]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x == y:
            continue
        if x < y:
            parent[y] = x
        else:
            parent[x] = y
        out_a[done] = lo[r]
        out_b[done] = hi[r]
        out_d2[done] = d2[r]
        done += 1
    return done


@njit(cache=NUMBA_CACHE)
def find_roots(parent, nodes, out):
    """out[r] = root of nodes[r] in the union-find forest parent (paths halved on the way)."""
    for r in range(nodes.shape[0]):
        x = nodes[r]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        out[r] = x


@njit(cache=NUMBA_CACHE)
def boxes_distances(X, bound, node_left, box_lo, box_hi, out):
    """out[i] = squared distance from row i of X to the nearest leaf box of a small tree of boxes.

    node_left/box_lo/box_hi : the top levels of another slab's kd-tree
    (children numbered after their parent; every point of the slab lies in
    a leaf box), so out[i] never exceeds row i's distance to any of its
    points. A row stops at its first leaf box within bound[i] (out[i] is
    then that box's distance, not above the bound). Rounded like a point
    distance.
    """
    stack_node = np.empty(STACK_SIZE, dtype=np.int64)
    stack_bound = np.empty(STACK_SIZE)
    for i in range(X.shape[0]):
        best = np.inf
        stack_node[0] = 0
        stack_bound[0] = _box_bound(X, i, box_lo, box_hi, 0)
        top = 1
        while top > 0:
            top -= 1
            k = stack_node[top]
            gap = stack_bound[top]
            if gap >= best:
                continue
            left = node_left[k]
            if left < 0:
                best = gap
                if best <= bound[i]:
                    break
                continue
            gap_left = _box_bound(X, i, box_lo, box_hi, left)
            gap_right = _box_bound(X, i, box_lo, box_hi, left + 1)
            near = left
            far = left + 1
            if gap_right < gap_left:
                near, far = far, near
                gap_left, gap_right = gap_right, gap_left
            if gap_right < best:
                stack_node[top] = far
                stack_bound[top] = gap_right
                top += 1
            if gap_left < best:
                stack_node[top] = near
                stack_bound[top] = gap_left
                top += 1
        out[i] = best


@njit(cache=NUMBA_CACHE, inline="always")
def _box_bound(X, i, box_lo, box_hi, k):
    """Squared distance from row i of X to box k, rounded like a point distance."""
    acc = 0.0
    for f in range(X.shape[1]):
        x = X[i, f]
        diff = max(box_lo[k, f] - x, 0.0) + max(x - box_hi[k, f], 0.0)
        acc += diff * diff
    return acc


@njit(cache=NUMBA_CACHE)
def first_non_finite(X):
    """Index of the first row of X holding a NaN or an infinity, -1 if none."""
    for i in range(X.shape[0]):
        for f in range(X.shape[1]):
            if not np.isfinite(X[i, f]):
                return i
    return -1
