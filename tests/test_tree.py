"""hclust.tree against scipy on random trees (with ties and inversions), properties, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy
import scipy.cluster.hierarchy as sch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform

from hclust import tree
from hclust._validation import InsufficientMemoryError

SCIPY = tuple(int(part) for part in scipy.__version__.split(".")[:2])

METHODS = ["single", "complete", "average", "weighted", "centroid", "median", "ward"]


def random_tree(seed: int, n: int, method: str, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(Z, X) from scipy on random data; ``ties`` uses a small integer grid (many equal heights)."""
    rng = np.random.default_rng(seed)
    if ties:
        X = rng.integers(0, 3, size=(n, 2)).astype(float)
    else:
        X = rng.normal(size=(n, 3))
    return sch.linkage(X, method), X


def trees(n_values=(2, 3, 7, 30, 45)):
    """Trees of every method, tie-free and tied, several sizes (about 70 trees)."""
    out = []
    for seed, n in enumerate(n_values):
        for method in METHODS:
            for ties in (False, True):
                Z, X = random_tree(seed, n, method, ties)
                out.append(pytest.param(Z, X, id=f"{method}-n{n}-{'ties' if ties else 'free'}"))
    return out


TREES = trees()


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    a = np.asarray(a)
    b = np.asarray(b)
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def is_first_appearance(labels: np.ndarray) -> bool:
    seen: list[int] = []
    for value in labels.tolist():
        if value not in seen:
            seen.append(value)
    return seen == list(range(len(seen)))


def inversion_tree() -> np.ndarray:
    """A centroid tree that surely has inversions (checked)."""
    for seed in range(100):
        Z, _ = random_tree(seed, 40, "centroid")
        if not tree.is_monotonic(Z):
            return Z
    raise AssertionError("no inversion found")


# --------------------------------------------------------------------------- scipy parity


@pytest.mark.parametrize("Z, X", TREES)
def test_fcluster_matches_scipy(Z, X):
    n = Z.shape[0] + 1
    heights = np.unique(Z[:, 2])
    thresholds = np.concatenate([heights, (heights[:-1] + heights[1:]) / 2, [-1.0, 0.0, heights[-1] + 1]])
    for t in thresholds:
        np.testing.assert_array_equal(tree.fcluster(Z, t, "distance"), sch.fcluster(Z, t, "distance"))
    for k in range(1, n + 2):
        ours = tree.fcluster(Z, k, "maxclust")
        np.testing.assert_array_equal(ours, sch.fcluster(Z, k, "maxclust"))
        assert ours.dtype == np.intc
    for depth in (1, 2, 3):
        R = sch.inconsistent(Z, depth)
        for t in np.concatenate([np.unique(R[:, 3]), [0.0, 0.8, 1.15, 2.0]]):
            np.testing.assert_array_equal(
                tree.fcluster(Z, t, "inconsistent", depth=depth), sch.fcluster(Z, t, "inconsistent", depth=depth)
            )
            np.testing.assert_array_equal(tree.fcluster(Z, t, R=R), sch.fcluster(Z, t, R=R))
    mono = sch.maxinconsts(Z, sch.inconsistent(Z))
    for t in np.unique(mono):
        np.testing.assert_array_equal(
            tree.fcluster(Z, t, "monocrit", monocrit=mono), sch.fcluster(Z, t, "monocrit", monocrit=mono)
        )
    for k in range(1, n + 1):
        np.testing.assert_array_equal(
            tree.fcluster(Z, k, "maxclust_monocrit", monocrit=mono),
            sch.fcluster(Z, k, "maxclust_monocrit", monocrit=mono),
        )


@pytest.mark.parametrize("Z, X", TREES)
def test_inconsistent_cophenet_leaves_match_scipy(Z, X):
    for d in range(0, 6):
        np.testing.assert_array_equal(tree.inconsistent(Z, d), sch.inconsistent(Z, d))
    y = pdist(X)
    np.testing.assert_array_equal(tree.cophenet(Z), sch.cophenet(Z))
    c, d = tree.cophenet(Z, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_ref, d_ref = sch.cophenet(Z, y)
    np.testing.assert_array_equal(d, d_ref)
    assert c == pytest.approx(c_ref, rel=1e-12, nan_ok=True)
    np.testing.assert_array_equal(tree.leaves_list(Z), sch.leaves_list(Z))
    assert tree.is_monotonic(Z) == bool(sch.is_monotonic(Z))
    assert tree.is_valid_linkage(Z) and sch.is_valid_linkage(Z)


@pytest.mark.parametrize("Z, X", [p for p in TREES if p.values[0].shape[0] < 40])
def test_optimal_leaf_ordering_matches_scipy(Z, X):
    expected = sch.optimal_leaf_ordering(Z, pdist(X))
    np.testing.assert_array_equal(tree.optimal_leaf_ordering(Z, pdist(X)), expected)
    np.testing.assert_array_equal(tree.optimal_leaf_ordering(Z, X), sch.optimal_leaf_ordering(Z, X))


def test_optimal_leaf_ordering_larger_and_metric():
    Z, X = random_tree(5, 120, "average")
    np.testing.assert_array_equal(
        tree.optimal_leaf_ordering(Z, X, metric="cityblock"), sch.optimal_leaf_ordering(Z, X, metric="cityblock")
    )
    # The ordering is optimal: no worse than the original order.
    D = squareform(pdist(X, "cityblock"))
    cost = lambda order: D[order[:-1], order[1:]].sum()  # noqa: E731
    assert cost(tree.leaves_list(tree.optimal_leaf_ordering(Z, X, "cityblock"))) <= cost(tree.leaves_list(Z))


def test_optimal_leaf_ordering_errors():
    Z, X = random_tree(0, 10, "average")
    with pytest.raises(ValueError, match="9 observations but Z has 10"):
        tree.optimal_leaf_ordering(Z, X[:9])
    with pytest.raises(ValueError, match="distances for 9 observations"):
        tree.optimal_leaf_ordering(Z, pdist(X[:9]))


# --------------------------------------------------------------------------- cut


@pytest.mark.parametrize("Z, X", TREES)
def test_cut_gives_exactly_k_in_first_appearance_order(Z, X):
    n = Z.shape[0] + 1
    for k in range(1, n + 1):
        labels = tree.cut(Z, n_clusters=k)
        assert labels.dtype == np.int64
        assert len(np.unique(labels)) == k
        assert is_first_appearance(labels)


@pytest.mark.parametrize("Z, X", [p for p in TREES if "ties" not in p.id and p.values[0].shape[0] > 2])
def test_cut_matches_scipy_cut_tree_on_monotone_tie_free_trees(Z, X):
    if not tree.is_monotonic(Z):
        pytest.skip("scipy's cut_tree is only right on monotone trees")
    n = Z.shape[0] + 1
    expected = sch.cut_tree(Z)
    np.testing.assert_array_equal(tree.cut_tree(Z), expected)
    for k in range(1, n + 1):
        np.testing.assert_array_equal(tree.cut(Z, n_clusters=k), expected[:, n - k])
    # scipy's cut_tree(height=h) keeps merges < h, cut (like fcluster and R's cutree) <= h:
    # they agree between heights.
    between = (Z[1:, 2] + Z[:-1, 2]) / 2
    np.testing.assert_array_equal(tree.cut_tree(Z, height=between), sch.cut_tree(Z, height=between))


@pytest.mark.parametrize("Z, X", TREES)
def test_height_cut_is_fcluster_distance_and_one_of_the_k_cuts(Z, X):
    n = Z.shape[0] + 1
    ks = tree.cut_tree(Z, n_clusters=list(range(1, n + 1)))
    for h in np.concatenate([np.unique(Z[:, 2]), [-1.0]]):
        labels = tree.cut(Z, height=h)
        assert is_first_appearance(labels)
        assert same_partition(labels, sch.fcluster(Z, h, "distance"))
        k = len(np.unique(labels))
        np.testing.assert_array_equal(labels, ks[:, k - 1])


def test_cut_on_inversions_where_scipy_fails():
    Z = inversion_tree()
    n = Z.shape[0] + 1
    scipy_counts = [len(np.unique(sch.cut_tree(Z, n_clusters=k))) for k in range(1, n + 1)]
    assert scipy_counts != list(range(1, n + 1))  # scipy's cut_tree is wrong here
    for k in range(1, n + 1):
        labels = tree.cut(Z, n_clusters=k)
        assert len(np.unique(labels)) == k
    # The undone merges are the k-1 with the largest subtree maxima (later row first on ties).
    maxdist = sch.maxdists(Z)
    order = sorted(range(n - 1), key=lambda i: (-maxdist[i], -i))
    for k in (2, 5, 17):
        removed = set(order[: k - 1])
        parent = {}
        for i, (a, b) in enumerate(Z[:, :2].astype(int)):
            parent[a] = parent[b] = n + i
        labels = tree.cut(Z, n_clusters=k)
        for leaf in range(n):
            node = leaf
            while node in parent and parent[node] - n not in removed:
                node = parent[node]
            top = node
            members = [j for j in range(n) if labels[j] == labels[leaf]]
            assert len(members) == (1 if top < n else int(Z[top - n, 3]))


def test_cut_with_ties_picks_later_merges_first():
    # Four points on a line, all gaps equal: every merge has height 1.
    Z = sch.linkage(np.array([[0.0], [1.0], [2.0], [3.0]]), "single")
    assert np.all(Z[:, 2] == 1.0)
    np.testing.assert_array_equal(tree.cut(Z, n_clusters=2), tree.cut_tree(Z, n_clusters=2)[:, 0])
    for k in range(1, 5):
        assert len(np.unique(tree.cut(Z, n_clusters=k))) == k
    np.testing.assert_array_equal(tree.cut(Z, height=1.0), [0, 0, 0, 0])
    np.testing.assert_array_equal(tree.cut(Z, height=0.999), [0, 1, 2, 3])


def test_cut_min_cluster_size():
    X = np.concatenate([np.zeros((5, 1)), np.full((3, 1), 10.0), [[30.0]], [[60.0]]]) + np.arange(10)[:, None] * 1e-3
    Z = sch.linkage(X, "average")
    labels = tree.cut(Z, n_clusters=4)
    assert sorted(np.bincount(labels).tolist()) == [1, 1, 3, 5]
    np.testing.assert_array_equal(tree.cut(Z, n_clusters=4, min_cluster_size=2), [0] * 5 + [1] * 3 + [-1, -1])
    np.testing.assert_array_equal(tree.cut(Z, n_clusters=4, min_cluster_size=1), labels)
    assert np.all(tree.cut(Z, n_clusters=4, min_cluster_size=6) == -1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({}, ValueError, "exactly one of n_clusters"),
        ({"n_clusters": 2, "height": 1.0}, ValueError, "exactly one of n_clusters"),
        ({"n_clusters": 0}, ValueError, r"n_clusters=0 is out of range.*1 to 10 clusters"),
        ({"n_clusters": 11}, ValueError, r"1 to 10 clusters"),
        ({"n_clusters": 2.5}, TypeError, "integer between 1 and 10"),
        ({"n_clusters": True}, TypeError, "integer"),
        ({"height": float("nan")}, ValueError, "height is NaN"),
        ({"height": "high"}, TypeError, "real number"),
        ({"n_clusters": 2, "min_cluster_size": 0}, ValueError, "min_cluster_size must be a positive integer"),
    ],
)
def test_cut_bad_arguments(kwargs, error, match):
    Z, _ = random_tree(0, 10, "ward")
    with pytest.raises(error, match=match):
        tree.cut(Z, **kwargs)


def test_cut_tree_arguments():
    Z, _ = random_tree(1, 12, "average")
    out = tree.cut_tree(Z, n_clusters=[3, 1, 12])
    assert out.shape == (12, 3)
    np.testing.assert_array_equal(out[:, 0], tree.cut(Z, n_clusters=3))
    np.testing.assert_array_equal(tree.cut_tree(Z, n_clusters=5)[:, 0], tree.cut(Z, n_clusters=5))
    with pytest.warns(FutureWarning, match=r"cut_tree\(heights=\.\.\.\) is deprecated .* use height=\.\.\."):
        old = tree.cut_tree(Z, heights=[0.5, 1.0])
    np.testing.assert_array_equal(tree.cut_tree(Z, height=[0.5, 1.0]), old)
    np.testing.assert_array_equal(tree.cut_tree(Z, height=0.7)[:, 0], tree.cut(Z, height=0.7))
    with pytest.raises(ValueError, match="not both"):
        tree.cut_tree(Z, n_clusters=2, height=1.0)
    with pytest.raises(TypeError, match="got both heights= and height="):
        tree.cut_tree(Z, heights=1.0, height=1.0)
    with pytest.raises(ValueError, match="1 to 12 clusters"):
        tree.cut_tree(Z, n_clusters=[2, 13])


# --------------------------------------------------------------------------- properties


@st.composite
def linkages(draw):
    n = draw(st.integers(2, 40))
    method = draw(st.sampled_from(METHODS))
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    return random_tree(seed, n, method, ties)[0]


@settings(deadline=None, max_examples=60, derandomize=True)
@given(Z=linkages(), data=st.data())
def test_property_cut_k_and_cut_tree_consistent(Z, data):
    n = Z.shape[0] + 1
    ks = data.draw(st.lists(st.integers(1, n), min_size=1, max_size=5))
    table = tree.cut_tree(Z, n_clusters=ks)
    for column, k in enumerate(ks):
        labels = tree.cut(Z, n_clusters=k)
        assert len(np.unique(labels)) == k
        np.testing.assert_array_equal(table[:, column], labels)
    # Cuts nest: every cluster at k+1 lies inside one cluster at k.
    k = data.draw(st.integers(1, n - 1)) if n > 1 else 1
    coarse, fine = tree.cut(Z, n_clusters=k), tree.cut(Z, n_clusters=k + 1)
    assert len(set(zip(fine.tolist(), coarse.tolist()))) == k + 1


@settings(deadline=None, max_examples=40, derandomize=True)
@given(Z=linkages())
def test_property_cophenet_ultrametric_when_monotone(Z):
    n = Z.shape[0] + 1
    D = squareform(tree.cophenet(Z))
    parents_ok = all(
        Z[i, 2] >= (Z[int(c) - n, 2] if c >= n else 0.0) for i in range(n - 1) for c in Z[i, :2]
    )
    if not parents_ok:
        return
    # d(i, j) <= max(d(i, k), d(k, j)) for all triples.
    bound = np.maximum(D[:, :, None], D[None, :, :]).min(axis=1)
    assert np.all(D <= bound + 0.0)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "Z, error, match",
    [
        (np.zeros((3, 3)), ValueError, r"shape \(n-1, 4\).*got shape \(3, 3\)"),
        (np.zeros(4), ValueError, "shape"),
        (np.zeros((0, 4)), ValueError, "no rows"),
        (np.array([["a", "b", "c", "d"]]), TypeError, "numeric"),
        (np.array([[0, 1, np.nan, 2.0]]), ValueError, "row 0 has nan as its height"),
        (np.array([[0, 1.5, 1.0, 2.0]]), ValueError, "not a whole number"),
        (np.array([[0, -1, 1.0, 2.0]]), ValueError, "negative child id -1"),
        (np.array([[0, 2, 1.0, 2.0]]), ValueError, r"node 2, which is itself"),
        (np.array([[0, 4, 1.0, 2.0], [1, 2, 1.0, 2.0]]), ValueError, "has not happened yet"),
        (np.array([[0, 1, 1.0, 2.0], [0, 3, 2.0, 3.0]]), ValueError, r"node 0 is merged twice \(rows 0 and 1\)"),
        (np.array([[1, 1, 1.0, 2.0], [0, 3, 2.0, 3.0]]), ValueError, "merges node 1 with itself"),
        (np.array([[0, 1, -1.0, 2.0]]), ValueError, "negative height"),
        (np.array([[0, 1, 1.0, -2.0]]), ValueError, "negative size"),
        (np.array([[0, 1, 1.0, 2.0], [2, 3, 1.0, 4.0]]), ValueError, r"row 1 has size 4.0, more than the 3 obs"),
    ],
)
def test_check_linkage_errors(Z, error, match):
    with pytest.raises(error, match=match):
        tree.check_linkage(Z)
    assert not tree.is_valid_linkage(np.asarray(Z, dtype=float) if np.asarray(Z).dtype.kind in "iuf" else Z)
    for function in (tree.cut_tree, tree.leaves_list, tree.cophenet, tree.is_monotonic):
        with pytest.raises(error):
            function(Z)


def test_is_valid_linkage_modes():
    bad = np.array([[0.0, 0.0, 1.0, 2.0]])
    assert tree.is_valid_linkage(bad) is False
    with pytest.raises(ValueError, match="'my Z' is not a valid linkage|my Z is not"):
        tree.is_valid_linkage(bad, throw=True, name="my Z")
    with pytest.warns(sch.ClusterWarning, match="merges node 0 with itself"):
        assert not tree.is_valid_linkage(bad, warning=True)
    with pytest.raises(TypeError, match="float64"):
        tree.is_valid_linkage(np.array([[0, 1, 1, 2]]), throw=True)
    # Invalid trees scipy also rejects:
    Z, _ = random_tree(3, 8, "average")
    for broken in (Z[::-1].copy(), np.vstack([Z[:1], Z[:-1]])):
        assert tree.is_valid_linkage(broken) == bool(sch.is_valid_linkage(broken)) is False


def test_gh_22183_sizes_larger_than_the_tree_are_invalid_everywhere():
    """scipy gh-22183: a size above n made scipy read out of bounds; it is invalid."""
    Z, _ = random_tree(1, 12, "average")
    broken = Z.copy()
    broken[-2, 3] = 13.0
    assert tree.is_valid_linkage(broken) is False
    if SCIPY >= (1, 17):  # scipy fixed gh-22183 by 1.17
        assert not sch.is_valid_linkage(broken)
    with pytest.warns(sch.ClusterWarning, match="excessive observations"):
        tree.is_valid_linkage(broken, warning=True)
    for function in (tree.cophenet, tree.leaves_list, tree.inconsistent, tree.is_monotonic, tree.cut_tree):
        with pytest.raises(ValueError, match="excessive observations"):
            function(broken)
    with pytest.raises(ValueError, match="excessive observations"):
        tree.fcluster(broken, 2, "maxclust")
    # sizes up to n, even if not the true counts, stay valid (as in scipy)
    relaxed = Z.copy()
    relaxed[:, 3] = 12.0
    assert tree.is_valid_linkage(relaxed) and sch.is_valid_linkage(relaxed)


@pytest.mark.parametrize("criterion, t", [("inconsistent", 1.0), ("distance", 0.8), ("maxclust", 4)])
@pytest.mark.parametrize("method, metric", [("single", "euclidean"), ("average", "cityblock"), ("ward", "euclidean"), ("ward", "cityblock")])
def test_fclusterdata_matches_scipy(criterion, t, method, metric):
    X = np.random.default_rng(5).normal(size=(40, 3)) - 4.0 * np.arange(40)[:, None] ** 0.5
    np.testing.assert_array_equal(
        tree.fclusterdata(X, t, criterion=criterion, metric=metric, method=method),
        sch.fclusterdata(X, t, criterion=criterion, metric=metric, method=method),
    )
    # a square data set is not mistaken for distances (no warning, as in scipy)
    S = X[:3, :3]
    np.testing.assert_array_equal(tree.fclusterdata(S, 2, "maxclust"), sch.fclusterdata(S, 2, "maxclust"))


def test_scipy_keywords_and_positions():
    Z, X = random_tree(4, 15, "average")
    y = pdist(X)
    c, d = tree.cophenet(Z, Y=y)
    assert c == pytest.approx(sch.cophenet(Z, Y=y)[0], rel=1e-12)
    np.testing.assert_array_equal(tree.cut_tree(Z, None, [0.5, 1.0]), tree.cut_tree(Z, height=[0.5, 1.0]))


def test_check_linkage_accepts_ints_and_returns_float64():
    Z = tree.check_linkage(np.array([[0, 1, 1, 2], [2, 3, 4, 3]]))
    assert Z.dtype == np.float64 and Z.flags.c_contiguous
    Z2 = np.asfortranarray(random_tree(0, 6, "ward")[0])
    Z2.setflags(write=False)
    np.testing.assert_array_equal(tree.cut(Z2, n_clusters=3), tree.cut(np.ascontiguousarray(Z2), n_clusters=3))


def test_fcluster_bad_arguments():
    Z, _ = random_tree(0, 10, "ward")
    with pytest.raises(ValueError, match="Unknown criterion 'nope'; valid values are: inconsistent"):
        tree.fcluster(Z, 1.0, "nope")
    with pytest.raises(ValueError, match="must be >= 1"):
        tree.fcluster(Z, 0, "maxclust")
    with pytest.raises(ValueError, match="needs monocrit"):
        tree.fcluster(Z, 1.0, "monocrit")
    with pytest.raises(ValueError, match=r"shape \(9,\)"):
        tree.fcluster(Z, 1.0, "monocrit", monocrit=np.ones(3))
    with pytest.raises(ValueError, match=r"R must have shape \(9, 4\)"):
        tree.fcluster(Z, 1.0, R=np.ones((3, 4)))
    with pytest.raises(ValueError, match="non-negative integer"):
        tree.inconsistent(Z, -1)


def test_cophenet_memory_guard(monkeypatch):
    Z, X = random_tree(0, 200, "average")
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "1000")
    with pytest.raises(InsufficientMemoryError, match="cophenet for 200 observations needs"):
        tree.cophenet(Z)
    with pytest.raises(InsufficientMemoryError, match="optimal_leaf_ordering"):
        tree.optimal_leaf_ordering(Z, X)


def test_cophenet_y_length_mismatch():
    Z, X = random_tree(0, 10, "average")
    with pytest.raises(ValueError, match="Y has distances for 9 observations but Z has 10"):
        tree.cophenet(Z, pdist(X[:9]))


# --------------------------------------------------------------------------- summaries


def test_agglomerative_coefficient_hand_worked():
    # Leaves 0,1 join at 1; leaf 2 joins {0,1} at 3; leaf 3 joins at 4 (the final merge).
    Z = np.array([[0, 1, 1.0, 2], [2, 4, 3.0, 3], [3, 5, 4.0, 4]])
    # m = 1/4, 1/4, 3/4, 4/4 -> mean of 1 - m = (0.75 + 0.75 + 0.25 + 0) / 4
    assert tree.agglomerative_coefficient(Z) == pytest.approx(0.4375, rel=1e-15)
    with pytest.raises(ValueError, match="undefined"):
        tree.agglomerative_coefficient(np.array([[0, 1, 0.0, 2]]))


@pytest.mark.parametrize("Z, X", TREES[:20])
def test_agglomerative_coefficient_reference(Z, X):
    n = Z.shape[0] + 1
    first = {}
    for a, b, h, _ in Z:
        for c in (int(a), int(b)):
            if c < n:
                first[c] = h
    if Z[:, 2].max() == 0:
        return
    expected = np.mean([1 - first[i] / Z[:, 2].max() for i in range(n)])
    assert tree.agglomerative_coefficient(Z) == pytest.approx(expected, rel=1e-12)


def test_outliers_rule():
    # 0..3 form a tight group (heights 1, 1.5, 2); 4 joins at 9, the top.
    Z = np.array([[0, 1, 1.0, 2], [2, 5, 1.5, 3], [3, 6, 2.0, 4], [4, 7, 9.0, 5]])
    np.testing.assert_array_equal(tree.outliers(Z), [False] * 4 + [True])
    # 3 joins at 2.0 > 0.2 * 9, so it becomes an outlier at a lower fraction.
    np.testing.assert_array_equal(tree.outliers(Z, fraction=0.2), [False, False, False, True, True])
    # A pair joining late counts with max_size=2.
    Z2 = np.array([[0, 1, 1.0, 2], [2, 3, 1.0, 2], [4, 6, 1.2, 3], [5, 7, 8.0, 5]])
    np.testing.assert_array_equal(tree.outliers(Z2), [False] * 5)
    np.testing.assert_array_equal(tree.outliers(Z2, max_size=2), [True, True, False, False, False])
    np.testing.assert_array_equal(tree.outliers(Z2, max_size=3), [True] * 5)  # both groups join at the top
    with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\]"):
        tree.outliers(Z, fraction=0)
    with pytest.raises(ValueError, match="max_size must be an integer in 1..4"):
        tree.outliers(Z, max_size=5)


# --------------------------------------------------------------------------- conversions


def test_from_sklearn_matches_scipy():
    from sklearn.cluster import AgglomerativeClustering

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) - 4.0 * np.arange(60)[:, None] * 1e-3
    model = AgglomerativeClustering(n_clusters=4, linkage="ward", compute_distances=True).fit(X)
    Z = tree.from_sklearn(model.children_, model.distances_, n_samples=60)
    assert tree.is_valid_linkage(Z) and sch.is_valid_linkage(Z)
    assert Z[-1, 3] == 60
    reference = sch.linkage(X, "ward")
    np.testing.assert_allclose(tree.cophenet(Z), sch.cophenet(reference), rtol=1e-12)
    assert same_partition(tree.cut(Z, n_clusters=4), model.labels_)
    assert same_partition(tree.fcluster(Z, 4, "maxclust"), sch.fcluster(reference, 4, "maxclust"))
    np.testing.assert_array_equal(tree.from_sklearn(model.children_, model.distances_, counts=Z[:, 3] * 2)[:, 3], Z[:, 3] * 2)


def test_from_sklearn_errors():
    with pytest.raises(ValueError, match="compute_distances=True"):
        tree.from_sklearn([[0, 1]], None)
    with pytest.raises(ValueError, match="compute_full_tree=True"):
        tree.from_sklearn([[0, 1]], [1.0], n_samples=5)
    with pytest.raises(ValueError, match="merged twice"):
        tree.from_sklearn([[0, 1], [0, 2]], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        tree.from_sklearn([[0, 1], [2, 3]], [1.0])


def test_to_newick_round_trip():
    Z = np.array([[0, 1, 1.0, 2], [2, 3, 3.0, 3]])
    assert tree.to_newick(Z) == "(2:3,(0:1,1:1):2);"
    assert tree.to_newick(Z, labels=["a", "it's", "c"]) == "(c:3,(a:1,'it''s':1):2);"
    with pytest.raises(ValueError, match="labels has 2 entries but Z has 3 leaves"):
        tree.to_newick(Z, labels=["a", "b"])
    # Branch lengths sum to the root height along every path.
    Z, _ = random_tree(2, 25, "average")
    text = tree.to_newick(Z)
    assert text.count("(") == text.count(")") == 24 and text.endswith(";")


def test_to_json_flat_arrays():
    Z, _ = random_tree(2, 25, "average")
    doc = tree.to_json(Z, labels=[f"c{i}" for i in range(25)])
    assert json.loads(json.dumps(doc)) == doc
    assert doc["n_leaves"] == 25 and len(doc["children"]) == 24
    assert doc["leaf_order"] == sch.leaves_list(Z).tolist()
    rebuilt = np.column_stack([np.array(doc["children"], dtype=float), doc["heights"], doc["sizes"]])
    np.testing.assert_array_equal(rebuilt, Z)


# --------------------------------------------------------------------------- scale


def caterpillar(n: int) -> np.ndarray:
    """The deepest tree: each merge adds one leaf (depth n-1)."""
    Z = np.empty((n - 1, 4))
    Z[0] = (0, 1, 1.0, 2)
    Z[1:, 0] = np.arange(n, 2 * n - 2)
    Z[1:, 1] = np.arange(2, n)
    Z[1:, 2] = np.arange(2, n, dtype=float)
    Z[1:, 3] = np.arange(3, n + 1)
    return Z


def test_deep_tree_no_recursion():
    n = 100_000
    Z = caterpillar(n)
    assert tree.is_valid_linkage(Z)
    labels = tree.cut(Z, n_clusters=3)
    assert labels[:3].tolist() == [0, 0, 0] and labels[-2:].tolist() == [1, 2]
    assert tree.leaves_list(Z)[:3].tolist() == [0, 1, 2]
    assert tree.fcluster(Z, 3, "maxclust").max() == 3
    assert tree.fcluster(Z, 1.5, "inconsistent").shape == (n,)
    assert tree.to_newick(Z).count("(") == n - 1
    late = np.arange(n) > 0.5 * (n - 1)
    np.testing.assert_array_equal(tree.outliers(Z), late)


def test_height_rule_on_a_hand_made_inversion():
    # Leaves 0 and 1 merge at 2.0; leaf 2 then joins them *lower*, at 1.0 (an inversion).
    Z = np.array([[0, 1, 2.0, 2], [2, 3, 1.0, 3]])
    # At h = 1.5 the root's own height is below h, but a merge inside it (2.0) is not, so
    # the root is undone as well: every merge whose subtree reaches above h is undone.
    np.testing.assert_array_equal(tree.cut(Z, height=1.5), [0, 1, 2])
    np.testing.assert_array_equal(tree.cut(Z, height=2.0), [0, 0, 0])
    assert same_partition(tree.cut(Z, height=1.5), sch.fcluster(Z, 1.5, "distance"))
    # n_clusters: both merges have subtree maximum 2.0; the later one (the root) goes first.
    np.testing.assert_array_equal(tree.cut(Z, n_clusters=2), [0, 0, 1])


def test_docstring_examples():
    import doctest

    failures, tested = doctest.testmod(tree, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tested > 0 and failures == 0


@pytest.mark.parametrize("method", ["ward", "centroid"])
def test_gh21_one_cut_order_serves_every_cut(method):
    """tree._cut_order is the one cut-by-k (cut, cut_tree, the layout, the criteria, the report use it)."""
    from hclust.tree import _cut_order

    Z, X = random_tree(21, 40, method)
    order = _cut_order(tree.check_linkage(Z))
    n = X.shape[0]
    keys = order.keys_in_undo_order()
    for k in range(1, n + 1):
        labels, node_label = order.labels(k)
        np.testing.assert_array_equal(labels, tree.cut(Z, n_clusters=k))
        np.testing.assert_array_equal(node_label[:n], labels)
        roots = order.roots(k)
        assert sorted(node_label[roots].tolist()) == list(range(k))
        if k >= 2:
            # the merge undone last for k clusters carries the k-th key
            newly = order.removed(k) & ~order.removed(k - 1)
            assert order.keys[newly].tolist() == [keys[k - 2]]
            height = order.height_between(k)
            if method == "ward":  # monotone: a cut at that height gives the same k clusters
                np.testing.assert_array_equal(tree.cut(Z, height=height), labels)
    assert order.height_between(1) is None
    assert np.all(np.diff(keys) <= 0)  # undone from the largest key down
