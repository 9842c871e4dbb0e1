"""hclust.linkage against scipy, a naive Lance-Williams oracle, and its own promises."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster import hierarchy as sch
from scipy.spatial.distance import pdist as scipy_pdist
from scipy.spatial.distance import squareform

import hclust
from hclust import METHODS, linkage

SCIPY_METHODS = ("single", "complete", "average", "weighted", "ward", "centroid", "median")
REDUCIBLE = ("single", "complete", "average", "weighted", "ward")


# --------------------------------------------------------------------------- data


def blobs(n: int, d: int, seed: int, spread: float = 1.0) -> np.ndarray:
    """Well-separated Gaussian blobs of different spreads (tie-free almost surely)."""
    rng = np.random.default_rng(seed)
    k = max(1, min(6, n // 5))
    centers = rng.uniform(-20, 20, size=(k, d))
    scales = rng.uniform(0.2, 3.0, size=k) * spread
    labels = rng.integers(0, k, size=n)
    return centers[labels] + rng.normal(size=(n, d)) * scales[labels, None]


def noise(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(n, d))


def shifted(n: int, d: int, seed: int) -> np.ndarray:
    """STYLE.md's tie-free construction: a random cloud pulled apart along a diagonal."""
    X = np.random.default_rng(seed).normal(size=(n, d))
    return X - 4.0 * np.arange(n)[:, None] / n


def assert_same_tree(Z: np.ndarray, Z_ref: np.ndarray, rtol: float = 1e-12) -> None:
    """Same merges (pairs as sets) and heights within ``rtol``."""
    assert Z.shape == Z_ref.shape
    assert Z.dtype == np.float64
    np.testing.assert_array_equal(np.sort(Z[:, :2], axis=1), np.sort(Z_ref[:, :2], axis=1))
    np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=rtol, atol=0)
    np.testing.assert_array_equal(Z[:, 3], Z_ref[:, 3])


CASES = [
    ("blobs", 2, 1),
    ("blobs", 3, 2),
    ("blobs", 17, 3),
    ("noise", 40, 1),
    ("blobs", 64, 8),
    ("noise", 150, 5),
    ("shifted", 200, 2),
    ("blobs", 333, 50),
    ("noise", 500, 8),
]
MAKERS = {"blobs": blobs, "noise": noise, "shifted": shifted}


@pytest.mark.parametrize("method", SCIPY_METHODS)
@pytest.mark.parametrize(("kind", "n", "d"), CASES)
def test_matches_scipy_on_observations(method, kind, n, d):
    X = MAKERS[kind](n, d, seed=n * 7 + d)
    assert_same_tree(linkage(X, method), sch.linkage(X, method))


@pytest.mark.parametrize("method", SCIPY_METHODS)
@pytest.mark.parametrize(("kind", "n", "d"), CASES)
def test_matches_scipy_on_condensed(method, kind, n, d):
    y = scipy_pdist(MAKERS[kind](n, d, seed=n * 11 + d))
    y_before = y.copy()
    assert_same_tree(linkage(y, method), sch.linkage(y, method))
    np.testing.assert_array_equal(y, y_before)  # the input is never modified


@pytest.mark.slow
@pytest.mark.parametrize("method", SCIPY_METHODS)
def test_matches_scipy_few_thousand(method):
    X = blobs(2500, 8, seed=4)
    assert_same_tree(linkage(X, method), sch.linkage(X, method))


@pytest.mark.parametrize("metric", ["cityblock", "chebyshev", "cosine", "sqeuclidean", "canberra"])
@pytest.mark.parametrize("method", ["single", "complete", "average", "weighted"])
def test_other_metrics_match_scipy(method, metric):
    X = noise(80, 5, seed=3)
    assert_same_tree(linkage(X, method, metric), sch.linkage(X, method, metric))


@pytest.mark.parametrize("method", SCIPY_METHODS)
def test_precomputed_square_matrix(method):
    X = blobs(60, 3, seed=9)
    D = squareform(scipy_pdist(X))
    assert_same_tree(linkage(D, method, metric="precomputed"), sch.linkage(X, method))


def test_dataframe_input():
    pd = pytest.importorskip("pandas")
    X = blobs(50, 3, seed=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    assert_same_tree(linkage(frame, "ward"), sch.linkage(X, "ward"))


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_other_dtypes(dtype):
    X = (blobs(40, 4, seed=2) * 100).astype(dtype)
    assert_same_tree(linkage(X, "average"), sch.linkage(X.astype(np.float64), "average"))


def test_read_only_and_memmap(tmp_path):
    X = blobs(50, 4, seed=5)
    X.setflags(write=False)
    assert_same_tree(linkage(X, "complete"), sch.linkage(X, "complete"))
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.load(tmp_path / "x.npy", mmap_mode="r")
    y = scipy_pdist(ro)
    assert_same_tree(linkage(ro, "ward"), sch.linkage(X, "ward"))
    assert_same_tree(linkage(y, "centroid"), sch.linkage(y, "centroid"))


def test_scipy_accepts_output():
    X = blobs(100, 3, seed=6)
    for method in METHODS:
        Z = linkage(X, method)
        assert sch.is_valid_linkage(Z)
        assert Z[-1, 3] == 100
        labels = sch.fcluster(Z, 4, criterion="maxclust")
        assert labels.shape == (100,)
        sch.dendrogram(Z, no_plot=True)


def test_two_observations():
    Z = linkage(np.array([[0.0, 0.0], [3.0, 4.0]]), "ward")
    np.testing.assert_array_equal(Z, [[0.0, 1.0, 5.0, 2.0]])
    np.testing.assert_array_equal(linkage(np.array([2.5]), "average"), [[0.0, 1.0, 2.5, 2.0]])


def test_seed_worked_example():
    """The 5-customer average-linkage example of the seed tutorials (income, spending score)."""
    customers = np.array([[5, 45], [7, 50], [8, 75], [4, 30], [9, 80]], dtype=float)  # A..E
    Z = linkage(customers, "average")
    np.testing.assert_allclose(np.round(Z[:, 2], 2), [5.10, 5.39, 17.63, 35.98])
    # C+E first, then A+B, then D joins A+B, then everything
    np.testing.assert_array_equal(Z[:, :2], [[2, 4], [0, 1], [3, 6], [5, 7]])


# --------------------------------------------------------------------- the oracle


def naive_lance_williams(
    y: np.ndarray, method: str, beta: float = -0.25, weights: np.ndarray | None = None
) -> np.ndarray:
    """O(n^3) textbook agglomeration: merge the globally closest pair, update by Lance-Williams.

    Works on unsquared distances with the sqrt forms of ward/centroid/median,
    ties to the lexicographically smallest pair of cluster ids.
    """
    n = squareform(y).shape[0]
    D = squareform(y).astype(float)
    size = np.ones(n) if weights is None else np.asarray(weights, float).copy()
    if method == "ward" and weights is not None:
        w = size
        D = D * np.sqrt(2.0 * np.outer(w, w) / np.add.outer(w, w))
    ids = list(range(n))
    leaves = [1] * n
    alive = list(range(n))
    rows = []
    for step in range(n - 1):
        best = (np.inf, -1, -1)
        for p in range(len(alive)):
            for q in range(p + 1, len(alive)):
                i, j = alive[p], alive[q]
                if D[i, j] < best[0]:
                    best = (D[i, j], i, j)
        d_ij, i, j = best
        ni, nj = size[i], size[j]
        for k in alive:
            if k in (i, j):
                continue
            dki, dkj, nk = D[k, i], D[k, j], size[k]
            if method == "single":
                new = min(dki, dkj)
            elif method == "complete":
                new = max(dki, dkj)
            elif method == "average":
                new = (ni * dki + nj * dkj) / (ni + nj)
            elif method == "weighted":
                new = (dki + dkj) / 2
            elif method == "flexible":
                new = (1 - beta) / 2 * (dki + dkj) + beta * d_ij
            elif method == "ward":
                t = ni + nj + nk
                new = np.sqrt(((ni + nk) * dki**2 + (nj + nk) * dkj**2 - nk * d_ij**2) / t)
            elif method == "centroid":
                s = ni + nj
                new = np.sqrt(max(0.0, (ni * dki**2 + nj * dkj**2) / s - ni * nj * d_ij**2 / s**2))
            elif method == "median":
                new = np.sqrt(max(0.0, dki**2 / 2 + dkj**2 / 2 - d_ij**2 / 4))
            else:
                raise AssertionError(method)
            D[k, j] = D[j, k] = new
        leaves[j] += leaves[i]
        rows.append([min(ids[i], ids[j]), max(ids[i], ids[j]), d_ij, leaves[j]])
        size[j] = ni + nj
        ids[j] = n + step
        alive.remove(i)
    return np.array(rows)


@pytest.mark.parametrize("method", SCIPY_METHODS + ("flexible",))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_naive_oracle(method, seed):
    """Globally closest pair first: on tie-free data the same merge sequence as any exact algorithm."""
    y = scipy_pdist(blobs(30, 3, seed=seed))
    assert_same_tree(linkage(y, method), naive_lance_williams(y, method), rtol=1e-10)


@pytest.mark.parametrize("beta", [-1.0, -0.5, -0.25, -0.1])
def test_flexible_negative_beta_matches_oracle(beta):
    y = scipy_pdist(blobs(25, 2, seed=11))
    Z = linkage(y, "flexible", beta=beta)
    ref = naive_lance_williams(y, "flexible", beta=beta)
    # monotone for beta <= 0: the closest-pair order gives non-decreasing heights
    assert np.all(np.diff(ref[:, 2]) >= 0)
    assert_same_tree(Z, ref, rtol=1e-12)


def test_flexible_is_order_dependent():
    """Why flexible cannot use the nearest-neighbour chain: two reciprocal pairs, two orders."""
    beta, alpha = -0.25, 0.625
    d = {("i", "j"): 1.0, ("k", "l"): 2.0}
    cross = 10.0  # every distance between {i, j} and {k, l}
    ij_first = alpha * (2 * (alpha * 2 * cross + beta * d["i", "j"])) + beta * d["k", "l"]
    kl_first = alpha * (2 * (alpha * 2 * cross + beta * d["k", "l"])) + beta * d["i", "j"]
    assert ij_first != kl_first
    y = np.array([1.0, 10, 10, 10, 10, 2.0])  # i, j, k, l
    Z = linkage(y, "flexible", beta=beta)
    np.testing.assert_allclose(Z[-1, 2], ij_first, rtol=1e-15)  # closest pair (i, j) first


@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9])
def test_flexible_positive_beta_uses_generic_algorithm(beta):
    y = scipy_pdist(noise(25, 2, seed=12))
    Z = linkage(y, "flexible", beta=beta)
    assert_same_tree(Z, naive_lance_williams(y, "flexible", beta=beta), rtol=1e-12)


def test_flexible_beta_zero_is_weighted():
    y = scipy_pdist(blobs(60, 3, seed=13))
    assert_same_tree(linkage(y, "flexible", beta=0.0), linkage(y, "weighted"), rtol=1e-14)


# ------------------------------------------------------------------------- weights


def _duplicate(X: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.repeat(X, counts, axis=0)


@pytest.mark.parametrize("method", ["single", "complete", "average", "weighted", "ward", "centroid", "median"])
def test_weights_equal_duplicated_rows(method):
    rng = np.random.default_rng(21)
    X = blobs(25, 3, seed=21)
    counts = rng.integers(1, 5, size=25)
    Z_w = linkage(X, method, weights=counts)
    Z_dup = linkage(_duplicate(X, counts), method)
    above_w = Z_w[:, 2]
    above_dup = Z_dup[Z_dup[:, 2] > 0, 2]
    np.testing.assert_allclose(above_w, above_dup, rtol=1e-10)
    assert sch.is_valid_linkage(Z_w) and Z_w[-1, 3] == 25
    # same partitions: cutting both trees at every merge height agrees on the unique rows
    representatives = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for k in range(2, 10):
        lw = sch.fcluster(Z_w, k, criterion="maxclust")
        ld = sch.fcluster(Z_dup, k, criterion="maxclust")[representatives]
        assert sch.is_isomorphic(lw, ld)


def test_weights_match_naive_oracle():
    X = blobs(20, 2, seed=5)
    y = scipy_pdist(X)
    w = np.random.default_rng(5).uniform(0.5, 4.0, size=20)
    for method in ("average", "centroid"):
        assert_same_tree(linkage(y, method, weights=w), naive_lance_williams(y, method, weights=w), 1e-10)
    assert_same_tree(linkage(y, "ward", weights=w), naive_lance_williams(y, "ward", weights=w), 1e-10)


def test_unit_weights_change_nothing():
    X = blobs(40, 3, seed=8)
    for method in ("average", "ward", "centroid"):
        assert_same_tree(linkage(X, method, weights=np.ones(40)), linkage(X, method), rtol=1e-15)


def test_weights_are_refused_for_flexible():
    with pytest.raises(ValueError, match="no meaning for method='flexible'"):
        linkage(noise(5, 2, 0), "flexible", weights=np.ones(5))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(4), r"shape \(5,\)"),
        (np.array([1, 1, 0, 1, 1.0]), r"positive; weights\[2\]"),
        (np.array([1, 1, -2, 1, 1.0]), "positive"),
        (np.array([1, np.nan, 1, 1, 1.0]), "finite"),
        (np.array(["a", "b", "c", "d", "e"]), "not numeric"),
    ],
)
def test_bad_weights(weights, message):
    with pytest.raises((ValueError, TypeError), match=message):
        linkage(noise(5, 2, 0), "average", weights=weights)


# --------------------------------------------------------------------------- ties


def test_ties_are_deterministic():
    grid = np.array([[i, j] for i in range(6) for j in range(6)], dtype=float)
    for method in METHODS:
        first = linkage(grid, method)
        for _ in range(3):
            np.testing.assert_array_equal(linkage(grid, method), first)
        np.testing.assert_array_equal(linkage(grid, method, n_jobs=1), first)
        assert sch.is_valid_linkage(first)


def test_ties_single_linkage_cophenetic_is_unique():
    grid = np.array([[i, j] for i in range(7) for j in range(5)], dtype=float)
    np.testing.assert_allclose(sch.cophenet(linkage(grid, "single")), sch.cophenet(sch.linkage(grid, "single")))


def test_tie_rule_smallest_index_first():
    """Four points on a line with equal gaps: the pair with the smallest indices merges first."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    Z = linkage(X, "complete")
    np.testing.assert_array_equal(Z[0, :2], [0, 1])
    Z = linkage(X, "single")
    np.testing.assert_array_equal(Z[0, :2], [0, 1])


def test_duplicate_rows_merge_at_zero():
    X = np.array([[1.0, 2.0], [1.0, 2.0], [5.0, 5.0], [1.0, 2.0]])
    for method in METHODS:
        Z = linkage(X, method)
        assert np.count_nonzero(Z[:, 2] == 0) == 2
        assert sch.is_valid_linkage(Z)


# --------------------------------------------------------------------- properties


@st.composite
def observation_sets(draw):
    n = draw(st.integers(2, 40))
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    return noise(n, d, seed)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(X=observation_sets(), method=st.sampled_from(METHODS))
def test_properties(X, method):
    n = X.shape[0]
    Z = linkage(X, method)
    assert sch.is_valid_linkage(Z)
    assert Z[-1, 3] == n
    if method in REDUCIBLE:
        assert np.all(np.diff(Z[:, 2]) >= 0)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(X=observation_sets(), method=st.sampled_from(METHODS), seed=st.integers(0, 1000))
def test_permuting_rows_permutes_cophenetic_matrix(X, method, seed):
    n = X.shape[0]
    perm = np.random.default_rng(seed).permutation(n)
    C = squareform(sch.cophenet(linkage(X, method)))
    C_perm = squareform(sch.cophenet(linkage(X[perm], method)))
    np.testing.assert_allclose(C_perm, C[np.ix_(perm, perm)], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------- progress


def test_progress_is_reported(monkeypatch):
    module = importlib.import_module("hclust._linkage")

    monkeypatch.setattr(module, "_WORK_PER_CALL", 500)
    X = blobs(120, 3, seed=1)
    for method in ("single", "average", "centroid"):
        calls = []
        Z = linkage(X, method, progress=lambda done, total: calls.append((done, total)))
        assert calls[-1] == (119, 119)
        assert len(calls) > 3
        assert [c[0] for c in calls] == sorted(c[0] for c in calls)
        assert_same_tree(Z, sch.linkage(X, method))


def test_interrupt_stops_cleanly(monkeypatch):
    module = importlib.import_module("hclust._linkage")

    monkeypatch.setattr(module, "_WORK_PER_CALL", 500)
    y = scipy_pdist(blobs(120, 3, seed=1))
    before = y.copy()

    def interrupt(done, total):
        if done > 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        linkage(y, "average", progress=interrupt)
    np.testing.assert_array_equal(y, before)
    # and the engine still works afterwards
    assert_same_tree(linkage(y, "average"), sch.linkage(y, "average"))


def test_progress_must_be_callable():
    with pytest.raises(TypeError, match="progress"):
        linkage(noise(4, 2, 0), progress=3)


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]), ValueError, "NaN at row 1, column 0"),
        (np.array([[0.0, 1.0], [1.0, np.inf]]), ValueError, "infinite value at row 1, column 1"),
        (np.zeros((1, 3)), ValueError, "1 observation; at least 2"),
        (np.zeros((0, 3)), ValueError, "0 observations"),
        (np.zeros((3, 0)), ValueError, "no features"),
        (np.zeros((2, 2, 2)), ValueError, "3 dimensions"),
        (np.ones(4), ValueError, "not n\\*\\(n-1\\)/2"),
        (np.array([1.0, -1.0, 2.0]), ValueError, "negative distances"),
        (np.array([1.0, np.nan, 2.0]), ValueError, "NaN at position 1"),
        (np.array([]), ValueError, "empty|not n"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "not numeric"),
        (np.array([[1, "x"], [2, 3]], dtype=object), TypeError, "not numbers"),
        (np.array([[1 + 1j, 2], [3, 4]]), TypeError, "complex"),
    ],
)
def test_bad_input(X, error, message):
    with pytest.raises(error, match=message):
        linkage(X, "average")


def test_bad_dataframe_names_the_column():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"spend": [1.0, 2.0, 3.0], "city": ["a", "b", "c"]})
    with pytest.raises(TypeError, match=r"non-numeric columns \['city'\].*gower"):
        linkage(frame, "average")
    frame = pd.DataFrame({"spend": [1.0, None, 3.0], "visits": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"row 1, column 0 \('spend'\)"):
        linkage(frame, "average")


def test_unknown_method_and_metric_list_valid_ones():
    X = noise(5, 2, 0)
    with pytest.raises(ValueError, match="Unknown method 'wards'; valid values are: average, centroid"):
        linkage(X, "wards")
    with pytest.raises(ValueError, match="Unknown metric 'euclidian'.*euclidean"):
        linkage(X, "average", "euclidian")


@pytest.mark.parametrize("method", ["ward", "centroid", "median"])
def test_euclidean_only_methods_refuse_other_metrics(method):
    with pytest.raises(ValueError, match="needs metric='euclidean'.*Euclidean geometry"):
        linkage(noise(5, 2, 0), method, "cityblock")


def test_bad_precomputed_matrices():
    D = squareform(scipy_pdist(noise(4, 2, 0)))
    with pytest.raises(ValueError, match="square"):
        linkage(D[:3], "average", metric="precomputed")
    bad = D.copy()
    bad[0, 1] += 1.0
    with pytest.raises(ValueError, match="not symmetric"):
        linkage(bad, "average", metric="precomputed")
    bad = D.copy()
    bad[2, 2] = 1.0
    with pytest.raises(ValueError, match="diagonal must be 0"):
        linkage(bad, "average", metric="precomputed")
    bad = -D
    with pytest.raises(ValueError, match="negative"):
        linkage(bad, "average", metric="precomputed")


def test_distance_matrix_passed_as_observations_warns():
    D = squareform(scipy_pdist(noise(5, 2, 0)))
    with pytest.warns(sch.ClusterWarning, match="looks like a distance matrix"):
        linkage(D, "average")
    # scipy's rule: also 2 x 2, with a diagonal and symmetry close to exact
    with pytest.warns(sch.ClusterWarning, match="metric='precomputed'"):
        linkage(np.array([[0, 1], [1, 0]]))
    with pytest.warns(sch.ClusterWarning):
        linkage(D + 1e-12 * np.triu(np.ones_like(D)), "single")
    # not symmetric, or a negative value: observations, no warning
    assert linkage(np.array([[0.0, 1.0], [0.0, 0.0]]), "single")[0, 2] == 1.0
    linkage(np.array([[0.0, -1.0], [-1.0, 0.0]]), "single")


@pytest.mark.parametrize(
    "alias, name",
    [("cos", "cosine"), ("CB", "cityblock"), ("manhattan", "cityblock"), ("l1", "cityblock"),
     ("l2", "euclidean"), ("euclid", "euclidean"), ("chebychev", "chebyshev"), ("sqe", "sqeuclidean"),
     ("matching", "hamming"), ("js", "jensenshannon"), ("test_braycurtis", "braycurtis")],
)
def test_metric_aliases(alias, name):
    X = np.abs(noise(30, 4, seed=5))
    assert_same_tree(linkage(X, "average", alias), linkage(X, "average", name), rtol=0)
    assert_same_tree(linkage(X, "single", alias), sch.linkage(X, "single", name))


def test_metric_of_a_condensed_vector_is_ignored_as_in_scipy():
    y = scipy_pdist(noise(6, 2, seed=1))
    np.testing.assert_array_equal(linkage(y, "single", "no such metric"), linkage(y, "single"))
    with pytest.raises(ValueError, match="Unknown metric 'no such metric'"):
        linkage(noise(6, 2, seed=1), "single", "no such metric")


def test_euclidean_aliases_run_the_euclidean_engines():
    X = blobs(300, 3, seed=2)
    for method in ("ward", "centroid", "median"):
        assert_same_tree(linkage(X, method, "l2"), sch.linkage(X, method))
        assert_same_tree(linkage(X, method, "euclid", algorithm="vector"), sch.linkage(X, method))


@pytest.mark.parametrize("metric", ["dice", "jaccard", "rogerstanimoto", "russellrao", "sokalsneath", "yule", "hamming"])
def test_boolean_metrics_on_boolean_data(metric):
    rng = np.random.default_rng(11)
    B = rng.random((60, 12)) < 0.4
    B[:, 0] = True  # no all-false row (dice and sokalsneath would be 0/0 for two of them)
    Z = linkage(B, "single", metric)
    # boolean data is full of ties: the single-linkage heights (the MST) are unique
    np.testing.assert_allclose(Z[:, 2], sch.linkage(B, "single", metric)[:, 2], rtol=1e-12)
    np.testing.assert_array_equal(linkage(B, "average", metric), linkage(scipy_pdist(B, metric), "average"))


def test_jensenshannon_on_distributions():
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(6), size=40)
    assert_same_tree(linkage(P, "average", "jensenshannon"), sch.linkage(P, "average", "jensenshannon"))


def test_scipy_positional_arguments():
    y = scipy_pdist(noise(20, 3, seed=8))
    for ours, theirs in [
        (linkage(y, "average", "euclidean", True), sch.linkage(y, "average", "euclidean", True)),
        (linkage(y=y, method="single", optimal_ordering=True), sch.linkage(y, optimal_ordering=True)),
    ]:
        np.testing.assert_array_equal(ours[:, [0, 1, 3]], theirs[:, [0, 1, 3]])  # the same leaf order
        np.testing.assert_allclose(ours[:, 2], theirs[:, 2], rtol=1e-12)


def test_bad_beta():
    with pytest.raises(ValueError, match="-1 <= beta < 1"):
        linkage(noise(5, 2, 0), "flexible", beta=1.0)
    with pytest.raises(TypeError, match="beta must be a number"):
        linkage(noise(5, 2, 0), "flexible", beta="x")


def test_bad_n_jobs():
    with pytest.raises(ValueError, match="n_jobs"):
        linkage(noise(5, 2, 0), n_jobs=0)


def test_memory_is_checked_before_allocating(monkeypatch):
    # 800 kB usable: too little for the 4 MB matrix of 1 000 observations,
    # enough for the linear-memory engines' arrays (about 0.3 MB)
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "1000000")
    X = noise(1000, 2, 0)
    with pytest.raises(hclust.InsufficientMemoryError, match="needs 4.0 MB.*Alternatives: method='single'"):
        linkage(X, "average")
    y = scipy_pdist(X)
    with pytest.raises(MemoryError, match="copies the condensed distance matrix"):
        linkage(y, "ward")
    # single linkage on vectors needs no matrix, so it still runs
    assert_same_tree(linkage(X, "single"), sch.linkage(X, "single"))


@pytest.mark.parametrize(
    ("method", "metric", "d"),
    [("single", "euclidean", 3), ("single", "cityblock", 3), ("ward", "euclidean", 3),
     ("centroid", "euclidean", 3), ("average", "sqeuclidean", 3), ("single", "euclidean", 40)],
)
def test_linear_memory_engines_check_memory_first(monkeypatch, method, metric, d):
    X = noise(1000, d, 1)
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "20000")
    with pytest.raises(hclust.InsufficientMemoryError, match="1,000 observations x .* hclust.summarize"):
        linkage(X, method, metric=metric, algorithm="vector")
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "10000000")
    assert sch.is_valid_linkage(linkage(X, method, metric=metric, algorithm="vector"))


def test_n_jobs_gives_identical_results(parallel_twins):
    X = blobs(300, 5, seed=3)
    for method in METHODS:
        np.testing.assert_array_equal(linkage(X, method, n_jobs=1), linkage(X, method, n_jobs=2))


def test_gower_on_a_mixed_dataframe():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "spend": rng.gamma(2.0, 100.0, size=60),
            "visits": rng.integers(1, 30, size=60).astype(float),
            "region": rng.choice(["north", "south", "east"], size=60),
            "member": rng.choice([True, False], size=60),
        }
    )
    frame.loc[3, "spend"] = np.nan
    y = hclust.Gower().fit(frame).condensed()
    for method in ("average", "complete", "single", "weighted"):
        Z = linkage(frame, method, metric="gower")
        np.testing.assert_allclose(sch.cophenet(Z), sch.cophenet(sch.linkage(y, method)), rtol=1e-12)
    with pytest.raises(ValueError, match="Gower distances of mixed data are not Euclidean"):
        linkage(frame, "ward", metric="gower")


@pytest.mark.parametrize("method", ["single", "average", "ward", "centroid"])
def test_optimal_ordering_matches_scipy(method):
    X = blobs(40, 3, seed=17)
    Z = linkage(X, method, optimal_ordering=True)
    Z_ref = sch.linkage(X, method, optimal_ordering=True)
    np.testing.assert_array_equal(Z[:, :2], Z_ref[:, :2])
    np.testing.assert_allclose(Z[:, 2], Z_ref[:, 2], rtol=1e-12)
    y = scipy_pdist(X)
    np.testing.assert_array_equal(linkage(y, method, optimal_ordering=True)[:, :2], Z_ref[:, :2])


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "ward"])
def test_hand_over_to_nearest_neighbour_chain(monkeypatch, method):
    """With no recomputation budget the chain finishes the run: same tree as scipy."""
    module = importlib.import_module("hclust._linkage")
    X = blobs(300, 4, seed=23)
    monkeypatch.setattr(module, "_GENERIC_BUDGET", 0)
    assert_same_tree(linkage(X, method), sch.linkage(X, method))
    # a budget that runs out part-way through
    monkeypatch.setattr(module, "_GENERIC_BUDGET", 0.001)
    assert_same_tree(linkage(X, method), sch.linkage(X, method))


def test_tie_rule_closest_pair_smallest_slots():
    """Equal distances everywhere: (0, 1) first, then the merged slot 1 with 2, and so on."""
    y = np.ones(10)  # 5 points, all at distance 1
    for method in ("complete", "average", "weighted", "centroid", "median", "flexible"):
        Z = linkage(y, method)
        assert Z[0, :2].tolist() == [0, 1], method
        np.testing.assert_array_equal(linkage(y, method), Z)


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "centroid", "median", "flexible"])
def test_parallel_column_pass_gives_the_same_merges(method, monkeypatch, parallel_twins):
    # The generic algorithm's parallel column pass starts at 512 slots;
    # lowered here so that a small problem runs through it.
    linkage_module = importlib.import_module("hclust._linkage")
    X = blobs(300, 4, seed=12)
    serial = linkage(X, method, n_jobs=1, algorithm="matrix")
    monkeypatch.setattr(linkage_module, "_PARALLEL_COLUMN", 16)
    parallel = linkage(X, method, n_jobs=2, algorithm="matrix")
    np.testing.assert_array_equal(parallel, serial)
    if method != "flexible":
        assert_same_tree(parallel, sch.linkage(X, method))


# ----------------------------------------------------------------------------- the fused copy and first scan


@pytest.mark.parametrize("square", [False, True])
@pytest.mark.parametrize("in_place", [False, True])
def test_copy_init_is_the_copy_then_generic_init(square, in_place):
    """The generic algorithm's first pass (copy, squaring, every slot's nearest later
    slot and the heap) equals copying, squaring and ``generic_init`` apart: ties included."""
    from hclust._kernels import generic as _generic
    from hclust._kernels import lance_williams as _lw

    rng = np.random.default_rng(7)
    for n in (2, 3, 17, 200):
        y = rng.integers(0, 5, size=n * (n - 1) // 2).astype(float)  # many ties
        expected_D = y * y if square else y.copy()
        state = [np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.empty(n, dtype=np.int64),
                 np.full(n, -1, dtype=np.int64)]
        size = _generic.generic_init(expected_D, _lw.row_offsets(n), np.arange(n, dtype=np.int64), n, *state)
        got = [np.full(n, -1, dtype=np.int64), np.full(n, np.inf), np.empty(n, dtype=np.int64),
               np.full(n, -1, dtype=np.int64)]
        source = y.copy()
        D = source if in_place else np.empty_like(source)
        assert _generic.copy_init(source, D, n, square, *got) == size
        np.testing.assert_array_equal(D, expected_D)
        if not in_place:
            np.testing.assert_array_equal(source, y)
        for e, g in zip(state, got):
            np.testing.assert_array_equal(g[: n - 1], e[: n - 1])


@pytest.mark.parametrize("method", ["average", "complete", "weighted", "ward", "centroid", "median", "flexible"])
def test_the_callers_condensed_matrix_is_left_as_it_was(method):
    from scipy.cluster.hierarchy import linkage as scipy_linkage
    from scipy.spatial.distance import pdist as scipy_pdist

    X = np.random.default_rng(5).normal(size=(60, 3))
    y = scipy_pdist(X)
    before = y.copy()
    Z = hclust.linkage(y, method)
    np.testing.assert_array_equal(y, before)
    if method != "flexible":
        expected = scipy_linkage(before, method)
        np.testing.assert_array_equal(Z[:, :2], expected[:, :2])
        np.testing.assert_allclose(Z[:, 2], expected[:, 2], rtol=1e-12)
