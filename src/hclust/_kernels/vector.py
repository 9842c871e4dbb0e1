"""Ward linkage from cluster statistics, O(n d) memory (no distance matrix).

A cluster is (weight, centroid); Ward's merge cost of clusters a and b is
``w_a w_b / (w_a + w_b) * |c_a - c_b|^2`` and the merge height is
``sqrt(2 * cost)``, scipy's convention. Merges happen in rounds of
reciprocal nearest neighbours (Muellner 2011, sec. 3.2): Ward is reducible
and order-independent, so any sequence of reciprocal-nearest merges gives
its unique tree. Nearest neighbours are found in the shared kd-tree
(``kdtree.KDTree``, built per stage over the centroids, which live in tree
order) whose boxes are refitted to the moving centroids (``kdtree.refit_*``),
pruned by Ward's bound ``f(w_x, w_min) * mindist(c_x, box)^2`` with ``f``
increasing in the weight. A round is ``ward_todo``, ``nearest_batch_*`` and
``ward_merge`` on the stage's tree and one ``WardState``.
"""

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins
from .kdtree import point_box_dist2, refit_path
from .sorting import select_kth

#: Points per leaf of the kd-tree over the slots.
LEAF_SIZE = 32
# Lower bounds are computed in floating point: shrink them slightly so that
# rounding can never prune a node holding the exact nearest neighbour.
BOUND_SHRINK = 1.0 - 1e-12
#: Depth-first search stack: at most one pending sibling per level (median
#: splits keep the depth near log2(n / LEAF_SIZE); Z-order cells at most 64
#: levels plus median levels below them), plus the node expanded.
STACK_SIZE = 256

#: The counters of a run (``WardState.counts``, one record): merges done,
#: live clusters, rounds done, nearest-neighbour searches done.
WARD_COUNTS = np.dtype(
    [("merges", np.int64), ("live", np.int64), ("rounds", np.int64), ("searches", np.int64)],
    align=True,
)

#: The arrays of a vector ward stage, by slot (m slots in kd-tree order: a
#: stage's ``KDTree`` is built over the centroids) unless said otherwise:
#:
#: - ``C`` float64[m, d]: centroids (modified; the tree's ``data``);
#:   ``w`` float64[m]: weights (modified); ``alive`` bool[m];
#: - ``ids`` int64[m]: the row that names each slot's cluster, its largest
#:   row (neighbour ties go to the smaller id);
#: - ``live`` int64[m]: the live slots in ``live[:counts.live]``;
#:   ``into`` int64[m]: the slot a dead slot merged into;
#: - ``nn``/``nn_cost``: each live slot's nearest neighbour and Ward cost,
#:   exact unless ``stale``, when nn_cost is a lower bound of it;
#: - ``cand`` int64[m, K], ``bound`` float64[m]: each slot's candidate list
#:   (see ward_todo);
#: - ``todo``/``merged`` int64[m], ``searched``/``changed`` bool[m],
#:   ``keys`` float64[m]: scratch of a round;
#: - ``node_parent`` int64[n_nodes], ``slot_leaf`` int64[m]: the tree's
#:   parents and each slot's leaf; ``node_wmin`` float64[n_nodes],
#:   ``node_count`` int64[n_nodes]: the smallest weight and the number of
#:   live slots below each node (refitted with the boxes as clusters merge);
#: - ``a``, ``b``, ``h``, ``rnd`` [n - 1]: the merge records of the whole run
#:   (row ids of the two clusters, height, round), by merge count;
#: - ``counts`` WARD_COUNTS[1]: the counters of the whole run.
WardState = namedtuple(
    "WardState",
    [
        "C", "w", "alive", "ids", "live", "into", "nn", "nn_cost", "stale", "cand", "bound",
        "todo", "searched", "changed", "merged", "keys", "node_parent", "slot_leaf", "node_wmin",
        "node_count", "a", "b", "h", "rnd", "counts",
    ],
)


@njit(cache=NUMBA_CACHE, inline="always")
def _ward_cost(C, w, x, j):
    acc = 0.0
    for f in range(C.shape[1]):
        diff = C[x, f] - C[j, f]
        acc += diff * diff
    return w[x] * w[j] / (w[x] + w[j]) * acc


@njit(cache=NUMBA_CACHE, inline="always")
def _follow(into, alive, s):
    """The live cluster that slot s is part of now."""
    while not alive[s]:
        s = into[s]
    return s


@njit(cache=NUMBA_CACHE, inline="always")
def _offer(best_s, best_c, count, ids, s, c):
    """Insert (s, c) into the list best_s/best_c[:count], kept sorted by (cost, id)
    and at most len(best_s) long; returns the new count. s must not be listed."""
    cap = best_s.shape[0]
    if count == cap:
        last = cap - 1
        if c > best_c[last] or (c == best_c[last] and ids[s] > ids[best_s[last]]):
            return count
        t = last
    else:
        t = count
        count += 1
    while t > 0 and (best_c[t - 1] > c or (best_c[t - 1] == c and ids[best_s[t - 1]] > ids[s])):
        best_s[t] = best_s[t - 1]
        best_c[t] = best_c[t - 1]
        t -= 1
    best_s[t] = s
    best_c[t] = c
    return count


@njit(cache=NUMBA_CACHE, inline="always")
def _listed(best_s, count, s):
    for t in range(count):
        if best_s[t] == s:
            return True
    return False


@njit(cache=NUMBA_CACHE)
def follow_slots(slots, into, alive):
    """A copy of ``slots`` (any shape) with each dead slot replaced by the
    live cluster it became; -1 stays -1."""
    out = slots.copy()
    flat = out.ravel()
    for t in range(flat.shape[0]):
        if flat[t] >= 0:
            flat[t] = _follow(into, alive, flat[t])
    return out


@njit(cache=NUMBA_CACHE)
def _from_candidates(C, w, alive, ids, into, cand, bound, x):
    """x's nearest cluster from its candidate list, if the list proves it.

    Every live cluster that does not contain a listed slot costs at least
    ``bound[x]`` from x (see ``ward_todo``), so the cheapest listed cluster
    is the nearest when it costs strictly less. Returns (slot, cost), slot -1
    when the list cannot decide.
    """
    best = -1
    current = np.inf
    for e in range(cand.shape[1]):
        s = cand[x, e]
        if s < 0:
            continue
        s = _follow(into, alive, s)
        if s == x:
            cand[x, e] = -1
            continue
        cand[x, e] = s
        cost = _ward_cost(C, w, x, s)
        if cost < current or (cost == current and ids[s] < ids[best]):
            current = cost
            best = s
    if best >= 0 and current < bound[x]:
        return best, current
    return -1, current


@njit(cache=NUMBA_CACHE, inline="always")
def knn_core(C, w, alive, ids, node_lo, node_hi, node_left, box_lo, box_hi, node_wmin, node_count, x, use_tree,
             live, m, best_s, best_c, count, limit, stack, stack_gap):
    """Offer x's nearest live clusters (other than x) into the list best_s/best_c[:count]
    (see ``_offer``: kept sorted by (cost, id), at most len(best_s) long; its
    entries must be live clusters other than x). Only clusters costing at
    most ``limit`` are offered (inf: any). Returns the new count.

    The query is row x of C with weight w[x]; x need not be a slot of the
    tree (a row past the tree's slots holds a query from elsewhere). A node
    is pruned by Ward's bound ``f(w_x, w_min) * mindist(c_x, box)^2`` with
    ``w_min`` the smallest weight below it (``f`` increases with the
    weight), and skipped when no live slot is left below it. ``use_tree``
    False scans the slots live[:m] instead. stack/stack_gap: scratch of
    STACK_SIZE entries.
    """
    cap = best_s.shape[0]
    if use_tree:
        q = C[x]  # a view: no allocation per search
        wx = w[x]
        stack[0] = 0
        stack_gap[0] = point_box_dist2(q, box_lo, box_hi, 0)
        top = 1
        while top > 0:
            top -= 1
            k = stack[top]
            if node_count[k] == 0:
                continue
            gap = stack_gap[top]
            wmin = node_wmin[k]
            cut = best_c[cap - 1] if count == cap else limit
            if wx * wmin / (wx + wmin) * gap * BOUND_SHRINK > cut:
                continue
            left = node_left[k]
            if left < 0:
                for j in range(node_lo[k], node_hi[k]):
                    if j == x or not alive[j]:
                        continue
                    cost = _ward_cost(C, w, x, j)
                    if cost > (best_c[cap - 1] if count == cap else limit):
                        continue
                    if not _listed(best_s, count, j):
                        count = _offer(best_s, best_c, count, ids, j, cost)
                continue
            # Visit the nearer child first: push it last (empty children are
            # dropped when popped).
            gap_left = point_box_dist2(q, box_lo, box_hi, left)
            gap_right = point_box_dist2(q, box_lo, box_hi, left + 1)
            if gap_left <= gap_right:
                stack[top] = left + 1
                stack_gap[top] = gap_right
                stack[top + 1] = left
                stack_gap[top + 1] = gap_left
            else:
                stack[top] = left
                stack_gap[top] = gap_left
                stack[top + 1] = left + 1
                stack_gap[top + 1] = gap_right
            top += 2
    else:
        for t in range(m):
            j = live[t]
            if j == x:
                continue
            cost = _ward_cost(C, w, x, j)
            if cost > (best_c[cap - 1] if count == cap else limit):
                continue
            if not _listed(best_s, count, j):
                count = _offer(best_s, best_c, count, ids, j, cost)
    return count


@njit(cache=NUMBA_CACHE)
def knn_ward(C, w, alive, ids, into, node_lo, node_hi, node_left, box_lo, box_hi,
             node_wmin, node_count, cand, bound, x, use_tree, live, m):
    """Refresh x's candidates: its len(cand[x]) nearest live clusters by Ward's
    cost, ties to the smaller id, and ``bound[x]``, the cost of the last one
    (any other cluster costs at least that). Returns the nearest (slot, cost).

    The search (``knn_core``) starts from the clusters the old list leads
    to, so its pruning bound is tight from the first node.
    """
    cap = cand.shape[1]
    best_s = np.empty(cap, dtype=np.int64)
    best_c = np.empty(cap)
    count = 0
    for e in range(cap):
        s = cand[x, e]
        if s < 0:
            continue
        s = _follow(into, alive, s)
        if s == x or _listed(best_s, count, s):
            continue
        count = _offer(best_s, best_c, count, ids, s, _ward_cost(C, w, x, s))
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack_gap = np.empty(STACK_SIZE)
    count = knn_core(C, w, alive, ids, node_lo, node_hi, node_left, box_lo, box_hi, node_wmin, node_count, x,
                     use_tree, live, m, best_s, best_c, count, np.inf, stack, stack_gap)
    for e in range(cap):
        cand[x, e] = best_s[e] if e < count else -1
    bound[x] = best_c[cap - 1] if count == cap else np.inf
    return best_s[0], best_c[0]


def _nearest_batch(tree, state, n_todo, use_tree):
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    C = state.C
    w = state.w
    alive = state.alive
    ids = state.ids
    into = state.into
    live = state.live
    nn = state.nn
    nn_cost = state.nn_cost
    cand = state.cand
    bound = state.bound
    todo = state.todo
    searched = state.searched
    node_wmin = state.node_wmin
    node_count = state.node_count
    m = state.counts[0].live
    for t in prange(n_todo):
        x = todo[t]
        s, c = _from_candidates(C, w, alive, ids, into, cand, bound, x)
        searched[t] = s < 0
        if s < 0:
            s, c = knn_ward(C, w, alive, ids, into, node_lo, node_hi, node_left, box_lo, box_hi,
                            node_wmin, node_count, cand, bound, x, use_tree, live, m)
        nn[x] = s
        nn_cost[x] = c


#: The nearest neighbour (nn, nn_cost) of every slot in todo[:n_todo]
#: (tree, state, n_todo, use_tree): from its candidate list when that
#: proves it, else by a search (searched[t] set). Parallel twin over todo.
nearest_batch_serial, nearest_batch_parallel = twins(_nearest_batch)


@njit(cache=NUMBA_CACHE)
def merge_candidates(C, w, alive, ids, into, cand, bound, x, y):
    """Candidates of the union now in slot y from those of its parts x and y.

    A cluster that contains no slot listed by x or y costs at least bound[x]
    from x and bound[y] from y, so at least the smaller from the union
    (reducibility); a listed cluster dropped for room lowers the bound to its
    cost, by the same argument.
    """
    cap = cand.shape[1]
    best_s = np.empty(cap, dtype=np.int64)
    best_c = np.empty(cap)
    count = 0
    b = min(bound[x], bound[y])
    for part in (x, y):
        for e in range(cap):
            s = cand[part, e]
            if s < 0:
                continue
            s = _follow(into, alive, s)
            if s == y or _listed(best_s, count, s):
                continue
            cost = _ward_cost(C, w, y, s)
            if count == cap:
                last = cap - 1
                # The entry that falls off the end (this one or the last).
                if cost > best_c[last] or (cost == best_c[last] and ids[s] > ids[best_s[last]]):
                    b = min(b, cost)
                    continue
                b = min(b, best_c[last])
            count = _offer(best_s, best_c, count, ids, s, cost)
    for e in range(cap):
        cand[y, e] = best_s[e] if e < count else -1
    bound[y] = b


def new_state(C, w, ids, nn, nn_cost, stale, cand, bound, tree, node_parent, slot_leaf, a, b, h, rnd,
              counts):
    """The WardState of a stage over the m slots of ``tree`` (every slot live, no scratch set)."""
    m = C.shape[0]
    n_nodes = tree.node_left.shape[0]
    return WardState(
        C=C, w=w, alive=np.ones(m, dtype=np.bool_), ids=ids, live=np.arange(m, dtype=np.int64),
        into=np.full(m, -1, dtype=np.int64), nn=nn, nn_cost=nn_cost, stale=stale, cand=cand,
        bound=bound, todo=np.empty(m, dtype=np.int64), searched=np.empty(m, dtype=np.bool_),
        changed=np.zeros(m, dtype=np.bool_), merged=np.empty(m, dtype=np.int64), keys=np.empty(m),
        node_parent=node_parent, slot_leaf=slot_leaf, node_wmin=np.empty(n_nodes),
        node_count=np.empty(n_nodes, dtype=np.int64), a=a, b=b, h=h, rnd=rnd, counts=counts,
    )


@njit(cache=NUMBA_CACHE)
def ward_todo(state, quantile, all_stale):
    """Choose the clusters whose nearest neighbour a round recomputes, into
    ``state.todo``; returns their count.

    A round of reciprocal-nearest-neighbour merges is ``ward_todo``, a
    nearest-neighbour batch (``nearest_batch_serial`` or
    ``nearest_batch_parallel``, called from Python: a cached function that
    calls a parallel one can crash when loaded from the cache, numba issue
    8578) and ``ward_merge``, all on one ``WardState`` (the merged cluster
    keeps the larger slot). ``all_stale``: every stale cluster, not only
    those within the quantile.

    Lower bounds: a cluster's nearest-neighbour cost never decreases while it
    lives (Ward is reducible: the cost to a union is at least the smaller of
    the costs to its parts), so a stale cost stays a lower bound, and a new
    union's own merge cost is a lower bound of its neighbour cost. Each round
    recomputes only the stale clusters whose bound is at most the
    ``quantile`` of the stale bounds; the others wait, as their
    neighbourhood is likely to change again before they merge. Any
    reciprocal pair of exact neighbours may merge (Ward is reducible), so
    waiting never changes the tree.

    Candidate lists: a search keeps a cluster's K nearest clusters and, in
    ``bound``, the cost of the K-th; every other cluster costs at least that,
    and so does any later union of such clusters (reducibility). A listed
    slot stands for the live cluster it has become (``into``). So when a
    cluster's neighbour merges, the cheapest listed cluster is its new
    nearest if it costs less than the bound, with no search; a union takes
    the lists of its parts and the smaller bound. Ties are decided by the
    full (cost, id) order, so the neighbour is the one a search would find.
    """
    live = state.live
    stale = state.stale
    nn_cost = state.nn_cost
    keys = state.keys
    todo = state.todo
    m = state.counts[0].live
    threshold = np.inf
    if not all_stale:
        n_stale = 0
        for t in range(m):
            x = live[t]
            if stale[x]:
                keys[n_stale] = nn_cost[x]
                n_stale += 1
        if n_stale > 0:
            q = int(quantile * (n_stale - 1))
            threshold = select_kth(keys, n_stale, q)
    n_todo = 0
    for t in range(m):
        x = live[t]
        if stale[x] and nn_cost[x] <= threshold:
            todo[n_todo] = x
            n_todo += 1
    return n_todo


@njit(cache=NUMBA_CACHE)
def ward_merge(tree, state, n_todo, all_stale):
    """After a neighbour batch over todo[:n_todo]: merge every reciprocal pair
    of exact neighbours, update candidates, boxes and staleness, compact
    ``live``; returns the number of pairs merged (see ``ward_todo``).

    When a round over every stale cluster (``all_stale``) finds no pair,
    stale neighbours tied with a smaller id hid them: every live cluster
    is marked stale for the next round (fresh neighbours always have a pair).
    """
    node_lo = tree.node_lo
    node_hi = tree.node_hi
    node_left = tree.node_left
    box_lo = tree.box_lo
    box_hi = tree.box_hi
    C = state.C
    w = state.w
    alive = state.alive
    ids = state.ids
    live = state.live
    into = state.into
    nn = state.nn
    nn_cost = state.nn_cost
    stale = state.stale
    cand = state.cand
    bound = state.bound
    todo = state.todo
    searched = state.searched
    changed = state.changed
    merged = state.merged
    node_parent = state.node_parent
    slot_leaf = state.slot_leaf
    node_wmin = state.node_wmin
    node_count = state.node_count
    a = state.a
    b = state.b
    h = state.h
    rnd = state.rnd
    counts = state.counts[0]
    k = counts.merges
    m = counts.live
    r = counts.rounds
    n_searched = 0
    for t in range(n_todo):
        stale[todo[t]] = False
        if searched[t]:
            n_searched += 1
    counts.searches += n_searched
    pairs = 0
    for t in range(m):
        x = live[t]
        y = nn[x]
        if x < y and not stale[x] and not stale[y] and nn[y] == x:
            a[k] = ids[x]
            b[k] = ids[y]
            h[k] = np.sqrt(2.0 * nn_cost[x])
            rnd[k] = r
            merged[2 * pairs] = x
            merged[2 * pairs + 1] = y
            k += 1
            pairs += 1
            wx = w[x]
            wy = w[y]
            total = wx + wy
            for f in range(C.shape[1]):
                C[y, f] = (wx * C[x, f] + wy * C[y, f]) / total
            w[y] = total
            if ids[x] > ids[y]:
                ids[y] = ids[x]
            alive[x] = False
            into[x] = y
            changed[y] = True
            stale[y] = True  # its merge cost stays in nn_cost: a lower bound
    counts.rounds = r + 1
    if pairs == 0:
        if all_stale:
            for t in range(m):
                stale[live[t]] = True
        return 0
    for t in range(pairs):
        merge_candidates(C, w, alive, ids, into, cand, bound, merged[2 * t], merged[2 * t + 1])
    for t in range(2 * pairs):
        refit_path(C, w, alive, node_lo, node_hi, node_left, node_parent, slot_leaf,
                   box_lo, box_hi, node_wmin, node_count, merged[t])
    kept = 0
    for t in range(m):
        x = live[t]
        if not alive[x]:
            continue
        live[kept] = x
        kept += 1
        y = nn[x]
        if not stale[x] and (not alive[y] or changed[y]):
            stale[x] = True
    for t in range(pairs):
        changed[merged[2 * t + 1]] = False
    counts.merges = k
    counts.live = kept
    return pairs
