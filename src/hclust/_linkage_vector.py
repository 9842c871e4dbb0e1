"""Linear-memory engines driven from Python: progress, Ctrl-C, thread choice."""

from __future__ import annotations

import numpy as np

from ._kernels import vector as _vector
from ._typing import FloatArray, ProgressCallback

#: Merges per resumable kernel call of the vector engine (progress, Ctrl-C).
_MERGES_PER_CALL = 2_000


#: Above this dimension a kd-tree prunes too little to beat a full scan.
_TREE_MAX_DIM = 16


def ward_vectors(
    X: FloatArray,
    weights: FloatArray | None,
    threads: int,
    progress: ProgressCallback | None,
    use_tree: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """Ward merges (slot, slot, height) from observations, O(n d) memory; heights sorted."""
    n, d = X.shape
    C = np.array(X, dtype=np.float64, order="C", copy=True)
    w = np.ones(n) if weights is None else np.array(weights, dtype=np.float64, copy=True)
    perm, node_lo, node_hi, node_left, _ = _vector.build_kdtree(C, _vector.LEAF_SIZE)
    node_parent, slot_leaf = _vector.tree_parents(node_left, node_lo, node_hi, perm, n)
    n_nodes = node_left.shape[0]
    box_lo = np.empty((n_nodes, d))
    box_hi = np.empty((n_nodes, d))
    node_wmin = np.empty(n_nodes)
    node_count = np.empty(n_nodes, dtype=np.int64)
    alive = np.ones(n, dtype=np.bool_)
    _vector.refit_all(C, w, alive, perm, node_lo, node_hi, node_left, box_lo, box_hi, node_wmin, node_count)
    live = np.arange(n, dtype=np.int64)
    todo = np.arange(n, dtype=np.int64)
    nn = np.full(n, -1, dtype=np.int64)
    nn_cost = np.full(n, np.inf)
    changed = np.zeros(n, dtype=np.bool_)
    into = np.full(n, -1, dtype=np.int64)
    state = np.array([n, 0, n], dtype=np.int64)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    h = np.empty(n - 1)
    parallel = threads > 1 and n >= 2_000
    if use_tree is None:
        use_tree = d <= _TREE_MAX_DIM
    done = 0
    while done < n - 1:
        done = _vector.ward_rounds(
            C, w, alive, live, perm, node_lo, node_hi, node_left, node_parent, slot_leaf,
            box_lo, box_hi, node_wmin, node_count, nn, nn_cost, into, todo, changed, state,
            a, b, h, min(n - 1, done + _MERGES_PER_CALL), parallel, use_tree,
        )
        if progress is not None:
            progress(int(done), n - 1)
    order = np.argsort(h, kind="mergesort")
    return a[order], b[order], h[order]
