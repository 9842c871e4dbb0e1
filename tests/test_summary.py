"""Tests for hclust.summary: micro-cluster summaries and the tree over them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import is_valid_linkage
from sklearn.metrics import adjusted_rand_score

import hclust
from hclust._kernels import cftree as _cf
from hclust.summary import Summary, _CFTree, merge_moments, summarize
from hclust.tree import cut


def blobs(n: int, d: int = 3, k: int = 4, seed: int = 0, scale: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=scale, size=(k, d))
    truth = rng.integers(0, k, size=n)
    return centres[truth] + rng.normal(size=(n, d)), truth


def reference_stats(X: np.ndarray, w: np.ndarray, labels: np.ndarray, m: int) -> tuple[np.ndarray, ...]:
    counts = np.array([w[labels == j].sum() for j in range(m)])
    means = np.array([np.average(X[labels == j], axis=0, weights=w[labels == j]) for j in range(m)])
    ssd = np.array(
        [(w[labels == j] * ((X[labels == j] - means[j]) ** 2).sum(axis=1)).sum() for j in range(m)]
    )
    return counts, means, ssd


def check_summary(s: Summary, X: np.ndarray, w: np.ndarray, identity: bool = True) -> None:
    n, d = X.shape
    m = s.n_micro
    assert s.labels_.shape == (n,) and s.labels_.dtype == np.int64
    assert np.array_equal(np.unique(s.labels_), np.arange(m))
    assert s.counts.shape == (m,) and s.means.shape == (m, d) and s.ssd.shape == (m,)
    counts, means, ssd = reference_stats(X, w, s.labels_, m)
    np.testing.assert_allclose(s.counts, counts, rtol=1e-12)
    np.testing.assert_allclose(s.means, means, rtol=1e-12, atol=1e-12 * np.abs(X).max())
    np.testing.assert_allclose(s.ssd, ssd, rtol=1e-9, atol=1e-12 * (X**2).max())
    assert s.counts.sum() == pytest.approx(w.sum(), rel=1e-12)
    grand = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(np.average(s.means, axis=0, weights=s.counts), grand, rtol=1e-12, atol=1e-12)
    total = (w * ((X - grand) ** 2).sum(axis=1)).sum()
    between = (s.counts * ((s.means - grand) ** 2).sum(axis=1)).sum()
    if identity:  # far from the origin the means themselves carry rounding of |X| * eps
        assert s.ssd.sum() == pytest.approx(total - between, rel=1e-9, abs=1e-12 * total)
    assert s.quality.n_micro == m
    assert s.quality.within_share == pytest.approx(s.ssd.sum() / total if total > 0 else 0.0, rel=1e-9, abs=1e-15)
    assert 0.0 <= s.quality.within_share <= 1.0 + 1e-12
    assert s.quality.max_radius == pytest.approx(np.sqrt(ssd / counts).max(), rel=1e-9, abs=1e-15)
    if m >= 2:
        assert s.Z.shape == (m - 1, 4) and is_valid_linkage(s.Z) and s.Z[-1, 3] == m
        np.testing.assert_array_equal(s.Z, hclust.linkage(s.means, s.method, weights=s.counts))


def test_summary_properties_birch() -> None:
    X, _ = blobs(3000, seed=1)
    s = summarize(X, n_micro=200)
    assert 50 <= s.n_micro <= 200
    check_summary(s, X, np.ones(len(X)))
    assert s.quality.max_radius <= s.quality.threshold * (1 + 1e-9)


def test_summary_recovers_blobs() -> None:
    X, truth = blobs(2000, k=4, seed=3, scale=30.0)
    s = summarize(X, n_micro=100)
    for k in range(1, 5):
        labels = s.labels(k)
        assert labels.shape == (2000,) and len(np.unique(labels)) == k
        np.testing.assert_array_equal(labels, s.micro_labels(k)[s.labels_])
    assert adjusted_rand_score(truth, s.labels(4)) == 1.0


@pytest.mark.parametrize("method", ["ward", "average", "centroid", "complete", "single"])
def test_summary_exact_with_one_row_per_micro_cluster(method: str) -> None:
    X, _ = blobs(120, seed=5)
    s = summarize(X, threshold=0.0, method=method)
    assert s.n_micro == 120 and s.quality.within_share == 0.0
    Z = hclust.linkage(X, method)
    for k in (2, 3, 5, 10, 40):
        assert adjusted_rand_score(cut(Z, n_clusters=k), s.labels(k)) == 1.0


def test_summary_weights_equal_repeated_rows() -> None:
    X, _ = blobs(80, seed=7)
    w = np.random.default_rng(7).integers(1, 4, size=80)
    weighted = summarize(X, threshold=0.0, weights=w)
    repeated = summarize(np.repeat(X, w, axis=0), threshold=0.0)
    check_summary(weighted, X, w.astype(float))
    np.testing.assert_allclose(weighted.counts, repeated.counts)
    np.testing.assert_allclose(weighted.means, repeated.means, rtol=1e-12)
    np.testing.assert_allclose(weighted.Z, repeated.Z, rtol=1e-12)


def test_summary_duplicates_collapse() -> None:
    X = np.repeat(np.arange(10.0)[:, None] * np.array([[1.0, 2.0]]), 5, axis=0)
    s = summarize(X, threshold=0.0)
    assert s.n_micro == 10 and (s.counts == 5).all() and (s.ssd == 0).all()
    check_summary(s, X, np.ones(len(X)))


def test_summary_threshold_only() -> None:
    X, _ = blobs(1500, seed=11)
    s = summarize(X, threshold=1.0, branching_factor=8)
    assert s.quality.threshold == 1.0
    assert s.quality.max_radius <= 1.0 * (1 + 1e-9)
    check_summary(s, X, np.ones(len(X)))


def test_summary_kmeans() -> None:
    X, truth = blobs(1000, seed=13, scale=30.0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=1000)
    s = summarize(X, n_micro=40, algorithm="kmeans", weights=w, random_state=1)
    assert s.n_micro == 40 and np.isnan(s.quality.threshold)
    check_summary(s, X, w)
    assert adjusted_rand_score(truth, s.labels(4)) == 1.0
    again = summarize(X, n_micro=40, algorithm="kmeans", weights=w, random_state=1)
    np.testing.assert_array_equal(s.labels_, again.labels_)


def test_summary_far_from_origin_is_stable() -> None:
    X, _ = blobs(2000, seed=17)
    s0 = summarize(X, n_micro=100)
    s1 = summarize(X + 1e9, n_micro=100)
    # Same tree decisions are not guaranteed (rounding of the shifted data), but
    # the statistics stay exact: no cancellation from raw sums of squares.
    check_summary(s1, X + 1e9, np.ones(len(X)), identity=False)
    assert s1.ssd.sum() == pytest.approx(s0.ssd.sum(), rel=0.5)


def test_summary_progress_and_determinism() -> None:
    X, _ = blobs(500, seed=19)
    calls: list[tuple[int, int]] = []
    s = summarize(X, n_micro=30, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (500, 500)
    np.testing.assert_array_equal(s.labels_, summarize(X, n_micro=30).labels_)


def test_summary_small_edge_cases() -> None:
    s = summarize(np.array([[0.0, 0.0], [0.0, 0.0]]))
    assert s.n_micro == 1 and s.Z.shape == (0, 4)
    np.testing.assert_array_equal(s.labels(1), [0, 0])
    s = summarize(np.array([[0.0], [1.0], [5.0]]), n_micro=1)
    assert s.n_micro == 1 and s.counts[0] == 3
    assert s.quality.within_share == 1.0


def test_summary_bad_input() -> None:
    X, _ = blobs(50)
    with pytest.raises(ValueError, match="NaN"):
        summarize(np.array([[1.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="at least 2"):
        summarize(np.ones((1, 3)))
    with pytest.raises(ValueError, match="more than the 50 rows"):
        summarize(X, n_micro=51)
    with pytest.raises(ValueError, match="n_micro must be a positive integer"):
        summarize(X, n_micro=0)
    with pytest.raises(ValueError, match="threshold must be a finite radius"):
        summarize(X, threshold=-1.0)
    with pytest.raises(ValueError, match="threshold must be a finite radius"):
        summarize(X, threshold=float("nan"))
    with pytest.raises(TypeError, match="threshold must be a number"):
        summarize(X, threshold="big")
    with pytest.raises(ValueError, match="threshold applies to algorithm='birch'"):
        summarize(X, n_micro=5, threshold=1.0, algorithm="kmeans")
    with pytest.raises(ValueError, match="needs n_micro"):
        summarize(X, algorithm="kmeans")
    with pytest.raises(ValueError, match="Unknown method"):
        summarize(X, method="median")
    with pytest.raises(ValueError, match="Unknown algorithm"):
        summarize(X, algorithm="dbscan")
    with pytest.raises(ValueError, match="branching_factor"):
        summarize(X, branching_factor=1)
    with pytest.raises(ValueError, match="weights must be positive"):
        summarize(X, weights=np.zeros(50))
    with pytest.raises(ValueError, match="weights must have shape"):
        summarize(X, weights=np.ones(3))
    with pytest.raises(TypeError, match="progress"):
        summarize(X, progress=3)
    s = summarize(X, n_micro=10)
    with pytest.raises(ValueError, match="between 1 and the number of micro-clusters"):
        s.labels(s.n_micro + 1)


@settings(deadline=None, max_examples=25)
@given(
    n=st.integers(2, 300),
    d=st.integers(1, 4),
    branching=st.integers(2, 6),
    fraction=st.floats(0.01, 1.0),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_summary_property(n: int, d: int, branching: int, fraction: float, weighted: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, d)), 1)  # some duplicates
    w = rng.uniform(0.1, 3.0, size=n) if weighted else np.ones(n)
    n_micro = max(1, int(fraction * n))
    s = summarize(X, n_micro=n_micro, weights=w if weighted else None, branching_factor=branching)
    assert s.n_micro <= n_micro
    check_summary(s, X, w)


def check_cf_tree(tree: _CFTree) -> None:
    """Inner entries summarise their child node (Chan merges agree with direct sums)."""
    stack = [int(tree.meta[2])]
    while stack:
        node = stack.pop()
        if tree.node_leaf[node]:
            continue
        for e in tree.node_entries[node, : tree.node_n[node]]:
            child = int(tree.e_child[e])
            kids = tree.node_entries[child, : tree.node_n[child]]
            counts, means, ssds = tree.e_count[kids], tree.e_mean[kids], tree.e_ssd[kids]
            total = counts.sum()
            mean = (counts[:, None] * means).sum(axis=0) / total
            ssd = ssds.sum() + (counts * ((means - mean) ** 2).sum(axis=1)).sum()
            assert tree.e_count[e] == pytest.approx(total, rel=1e-12)
            np.testing.assert_allclose(tree.e_mean[e], mean, rtol=1e-10, atol=1e-12)
            assert tree.e_ssd[e] == pytest.approx(ssd, rel=1e-9, abs=1e-12)
            stack.append(child)


def test_cf_tree_invariants() -> None:
    X, _ = blobs(2000, d=2, seed=23)
    tree = _CFTree(2, 4, 8, 16)
    labels = np.empty(len(X), dtype=np.int64)
    done = 0
    while done < len(X):
        done, status = _cf.cf_insert_rows(X, np.ones(len(X)), done, len(X), 0.25, 10**9, *tree.arrays(), labels)
        if status == _cf.STATUS_GROW:
            tree.grow()
    assert tree.meta[4] >= 3  # several levels: splits of leaves and inner nodes happened
    check_cf_tree(tree)
    slots = tree.leaf_slots()
    assert len(slots) == tree.meta[3]
    for slot in slots[:50]:
        rows = X[labels == slot]
        assert tree.e_count[slot] == len(rows)
        np.testing.assert_allclose(tree.e_mean[slot], rows.mean(axis=0), rtol=1e-12, atol=1e-12)
        assert tree.e_ssd[slot] == pytest.approx(((rows - rows.mean(axis=0)) ** 2).sum(), rel=1e-9, abs=1e-12)
        assert tree.e_ssd[slot] <= 0.25 * tree.e_count[slot] * (1 + 1e-12)


def test_merge_moments() -> None:
    rng = np.random.default_rng(0)
    A = rng.normal(size=(7, 3)) + 1e8
    B = rng.normal(size=(4, 3)) + 1e8
    both = np.vstack([A, B])

    def moments(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mean = Y.mean(axis=0)
        return np.array([len(Y)], float), mean[None, :], np.array([((Y - mean) ** 2).sum()])

    n, mean, ssd = merge_moments(*moments(A), *moments(B))
    ref = moments(both)
    assert n[0] == 11
    np.testing.assert_allclose(mean, ref[1], rtol=1e-15)
    np.testing.assert_allclose(ssd, ref[2], rtol=1e-9)
