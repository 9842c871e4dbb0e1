"""Exact Euclidean minimum spanning tree (Borůvka on a kd-tree) against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

from hclust import _emst
from hclust._emst import euclidean_mst
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
