"""BIRCH clustering-feature (CF) tree and weighted group statistics.

Zhang, Ramakrishnan and Livny (1996), BIRCH: An Efficient Data Clustering
Method for Very Large Databases, :doi:`10.1145/233269.233324`.

A CF entry holds (count, mean, ssd): total weight, weighted mean, and sum of
weighted squared deviations from the mean. Entries are merged with Chan,
Golub and LeVeque's pairwise update (never from raw sums of squares, which
cancel catastrophically far from the origin).

The tree lives in flat arrays (capacity grows in the caller):

* node_entries : int64[M, B+1], entry slots of each node (one spare for overflow)
* node_n : int64[M], entries in use; node_leaf : bool[M]
* e_count : float64[E], e_mean : float64[E, d], e_ssd : float64[E]
* e_child : int64[E], child node of an inner entry, -1 for a leaf entry
* meta : int64[5], (nodes used, entries used, root, leaf entries, inner levels)

Leaf entries are never freed, so an entry's slot identifies a micro-cluster
for as long as the tree lives.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE

STATUS_DONE = 0
STATUS_GROW = 1
STATUS_OVER = 2


@njit(cache=NUMBA_CACHE)
def _sq_to_row(e_mean, e, x):
    total = 0.0
    for k in range(x.shape[0]):
        diff = e_mean[e, k] - x[k]
        total += diff * diff
    return total


@njit(cache=NUMBA_CACHE)
def _sq_between(e_mean, a, b):
    total = 0.0
    for k in range(e_mean.shape[1]):
        diff = e_mean[a, k] - e_mean[b, k]
        total += diff * diff
    return total


@njit(cache=NUMBA_CACHE)
def _absorb(e_count, e_mean, e_ssd, e, count, mean, ssd):
    """Merge the CF (count, mean, ssd) into entry e (Chan et al.'s update)."""
    old = e_count[e]
    total = old + count
    factor = count / total
    sq = 0.0
    for k in range(mean.shape[0]):
        delta = mean[k] - e_mean[e, k]
        sq += delta * delta
        e_mean[e, k] += delta * factor
    e_ssd[e] += ssd + sq * (old * factor)
    e_count[e] = total


@njit(cache=NUMBA_CACHE)
def _summarize_node(node, target, node_entries, node_n, e_count, e_mean, e_ssd):
    """Set entry target to the CF of all entries of node."""
    first = node_entries[node, 0]
    e_count[target] = e_count[first]
    for k in range(e_mean.shape[1]):
        e_mean[target, k] = e_mean[first, k]
    e_ssd[target] = e_ssd[first]
    for k in range(1, node_n[node]):
        e = node_entries[node, k]
        _absorb(e_count, e_mean, e_ssd, target, e_count[e], e_mean[e], e_ssd[e])


@njit(cache=NUMBA_CACHE)
def _split_node(node, node_entries, node_n, node_leaf, e_mean, meta):
    """Split an overfull node around its two farthest entries; return the new node."""
    m = node_n[node]
    far_i = 0
    far_j = 1
    best = -1.0
    for p in range(m):
        for q in range(p + 1, m):
            value = _sq_between(e_mean, node_entries[node, p], node_entries[node, q])
            if value > best:
                best = value
                far_i = p
                far_j = q
    seed_i = node_entries[node, far_i]
    seed_j = node_entries[node, far_j]
    new = meta[0]
    meta[0] += 1
    node_leaf[new] = node_leaf[node]
    node_n[new] = 0
    keep = 0
    for p in range(m):
        e = node_entries[node, p]
        to_new = p == far_j
        if p != far_i and p != far_j:
            to_new = _sq_between(e_mean, e, seed_j) < _sq_between(e_mean, e, seed_i)
        if to_new:
            node_entries[new, node_n[new]] = e
            node_n[new] += 1
        else:
            node_entries[node, keep] = e  # keep <= p: compaction in place
            keep += 1
    node_n[node] = keep
    return new


@njit(cache=NUMBA_CACHE)
def _new_entry(e_count, e_mean, e_ssd, e_child, meta, count, mean, ssd, child):
    e = meta[1]
    meta[1] += 1
    e_count[e] = count
    for k in range(mean.shape[0]):
        e_mean[e, k] = mean[k]
    e_ssd[e] = ssd
    e_child[e] = child
    return e


@njit(cache=NUMBA_CACHE)
def _insert_cf(
    mean, count, ssd, threshold_sq, node_entries, node_n, node_leaf,
    e_count, e_mean, e_ssd, e_child, meta, path_node, path_slot,
):
    """Insert one CF; return the slot of the leaf entry that holds it."""
    branching = node_entries.shape[1] - 1
    node = meta[2]
    depth = 0
    while not node_leaf[node]:
        best = node_entries[node, 0]
        best_sq = _sq_to_row(e_mean, best, mean)
        for k in range(1, node_n[node]):
            e = node_entries[node, k]
            value = _sq_to_row(e_mean, e, mean)
            if value < best_sq:
                best_sq = value
                best = e
        path_node[depth] = node
        path_slot[depth] = best
        depth += 1
        node = e_child[best]
    # Closest leaf entry; absorb when the merged radius stays within the threshold.
    nearest = -1
    nearest_sq = np.inf
    for k in range(node_n[node]):
        e = node_entries[node, k]
        value = _sq_to_row(e_mean, e, mean)
        if value < nearest_sq:
            nearest_sq = value
            nearest = e
    for level in range(depth):
        _absorb(e_count, e_mean, e_ssd, path_slot[level], count, mean, ssd)
    if nearest >= 0:
        total = e_count[nearest] + count
        merged_ssd = e_ssd[nearest] + ssd + nearest_sq * (e_count[nearest] * count / total)
        if merged_ssd <= threshold_sq * total:
            _absorb(e_count, e_mean, e_ssd, nearest, count, mean, ssd)
            return nearest
    slot = _new_entry(e_count, e_mean, e_ssd, e_child, meta, count, mean, ssd, -1)
    node_entries[node, node_n[node]] = slot
    node_n[node] += 1
    meta[3] += 1
    level = depth
    while node_n[node] > branching:
        new = _split_node(node, node_entries, node_n, node_leaf, e_mean, meta)
        if level == 0:  # the root split: the tree grows a level
            root = meta[0]
            meta[0] += 1
            node_leaf[root] = False
            node_n[root] = 2
            for k in range(2):
                child = node if k == 0 else new
                e = _new_entry(e_count, e_mean, e_ssd, e_child, meta, 0.0, e_mean[slot], 0.0, child)
                _summarize_node(child, e, node_entries, node_n, e_count, e_mean, e_ssd)
                node_entries[root, k] = e
            meta[2] = root
            meta[4] += 1
            break
        parent = path_node[level - 1]
        _summarize_node(node, path_slot[level - 1], node_entries, node_n, e_count, e_mean, e_ssd)
        e = _new_entry(e_count, e_mean, e_ssd, e_child, meta, 0.0, e_mean[slot], 0.0, new)
        _summarize_node(new, e, node_entries, node_n, e_count, e_mean, e_ssd)
        node_entries[parent, node_n[parent]] = e
        node_n[parent] += 1
        node = parent
        level -= 1
    return slot


@njit(cache=NUMBA_CACHE)
def _has_room(node_n, e_count, meta):
    """Whether one more insertion fits: at most one new node and two entries per level."""
    need = meta[4] + 3
    return meta[0] + need <= node_n.shape[0] and meta[1] + 2 * need <= e_count.shape[0]


@njit(cache=NUMBA_CACHE)
def cf_insert_rows(
    X, w, start, stop, threshold_sq, cap, node_entries, node_n, node_leaf,
    e_count, e_mean, e_ssd, e_child, meta, labels,
):
    """Insert rows start..stop-1 of X (float64[n, d]) with weights w (float64[n]).

    labels[i] receives the leaf slot of row i. Returns (next row, status):
    STATUS_GROW when the arrays must grow first (nothing of that row done),
    STATUS_OVER when the leaf entries exceed cap, else STATUS_DONE.
    """
    # The depth of the tree is below the number of nodes it can hold.
    path_node = np.empty(node_n.shape[0] + 1, dtype=np.int64)
    path_slot = np.empty(node_n.shape[0] + 1, dtype=np.int64)
    for i in range(start, stop):
        if not _has_room(node_n, e_count, meta):
            return i, STATUS_GROW
        labels[i] = _insert_cf(
            X[i], w[i], 0.0, threshold_sq, node_entries, node_n, node_leaf,
            e_count, e_mean, e_ssd, e_child, meta, path_node, path_slot,
        )
        if meta[3] > cap:
            return i + 1, STATUS_OVER
    return stop, STATUS_DONE


@njit(cache=NUMBA_CACHE)
def cf_insert_entries(
    count, mean, ssd, start, threshold_sq, node_entries, node_n, node_leaf,
    e_count, e_mean, e_ssd, e_child, meta, redirect,
):
    """Insert CFs start.. of (count[m], mean[m, d], ssd[m]); redirect[j] gets CF j's leaf slot.

    Returns (next CF, status): STATUS_GROW when the arrays must grow first.
    """
    # The depth of the tree is below the number of nodes it can hold.
    path_node = np.empty(node_n.shape[0] + 1, dtype=np.int64)
    path_slot = np.empty(node_n.shape[0] + 1, dtype=np.int64)
    for j in range(start, count.shape[0]):
        if not _has_room(node_n, e_count, meta):
            return j, STATUS_GROW
        redirect[j] = _insert_cf(
            mean[j], count[j], ssd[j], threshold_sq, node_entries, node_n, node_leaf,
            e_count, e_mean, e_ssd, e_child, meta, path_node, path_slot,
        )
    return count.shape[0], STATUS_DONE


@njit(cache=NUMBA_CACHE)
def cf_merge_radii_sq(node_entries, node_n, node_leaf, e_count, e_mean, e_ssd, meta):
    """For each leaf entry with a sibling: the squared radius of it merged with its closest sibling."""
    out = np.empty(meta[3])
    m = 0
    for node in range(meta[0]):
        if not node_leaf[node] or node_n[node] < 2:
            continue
        for p in range(node_n[node]):
            a = node_entries[node, p]
            best = np.inf
            for q in range(node_n[node]):
                if q == p:
                    continue
                b = node_entries[node, q]
                total = e_count[a] + e_count[b]
                merged = (e_ssd[a] + e_ssd[b] + _sq_between(e_mean, a, b) * (e_count[a] * e_count[b] / total)) / total
                if merged < best:
                    best = merged
            out[m] = best
            m += 1
    return out[:m]


@njit(cache=NUMBA_CACHE)
def relabel(labels, mapping, stop):
    """labels[i] = mapping[labels[i]] for i < stop."""
    for i in range(stop):
        labels[i] = mapping[labels[i]]


@njit(cache=NUMBA_CACHE)
def group_stats(X, w, labels, k):
    """Exact (count, mean, ssd) of each group 0..k-1, by two passes over X (float64[n, d]).

    Weighted: count is the sum of w, ssd the sum of w * squared distance to the mean.
    """
    n, d = X.shape
    count = np.zeros(k)
    mean = np.zeros((k, d))
    for i in range(n):
        g = labels[i]
        count[g] += w[i]
        for j in range(d):
            mean[g, j] += w[i] * X[i, j]
    for g in range(k):
        for j in range(d):
            mean[g, j] /= count[g]
    ssd = np.zeros(k)
    for i in range(n):
        g = labels[i]
        total = 0.0
        for j in range(d):
            diff = X[i, j] - mean[g, j]
            total += diff * diff
        ssd[g] += w[i] * total
    return count, mean, ssd


@njit(cache=NUMBA_CACHE)
def total_ss(X, w, centre):
    """Weighted sum of squared distances of the rows of X (float64[n, d]) to centre."""
    total = 0.0
    for i in range(X.shape[0]):
        row = 0.0
        for j in range(X.shape[1]):
            diff = X[i, j] - centre[j]
            row += diff * diff
        total += w[i] * row
    return total
