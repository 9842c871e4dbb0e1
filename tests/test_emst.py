"""Exact Euclidean minimum spanning tree (Borůvka on a kd-tree) against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

from hclust import _emst, _threads
from hclust._emst import euclidean_mst
from hclust._threads import forced_twins
from hclust._kernels import boruvka as _boruvka
from hclust._kernels import kdtree as _kdtree
from hclust._kernels import sorting as _sorting
from hclust._kernels.unionfind import merges_to_linkage


def blobs(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(5, d))
    labels = rng.integers(0, 5, size=n)
    return centers[labels] + rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=5)[labels, None]


def noise(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, d))


def spreads(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Blobs whose spreads differ by six orders of magnitude."""
    rng = np.random.default_rng(seed)
    scale = np.array([1e-4, 1e-2, 1.0, 1e2])
    labels = rng.integers(0, 4, size=n)
    centers = rng.uniform(-1e3, 1e3, size=(4, d))
    return centers[labels] + rng.normal(size=(n, d)) * scale[labels, None]


def single_linkage(X: np.ndarray, threads: int = 1) -> np.ndarray:
    a, b, h = euclidean_mst(X, threads)
    order = np.argsort(h, kind="mergesort")
    return merges_to_linkage(a[order], b[order], h[order], np.ones(X.shape[0]))


def assert_same_tree(Z: np.ndarray, Z_ref: np.ndarray) -> None:
    np.testing.assert_array_equal(np.sort(Z[:, :2], axis=1), np.sort(Z_ref[:, :2], axis=1))
    np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(Z[:, 3], Z_ref[:, 3])


@pytest.mark.parametrize(
    ("make", "n", "d"),
    [
        (blobs, 2, 1),
        (blobs, 3, 2),
        (noise, 40, 1),
        (noise, 1000, 1),
        (blobs, 300, 2),
        (spreads, 2000, 2),
        (noise, 3000, 2),
        (blobs, 1500, 3),
        (spreads, 1200, 3),
        (blobs, 2500, 8),
        (noise, 2000, 8),
        (spreads, 1000, 8),
        (blobs, 600, 64),
        (noise, 400, 64),
    ],
)
def test_single_linkage_matches_scipy(make, n, d):
    X = make(n, d, seed=n + d)
    assert_same_tree(single_linkage(X), sch.linkage(X, "single"))


@pytest.mark.parametrize(("leaf_size", "n_neighbors"), [(1, 1), (2, 3), (5, 1), (64, 8), (32, 20)])
def test_tuning_does_not_change_the_tree(leaf_size, n_neighbors):
    X = blobs(700, 3, seed=1)
    a, b, h = euclidean_mst(X, 1, leaf_size=leaf_size, n_neighbors=n_neighbors)
    a_ref, b_ref, h_ref = euclidean_mst(X, 1)
    np.testing.assert_array_equal(a, a_ref)
    np.testing.assert_array_equal(b, b_ref)
    np.testing.assert_array_equal(h, h_ref)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_neighbour_lists_by_leaves_or_by_points_agree(monkeypatch, d):
    X = spreads(1500, d, seed=d)
    X = np.vstack([X, X[:300]])
    monkeypatch.setattr(_emst, "_KNN_BY_LEAVES_MAX_DIM", 0)
    by_points = euclidean_mst(X, 1)
    monkeypatch.setattr(_emst, "_KNN_BY_LEAVES_MAX_DIM", 64)
    by_leaves = euclidean_mst(X, 1)
    for left, right in zip(by_points, by_leaves):
        np.testing.assert_array_equal(left, right)
    assert_same_tree(single_linkage(X[:1500]), sch.linkage(X[:1500], "single"))


def test_total_weight_matches_csgraph():
    X = spreads(800, 5, seed=3)
    _, _, h = euclidean_mst(X, 1)
    reference = minimum_spanning_tree(squareform(pdist(X))).sum()
    assert h.sum() == pytest.approx(reference, rel=1e-12)


def test_heights_equal_pdist_bit_for_bit():
    X = noise(500, 7, seed=4) * 1e3 + 1e-3
    a, b, h = euclidean_mst(X, 1)
    n = X.shape[0]
    condensed = pdist(X)
    index = n * a - a * (a + 1) // 2 + (b - a - 1)
    np.testing.assert_array_equal(h, condensed[index])


def test_output_form():
    X = blobs(300, 4, seed=5)
    a, b, h = euclidean_mst(X, 1)
    assert a.dtype == np.int64 and b.dtype == np.int64 and h.dtype == np.float64
    assert a.shape == b.shape == h.shape == (299,)
    assert np.all(a < b)
    # sorted by (length, a, b)
    assert np.all(np.diff(h) >= 0)
    # a spanning tree: n - 1 edges joining everything
    Z = sch.linkage(X, "single")
    assert h.sum() == pytest.approx(Z[:, 2].sum(), rel=1e-12)


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_points(n):
    a, b, h = euclidean_mst(np.zeros((n, 3)), 1)
    assert a.shape == b.shape == h.shape == (0,)


def test_two_points():
    a, b, h = euclidean_mst(np.array([[0.0, 0.0], [3.0, 4.0]]), 1)
    assert a.tolist() == [0] and b.tolist() == [1] and h.tolist() == [5.0]


def test_all_points_equal():
    a, b, h = euclidean_mst(np.full((200, 3), 2.5), 1)
    assert np.all(h == 0)
    # ties: every point joins the smallest index (a star, by the tie rule)
    assert np.all(a == 0)
    np.testing.assert_array_equal(b, np.arange(1, 200))


@pytest.mark.parametrize("d", [1, 2, 8])
def test_duplicates_give_scipy_cophenetic_distances(d):
    rng = np.random.default_rng(d)
    base = rng.integers(0, 4, size=(60, d)).astype(float)
    X = base[rng.integers(0, 60, size=1500)]  # many exact duplicates and tied distances
    Z = single_linkage(X)
    Z_ref = sch.linkage(X, "single")
    np.testing.assert_array_equal(np.sort(Z[:, 2]), np.sort(Z_ref[:, 2]))
    np.testing.assert_array_equal(sch.cophenet(Z), sch.cophenet(Z_ref))


def test_ties_follow_the_documented_rule():
    # Points on a line at unit spacing: all edges tie; by (length, a, b)
    # the tree is the path and sorted by its left end.
    X = np.arange(10, dtype=float)[:, None]
    a, b, h = euclidean_mst(X, 1)
    np.testing.assert_array_equal(a, np.arange(9))
    np.testing.assert_array_equal(b, np.arange(1, 10))
    # Square corners: four unit edges, the tree keeps the three smallest pairs.
    Y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    a, b, _ = euclidean_mst(Y, 1)
    assert list(zip(a.tolist(), b.tolist())) == [(0, 1), (0, 2), (1, 3)]


@pytest.mark.parametrize(("make", "d"), [(blobs, 2), (noise, 8), (spreads, 3)])
def test_parallel_equals_serial(monkeypatch, make, d):
    X = make(3000, d, seed=7)
    X = np.vstack([X, X[:500]])  # duplicates as well
    serial = euclidean_mst(X, 1)
    monkeypatch.setattr(_emst, "_PARALLEL_MIN_POINTS", 0)
    monkeypatch.setattr(_emst, "_PARALLEL_PASS_MIN_POINTS", 0)
    monkeypatch.setattr(_emst, "_FIRST_POINTS", 300)  # searches in several calls
    monkeypatch.setattr(_threads, "_LEARNT", {})
    # each twin throughout (calls sized by the chooser), then the chooser's own mix
    for forced in (True, False, None):
        with forced_twins(forced):
            parallel = euclidean_mst(X, 2)
        for left, right in zip(serial, parallel):
            np.testing.assert_array_equal(left, right)


def test_progress_reports_every_round():
    X = blobs(2000, 3, seed=8)
    calls: list[tuple[int, int]] = []
    euclidean_mst(X, 1, progress=lambda done, total: calls.append((done, total)))
    assert 1 <= len(calls) <= 12
    assert all(total == 1999 for _, total in calls)
    done = [c[0] for c in calls]
    assert done == sorted(done) and len(set(done)) == len(done) and done[-1] == 1999


def test_progress_can_stop_the_run():
    X = blobs(2000, 3, seed=9)
    calls = []

    def stop(done: int, total: int) -> None:
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        euclidean_mst(X, 1, progress=stop)
    assert len(calls) == 1 and calls[0] < 1999


def test_points_sharing_a_grid_cell_give_scipys_tree():
    # closer together than one step of the Morton grid (see test_kdtree)
    rng = np.random.default_rng(12)
    for d in (2, 3):
        X = np.vstack([rng.normal(size=(300, d)) * 1e-13, np.full((1, d), 1e3)])
        assert_same_tree(single_linkage(X), sch.linkage(X, "single"))


def test_select_kth_is_numpys_partition():
    # vector ward's quantile of stale bounds: the k-th smallest value, ties
    # and repeated values included, for every k
    rng = np.random.default_rng(17)
    for n in (1, 2, 3, 7, 50, 1001):
        for values in (rng.normal(size=n), rng.integers(0, 4, size=n).astype(float), np.zeros(n)):
            for k in sorted({0, n // 3, n // 2, n - 1}):
                keys = np.concatenate([values, rng.normal(size=5)])  # past n: left alone
                tail = keys[n:].copy()
                got = _sorting.select_kth(keys, n, k)
                assert got == np.partition(values, k)[k]
                np.testing.assert_array_equal(np.sort(keys[:n]), np.sort(values))
                np.testing.assert_array_equal(keys[n:], tail)
    # NaN: it stops (the value is then unspecified)
    keys = np.array([np.nan, 1.0, np.nan, 0.0, 2.0])
    _sorting.select_kth(keys, 5, 2)


def test_edge_order_is_length_then_pair():
    rng = np.random.default_rng(13)
    m = 20_000
    a = rng.integers(0, 5000, size=m)
    b = a + rng.integers(1, 5000, size=m)
    h = rng.choice(np.array([0.0, 0.25, 1.0, 2.0**-1074, 1e300]), size=m)  # many ties
    h[:5000] = rng.random(5000) ** 3
    _, first = np.unique(a * 20_000 + b, return_index=True)  # unique pairs
    a, b, h = a[first], b[first], h[first]
    order = _sorting.edge_order(h, a, b)
    np.testing.assert_array_equal(order, np.lexsort((b, a, h)))


def test_radix_argsort_is_stable():
    rng = np.random.default_rng(14)
    keys = rng.integers(0, 2**63, size=5000, dtype=np.uint64) | np.uint64(2**63)
    keys[::3] = keys[0]  # a large run of equal keys keeps its input order
    order, sorted_keys = _sorting.radix_argsort(keys)
    np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))
    np.testing.assert_array_equal(sorted_keys, keys[order])
    order, _ = _sorting.radix_argsort(np.zeros(0, dtype=np.uint64))
    assert order.shape == (0,)


def test_parallel_round_start_follows_deep_forests():
    # Regression: a parallel find that never ended on union-find trees of
    # depth >= 2 (a numba miscompilation of ``root = t; while ...``).
    n = 64
    parent = np.arange(n)
    parent[1:] = np.arange(n - 1)  # a path: 63 -> 62 -> ... -> 0
    parent[40:] = np.arange(39, n - 1)
    parent[40] = 40  # second tree: 63 -> ... -> 40
    expected = np.where(np.arange(n) < 40, 0, 40)
    tree = _kdtree.build(np.random.default_rng(16).normal(size=(n, 2)), n)  # one leaf
    leaves = _kdtree.leaf_nodes(tree)
    assert leaves.tolist() == [0]
    knn_j = np.full((n, 1), -1)
    knn_d2 = np.full((n, 1), np.inf)
    for prepare in (_boruvka.prepare_round_serial, _boruvka.prepare_round_parallel):
        state = _boruvka.new_state(n, 1, leaves, knn_j, knn_d2)._replace(parent=parent.copy())
        prepare(tree, state)
        comp, p, need = state.comp, state.parent, state.need
        np.testing.assert_array_equal(comp, expected)
        np.testing.assert_array_equal(p, expected)  # flattened for the next round
        assert need.all()


@pytest.mark.parametrize("d", [2, 5])
def test_many_copies_collapse_to_the_same_tree(d):
    # 40 rows, each 60-90 times: leaves of equal rows would make the searches
    # quadratic, so the duplicates collapse first; a leaf size that holds
    # every set of copies keeps them, and both runs give the same edges.
    rng = np.random.default_rng(15 + d)
    base = rng.normal(size=(40, d))
    X = base[rng.permutation(np.repeat(np.arange(40), rng.integers(60, 90, size=40)))]
    calls: list[int] = []
    collapsed = euclidean_mst(X, 1, progress=lambda done, total: calls.append(done))
    kept = euclidean_mst(X, 1, leaf_size=X.shape[0])
    for left, right in zip(collapsed, kept):
        np.testing.assert_array_equal(left, right)
    assert calls == sorted(calls) and calls[-1] == X.shape[0] - 1
    Z = single_linkage(X)
    np.testing.assert_array_equal(sch.cophenet(Z), sch.cophenet(sch.linkage(X, "single")))


def test_collapse_keeps_signed_zeros_together():
    X = np.array([[0.0, 1.0], [-0.0, 1.0], [2.0, 0.0]] * 20)
    a, b, h = euclidean_mst(X, 1)
    assert np.count_nonzero(h == 0) == 58 and np.count_nonzero(h) == 1
