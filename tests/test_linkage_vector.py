"""The linear-memory engine (algorithm='vector') against scipy and the matrix engine."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch

from hclust import linkage

from test_linkage import assert_same_tree, blobs, noise, shifted


@pytest.mark.parametrize(
    ("make", "n", "d"),
    [
        (blobs, 2, 1),
        (blobs, 3, 1),
        (noise, 50, 1),
        (blobs, 200, 2),
        (shifted, 300, 2),
        (blobs, 400, 8),
        (noise, 500, 8),
        (blobs, 150, 64),
        (noise, 1200, 3),
    ],
)
def test_vector_ward_matches_scipy(make, n, d):
    X = make(n, d, seed=n + d)
    assert_same_tree(linkage(X, "ward", algorithm="vector"), sch.linkage(X, "ward"))


def test_vector_ward_with_very_different_spreads():
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(0, 0.01, (100, 3)), rng.normal(5, 3.0, (100, 3)), rng.normal(-9, 0.3, (60, 3))])
    assert_same_tree(linkage(X, "ward", algorithm="vector"), sch.linkage(X, "ward"))


@pytest.mark.parametrize("d", [2, 20])
def test_vector_ward_weights_match_matrix_engine(d):
    X = blobs(120, d, seed=9)
    w = np.random.default_rng(9).integers(1, 6, size=120).astype(float)
    assert_same_tree(
        linkage(X, "ward", weights=w, algorithm="vector"),
        linkage(X, "ward", weights=w, algorithm="matrix"),
        rtol=1e-10,
    )


def test_vector_ward_with_many_duplicates():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 3))
    X = base[rng.integers(0, 40, size=300)]
    Z = linkage(X, "ward", algorithm="vector")
    assert sch.is_valid_linkage(Z)
    np.testing.assert_array_equal(Z, linkage(X, "ward", algorithm="vector"))  # deterministic
    np.testing.assert_allclose(np.sort(Z[:, 2]), np.sort(sch.linkage(X, "ward")[:, 2]), rtol=1e-10, atol=1e-12)
    for k in (2, 5, 10, 40):
        assert sch.is_isomorphic(
            sch.fcluster(Z, k, criterion="maxclust"),
            sch.fcluster(sch.linkage(X, "ward"), k, criterion="maxclust"),
        )


def test_duplicates_collapse_into_weights():
    rng = np.random.default_rng(8)
    base = blobs(30, 2, seed=8)
    counts = rng.integers(1, 4, size=30)
    X = np.repeat(base, counts, axis=0)[rng.permutation(int(counts.sum()))]
    calls = []
    Z = linkage(X, "ward", algorithm="vector", progress=lambda d, t: calls.append((d, t)))
    assert np.count_nonzero(Z[:, 2] == 0) == counts.sum() - 30  # exactly zero, not 1e-16
    assert calls[-1] == (len(X) - 1, len(X) - 1)
    Z_w = linkage(base, "ward", weights=counts, algorithm="vector")
    np.testing.assert_allclose(Z[Z[:, 2] > 0, 2], Z_w[:, 2], rtol=1e-12)


def test_vector_single_is_the_default_for_single():
    X = blobs(300, 4, seed=2)
    assert_same_tree(linkage(X, "single", algorithm="vector"), linkage(X, "single", algorithm="matrix"), rtol=0)


def test_auto_uses_vector_ward_when_the_matrix_does_not_fit(monkeypatch):
    X = blobs(200, 3, seed=4)
    # 120 kB usable: the 159 kB matrix does not fit, vector ward's 75 kB do
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "150000")
    assert_same_tree(linkage(X, "ward"), sch.linkage(X, "ward"))
    with pytest.raises(MemoryError, match="algorithm='vector'"):
        linkage(X, "average")


def test_vector_progress_and_threads_agree(parallel_twins):
    X = blobs(3000, 3, seed=1)
    calls = []
    Z1 = linkage(X, "ward", algorithm="vector", n_jobs=1, progress=lambda d, t: calls.append(d))
    Z2 = linkage(X, "ward", algorithm="vector", n_jobs=2)
    np.testing.assert_array_equal(Z1, Z2)
    assert calls[-1] == 2999


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "average"}, "no linear-memory algorithm.*needs"),
        ({"method": "ward", "metric": "cityblock"}, "needs metric='euclidean'"),
        ({"method": "single", "metric": "cosine"}, "no linear-memory algorithm"),
    ],
)
def test_vector_refusals(kwargs, message):
    with pytest.raises(ValueError, match=message):
        linkage(blobs(20, 2, seed=0), algorithm="vector", **kwargs)


def test_vector_needs_observations():
    from scipy.spatial.distance import pdist

    with pytest.raises(ValueError, match="needs observations"):
        linkage(pdist(blobs(10, 2, seed=0)), "ward", algorithm="vector")
    with pytest.raises(ValueError, match="Unknown algorithm"):
        linkage(blobs(10, 2, seed=0), "ward", algorithm="fast")


# --------------------------------------------------------------------------- centroid, median
@pytest.mark.parametrize("method", ["centroid", "median"])
@pytest.mark.parametrize(
    ("make", "n", "d"),
    [
        (blobs, 2, 1),
        (blobs, 3, 2),
        (noise, 60, 1),
        (blobs, 300, 2),
        (shifted, 300, 2),
        (blobs, 400, 8),
        (noise, 500, 8),
        (blobs, 150, 64),
    ],
)
def test_vector_centroid_median_match_scipy(method, make, n, d):
    """Inversions included: the merges come out in scipy's order, not re-sorted."""
    X = make(n, d, seed=n + d + 7)
    assert_same_tree(linkage(X, method, algorithm="vector"), sch.linkage(X, method))


@pytest.mark.parametrize("method", ["centroid", "median"])
def test_vector_centroid_median_is_the_default_at_low_dimension(method, monkeypatch):
    import hclust._linkage_vector as vector_module

    X = blobs(200, 4, seed=3)
    calls = []
    original = vector_module.centroid_vectors

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(vector_module, "centroid_vectors", spy)
    Z = linkage(X, method)
    assert calls, "auto should use the vector engine for d <= 16"
    assert_same_tree(Z, linkage(X, method, algorithm="matrix"))


def test_vector_centroid_weights_equal_repeated_rows():
    X = noise(80, 3, seed=11)
    counts = np.arange(80) % 3 + 1
    Z_w = linkage(X, "centroid", weights=counts, algorithm="vector")
    np.testing.assert_allclose(Z_w, linkage(X, "centroid", weights=counts, algorithm="matrix"), rtol=1e-12)


def test_vector_centroid_progress_and_duplicates():
    X = np.repeat(noise(40, 2, seed=5), 3, axis=0)
    calls = []
    Z = linkage(X, "median", algorithm="vector", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (119, 119)
    assert sch.is_valid_linkage(Z) and (Z[:80, 2] == 0).all()


@pytest.mark.parametrize("method", ["centroid", "median", "average_sq"])
def test_vector_centroid_duplicates_collapse_to_the_same_tree(method):
    # collapsed rows keep the slot of their last occurrence and join in the
    # generic algorithm's tie order: the very Z of the uncollapsed run and of
    # the matrix engine
    from hclust._linkage_vector import _centroid_unique, centroid_vectors
    from hclust._kernels.unionfind import merges_to_linkage

    rng = np.random.default_rng(17)
    X = noise(40, 3, seed=17)[rng.integers(0, 40, size=300)]
    a, b, h = centroid_vectors(X, None, method, None)
    Z = merges_to_linkage(a, b, h, np.ones(300))
    Z_plain = merges_to_linkage(*_centroid_unique(X, None, method, None, 1 << 26, 1), np.ones(300))
    np.testing.assert_array_equal(Z, Z_plain)
    name, metric = ("average", "sqeuclidean") if method == "average_sq" else (method, "euclidean")
    Z_matrix = linkage(X, name, metric=metric, algorithm="matrix")
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], Z_matrix[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], Z_matrix[:, 2], rtol=1e-12, atol=1e-12)


def test_vector_centroid_collapse_keeps_weights_and_progress():
    rng = np.random.default_rng(4)
    base = noise(25, 2, seed=4)
    rows = rng.integers(0, 25, size=200)
    w = rng.integers(1, 4, size=200).astype(float)
    calls = []
    Z = linkage(base[rows], "centroid", weights=w, algorithm="vector", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (199, 199) and all(d <= t for d, t in calls)
    total = np.bincount(rows, weights=w, minlength=25)
    used = total > 0
    Z_w = linkage(base[used], "centroid", weights=total[used], algorithm="matrix")
    np.testing.assert_allclose(Z[Z[:, 2] > 0, 2], Z_w[:, 2], rtol=1e-12)
    assert np.count_nonzero(Z[:, 2] == 0) == 200 - used.sum()


def test_vector_centroid_all_rows_equal():
    X = np.ones((6, 3))
    Z = linkage(X, "median", algorithm="vector")
    np.testing.assert_array_equal(Z[:, 2], 0)
    np.testing.assert_array_equal(Z[:, :2], [[0, 1], [2, 6], [3, 7], [4, 8], [5, 9]])


def test_vector_centroid_leaves_one_feature_input_alone():
    # the engine keeps feature-major centres; for d = 1 the transpose of the
    # input is contiguous already and must still be copied before merging
    X = noise(50, 1, seed=4)
    before = X.copy()
    linkage(X, "centroid", algorithm="vector")
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("method", ["centroid", "median"])
def test_vector_centroid_parallel_start_matches_serial_and_scipy(method, parallel_twins):
    # 4 200 rows reach the parallel start (every cluster's nearest neighbour)
    import hclust._linkage_vector as vector_module

    X = blobs(vector_module._CENTROID_PARALLEL_FROM + 104, 5, seed=21)
    Z = linkage(X, method, algorithm="vector", n_jobs=2)
    np.testing.assert_array_equal(Z, linkage(X, method, algorithm="vector", n_jobs=1))
    assert_same_tree(Z, sch.linkage(X, method))


# --------------------------------------------------------------------------- average on squared distances
@pytest.mark.parametrize(
    ("make", "n", "d"),
    [(blobs, 2, 1), (blobs, 3, 2), (noise, 60, 1), (blobs, 300, 2), (shifted, 300, 2),
     (blobs, 400, 8), (noise, 500, 8), (blobs, 150, 64)],
)
def test_vector_average_sqeuclidean_matches_scipy(make, n, d):
    """Mean squared distance between clusters from (centroid, weight, mean squared deviation)."""
    from scipy.spatial.distance import pdist

    X = make(n, d, seed=n + d + 11)
    Z = linkage(X, "average", metric="sqeuclidean", algorithm="vector")
    assert_same_tree(Z, sch.linkage(pdist(X, "sqeuclidean"), "average"))


def test_vector_average_sqeuclidean_weights_and_duplicates():
    X = noise(70, 3, seed=2)
    counts = np.arange(70) % 4 + 1
    Z_w = linkage(X, "average", metric="sqeuclidean", weights=counts, algorithm="vector")
    np.testing.assert_allclose(
        Z_w, linkage(X, "average", metric="sqeuclidean", weights=counts, algorithm="matrix"), rtol=1e-12
    )
    repeated = np.repeat(X, counts, axis=0)
    Z_dup = linkage(repeated, "average", metric="sqeuclidean", algorithm="vector")
    np.testing.assert_allclose(Z_dup[Z_dup[:, 2] > 0, 2], Z_w[:, 2], rtol=1e-10)


def test_vector_ward_tie_rule_on_a_line():
    # 1 is equally near 0 and 2: its neighbour is 0 (the smaller largest
    # row index), so {0, 1} merges in round one, {2, 3} in round two.
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    Z = linkage(X, "ward", algorithm="vector")
    np.testing.assert_array_equal(Z[:2, :2], [[0, 1], [2, 3]])
    np.testing.assert_allclose(Z[:2, 2], [1.0, 1.0])


def test_vector_ward_ties_on_a_grid_are_deterministic(parallel_twins):
    g = np.arange(12.0)
    X = np.array([[a, b] for a in g for b in g])  # every neighbour at distance 1 ties
    Z1 = linkage(X, "ward", algorithm="vector", n_jobs=1)
    Z2 = linkage(X, "ward", algorithm="vector", n_jobs=2)
    np.testing.assert_array_equal(Z1, Z2)
    assert sch.is_valid_linkage(Z1)
    assert np.all(np.diff(Z1[:, 2]) >= 0)


@pytest.mark.parametrize(
    ("method", "metric"),
    [("ward", "euclidean"), ("centroid", "euclidean"), ("median", "euclidean"), ("average", "sqeuclidean"),
     ("single", "euclidean")],
)
def test_vector_engines_stop_cleanly_on_interrupt(method, metric, monkeypatch):
    # Ctrl-C arrives as KeyboardInterrupt from the progress hook; the input
    # (duplicates included, so the collapse runs first) is left untouched
    import importlib

    monkeypatch.setattr(importlib.import_module("hclust._linkage"), "_WORK_PER_CALL", 1 << 20)
    rng = np.random.default_rng(31)
    X = np.vstack([blobs(2_500, 3, seed=31), blobs(2_500, 3, seed=31)[rng.integers(0, 2_500, size=500)]])
    before = X.copy()
    calls = []

    def interrupt(done, total):
        calls.append(done)
        if done > 600:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        linkage(X, method, metric=metric, algorithm="vector", progress=interrupt)
    np.testing.assert_array_equal(X, before)
    assert calls[-1] < len(X) - 1  # stopped before the end
    Z = linkage(X[:300], method, metric=metric, algorithm="vector")
    assert sch.is_valid_linkage(Z)
