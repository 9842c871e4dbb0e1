"""Exact Euclidean minimum spanning tree: Borůvka rounds over a kd-tree.

Every round each point looks for its nearest point in a *different*
component (its nearest "foreign" point) in a static kd-tree
(``kdtree.KDTree``), every component keeps the cheapest such edge of its
points, and all these edges are added at once (Borůvka 1926); the number of
components at least halves per round.

Edges are compared by the key (squared distance, smaller observation index,
larger observation index), a strict total order, so the tree is the unique
minimum spanning tree under that order and does not depend on the thread
count. Squared distances are computed as ``sum((x_f - y_f) ** 2)`` in
dimension order, the same expression as scipy's ``pdist``, so that
``sqrt`` of an edge equals pdist's value bit for bit.

The search (``kdtree.nearest_other``, components as labels) prunes a tree
node when

- its box is farther than the point's best candidate (the box bound is
  computed with the same roundings as a distance, hence never above the
  distance of a point inside the box: no safety margin is needed),
- all of its points are in the query's component,
- its box is farther than the best edge found so far for the query's
  component (an upper bound shared between the points of a component).

A point whose previous nearest foreign point is still foreign keeps it:
components only grow, so the foreign set only shrinks. For the same reason
the first round (every point alone) computes each point's k nearest
neighbours (``kdtree.knn_*``): in later rounds the first foreign point of
that list, when there is one, is the point's nearest foreign point, and
otherwise the k-th distance is a lower bound; each point keeps a lower
bound on its distance to foreign points and is skipped while it exceeds its
component's best edge. Later rounds work by leaves: a leaf inside one
component first gathers, with box-to-box bounds (``kdtree.gather_leaves``),
the leaves that can matter to any of its points, and its points then scan
only those (``kdtree.nearest_other_in``).

Points are stored in tree order (``tree.data = X[perm]``); all arrays below
index tree positions, and ``tree.perm`` maps them back to observation
indices. A round is ``prepare_round``, ``search`` and ``merge_round`` on
the tree and one ``BoruvkaState``, each called from Python (a numba kernel
never calls a parallel one: numba issue 8578).
"""

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins
from .kdtree import (
    LEAF_BLOCK,
    MAX_CANDIDATES,
    STACK_SIZE,
    gather_leaves,
    nearest_other,
    nearest_other_in,
)
from .unionfind import uf_find

#: The arrays of a Borůvka run, by tree position unless said otherwise (n
#: points, n_nodes tree nodes, k neighbours kept per point):
#:
#: - ``parent`` int64[n]: union-find over tree positions; ``size`` int64[n]:
#:   the size of each root's component;
#: - ``comp`` int64[n]: each point's component root (set by prepare_round);
#:   ``node_comp`` int64[n_nodes]: the component of all of a node's points,
#:   -1 when mixed;
#: - ``leaves`` int64[n_leaves]: the leaf nodes in tree order;
#: - ``knn_j``/``knn_d2`` int64/float64[n, k]: each point's k nearest points
#:   sorted by (squared distance, observation index), -1 / inf past the end;
#: - ``nn_j``/``nn_d2``/``nn_exact`` int64/float64/bool[n]: each point's
#:   candidate edge (-1 / inf when none) and whether it is its exact nearest
#:   foreign point;
#: - ``comp_best`` float64[n]: per root, an upper bound on its cheapest edge;
#: - ``lower`` float64[n]: a lower bound on each point's squared distance to
#:   foreign points (raised by searches; foreign sets only shrink);
#: - ``need`` bool[n]: the points a round searches;
#: - ``cand_d2``/``cand_lo``/``cand_hi``/``cand_t`` [n], ``leaf_t``
#:   int64[n_leaves]: merge_round's scratch;
#: - ``edge_a``/``edge_b``/``edge_h`` int64/int64/float64[n - 1]: the edges
#:   found (observation, observation, squared length), in the order found.
BoruvkaState = namedtuple(
    "BoruvkaState",
    [
        "parent", "size", "comp", "node_comp", "leaves", "knn_j", "knn_d2", "nn_j", "nn_d2",
        "nn_exact", "comp_best", "lower", "need", "cand_d2", "cand_lo", "cand_hi", "cand_t",
        "leaf_t", "edge_a", "edge_b", "edge_h",
    ],
)


def new_state(n, n_nodes, leaves, knn_j, knn_d2):
    """A BoruvkaState for n points (every point alone) around the first round's neighbour lists."""
    return BoruvkaState(
        parent=np.arange(n),
        size=np.ones(n, dtype=np.int64),
        comp=np.empty(n, dtype=np.int64),
        node_comp=np.empty(n_nodes, dtype=np.int64),
        leaves=leaves,
        knn_j=knn_j,
        knn_d2=knn_d2,
        nn_j=np.full(n, -1, dtype=np.int64),
        nn_d2=np.full(n, np.inf),
        nn_exact=np.zeros(n, dtype=np.bool_),
        comp_best=np.empty(n),
        lower=np.zeros(n),
        need=np.zeros(n, dtype=np.bool_),
        cand_d2=np.empty(n),
        cand_lo=np.empty(n, dtype=np.int64),
        cand_hi=np.empty(n, dtype=np.int64),
        cand_t=np.empty(n, dtype=np.int64),
        leaf_t=np.empty(leaves.shape[0], dtype=np.int64),
        edge_a=np.empty(max(n - 1, 0), dtype=np.int64),
        edge_b=np.empty(max(n - 1, 0), dtype=np.int64),
        edge_h=np.empty(max(n - 1, 0)),
    )


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
    first = comp[node_lo[k]]
    for u in range(node_lo[k] + 1, node_hi[k]):
        if comp[u] != first:
            return -1
    return first


@njit(cache=NUMBA_CACHE, inline="always")
def _known_candidate(comp, knn_j, knn_d2, nn_j, nn_d2, nn_exact, lower, t):
    """Update t's candidate from its last one and its neighbour list; True when t needs a search."""
    n_listed = knn_j.shape[1]
    j = nn_j[t]
    own = comp[t]
    still = j >= 0 and comp[j] != own
    if not (still and nn_exact[t]):
        for r in range(n_listed):
            jj = knn_j[t, r]
            if jj < 0:
                break
            if comp[jj] != own:
                nn_j[t] = jj
                nn_d2[t] = knn_d2[t, r]
                nn_exact[t] = True
                return False
    if still:
        return not nn_exact[t]
    nn_j[t] = -1
    nn_d2[t] = np.inf
    nn_exact[t] = False
    if n_listed > 0 and knn_d2[t, n_listed - 1] > lower[t]:
        lower[t] = knn_d2[t, n_listed - 1]
    return True


def _prepare_round(tree, state):
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    parent = state.parent
    comp = state.comp
    node_comp = state.node_comp
    leaves = state.leaves
    knn_j = state.knn_j
    knn_d2 = state.knn_d2
    nn_j = state.nn_j
    nn_d2 = state.nn_d2
    nn_exact = state.nn_exact
    comp_best = state.comp_best
    lower = state.lower
    need = state.need
    n = comp.shape[0]
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


#: Start a round (tree, state): component labels (``comp``, ``parent``
#: flattened), node labels (``node_comp``), candidates known without
#: search, ``comp_best`` from them, ``need``: the points to search. A
#: point's nearest foreign point is known when its last one is still
#: foreign or when its neighbour list holds a foreign point (the first one
#: is it).
prepare_round_serial, prepare_round_parallel = twins(_prepare_round)


def _search(tree, state, max_leaf, first, stop):
    data = tree.data
    perm = tree.perm
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    node_min = tree.node_min
    comp = state.comp
    node_comp = state.node_comp
    leaves = state.leaves
    nn_j = state.nn_j
    nn_d2 = state.nn_d2
    nn_exact = state.nn_exact
    comp_best = state.comp_best
    lower = state.lower
    need = state.need
    for b in prange(first, stop):
        stack_node = np.empty(STACK_SIZE, dtype=np.int64)
        stack_bound = np.empty(STACK_SIZE)
        q = np.empty(data.shape[1])
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
                count, shared_min, cut = gather_leaves(node_left, box_lo, box_hi, node_comp, c,
                                                       comp_best, c, leaf, cand, stack_node,
                                                       stack_bound)
            for t in range(lo, hi):
                if not need[t]:
                    continue
                ct = comp[t]
                if lower[t] > comp_best[ct]:
                    continue  # no foreign point of t can beat its component's best edge
                for f in range(q.shape[0]):
                    q[f] = data[t, f]
                if count < 0:
                    best, best_j, found_min, found_cut = nearest_other(
                        data, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_min, comp,
                        node_comp, q, ct, nn_d2[t], nn_j[t], comp_best, stack_node, stack_bound, acc,
                    )
                else:
                    best, best_j, found_min, found_cut = nearest_other_in(
                        data, perm, node_lo, node_hi, box_lo, box_hi, node_min, comp, q, ct, nn_d2[t],
                        nn_j[t], comp_best, shared_min, cut, cand, count, acc,
                    )
                nn_j[t] = best_j
                nn_d2[t] = best
                # Every pruned node was farther than min(best, shared_min) or
                # tied with a larger index: the candidate is exact when
                # best <= shared_min. Foreign points of t are at least
                # min(best, cut) away, this round and the next ones (the
                # foreign set only shrinks).
                nn_exact[t] = best <= found_min
                low = min(best, found_cut)
                if low > lower[t]:
                    lower[t] = low


#: Nearest foreign point of every point with need[t] (tree, state,
#: max_leaf: the largest leaf's size, first and stop: the blocks of
#: ``LEAF_BLOCK`` leaves to work, so that a round can run in calls),
#: written to nn_j/nn_d2/nn_exact;
#: comp_best is lowered on the way (racy writes are safe: any value written
#: is a real edge); lower is raised. Work goes by leaves: a leaf inside one
#: component first gathers, with box-to-box bounds, the leaves that can
#: matter to any of its points. Both twins give the same per-component
#: minima (pruning is strict, ties keyed by index).
search_serial, search_parallel = twins(_search)


def _merge_round(tree, state, n_edges):
    perm = tree.perm
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    parent = state.parent
    size = state.size
    comp = state.comp
    node_comp = state.node_comp
    leaves = state.leaves
    nn_j = state.nn_j
    nn_d2 = state.nn_d2
    cand_d2 = state.cand_d2
    cand_lo = state.cand_lo
    cand_hi = state.cand_hi
    cand_t = state.cand_t
    leaf_t = state.leaf_t
    edge_a = state.edge_a
    edge_b = state.edge_b
    edge_h = state.edge_h
    n = comp.shape[0]
    for t in prange(n):
        cand_t[t] = -1
    # A leaf inside one component first reduces its own points (in
    # parallel); mixed leaves leave theirs to the serial pass. (Loop-local
    # names differ from those of the serial pass: numba may otherwise share
    # them between the threads.)
    for s in prange(leaves.shape[0]):
        leaf = leaves[s]
        leaf_t[s] = -2
        if node_comp[leaf] < 0:
            continue
        best_t = -1
        best_d2 = np.inf
        best_lo = 0
        best_hi = 0
        for u in range(node_lo[leaf], node_hi[leaf]):
            v = nn_j[u]
            if v < 0:
                continue
            u_d2 = nn_d2[u]
            u_lo = perm[u]
            u_hi = perm[v]
            if u_hi < u_lo:
                u_lo, u_hi = u_hi, u_lo
            if best_t < 0 or u_d2 < best_d2 or (
                u_d2 == best_d2 and (u_lo < best_lo or (u_lo == best_lo and u_hi < best_hi))
            ):
                best_t = u
                best_d2 = u_d2
                best_lo = u_lo
                best_hi = u_hi
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
        edge_a[n_edges] = cand_lo[r]
        edge_b[n_edges] = cand_hi[r]
        edge_h[n_edges] = cand_d2[r]
        n_edges += 1
    return n_edges


#: Add every component's cheapest edge (tree, state, n_edges: the edges
#: found so far); returns the new number of edges. Edges (observation,
#: observation, squared distance) are appended at edge_a/edge_b/edge_h
#: [n_edges:]; components are visited by increasing root position.
merge_round_serial, merge_round_parallel = twins(_merge_round)
