"""The matrix engine from observations computes the distances and every slot's first
nearest neighbour in one pass (``hclust._linkage._vector_matrix``): it must give
the matrix, the state and the tree of pdist followed by ``copy_init``, bit for bit."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy.spatial.distance import pdist as scipy_pdist

import hclust
from hclust._kernels import generic as _generic
from hclust._kernels import lance_williams as _lw
from hclust._kernels.unionfind import merges_to_linkage

L = importlib.import_module("hclust._linkage")


def blobs(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(5, d))
    labels = rng.integers(0, 5, size=n)
    return centers[labels] + rng.normal(size=(n, d)) * rng.uniform(0.3, 2.0, size=5)[labels, None]


def through_pdist(X: np.ndarray, method: str, metric: str = "euclidean", w: np.ndarray | None = None,
                  beta: float = 0.0) -> np.ndarray:
    """The tree the matrix engine gave before: pdist, its scan, copy_init, the run."""
    n = X.shape[0]
    D = L._distances(X, metric, n, method, None, w)
    a, b, h = L._run_matrix(D, n, method, beta, w, None, 1)
    return merges_to_linkage(a, b, h, np.ones(n))


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize(("metric", "square"), [("euclidean", False), ("euclidean", True), ("sqeuclidean", False)])
@pytest.mark.parametrize("d", [1, 3, 4, 9])
def test_one_pass_is_pdist_then_copy_init(parallel, metric, square, d):
    n = 157
    X = blobs(n, d, seed=d)
    X[[40, 90]] = X[7]  # row 7 has two nearest later rows, at 0: ties to the smaller
    XT = np.ascontiguousarray(X.T)
    offsets = _lw.row_offsets(n)
    D = np.full(n * (n - 1) // 2, np.nan)
    neighbour = np.full(n, -1, dtype=np.int64)
    mindist = np.full(n, np.inf)
    bounds = np.array([0, 1, 30, 31, 100, n - 1], dtype=np.int64)  # chunks of every size
    kernel = _generic.vector_init_parallel if parallel else _generic.vector_init
    kernel(XT, D, offsets, bounds, metric == "euclidean", square, neighbour, mindist)
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    size = _generic.heapify_slots(mindist, heap, pos, n - 1)

    y = scipy_pdist(X, metric)
    ref = np.empty_like(y)
    ref_neighbour = np.full(n, -1, dtype=np.int64)
    ref_mindist = np.full(n, np.inf)
    ref_heap = np.empty(n, dtype=np.int64)
    ref_pos = np.full(n, -1, dtype=np.int64)
    ref_size = _generic.copy_init(y, ref, n, square, ref_neighbour, ref_mindist, ref_heap, ref_pos)
    np.testing.assert_array_equal(D, ref)  # bit for bit, squares included
    np.testing.assert_array_equal(neighbour, ref_neighbour)
    assert neighbour[7] == 40
    np.testing.assert_array_equal(mindist, ref_mindist)
    assert size == ref_size == n - 1
    np.testing.assert_array_equal(heap[:size], ref_heap[:size])
    np.testing.assert_array_equal(pos, ref_pos)


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "ward", "centroid", "median", "flexible"])
@pytest.mark.parametrize(("n", "d"), [(2, 1), (3, 2), (60, 1), (300, 3), (500, 8)])
def test_same_tree_as_through_pdist(method, n, d):
    X = blobs(n, d, seed=n + d)
    beta = -0.25 if method == "flexible" else 0.0
    kwargs = {"beta": beta} if method == "flexible" else {}
    Z = hclust.linkage(X, method, algorithm="matrix", **kwargs)
    np.testing.assert_array_equal(Z, through_pdist(X, method, beta=beta))


@pytest.mark.parametrize("method", ["complete", "average", "weighted"])
def test_same_tree_with_weights_sqeuclidean_and_ties(method):
    rng = np.random.default_rng(3)
    X = blobs(400, 4, seed=3)
    w = rng.uniform(0.5, 3.0, size=400)
    np.testing.assert_array_equal(hclust.linkage(X, method, weights=w), through_pdist(X, method, w=w))
    np.testing.assert_array_equal(
        hclust.linkage(X, method, "sqeuclidean", algorithm="matrix"), through_pdist(X, method, "sqeuclidean")
    )
    grid = rng.integers(0, 4, size=(300, 2)).astype(float)  # ties everywhere
    np.testing.assert_array_equal(hclust.linkage(grid, method), through_pdist(grid, method))


def test_the_bounding_box_bound_is_never_below_a_distance():
    rng = np.random.default_rng(0)
    for _ in range(20):
        X = rng.normal(size=(50, 5)) * 10.0 ** rng.integers(-150, 150, size=5)
        spans = X.max(axis=0) - X.min(axis=0)
        bound = 0.0
        for span in spans.tolist():
            bound += span * span
        assert np.sqrt(bound) >= scipy_pdist(X).max()
        assert bound >= scipy_pdist(X, "sqeuclidean").max()


def test_a_failing_bound_falls_back_to_pdist_and_its_check(monkeypatch):
    """Where the box's diagonal fails the scale check, the exact largest distance decides."""
    limit = 100.0
    original = L.check_distance_scale

    def check(largest, method, w, n, what):
        if largest > limit:
            raise ValueError(f"{what} reach {largest}")
        original(largest, method, w, n, what)

    monkeypatch.setattr(L, "check_distance_scale", check)
    X = np.array([[60.0, 0.0, 0.0], [0.0, 60.0, 0.0], [0.0, 0.0, 60.0], [1.0, 2.0, 3.0]])
    # largest distance 84.9, diagonal of the box 103.9
    D, init = L._vector_matrix(X, "euclidean", 4, "average", None, 1)
    assert init is None
    np.testing.assert_array_equal(D, scipy_pdist(X))
    np.testing.assert_array_equal(hclust.linkage(X, "average"), through_pdist(X, "average"))
    with pytest.raises(ValueError, match=r"euclidean distances reach 106\.06"):  # the exact largest
        hclust.linkage(X * 1.25, "average")  # now the distances themselves fail


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "ward"])
def test_huge_coordinates_are_refused(method):
    X = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0], [3e200, 0.0]])
    with pytest.raises(ValueError, match="scale|Divide|beyond"):
        hclust.linkage(X, method, algorithm="matrix")
