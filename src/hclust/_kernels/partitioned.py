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

#: Explicit stack depth of one query (tree depth is about log2(n / leaf size)).
STACK_SIZE = 256


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


@njit(cache=NUMBA_CACHE)
def node_min_obs(obs, node_lo, node_hi, node_left):
    """Smallest observation index of each node (obs : int64[n], of each tree position)."""
    n_nodes = node_lo.shape[0]
    out = np.empty(n_nodes, dtype=np.int64)
    for k in range(n_nodes - 1, -1, -1):
        left = node_left[k]
        if left < 0:
            m = obs[node_lo[k]]
            for t in range(node_lo[k] + 1, node_hi[k]):
                if obs[t] < m:
                    m = obs[t]
            out[k] = m
        else:
            out[k] = min(out[left], out[left + 1])
    return out


@njit(cache=NUMBA_CACHE, inline="always")
def _box_bound(Q, i, box_lo, box_hi, k):
    """Squared distance from query i to box k, rounded like a point distance."""
    acc = 0.0
    for f in range(Q.shape[1]):
        x = Q[i, f]
        diff = max(box_lo[k, f] - x, 0.0) + max(x - box_hi[k, f], 0.0)
        acc += diff * diff
    return acc


@njit(cache=NUMBA_CACHE, inline="always")
def _before(d2, lo, hi, best_d2, best_lo, best_hi):
    """Whether edge (d2, lo, hi) precedes (best_d2, best_lo, best_hi)."""
    if d2 != best_d2:
        return d2 < best_d2
    if lo != best_lo:
        return lo < best_lo
    return hi < best_hi


@njit(cache=NUMBA_CACHE)
def lightest_foreign_edges(Q, q_obs, q_comp, q_slot, shared, lower, Xt, t_obs, t_comp, node_lo,
                           node_hi, node_left, box_lo, box_hi, node_min, node_comp, best_d2,
                           best_lo, best_hi, low_out, near_obs, near_d2):
    """Lightest edge from each query component to a tree point of another component.

    Q : float64[m, d] query points, q_obs their observation indices, q_comp
    their components and q_slot (0..s-1) the slot of their component in the
    per-component arrays. shared : float64[s], for each slot a squared
    length that the component's lightest edge does not exceed (a real edge,
    or inf): nodes strictly farther are pruned; lowered as edges are found.
    Xt/t_obs/t_comp : the tree's points (tree order), observation indices
    and components; node_* / box_* : the tree (see boruvka.build_tree);
    node_comp from :func:`node_components`. best_d2/best_lo/best_hi [s]:
    in/out, each slot's lightest edge under (d2, lo, hi), lo < hi
    observation indices, best_lo = -1 while none is known.

    lower : float64[m], a lower bound on each query's squared distance to
    any point of another component (0 when unknown): a query whose bound
    exceeds its component's shared bound is skipped. low_out : float64[m],
    out: a lower bound on the query's squared distance to the tree's points
    of other components, never below ``lower`` (components only grow, so
    the bound holds in later rounds too). near_obs/near_d2 : int64/float64[m],
    out: the nearest other-component point each query found in the tree
    (-1 when none or skipped), an upper bound for its component later on.
    """
    d = Q.shape[1]
    stack_node = np.empty(STACK_SIZE, dtype=np.int64)
    stack_bound = np.empty(STACK_SIZE)
    for i in range(Q.shape[0]):
        c = q_comp[i]
        s = q_slot[i]
        qo = q_obs[i]
        near_obs[i] = -1
        near_d2[i] = np.inf
        if lower[i] > shared[s]:
            low_out[i] = lower[i]
            continue
        cut = np.inf  # smallest bound of a node pruned by the shared bound only
        best = np.inf
        best_obs = np.iinfo(np.int64).max  # no candidate yet
        best_t = -1
        top = 0
        if node_comp[0] != c:
            stack_node[0] = 0
            stack_bound[0] = _box_bound(Q, i, box_lo, box_hi, 0)
            top = 1
        while top > 0:
            top -= 1
            k = stack_node[top]
            bound = stack_bound[top]
            if bound > best:
                continue
            if bound > shared[s]:
                if bound < cut:
                    cut = bound
                continue
            if bound == best and node_min[k] > best_obs:
                continue
            left = node_left[k]
            if left < 0:
                for t in range(node_lo[k], node_hi[k]):
                    if t_comp[t] == c:
                        continue
                    acc = 0.0
                    for f in range(d):
                        diff = Q[i, f] - Xt[t, f]
                        acc += diff * diff
                    if acc < best or (acc == best and t_obs[t] < best_obs):
                        best = acc
                        best_obs = t_obs[t]
                        best_t = t
                if best_t >= 0 and best < shared[s]:
                    shared[s] = best
                continue
            right = left + 1
            bound_left = -1.0
            bound_right = -1.0
            if node_comp[left] != c:
                bound_left = _box_bound(Q, i, box_lo, box_hi, left)
            if node_comp[right] != c:
                bound_right = _box_bound(Q, i, box_lo, box_hi, right)
            near = left
            far = right
            bound_near = bound_left
            bound_far = bound_right
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
        low_out[i] = max(lower[i], min(best, cut))
        if best_t < 0:
            continue
        near_obs[i] = best_obs
        near_d2[i] = best
        lo = min(qo, best_obs)
        hi = max(qo, best_obs)
        if best_lo[s] < 0 or _before(best, lo, hi, best_d2[s], best_lo[s], best_hi[s]):
            best_d2[s] = best
            best_lo[s] = lo
            best_hi[s] = hi


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
def flatten(parent, comp):
    """comp[i] = root of i (the smallest index of its component); parent flattened too."""
    for i in range(parent.shape[0]):
        x = i
        while parent[x] != x:
            x = parent[x]
        comp[i] = x
        parent[i] = x


@njit(cache=NUMBA_CACHE)
def box_distances(X, box_lo, box_hi, out):
    """out[i] = squared distance from row i of X to the box, rounded like a point distance."""
    for i in range(X.shape[0]):
        acc = 0.0
        for f in range(X.shape[1]):
            x = X[i, f]
            diff = max(box_lo[f] - x, 0.0) + max(x - box_hi[f], 0.0)
            acc += diff * diff
        out[i] = acc


@njit(cache=NUMBA_CACHE)
def first_non_finite(X):
    """Index of the first row of X holding a NaN or an infinity, -1 if none."""
    for i in range(X.shape[0]):
        for f in range(X.shape[1]):
            if not np.isfinite(X[i, f]):
                return i
    return -1
