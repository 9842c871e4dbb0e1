"""Tests for hclust.divisive: DIANA against R's cluster::diana, bisecting k-means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import cophenet, is_monotonic, is_valid_linkage
from scipy.spatial.distance import pdist, squareform

from hclust import InsufficientMemoryError
from hclust.divisive import _diana, bisecting_kmeans, diana, divisive_coefficient
from hclust.tree import cut

DATA = Path(__file__).resolve().parent / "data" / "diana"

# name of the R output, input csv, metric here (R's manhattan is cityblock), input kind
R_SETS = [
    ("n5_d2", "n5_d2", "euclidean"),
    ("n12_d3", "n12_d3", "euclidean"),
    ("n40_blobs", "n40_blobs", "euclidean"),
    ("n100_d5", "n100_d5", "euclidean"),
    ("n300_blobs", "n300_blobs", "euclidean"),
    ("n60_manhattan", "n60_manhattan", "cityblock"),
    ("n30_dissimilarity", "n30_dissimilarity", "precomputed"),
    # Tied dissimilarities: ties are met in the same order as in R.
    ("n50_ties", "n50_ties", "euclidean"),
    ("n50_ties_manhattan", "n50_ties", "cityblock"),
    ("n40_grid_manhattan", "n40_grid", "cityblock"),
    ("n8_equal", "n8_equal", "precomputed"),
]


def read_r_output(name: str) -> dict[str, object]:
    merge: list[list[int]] = []
    result: dict[str, object] = {}
    for line in (DATA / f"{name}.out").read_text().splitlines():
        if line.startswith("#"):
            continue
        key, *values = line.split()
        if key == "merge":
            merge.append([int(v) for v in values])
        elif key == "dc":
            result["dc"] = float(values[0])
        elif key == "order":
            result["order"] = np.array([int(v) for v in values]) - 1
        elif key == "height":
            result["height"] = np.array([float(v) for v in values])
    result["merge"] = np.array(merge, dtype=np.int64)
    return result


def r_merge_to_linkage(merge: np.ndarray, height: np.ndarray) -> np.ndarray:
    """scipy Z from R's merge matrix: -j is observation j (1-based), +i is row i (1-based).

    Rows of a diana merge matrix are in agglomerative order (row i is the split at
    step n - i), so they pair with the sorted banner heights (as ``as.hclust`` does).
    """
    n = merge.shape[0] + 1
    Z = np.empty((n - 1, 4))
    size = np.ones(2 * n - 1)
    for i, (left, right) in enumerate(merge):
        nodes = [(-v - 1) if v < 0 else (n + v - 1) for v in (left, right)]
        Z[i, 0], Z[i, 1] = sorted(nodes)
        Z[i, 2] = np.sort(height)[i]
        size[n + i] = size[nodes[0]] + size[nodes[1]]
        Z[i, 3] = size[n + i]
    return Z


def banner_cophenetic(order: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Condensed cophenetic distances of a banner: max height between two positions."""
    n = order.shape[0]
    C = np.zeros((n, n))
    for i in range(n):
        running = 0.0
        for j in range(i + 1, n):
            running = max(running, height[j - 1])
            C[order[i], order[j]] = C[order[j], order[i]] = running
    return squareform(C, checks=False)


def load_input(source: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.loadtxt(DATA / f"{source}.csv", delimiter=",")
    D = squareform(X, checks=False) if metric == "precomputed" else pdist(X, metric)
    return X, D


@pytest.mark.parametrize(("name", "source", "metric"), R_SETS)
def test_diana_matches_r(name: str, source: str, metric: str) -> None:
    X, D = load_input(source, metric)
    ref = read_r_output(name)
    Z, order = _diana(X, metric)
    n = X.shape[0]
    assert Z.dtype == np.float64 and Z.shape == (n - 1, 4)
    assert is_valid_linkage(Z) and is_monotonic(Z)
    assert Z[-1, 3] == n
    np.testing.assert_array_equal(order, ref["order"])
    np.testing.assert_allclose(np.sort(Z[:, 2]), np.sort(ref["height"]), rtol=1e-12, atol=0)
    np.testing.assert_allclose(cophenet(Z), banner_cophenetic(ref["order"], ref["height"]), rtol=1e-12, atol=0)
    # R's merge matrix describes the same tree.
    Z_r = r_merge_to_linkage(ref["merge"], ref["height"])
    assert is_valid_linkage(Z_r)
    np.testing.assert_allclose(cophenet(Z), cophenet(Z_r), rtol=1e-12, atol=0)
    assert divisive_coefficient(Z) == pytest.approx(ref["dc"], rel=1e-12)
    assert divisive_coefficient(Z_r) == pytest.approx(ref["dc"], rel=1e-12)
    # A condensed vector gives the same tree.
    np.testing.assert_array_equal(diana(D), Z)


def test_diana_heights_are_diameters() -> None:
    X, _ = load_input("n40_grid", "cityblock")
    check_node_diameters(diana(X, "cityblock"), squareform(pdist(X, "cityblock")))


def naive_diana(D: np.ndarray) -> list[tuple[frozenset[int], float]]:
    """Textbook DIANA, recomputing every average: the (cluster, diameter) of each split."""
    n = D.shape[0]
    splits = []
    todo = [list(range(n))]
    while todo:
        block = todo.pop()
        sub = D[np.ix_(block, block)]
        splits.append((frozenset(block), float(sub.max())))
        first = int(np.argmax(sub.sum(axis=1)))
        splinter = [block[first]]
        rest = block[:first] + block[first + 1 :]
        while len(rest) > 1:
            diffs = [
                D[a, rest].sum() / (len(rest) - 1) - D[a, splinter].mean() for a in rest
            ]
            best = int(np.argmax(diffs))
            if diffs[best] <= 0:
                break
            splinter.append(rest.pop(best))
        for part in (rest, splinter):
            if len(part) > 1:
                todo.append(sorted(part))  # ties: the smallest index first
    return splits


def node_members(Z: np.ndarray) -> list[frozenset[int]]:
    n = Z.shape[0] + 1
    members: list[frozenset[int]] = [frozenset([i]) for i in range(n)]
    for a, b in Z[:, :2].astype(int):
        members.append(members[a] | members[b])
    return members[n:]


def check_node_diameters(Z: np.ndarray, Dsq: np.ndarray) -> None:
    for members, h in zip(node_members(Z), Z[:, 2]):
        idx = sorted(members)
        assert h == Dsq[np.ix_(idx, idx)].max()


@settings(deadline=None, max_examples=25)
@given(n=st.integers(2, 30), d=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_diana_matches_naive_oracle(n: int, d: int, seed: int) -> None:
    X = np.random.default_rng(seed).normal(size=(n, d))
    Dsq = squareform(pdist(X))
    Z = diana(X)
    assert is_valid_linkage(Z) and is_monotonic(Z) and Z[-1, 3] == n
    expected = sorted(naive_diana(Dsq), key=lambda s: (s[1], len(s[0])))
    got = sorted(zip(node_members(Z), Z[:, 2]), key=lambda s: (s[1], len(s[0])))
    assert {m for m, _ in expected} == {m for m, _ in got}
    for members, h in got:
        idx = sorted(members)
        assert h == Dsq[np.ix_(idx, idx)].max()


@settings(deadline=None, max_examples=15)
@given(n=st.integers(3, 40), seed=st.integers(0, 2**31 - 1))
def test_diana_permutation_invariant(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    perm = rng.permutation(n)
    C = squareform(cophenet(diana(X)))
    C_perm = squareform(cophenet(diana(X[perm])))
    np.testing.assert_allclose(C_perm, C[np.ix_(perm, perm)], rtol=1e-12, atol=0)


def test_diana_inputs_agree() -> None:
    X = np.random.default_rng(1).normal(size=(25, 3))
    Z = diana(X)
    np.testing.assert_array_equal(diana(pdist(X)), Z)
    np.testing.assert_array_equal(diana(squareform(pdist(X)), metric="precomputed"), Z)
    np.testing.assert_allclose(diana(X, "cityblock")[:, 2].max(), pdist(X, "cityblock").max())


def test_diana_small_and_duplicates() -> None:
    Z = diana(np.array([[0.0], [2.0]]))
    np.testing.assert_array_equal(Z, [[0, 1, 2.0, 2]])
    X = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    Z = diana(X)
    assert is_valid_linkage(Z) and is_monotonic(Z)
    np.testing.assert_allclose(np.sort(Z[:, 2]), [0.0, 0.0, np.sqrt(2.0)])
    Z = diana(np.zeros((5, 2)))
    assert is_valid_linkage(Z) and (Z[:, 2] == 0).all()


def test_diana_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN"):
        diana(np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 3.0]]))
    with pytest.raises(ValueError, match="at least 2"):
        diana(np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="not n\\*\\(n-1\\)/2"):
        diana(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="Unknown metric"):
        diana(np.ones((3, 2)), metric="nope")


def test_diana_memory_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "1000")
    with pytest.raises(InsufficientMemoryError, match="bisecting_kmeans"):
        diana(np.random.default_rng(0).normal(size=(200, 2)))


def test_divisive_coefficient_errors() -> None:
    with pytest.raises(ValueError, match="divisive coefficient is undefined"):
        divisive_coefficient(np.array([[0, 1, 0.0, 2]]))
    with pytest.raises(ValueError):
        divisive_coefficient(np.array([[0, 1, 1.0]]))


# --------------------------------------------------------------------------- bisecting k-means


def blobs(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=8.0, size=(5, 3))
    return centres[rng.integers(0, 5, size=n)] + rng.normal(size=(n, 3))


def sse(X: np.ndarray) -> float:
    return float(((X - X.mean(axis=0)) ** 2).sum())


def test_bisecting_full_tree() -> None:
    X = blobs(120)
    Z = bisecting_kmeans(X, random_state=3)
    assert Z.shape == (119, 4) and is_valid_linkage(Z) and is_monotonic(Z)
    assert Z[-1, 3] == 120
    for members, h in zip(node_members(Z), Z[:, 2]):
        assert h == pytest.approx(sse(X[sorted(members)]), rel=1e-12)
    np.testing.assert_array_equal(Z, bisecting_kmeans(X, random_state=3))


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
def test_bisecting_partial_tree_cuts(strategy: str) -> None:
    X = blobs(200, seed=4)
    k = 7
    Z = bisecting_kmeans(X, k, random_state=0, bisecting_strategy=strategy)
    assert is_valid_linkage(Z) and is_monotonic(Z)
    assert (Z[: 200 - k, 2] == 0).all() and (Z[200 - k :, 2] > 0).all()
    labels = cut(Z, n_clusters=k)
    assert len(np.unique(labels)) == k
    # The k clusters are the leaves of the splits: every split height is the SSE of
    # the union of the clusters below it.
    for members, h in zip(node_members(Z)[200 - k :], Z[200 - k :, 2]):
        assert h == pytest.approx(sse(X[sorted(members)]), rel=1e-12)
    if strategy == "biggest_inertia":
        full = bisecting_kmeans(X, random_state=0)
        for j in range(1, k + 1):
            np.testing.assert_array_equal(cut(Z, n_clusters=j), cut(full, n_clusters=j))


def test_bisecting_blobs_recovered() -> None:
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0]])
    truth = np.repeat(np.arange(3), 30)
    X = centres[truth] + rng.normal(size=(90, 2))
    labels = cut(bisecting_kmeans(X, 3), n_clusters=3)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, labels) == 1.0


def test_bisecting_identical_points() -> None:
    X = np.vstack([np.zeros((4, 2)), np.ones((3, 2))])
    Z = bisecting_kmeans(X)
    assert is_valid_linkage(Z) and is_monotonic(Z)
    np.testing.assert_allclose(Z[:, 2], [0, 0, 0, 0, 0, sse(X)])


def test_bisecting_bad_input() -> None:
    X = blobs(20)
    with pytest.raises(ValueError, match="between 1 and n = 20"):
        bisecting_kmeans(X, 21)
    with pytest.raises(ValueError, match="n_clusters must be an integer >= 1"):
        bisecting_kmeans(X, 0)
    with pytest.raises(ValueError, match="Unknown bisecting_strategy"):
        bisecting_kmeans(X, 3, bisecting_strategy="random")
    with pytest.raises(ValueError, match="n_init"):
        bisecting_kmeans(X, 3, n_init=0)
    with pytest.raises(ValueError, match="NaN"):
        bisecting_kmeans(np.array([[np.nan, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="at least 2"):
        bisecting_kmeans(np.ones((1, 2)))


@settings(deadline=None, max_examples=10)
@given(n=st.integers(2, 25), k=st.one_of(st.none(), st.integers(1, 25)), seed=st.integers(0, 2**31 - 1))
def test_bisecting_property(n: int, k: int | None, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 2)), 1)  # duplicates happen
    k = None if k is None else min(k, n)
    Z = bisecting_kmeans(X, k, random_state=seed % 100)
    assert Z.shape == (n - 1, 4) and is_valid_linkage(Z) and is_monotonic(Z) and Z[-1, 3] == n
    for members, h in zip(node_members(Z), Z[:, 2]):
        if h > 0:
            assert h == pytest.approx(sse(X[sorted(members)]), rel=1e-9)


def test_diana_gower_dataframe() -> None:
    import pandas as pd

    from hclust import Gower

    frame = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 10.0, 11.0, 4.0], "channel": list("xyxyyx")})
    Z = diana(frame, metric="gower")
    assert is_valid_linkage(Z) and is_monotonic(Z)
    np.testing.assert_array_equal(Z, diana(Gower().fit(frame).condensed()))
