"""Ward's nearest-neighbour searches over shards of the active clusters (``hclust.dask``'s exact ward).

The in-process vector engine (``vector``) searches one kd-tree over every
active cluster. Here the active clusters are split into shards, each held by
one worker with its own kd-tree: a cluster stays in the shard of the row it
started from (a merged cluster lives where the larger slot of the pair
lived, as in ``ward_merge``), so a merge moves at most one centroid's update.
A search asks the shards that may hold one of its K nearest clusters for
their own K nearest, and the client keeps the K nearest of the answers by
the same (cost, id) order as ``knn_ward``: the result is ``knn_ward``'s,
whatever the shards, because each shard's list is exact and the costs are
computed by the same expression on the same values.

Client side: ``candidate_pass`` (what ``_nearest_batch`` does before a
search, and an upper bound of each searched cluster's K-th cost),
``shard_mask`` (the shards a search must ask) and ``combine`` (the answers
into nn, nn_cost, cand and bound). Worker side: ``shard_apply`` (a round's
merges) and ``shard_knn`` (the searches).
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .kdtree import point_box_dist2, refit_path
from .vector import BOUND_SHRINK, STACK_SIZE, _from_candidates, _listed, _offer, _ward_cost, knn_core


@njit(cache=NUMBA_CACHE)
def candidate_pass(C, w, alive, ids, into, cand, bound, nn, nn_cost, todo, n_todo, searched, upper):
    """For x in todo[:n_todo]: x's nearest cluster from its candidate list when
    the list proves it (written to nn/nn_cost, ``searched[t]`` False), as the
    in-process batch does; else ``searched[t]`` True and ``upper[t]`` an upper
    bound of x's K-th nearest cost: the largest cost to its listed clusters
    when they are K distinct live ones, else inf."""
    cap = cand.shape[1]
    for t in range(n_todo):
        x = todo[t]
        s, c = _from_candidates(C, w, alive, ids, into, cand, bound, x)
        if s >= 0:
            searched[t] = False
            nn[x] = s
            nn_cost[x] = c
            continue
        searched[t] = True
        distinct = 0
        top = 0.0
        for e in range(cap):
            s = cand[x, e]  # followed by _from_candidates: live, or -1
            if s < 0 or _listed(cand[x], e, s):
                continue
            distinct += 1
            c = _ward_cost(C, w, x, s)
            if c > top:
                top = c
        upper[t] = top if distinct == cap else np.inf


@njit(cache=NUMBA_CACHE)
def shard_mask(C, w, queries, upper, box_lo, box_hi, wmin, count, mask):
    """mask[i, s]: whether shard s may hold one of the K nearest clusters of
    slot queries[i] (cost at most upper[i]); a shard's box, smallest weight
    and live count bound every cluster it holds (Ward's bound, as in knn_ward)."""
    for i in range(queries.shape[0]):
        x = queries[i]
        q = C[x]
        wx = w[x]
        for s in range(box_lo.shape[0]):
            if count[s] == 0:
                mask[i, s] = False
                continue
            gap = point_box_dist2(q, box_lo, box_hi, s)
            m = wmin[s]
            mask[i, s] = not (wx * m / (wx + m) * gap * BOUND_SHRINK > upper[i])


@njit(cache=NUMBA_CACHE)
def shard_apply(C, w, alive, ids, node_lo, node_hi, node_left, node_parent, slot_leaf, box_lo, box_hi,
                node_wmin, node_count, slot_of, lo, dead, kept, kept_C, kept_w, kept_ids):
    """A round's merges on a shard: the clusters of keys ``dead`` (rows of
    this shard) end; those of keys ``kept`` take their merged centroid,
    weight and id; the tree is refitted along their paths."""
    for i in range(dead.shape[0]):
        alive[slot_of[dead[i] - lo]] = False
    for i in range(kept.shape[0]):
        s = slot_of[kept[i] - lo]
        for f in range(C.shape[1]):
            C[s, f] = kept_C[i, f]
        w[s] = kept_w[i]
        ids[s] = kept_ids[i]
    if node_left.shape[0] > 0:
        for i in range(dead.shape[0]):
            refit_path(C, w, alive, node_lo, node_hi, node_left, node_parent, slot_leaf, box_lo, box_hi,
                       node_wmin, node_count, slot_of[dead[i] - lo])
        for i in range(kept.shape[0]):
            refit_path(C, w, alive, node_lo, node_hi, node_left, node_parent, slot_leaf, box_lo, box_hi,
                       node_wmin, node_count, slot_of[kept[i] - lo])


@njit(cache=NUMBA_CACHE)
def shard_knn(C, w, alive, ids, key_of, node_lo, node_hi, node_left, box_lo, box_hi, node_wmin, node_count,
              use_tree, live, n_live, own, Q, wq, upper, out_key, out_cost):
    """The K = out_key.shape[1] nearest live clusters of this shard by Ward's
    cost, ties to the smaller id, among those costing at most upper[i], for
    each search i: first this shard's slots ``own`` (the cluster itself
    excluded), then the centroids Q with weights wq from other shards. Their
    keys go to out_key[i] (-1 past the end), their costs to out_cost[i] (inf
    past the end).

    C and w have one row more than the shard's slots: a search from another
    shard is put there, so that ``knn_core`` (the in-process search) runs on
    it and every cost is the in-process expression on the same values.
    ``use_tree`` False (or an empty shard) scans live[:n_live].
    """
    cap = out_key.shape[1]
    spare = C.shape[0] - 1
    use = use_tree and node_left.shape[0] > 0
    best_s = np.empty(cap, dtype=np.int64)
    best_c = np.empty(cap)
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    stack_gap = np.empty(STACK_SIZE)
    n_own = own.shape[0]
    for i in range(n_own + Q.shape[0]):
        if i < n_own:
            x = own[i]
        else:
            x = spare
            for f in range(C.shape[1]):
                C[x, f] = Q[i - n_own, f]
            w[x] = wq[i - n_own]
        count = knn_core(C, w, alive, ids, node_lo, node_hi, node_left, box_lo, box_hi, node_wmin, node_count, x,
                         use, live, n_live, best_s, best_c, 0, upper[i], stack, stack_gap)
        for e in range(cap):
            if e < count:
                out_key[i, e] = key_of[best_s[e]]
                out_cost[i, e] = best_c[e]
            else:
                out_key[i, e] = -1
                out_cost[i, e] = np.inf


@njit(cache=NUMBA_CACHE)
def combine(C, w, ids, cand, bound, nn, nn_cost, queries, slot_of_key, rows, res_key, res_cost):
    """The shards' answers into each query's K nearest (cand, bound, nn, nn_cost
    of slot queries[i]), as ``knn_ward`` writes them: the answers of query
    i are the rows r of res_key/res_cost with rows[r] == i (keys; -1 pads)."""
    cap = cand.shape[1]
    n_q = queries.shape[0]
    best_s = np.empty((n_q, cap), dtype=np.int64)
    best_c = np.empty((n_q, cap))
    count = np.zeros(n_q, dtype=np.int64)
    for r in range(rows.shape[0]):
        i = rows[r]
        for e in range(cap):
            key = res_key[r, e]
            if key < 0:
                break
            count[i] = _offer(best_s[i], best_c[i], count[i], ids, slot_of_key[key], res_cost[r, e])
    for i in range(n_q):
        x = queries[i]
        n = count[i]
        for e in range(cap):
            cand[x, e] = best_s[i, e] if e < n else -1
        bound[x] = best_c[i, cap - 1] if n == cap else np.inf
        nn[x] = best_s[i, 0]
        nn_cost[x] = best_c[i, 0]
