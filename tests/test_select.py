"""Tests for hclust.select: indices along the tree, the recommendation, stability."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from hclust.linkage import linkage
from hclust.select import METRICS, Evaluation, evaluate, stability
from hclust.tree import cut


def blobs(n_centers: int, per: int = 30, d: int = 2, spread: float = 0.5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angles = 2.0 * np.pi * np.arange(n_centers) / n_centers
    centers = np.zeros((n_centers, d))
    centers[:, 0] = 20.0 * np.cos(angles)
    centers[:, 1] = 20.0 * np.sin(angles)
    return np.repeat(centers, per, axis=0) + spread * rng.normal(size=(n_centers * per, d))


def direct_wss(X: np.ndarray, labels: np.ndarray) -> float:
    total = 0.0
    for label in np.unique(labels):
        members = X[labels == label]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


@pytest.fixture(scope="module")
def noisy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    return X, linkage(X, "average")


# --------------------------------------------------------------------------- indices


def test_wss_equals_direct_computation_for_every_k(noisy):
    X, Z = noisy
    result = evaluate(Z, X, ks=range(1, 121), metrics=("wss",))
    for k in range(1, 121):
        expected = direct_wss(X, cut(Z, n_clusters=k))
        assert result.table.loc[k, "wss"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert result.table.loc[120, "wss"] == 0.0


@pytest.mark.parametrize("sample_size", [None, 200])
def test_silhouette_ch_db_equal_sklearn(noisy, sample_size):
    X, Z = noisy
    ks = [1, 2, 3, 5, 8, 119, 120]
    result = evaluate(Z, X, ks=ks, metrics=("silhouette", "calinski_harabasz", "davies_bouldin"), sample_size=sample_size)
    table = result.table
    assert result.silhouette_rows == 120
    for k in ks:
        if k in (1, 120):
            assert math.isnan(table.loc[k, "silhouette"])
            assert math.isnan(table.loc[k, "calinski_harabasz"])
            assert math.isnan(table.loc[k, "davies_bouldin"])
            continue
        labels = cut(Z, n_clusters=k)
        # sklearn's distances use the dot-product expansion (error ~1e-15 * |x|^2 / d),
        # ours are exact (cdist): agreement to 1e-10 rather than 1e-12.
        assert table.loc[k, "silhouette"] == pytest.approx(silhouette_score(X, labels), rel=1e-10, abs=1e-12)
        assert table.loc[k, "calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-12)
        assert table.loc[k, "davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-12)


def test_silhouette_is_sampled_above_sample_size_and_says_so(noisy):
    X, Z = noisy
    result = evaluate(Z, X, ks=[2, 3, 4], metrics=("silhouette",), sample_size=50, random_state=3)
    assert result.silhouette_rows == 50
    assert (result.table["silhouette_rows"] == 50).all()
    assert "random sample of 50 of 120 rows" in result.reasons[0]
    # The same seed draws the same rows as this reference.
    rows = np.sort(np.random.default_rng(3).choice(120, size=50, replace=False))
    for k in (2, 3, 4):
        labels = cut(Z, n_clusters=k)[rows]
        expected = silhouette_score(X[rows], labels) if len(np.unique(labels)) >= 2 else math.nan
        assert result.table.loc[k, "silhouette"] == pytest.approx(expected, rel=1e-10, nan_ok=True)


def test_pseudo_t2_hand_example():
    # 1-D: {0, 2} and {10, 12}. W_A = W_B = 2, W_AuB = 104 (around 6): (104 - 4) / (4 / 2) = 50.
    X = np.array([[0.0], [2.0], [10.0], [12.0]])
    Z = linkage(X, "ward")
    table = evaluate(Z, X, ks=[1, 2, 3, 4], metrics=("pseudo_t2",)).table
    assert table.loc[2, "pseudo_t2"] == pytest.approx(50.0, rel=1e-12)
    # k=3 -> 2 joins two singletons: undefined; k=4 as well; k=1 has no merge.
    assert math.isnan(table.loc[3, "pseudo_t2"])
    assert math.isnan(table.loc[4, "pseudo_t2"])
    assert math.isnan(table.loc[1, "pseudo_t2"])


def test_pseudo_t2_against_wss_differences(noisy):
    X, Z = noisy
    table = evaluate(Z, X, ks=range(2, 12), metrics=("pseudo_t2",)).table
    for k in range(2, 12):
        fine, coarse = cut(Z, n_clusters=k), cut(Z, n_clusters=k - 1)
        joined = [c for c in range(k - 1) if len(np.unique(fine[coarse == c])) == 2][0]
        a, b = np.unique(fine[coarse == joined])
        w_a, w_b = direct_wss(X[fine == a], fine[fine == a]), direct_wss(X[fine == b], fine[fine == b])
        w_union = direct_wss(X[coarse == joined], coarse[coarse == joined])
        n_ab = int((coarse == joined).sum())
        expected = (w_union - w_a - w_b) / ((w_a + w_b) / (n_ab - 2)) if n_ab > 2 and w_a + w_b > 0 else math.nan
        assert table.loc[k, "pseudo_t2"] == pytest.approx(expected, rel=1e-9, nan_ok=True)


def test_height_jump_equals_manual_differences(noisy):
    X, Z = noisy
    n = 120
    ks = [1, 2, 3, 7, 119, 120]
    table = evaluate(Z, X, ks=ks, metrics=("height_jump",)).table
    h = Z[:, 2]  # average linkage: monotone, rows in merge order
    for k in ks[1:]:
        low = h[n - k - 1] if k < n else 0.0
        assert table.loc[k, "height_high"] == h[n - k]
        assert table.loc[k, "height_low"] == low
        assert table.loc[k, "height_jump"] == h[n - k] - low
        if low > 0:
            assert table.loc[k, "height_ratio"] == h[n - k] / low
    assert math.isnan(table.loc[1, "height_jump"])
    assert table.loc[120, "height_ratio"] == math.inf  # low height 0 at k = n


@settings(deadline=None, max_examples=25, derandomize=True)
@given(
    X=arrays(np.float64, st.tuples(st.integers(3, 25), st.integers(1, 3)), elements=st.integers(-5, 5).map(float)),
    method=st.sampled_from(["single", "complete", "average", "ward", "centroid"]),
)
def test_properties_on_any_tree(X, method):
    n = X.shape[0]
    table = evaluate(
        linkage(X, method), X, ks=range(1, n + 1), metrics=("wss", "silhouette", "pseudo_t2", "height_jump")
    ).table
    wss = table["wss"].to_numpy()
    # Nested partitions: splitting a cluster never increases the within sum of squares.
    assert (np.diff(wss) <= 1e-9 * max(1.0, wss[0])).all()
    assert wss[-1] == 0.0
    silhouette = table["silhouette"].dropna().to_numpy()
    assert ((silhouette >= -1.0 - 1e-12) & (silhouette <= 1.0 + 1e-12)).all()
    assert (table["pseudo_t2"].dropna() >= 0).all()
    assert (table["height_jump"].dropna() >= 0).all()


# --------------------------------------------------------------------------- gap and recommendation


def test_gap_picks_three_blobs_and_handles_k1():
    X = blobs(3)
    result = evaluate(linkage(X, "ward"), X, ks=range(1, 7), metrics=("gap",), n_refs=5)
    table = result.table
    assert result.picks["gap"] == 3
    assert np.isfinite(table.loc[1, "gap"])
    assert table.loc[1, "log_wk"] == pytest.approx(math.log(direct_wss(X, np.zeros(90, dtype=int))), rel=1e-12)
    assert (table["gap_sk"] >= 0).all()
    assert table.loc[3, "gap"] == pytest.approx(table.loc[3, "log_wk_ref"] - table.loc[3, "log_wk"], rel=1e-12)


def test_gap_on_one_blob_picks_one():
    X = np.random.default_rng(4).normal(size=(80, 2))
    result = evaluate(linkage(X, "ward"), X, ks=range(1, 6), metrics=("gap",), n_refs=5)
    assert result.picks["gap"] == 1


def test_gap_on_a_sample_is_reported_and_seeded():
    X = blobs(3, per=60)
    Z = linkage(X, "ward")
    first = evaluate(Z, X, ks=range(1, 6), metrics=("gap",), n_refs=4, gap_sample_size=90, random_state=2)
    second = evaluate(Z, X, ks=range(1, 6), metrics=("gap",), n_refs=4, gap_sample_size=90, random_state=2)
    assert first.picks["gap"] == 3
    assert (first.table["gap_rows"] == 90).all()
    pd.testing.assert_frame_equal(first.table, second.table)
    full = evaluate(Z, X, ks=range(1, 6), metrics=("gap",), n_refs=4, random_state=2)
    assert (full.table["gap_rows"] == 180).all()
    assert full.table.loc[2, "log_wk"] == pytest.approx(math.log(direct_wss(X, cut(Z, n_clusters=2))), rel=1e-12)
    with pytest.raises(ValueError, match="gap_sample_size=3 is smaller than the largest k"):
        evaluate(Z, X, ks=range(1, 6), metrics=("gap",), gap_sample_size=3)


@pytest.mark.parametrize("n_centers", [3, 5])
def test_recommended_k_is_true_k_on_separated_blobs(n_centers):
    X = blobs(n_centers)
    result = evaluate(linkage(X, "ward"), X, ks=range(2, 10), n_refs=5)
    assert isinstance(result, Evaluation)
    assert result.recommended_k == n_centers
    assert set(result.picks) == {"silhouette", "calinski_harabasz", "davies_bouldin", "gap", "height_jump"}
    assert result.reasons[-1].startswith(f"Recommended k={n_centers}")
    assert list(result.table.index) == list(range(2, 10))
    assert result.table.index.name == "k"


def test_ties_go_to_smaller_k_and_no_vote_falls_back():
    X = blobs(3)
    Z = linkage(X, "ward")
    only_wss = evaluate(Z, X, ks=[4, 5], metrics=("wss", "pseudo_t2"))
    assert only_wss.recommended_k == 4
    assert "falling back" in only_wss.reasons[-1]


def test_to_dict_is_json_and_deterministic():
    X = blobs(3, per=20)
    Z = linkage(X, "ward")
    first = evaluate(Z, X, ks=range(1, 6), n_refs=3, random_state=7)
    second = evaluate(Z, X, ks=range(1, 6), n_refs=3, random_state=7)
    pd.testing.assert_frame_equal(first.table, second.table)
    data = first.to_dict()
    text = json.dumps(data)
    assert json.loads(text)["recommended_k"] == 3
    assert data["table"][0]["k"] == 1 and data["table"][0]["silhouette"] is None
    other = evaluate(Z, X, ks=range(1, 6), n_refs=3, random_state=8)
    assert not np.array_equal(first.table["gap"].to_numpy(), other.table["gap"].to_numpy())


# --------------------------------------------------------------------------- stability


def test_stability_high_for_blobs_lower_for_noise():
    X = blobs(3, per=25)
    table = stability(X, "ward", k=3, n_boot=10)
    assert list(table.index) == [0, 1, 2]
    assert (table["jaccard_mean"] > 0.9).all()
    assert table.attrs["ari_mean"] > 0.9
    assert (table["size"] == 25).all()
    noise = np.random.default_rng(2).uniform(size=(75, 2))
    random_table = stability(noise, "ward", k=3, n_boot=10)
    assert random_table["jaccard_mean"].mean() < 0.9
    assert random_table.attrs["ari_mean"] < table.attrs["ari_mean"]


def test_stability_is_deterministic_for_a_seed():
    X = np.random.default_rng(5).normal(size=(60, 2))
    first = stability(X, "average", k=4, n_boot=5, random_state=11)
    second = stability(X, "average", k=4, n_boot=5, random_state=11)
    pd.testing.assert_frame_equal(first, second)
    assert first.attrs == second.attrs


def test_stability_matches_reference_jaccard():
    X = np.random.default_rng(6).normal(size=(40, 2))
    k, m = 3, 32
    table = stability(X, "complete", k=k, n_boot=3, random_state=0, sample_fraction=0.8)
    original = cut(linkage(X, "complete"), n_clusters=k)
    rng = np.random.default_rng(0)
    best = [[] for _ in range(k)]
    for _ in range(3):
        rows = np.sort(rng.choice(40, size=m, replace=False))
        labels = cut(linkage(X[rows], "complete"), n_clusters=k)
        for c in range(k):
            mine = set(rows[original[rows] == c])
            if not mine:
                continue
            scores = []
            for d in range(k):
                theirs = set(rows[labels == d])
                scores.append(len(mine & theirs) / len(mine | theirs))
            best[c].append(max(scores))
    for c in range(k):
        assert table.loc[c, "jaccard_mean"] == pytest.approx(np.mean(best[c]), rel=1e-12)


# --------------------------------------------------------------------------- bad input


def test_bad_input_gives_clear_errors(noisy):
    X, Z = noisy
    with pytest.raises(ValueError, match=r"ks contains 0, which is out of range.*1 to 120"):
        evaluate(Z, X, ks=[0, 2])
    with pytest.raises(ValueError, match=r"ks contains 121"):
        evaluate(Z, X, ks=[121])
    with pytest.raises(ValueError, match="ks is empty"):
        evaluate(Z, X, ks=[])
    with pytest.raises(TypeError, match="ks must hold integers"):
        evaluate(Z, X, ks=[2.5])
    with pytest.raises(ValueError, match="Z has 120 leaves but X has 119 rows"):
        evaluate(Z, X[:-1])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN at row 3, column 1"):
        evaluate(Z, bad)
    with pytest.raises(ValueError, match="Unknown metric 'elbow'"):
        evaluate(Z, X, metrics=("elbow",))
    with pytest.raises(ValueError, match="sample_size must be an integer >= 2"):
        evaluate(Z, X, sample_size=1)
    with pytest.raises(ValueError, match="n_refs must be an integer >= 1"):
        evaluate(Z, X, n_refs=0)
    with pytest.raises(ValueError, match="X contains NaN"):
        stability(bad, k=2)
    with pytest.raises(ValueError, match=r"k=200 is out of range.*1\.\.96"):
        stability(X, k=200)
    with pytest.raises(ValueError, match="sample_fraction must be a number in"):
        stability(X, k=2, sample_fraction=1.5)
    with pytest.raises(ValueError, match="leaves 1 of 120 rows per subsample"):
        stability(X, k=1, sample_fraction=0.01)
    with pytest.raises(ValueError, match="Unknown method 'kmeans'"):
        stability(X, "kmeans", k=2)
    with pytest.raises(ValueError, match="Unknown method 'kmeans'"):
        evaluate(Z, X, method="kmeans")
    with pytest.raises(ValueError, match="n_boot must be an integer >= 1"):
        stability(X, k=2, n_boot=0)


def test_metrics_constant_lists_everything():
    assert set(METRICS) == {"wss", "silhouette", "calinski_harabasz", "davies_bouldin", "pseudo_t2", "gap", "height_jump"}
