"""The shared kd-tree (hclust._kernels.kdtree) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from hclust._kernels import kdtree as _kdtree
from test_emst import blobs, spreads


def squared(X: np.ndarray) -> np.ndarray:
    """Squared distances summed in dimension order, as the tree computes them."""
    diff = X[:, None, :] - X[None, :, :]
    out = np.zeros((X.shape[0], X.shape[0]))
    for f in range(X.shape[1]):
        out += diff[:, :, f] ** 2
    return out


def scratch(tree: _kdtree.KDTree, leaves: np.ndarray) -> tuple[np.ndarray, ...]:
    max_leaf = int((tree.node_hi[leaves] - tree.node_lo[leaves]).max())
    return (np.empty(_kdtree.STACK_SIZE, dtype=np.int64), np.empty(_kdtree.STACK_SIZE),
            np.empty(tree.data.shape[1]), np.empty(max_leaf))


def check_tree(X: np.ndarray, leaf_size: int) -> None:
    """build's invariants: ranges partition the points, boxes are tight, data = X[perm]."""
    tree = _kdtree.build(X, leaf_size)
    Xt, perm, lo, hi, left, box_lo, box_hi, node_min = tree
    n = X.shape[0]
    np.testing.assert_array_equal(np.sort(perm), np.arange(n))
    np.testing.assert_array_equal(Xt, X[perm])
    assert lo[0] == 0 and hi[0] == n
    for k in range(lo.shape[0]):
        assert hi[k] > lo[k]
        rows = Xt[lo[k]:hi[k]]
        np.testing.assert_array_equal(box_lo[k], rows.min(axis=0))
        np.testing.assert_array_equal(box_hi[k], rows.max(axis=0))
        assert node_min[k] == perm[lo[k]:hi[k]].min()
        if left[k] >= 0:
            assert left[k] > k
            assert lo[left[k]] == lo[k] and hi[left[k]] == lo[left[k] + 1] and hi[left[k] + 1] == hi[k]
        elif hi[k] - lo[k] > leaf_size:
            assert np.all(rows == rows[0])  # only a node of equal points stays a big leaf
    # leaves in tree order tile the positions; parents and leaves of positions agree
    leaves = _kdtree.leaf_nodes(tree)
    np.testing.assert_array_equal(lo[leaves], np.concatenate([[0], hi[leaves][:-1]]))
    assert hi[leaves][-1] == n and np.all(left[leaves] < 0)
    assert np.count_nonzero(left < 0) == leaves.shape[0]
    node_parent, point_leaf = _kdtree.node_parents(tree)
    assert node_parent[0] == -1
    inner = np.flatnonzero(left >= 0)
    np.testing.assert_array_equal(node_parent[left[inner]], inner)
    np.testing.assert_array_equal(node_parent[left[inner] + 1], inner)
    for k in leaves:
        assert np.all(point_leaf[lo[k]:hi[k]] == k)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 9])
def test_tree_invariants(d):
    X = spreads(1500, d, seed=11)
    check_tree(X, 16)
    check_tree(np.vstack([X, X[:400]]), 5)
    check_tree(X[:1], 16)


def test_points_sharing_a_grid_cell_still_split():
    # 300 distinct points closer together than one step of the 2^32 (d = 2)
    # or 2^21 (d = 3) Morton grid, beside a far point: the codes cannot tell
    # them apart and the node falls back to median splits.
    rng = np.random.default_rng(12)
    for d in (2, 3):
        X = np.vstack([rng.normal(size=(300, d)) * 1e-13, np.full((1, d), 1e3)])
        check_tree(X, 16)
        codes = _kdtree.morton_codes(X)
        assert len(np.unique(codes[:300])) == 1


def test_morton_codes_order_the_grid():
    # d = 2: x takes the even bits, y the odd ones, on one square grid
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
    codes = _kdtree.morton_codes(X)
    assert codes[0] == 0
    assert codes[3] == np.uint64(2**64 - 1)
    assert codes[0] < codes[1] < codes[2] < codes[3]
    top = 2**32 - 1
    assert codes[1] == sum(1 << (2 * i) for i in range(32)) and top.bit_length() == 32


def brute_knn(tree: _kdtree.KDTree, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each tree point's k nearest others sorted by (squared distance, row)."""
    D = squared(tree.data)
    n = D.shape[0]
    out_j = np.full((n, k), -1)
    out_d2 = np.full((n, k), np.inf)
    for i in range(n):
        others = np.flatnonzero(np.arange(n) != i)
        order = others[np.lexsort((tree.perm[others], D[i, others]))][:k]
        out_j[i, : order.shape[0]] = order
        out_d2[i, : order.shape[0]] = D[i, order]
    return out_j, out_d2


@pytest.mark.parametrize(("n", "d", "k"), [(2, 2, 3), (700, 2, 6), (600, 3, 1), (500, 8, 4)])
def test_knn_matches_brute_force(n, d, k):
    X = blobs(n, d, seed=n + d)
    X[: n // 4] = np.round(X[: n // 4])  # equal points and distances: ties go to the smaller row
    tree = _kdtree.build(X, 8)
    leaves = _kdtree.leaf_nodes(tree)
    max_leaf = int((tree.node_hi[leaves] - tree.node_lo[leaves]).max())
    expected_j, expected_d2 = brute_knn(tree, k)
    by_points = -(-n // _kdtree.BLOCK), -(-n // 16)
    by_leaves = -(-leaves.shape[0] // _kdtree.LEAF_BLOCK)
    runs = [
        (_kdtree.knn_serial, _kdtree.BLOCK, [0, by_points[0]]),
        (_kdtree.knn_parallel, 16, [0, by_points[1]]),
        (_kdtree.knn_parallel, 16, [0, by_points[1] // 3, by_points[1]]),  # in calls
        (_kdtree.knn_leaves_serial, leaves, [0, by_leaves // 2, by_leaves]),
        (_kdtree.knn_leaves_parallel, leaves, [0, by_leaves]),
    ]
    for knn, how, cuts in runs:
        out_j = np.empty((n, k), dtype=np.int64)
        out_d2 = np.empty((n, k))
        for first, stop in zip(cuts[:-1], cuts[1:]):
            knn(tree, out_j, out_d2, how, max_leaf, first, stop)
        np.testing.assert_array_equal(out_j, expected_j)
        np.testing.assert_array_equal(out_d2, expected_d2)


def test_gather_leaves_keeps_every_leaf_within_the_bound():
    X = blobs(900, 2, seed=3)
    tree = _kdtree.build(X, 8)
    leaves = _kdtree.leaf_nodes(tree)
    stack_node, stack_bound, _, _ = scratch(tree, leaves)
    rng = np.random.default_rng(4)
    node_label = np.full(tree.node_left.shape[0], -1)
    labelled = rng.choice(leaves, size=leaves.shape[0] // 3, replace=False)
    node_label[labelled] = 7
    cand = np.empty(_kdtree.MAX_CANDIDATES, dtype=np.int64)
    for leaf in leaves[::7]:
        gaps = np.array([_box_gap(tree, leaf, k) for k in leaves])
        bound = np.array([np.quantile(gaps, 0.2)])
        count, bound_min, cut = _kdtree.gather_leaves(tree.node_left, tree.box_lo, tree.box_hi,
                                                      node_label, 7, bound, 0, leaf, cand,
                                                      stack_node, stack_bound)
        assert bound_min == bound[0]
        got = set(cand[:count].tolist())
        wanted = {k for k, g in zip(leaves, gaps) if g <= bound[0] and k != leaf and node_label[k] != 7}
        assert wanted <= got and leaf not in got
        # leaves left out are beyond the bound or labelled; cut bounds those beyond it
        left_out = [g for k, g in zip(leaves, gaps) if k not in got and k != leaf and node_label[k] != 7]
        assert all(g > bound[0] and g >= cut for g in left_out)
    # too many leaves for the candidate array
    small = np.empty(2, dtype=np.int64)
    count, _, _ = _kdtree.gather_leaves(tree.node_left, tree.box_lo, tree.box_hi, node_label, -2,
                                        np.array([np.inf]), 0, leaves[0], small, stack_node, stack_bound)
    assert count == -1


def _box_gap(tree: _kdtree.KDTree, a: int, k: int) -> float:
    gap = np.maximum(tree.box_lo[k] - tree.box_hi[a], 0) + np.maximum(tree.box_lo[a] - tree.box_hi[k], 0)
    return float(np.sum(gap * gap))


def _node_labels(tree: _kdtree.KDTree, label: np.ndarray) -> np.ndarray:
    node_label = np.empty(tree.node_left.shape[0], dtype=np.int64)
    for k in range(node_label.shape[0]):
        values = np.unique(label[tree.node_lo[k]:tree.node_hi[k]])
        node_label[k] = values[0] if values.shape[0] == 1 else -1
    return node_label


@pytest.mark.parametrize("d", [2, 5])
def test_nearest_other_matches_brute_force(d):
    X = blobs(800, d, seed=20 + d)
    tree = _kdtree.build(X, 8)
    leaves = _kdtree.leaf_nodes(tree)
    stack_node, stack_bound, q, acc = scratch(tree, leaves)
    # labels: runs of tree positions (as Borůvka's components), so nodes can be pure
    label = np.repeat(np.arange(40), 20)[: X.shape[0]].astype(np.int64)
    node_label = _node_labels(tree, label)
    D = squared(tree.data)
    cand = np.empty(_kdtree.MAX_CANDIDATES, dtype=np.int64)
    for i in range(0, X.shape[0], 13):
        c = label[i]
        foreign = np.flatnonzero(label != c)
        expected = foreign[np.lexsort((tree.perm[foreign], D[i, foreign]))][0]
        q[:] = tree.data[i]
        shared = np.full(X.shape[0], np.inf)
        best, best_j, shared_min, cut = _kdtree.nearest_other(
            tree.data, tree.perm, tree.node_lo, tree.node_hi, tree.node_left, tree.box_lo,
            tree.box_hi, tree.node_min, label, node_label, q, c, np.inf, -1, shared, stack_node,
            stack_bound, acc,
        )
        assert (best_j, best) == (expected, D[i, expected])
        assert shared[c] == best and best <= shared_min
        # a shared bound below the nearest distance: not exact, but a valid lower bound
        shared[c] = 0.5 * best
        low_best, _, low_min, low_cut = _kdtree.nearest_other(
            tree.data, tree.perm, tree.node_lo, tree.node_hi, tree.node_left, tree.box_lo,
            tree.box_hi, tree.node_min, label, node_label, q, c, np.inf, -1, shared, stack_node,
            stack_bound, acc,
        )
        assert low_best > low_min and min(low_best, low_cut) <= D[i, expected]
        # the same from the candidate leaves of i's leaf
        leaf = next(k for k in leaves if tree.node_lo[k] <= i < tree.node_hi[k])
        if node_label[leaf] != c:
            continue
        shared[c] = np.inf
        count, gather_min, gather_cut = _kdtree.gather_leaves(
            tree.node_left, tree.box_lo, tree.box_hi, node_label, c, shared, c, leaf, cand,
            stack_node, stack_bound,
        )
        best, best_j, shared_min, _ = _kdtree.nearest_other_in(
            tree.data, tree.perm, tree.node_lo, tree.node_hi, tree.box_lo, tree.box_hi,
            tree.node_min, label, q, c, np.inf, -1, shared, gather_min, gather_cut, cand, count, acc,
        )
        assert (best_j, best) == (expected, D[i, expected]) and best <= shared_min


def test_refits_follow_moving_and_dying_points():
    rng = np.random.default_rng(30)
    X = blobs(500, 3, seed=30)
    tree = _kdtree.build(X, 8)
    P = tree.data.copy()
    w = rng.uniform(1, 5, size=500)
    alive = np.ones(500, dtype=np.bool_)
    n_nodes = tree.node_left.shape[0]
    node_wmin = np.empty(n_nodes)
    node_count = np.empty(n_nodes, dtype=np.int64)
    _kdtree.refit_all(tree, P, w, alive, node_wmin, node_count)
    node_parent, point_leaf = _kdtree.node_parents(tree)
    for s in rng.choice(500, size=120, replace=False):
        if rng.random() < 0.5:
            alive[s] = False
        else:
            P[s] += rng.normal(size=3) * 0.1
            w[s] *= 0.5
        _kdtree.refit_path(P, w, alive, tree.node_lo, tree.node_hi, tree.node_left, node_parent,
                           point_leaf, tree.box_lo, tree.box_hi, node_wmin, node_count, s)
    for k in range(n_nodes):
        rows = np.arange(tree.node_lo[k], tree.node_hi[k])
        live = rows[alive[rows]]
        assert node_count[k] == live.shape[0]
        if live.shape[0]:
            np.testing.assert_array_equal(tree.box_lo[k], P[live].min(axis=0))
            np.testing.assert_array_equal(tree.box_hi[k], P[live].max(axis=0))
            assert node_wmin[k] == w[live].min()
        else:
            assert node_wmin[k] == np.inf


def test_knn_points_match_brute_force():
    # queries off the tree (another partition's points), some on a tree point
    X = blobs(600, 3, seed=40)
    tree = _kdtree.build(X, 8)
    leaves = _kdtree.leaf_nodes(tree)
    max_leaf = int((tree.node_hi[leaves] - tree.node_lo[leaves]).max())
    Q = np.vstack([blobs(300, 3, seed=41), X[:20]])
    D = np.zeros((Q.shape[0], X.shape[0]))
    for f in range(3):
        D += (Q[:, None, f] - tree.data[None, :, f]) ** 2
    k = 5
    for knn in (_kdtree.knn_points_serial, _kdtree.knn_points_parallel):
        out_j = np.empty((Q.shape[0], k), dtype=np.int64)
        out_d2 = np.empty((Q.shape[0], k))
        knn(tree, Q, out_j, out_d2, max_leaf)
        for r in range(Q.shape[0]):
            order = np.lexsort((tree.perm, D[r]))[:k]
            np.testing.assert_array_equal(out_j[r], order)
            np.testing.assert_array_equal(out_d2[r], D[r, order])
    np.testing.assert_array_equal(out_d2[300:, 0], 0.0)  # a query on a tree point finds it
    # fewer tree points than k: -1 / inf past the end
    small = _kdtree.build(X[:3], 8)
    out_j = np.empty((2, 5), dtype=np.int64)
    out_d2 = np.empty((2, 5))
    _kdtree.knn_points_serial(small, Q[:2], out_j, out_d2, 3)
    assert np.all(out_j[:, 3:] == -1) and np.all(np.isinf(out_d2[:, 3:]))
