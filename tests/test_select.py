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
from scipy.spatial.distance import squareform
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from hclust import linkage
from hclust.metrics import pdist
from hclust.select import CRITERIA, MIN_SEGMENT_SIZE, Evaluation, evaluate, min_segment_count, stability
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
    result = evaluate(Z, X, ks=range(1, 121), criteria=("wss",))
    for k in range(1, 121):
        expected = direct_wss(X, cut(Z, n_clusters=k))
        assert result.table.loc[k, "wss"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert result.table.loc[120, "wss"] == 0.0


@pytest.mark.parametrize("sample_size", [None, 200])
def test_silhouette_ch_db_equal_sklearn(noisy, sample_size):
    X, Z = noisy
    ks = [1, 2, 3, 5, 8, 119, 120]
    result = evaluate(Z, X, ks=ks, criteria=("silhouette", "calinski_harabasz", "davies_bouldin"), sample_size=sample_size)
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
    result = evaluate(Z, X, ks=[2, 3, 4], criteria=("silhouette",), sample_size=50, random_state=3, min_segment_size=None)
    assert result.silhouette_rows == 50
    assert (result.table["silhouette_rows"] == 50).all()
    assert result.reasons[0] == "Criteria on Euclidean distances: silhouette."
    assert any("silhouette (on a random sample of 50 of 120 rows)" in r for r in result.reasons)
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
    table = evaluate(Z, X, ks=[1, 2, 3, 4], criteria=("pseudo_t2",)).table
    assert table.loc[2, "pseudo_t2"] == pytest.approx(50.0, rel=1e-12)
    # k=3 -> 2 joins two singletons: undefined; k=4 as well; k=1 has no merge.
    assert math.isnan(table.loc[3, "pseudo_t2"])
    assert math.isnan(table.loc[4, "pseudo_t2"])
    assert math.isnan(table.loc[1, "pseudo_t2"])


def test_pseudo_t2_against_wss_differences(noisy):
    X, Z = noisy
    table = evaluate(Z, X, ks=range(2, 12), criteria=("pseudo_t2",)).table
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
    table = evaluate(Z, X, ks=ks, criteria=("height_jump",)).table
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
        linkage(X, method), X, ks=range(1, n + 1), criteria=("wss", "silhouette", "pseudo_t2", "height_jump")
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
    result = evaluate(linkage(X, "ward"), X, ks=range(1, 7), criteria=("gap",), n_refs=5)
    table = result.table
    assert result.picks["gap"] == 3
    assert np.isfinite(table.loc[1, "gap"])
    assert table.loc[1, "log_wk"] == pytest.approx(math.log(direct_wss(X, np.zeros(90, dtype=int))), rel=1e-12)
    assert (table["gap_sk"] >= 0).all()
    assert table.loc[3, "gap"] == pytest.approx(table.loc[3, "log_wk_ref"] - table.loc[3, "log_wk"], rel=1e-12)


def test_gap_on_one_blob_picks_one():
    X = np.random.default_rng(4).normal(size=(80, 2))
    result = evaluate(linkage(X, "ward"), X, ks=range(1, 6), criteria=("gap",), n_refs=5)
    assert result.picks["gap"] == 1


def test_gap_on_a_sample_is_reported_and_seeded():
    X = blobs(3, per=60)
    Z = linkage(X, "ward")
    first = evaluate(Z, X, ks=range(1, 6), criteria=("gap",), n_refs=4, gap_sample_size=90, random_state=2)
    second = evaluate(Z, X, ks=range(1, 6), criteria=("gap",), n_refs=4, gap_sample_size=90, random_state=2)
    assert first.picks["gap"] == 3
    assert (first.table["gap_rows"] == 90).all()
    pd.testing.assert_frame_equal(first.table, second.table)
    full = evaluate(Z, X, ks=range(1, 6), criteria=("gap",), n_refs=4, random_state=2)
    assert (full.table["gap_rows"] == 180).all()
    assert full.table.loc[2, "log_wk"] == pytest.approx(math.log(direct_wss(X, cut(Z, n_clusters=2))), rel=1e-12)
    with pytest.raises(ValueError, match="gap_sample_size=3 is smaller than the largest k"):
        evaluate(Z, X, ks=range(1, 6), criteria=("gap",), gap_sample_size=3)


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
    only_wss = evaluate(Z, X, ks=[4, 5], criteria=("wss", "pseudo_t2"))
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
    table = stability(X, "ward", n_clusters=3, n_boot=10)
    assert list(table.index) == [0, 1, 2]
    assert (table["jaccard_mean"] > 0.9).all()
    assert table.attrs["ari_mean"] > 0.9
    assert (table["size"] == 25).all()
    noise = np.random.default_rng(2).uniform(size=(75, 2))
    random_table = stability(noise, "ward", n_clusters=3, n_boot=10)
    assert random_table["jaccard_mean"].mean() < 0.9
    assert random_table.attrs["ari_mean"] < table.attrs["ari_mean"]


def test_stability_is_deterministic_for_a_seed():
    X = np.random.default_rng(5).normal(size=(60, 2))
    first = stability(X, "average", n_clusters=4, n_boot=5, random_state=11)
    second = stability(X, "average", n_clusters=4, n_boot=5, random_state=11)
    pd.testing.assert_frame_equal(first, second)
    assert first.attrs == second.attrs


def test_stability_matches_reference_jaccard():
    X = np.random.default_rng(6).normal(size=(40, 2))
    k, m = 3, 32
    table = stability(X, "complete", n_clusters=k, n_boot=3, random_state=0, sample_fraction=0.8)
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
    with pytest.raises(ValueError, match="Unknown criterion 'elbow'"):
        evaluate(Z, X, criteria=("elbow",))
    with pytest.raises(ValueError, match="sample_size must be an integer >= 2"):
        evaluate(Z, X, sample_size=1)
    with pytest.raises(ValueError, match="n_refs must be an integer >= 1"):
        evaluate(Z, X, n_refs=0)
    with pytest.raises(ValueError, match="X contains NaN"):
        stability(bad, n_clusters=2)
    with pytest.raises(ValueError, match=r"n_clusters=200 is out of range.*1\.\.96"):
        stability(X, n_clusters=200)
    with pytest.raises(ValueError, match="sample_fraction must be a number in"):
        stability(X, n_clusters=2, sample_fraction=1.5)
    with pytest.raises(ValueError, match="leaves 1 of 120 rows per subsample"):
        stability(X, n_clusters=1, sample_fraction=0.01)
    with pytest.raises(ValueError, match="Unknown method 'kmeans'"):
        stability(X, "kmeans", n_clusters=2)
    with pytest.raises(ValueError, match="Unknown method 'kmeans'"):
        evaluate(Z, X, method="kmeans")
    with pytest.raises(ValueError, match="n_boot must be an integer >= 1"):
        stability(X, n_clusters=2, n_boot=0)


def test_criteria_constant_lists_everything():
    assert set(CRITERIA) == {"wss", "silhouette", "calinski_harabasz", "davies_bouldin", "pseudo_t2", "gap", "height_jump"}


def test_old_names_still_work_with_a_future_warning(noisy):
    """metrics= (now criteria=), k= (now n_clusters=) and select.METRICS (now CRITERIA), until hclust 0.3."""
    import hclust.select

    X, Z = noisy
    new = evaluate(Z, X, ks=[2, 3], criteria=("wss",))
    with pytest.warns(FutureWarning, match=r"evaluate\(metrics=\.\.\.\) is deprecated .* use criteria=\.\.\."):
        old = evaluate(Z, X, ks=[2, 3], metrics=("wss",))
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.raises(TypeError, match="got both metrics= and criteria="):
        evaluate(Z, X, metrics=("wss",), criteria=("wss",))
    with pytest.warns(FutureWarning, match=r"stability\(k=\.\.\.\) is deprecated .* use n_clusters="):
        old_table = stability(X, "ward", k=2, n_boot=2)
    pd.testing.assert_frame_equal(old_table, stability(X, "ward", n_clusters=2, n_boot=2))
    with pytest.warns(FutureWarning, match="hclust.select.METRICS is deprecated"):
        assert hclust.select.METRICS == CRITERIA


# --------------------------------------------------------------------------- issue 19: distances, minimum size


def test_gh19_distance_criteria_equal_euclidean_ones_on_euclidean_distances(noisy):
    """On Euclidean distances, the distance-based silhouette, WSS, CH and pseudo-t² are the usual ones."""
    X, Z = noisy
    ks = [1, 2, 3, 5, 8, 119, 120]
    metrics = ("wss", "silhouette", "calinski_harabasz", "pseudo_t2")
    usual = evaluate(Z, X, ks=ks, criteria=metrics, min_segment_size=None).table
    for distances in (pdist(X), squareform(pdist(X))):
        table = evaluate(Z, distances, ks=ks, criteria=metrics, metric="precomputed", min_segment_size=None).table
        for column in ("wss", "silhouette", "calinski_harabasz", "pseudo_t2"):
            np.testing.assert_allclose(table[column], usual[column], rtol=1e-9, atol=1e-9, equal_nan=True)


def _naive_medoid_db(D: np.ndarray, labels: np.ndarray) -> float:
    clusters = np.unique(labels)
    medoids, spreads = [], []
    for c in clusters:
        members = np.flatnonzero(labels == c)
        within = D[np.ix_(members, members)].sum(axis=1)
        medoid = members[np.argmin(within)]
        medoids.append(medoid)
        spreads.append(D[medoid, members].mean())
    ratios = []
    for i, a in enumerate(medoids):
        ratios.append(max((spreads[i] + spreads[j]) / D[a, b] for j, b in enumerate(medoids) if j != i))
    return float(np.mean(ratios))


def test_gh19_distance_criteria_against_naive_formulas():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(70, 3))
    D = squareform(pdist(X, "cityblock"))
    Z = linkage(pdist(X, "cityblock"), "average")
    result = evaluate(Z, X, ks=[2, 3, 4, 6], metric="cityblock", min_segment_size=None)
    assert result.distance == "cityblock distances"
    same = evaluate(Z, D, ks=[2, 3, 4, 6], metric="precomputed", min_segment_size=None)
    pd.testing.assert_frame_equal(result.table, same.table)
    for k in (2, 3, 4, 6):
        labels = cut(Z, n_clusters=k)
        table = result.table
        assert table.loc[k, "silhouette"] == pytest.approx(silhouette_score(D, labels, metric="precomputed"), rel=1e-10)
        assert table.loc[k, "davies_bouldin"] == pytest.approx(_naive_medoid_db(D, labels), rel=1e-10)
        within = sum((D[np.ix_(labels == c, labels == c)] ** 2).sum() / (2 * (labels == c).sum()) for c in range(k))
        total = (D**2).sum() / (2 * 70)
        assert table.loc[k, "wss"] == pytest.approx(within, rel=1e-10)
        assert table.loc[k, "calinski_harabasz"] == pytest.approx((total - within) / (k - 1) / (within / (70 - k)), rel=1e-10)
    assert "gap" not in result.table.columns
    assert any(r.startswith("gap statistic: not computed (it needs Euclidean features") for r in result.reasons)
    assert result.reasons[0] == "Criteria on cityblock distances: silhouette, Calinski-Harabasz, Davies-Bouldin, height jump."
    assert any(r.startswith("Davies-Bouldin (medoid variant) is lowest at k=") for r in result.reasons)


def test_gh19_distance_criteria_on_a_sample_use_the_sampled_submatrix():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(90, 2))
    y = pdist(X, "cityblock")
    Z = linkage(y, "average")
    result = evaluate(Z, y, ks=[2, 3], metric="precomputed", sample_size=40, random_state=1, min_segment_size=None,
                      distance_name="Gower distances")
    rows = np.sort(np.random.default_rng(1).choice(90, size=40, replace=False))
    sub = squareform(y)[np.ix_(rows, rows)]
    for k in (2, 3):
        labels = cut(Z, n_clusters=k)[rows]
        assert result.table.loc[k, "silhouette"] == pytest.approx(
            silhouette_score(sub, labels, metric="precomputed"), rel=1e-10
        )
    assert result.silhouette_rows == 40
    assert result.reasons[0].startswith("Criteria on Gower distances: ")
    assert any("Calinski-Harabasz (pseudo-F) (on a random sample of 40 of 90 rows)" in r for r in result.reasons)


def test_gh19_every_voting_criterion_gives_a_reason():
    X = blobs(3)
    Z = linkage(X, "ward")
    result = evaluate(Z, X, ks=range(2, 6), criteria=("silhouette", "height_jump"))
    text = result.reasons
    assert text[0] == "Criteria on Euclidean distances: silhouette, height jump."
    assert text[1].startswith("Minimum segment size 5 customers (2% of 90, and at least 5)")
    assert [r.split(" ")[0] for r in text[2:7]] == ["silhouette", "Calinski-Harabasz:", "Davies-Bouldin:", "gap", "the"]
    assert "not computed (not among the criteria requested)" in text[3]
    assert text[-1].startswith("Recommended k=3")
    assert result.criteria == ["silhouette", "height_jump"]


def test_gh19_min_segment_size_excludes_outlier_splits():
    """A cut that splits off a few customers is never recommended; without a minimum it would be."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 2)), [[40.0, 40.0], [41.0, 40.0]]])
    Z = linkage(X, "average")
    free = evaluate(Z, X, ks=range(2, 5), criteria=("silhouette", "height_jump"), min_segment_size=None)
    assert free.recommended_k == 2 and sorted(np.bincount(cut(Z, n_clusters=2))) == [2, 200]
    guarded = evaluate(Z, X, ks=range(2, 5), criteria=("silhouette", "height_jump"))
    assert guarded.min_segment_size == 5
    assert guarded.table["smallest_segment"].tolist() == [2.0, 1.0, 1.0]
    assert guarded.table["meets_min_size"].tolist() == [0.0, 0.0, 0.0]
    assert guarded.recommended_k is None
    assert guarded.reasons[1].startswith("Minimum segment size 5 customers (2% of 202, and at least 5): k=2..4 excluded")
    assert guarded.reasons[-1].startswith("No recommendation: no k in 2..4 gives segments of at least 5 customers")
    assert json.loads(json.dumps(guarded.to_dict()))["recommended_k"] is None
    # weights count customers: each outlier row standing for 10 customers makes k=2 a candidate
    weights = np.r_[np.ones(200), 10.0, 10.0]
    weighted = evaluate(Z, X, ks=range(2, 5), criteria=("silhouette",), weights=weights)
    assert weighted.table.loc[2, "smallest_segment"] == 20.0 and weighted.recommended_k == 2


def test_gh19_min_segment_count_forms_and_errors():
    assert MIN_SEGMENT_SIZE == (0.02, 5)
    assert min_segment_count((0.02, 5), 100) == (5, "5 customers (2% of 100, and at least 5)")
    assert min_segment_count((0.02, 5), 1000)[0] == 20
    assert min_segment_count(0.1, 55) == (6, "6 customers (10% of 55)")
    assert min_segment_count(1, 55) == (1, "1 customer")
    assert min_segment_count(0, 55) == (0, "none") == min_segment_count(None, 55)
    for bad in (-1, 1.5, "5", (0.5,), (2.0, 5), (0.1, -1), True):
        with pytest.raises(ValueError, match="min_segment_size"):
            min_segment_count(bad, 100)


def test_gh19_evaluation_round_trip_and_old_format():
    X = blobs(3, per=20)
    result = evaluate(linkage(X, "ward"), X, ks=range(2, 5), n_refs=2, distance_name="Euclidean distances of 2 features")
    again = Evaluation.from_dict(json.loads(json.dumps(result.to_dict())))
    assert (again.distance, again.min_segment_size, again.recommended_k) == (result.distance, 5, 3)
    pd.testing.assert_frame_equal(again.table, result.table, check_dtype=False)
    old = result.to_dict()
    del old["distance"], old["min_segment_size"]
    legacy = Evaluation.from_dict(old)
    assert (legacy.distance, legacy.min_segment_size) == ("Euclidean distances", 0)


def test_gh19_bad_distances_are_explained(noisy):
    X, Z = noisy
    with pytest.raises(ValueError, match=r"needs an \(120, 120\) distance matrix"):
        evaluate(Z, X, metric="precomputed")
    D = squareform(pdist(X))
    D[2, 5] = np.nan
    with pytest.raises(ValueError, match="row 2, column 5"):
        evaluate(Z, D, metric="precomputed")
    with pytest.raises(ValueError, match="condensed distances of 120 rows have 7140 entries"):
        evaluate(Z, pdist(X)[:-1], metric="precomputed")
    with pytest.raises(ValueError, match="weights must be positive"):
        evaluate(Z, X, weights=np.zeros(120))


def test_gh19_distances_for_a_large_table_are_computed_on_the_sample_only():
    """A non-Euclidean metric above sample_size: m x m distances, with the whole data's parameters."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(120, 3)) * [1.0, 5.0, 20.0]
    Z = linkage(X, "average", "seuclidean")
    result = evaluate(Z, X, ks=[2, 3], metric="seuclidean", sample_size=50, random_state=2, min_segment_size=None)
    rows = np.sort(np.random.default_rng(2).choice(120, size=50, replace=False))
    D = squareform(pdist(X[rows], "seuclidean", V=np.var(X, axis=0, ddof=1)))
    for k in (2, 3):
        labels = cut(Z, n_clusters=k)[rows]
        expected = silhouette_score(D, labels, metric="precomputed") if len(set(labels)) > 1 else math.nan
        assert result.table.loc[k, "silhouette"] == pytest.approx(expected, rel=1e-10, nan_ok=True)
    assert result.silhouette_rows == 50


# ------------------------------------------------------------- summaries (within_ss)


@pytest.mark.parametrize("seed", range(4))
def test_summaries_weigh_silhouette_and_davies_bouldin_by_count(seed):
    """Rows that summarise customers (within_ss=): scikit-learn's indices on the means
    repeated by their counts, as if every customer sat at its summary's mean."""
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(seed)
    means = rng.normal(size=(int(rng.integers(8, 40)), int(rng.integers(1, 4))))
    counts = rng.integers(1, 7, size=means.shape[0]).astype(float)
    Z = linkage(means, "ward", weights=counts)
    ks = [2, 3, 4]
    got = evaluate(Z, means, ks=ks, weights=counts, within_ss=np.full(means.shape[0], 0.5),
                   criteria=("silhouette", "davies_bouldin"), min_segment_size=None).table
    repeats = counts.astype(int)
    customers = np.repeat(means, repeats, axis=0)
    for k in ks:
        labels = np.repeat(cut(Z, n_clusters=k), repeats)
        exact = silhouette_score(cdist(customers, customers), labels, metric="precomputed")
        assert got.at[k, "silhouette"] == pytest.approx(exact, rel=1e-12, abs=1e-15)
        assert got.at[k, "davies_bouldin"] == pytest.approx(davies_bouldin_score(customers, labels), rel=1e-12)
    # the means' own (unweighted) indices differ
    plain = evaluate(Z, means, ks=ks, criteria=("silhouette", "davies_bouldin"), min_segment_size=None).table
    assert not np.allclose(plain["silhouette"], got["silhouette"])
    assert not np.allclose(plain["davies_bouldin"], got["davies_bouldin"])


def test_summaries_silhouette_on_a_sample_keeps_the_counts():
    rng = np.random.default_rng(4)
    means = rng.normal(size=(300, 2))
    counts = rng.integers(1, 5, size=300).astype(float)
    Z = linkage(means, "ward", weights=counts)
    got = evaluate(Z, means, ks=[3], weights=counts, within_ss=np.zeros(300), sample_size=120,
                   criteria=("silhouette",), min_segment_size=None, random_state=1)
    rows = np.sort(np.random.default_rng(1).choice(300, size=120, replace=False))
    labels = cut(Z, n_clusters=3)[rows]
    repeats = counts[rows].astype(int)
    customers = np.repeat(means[rows], repeats, axis=0)
    from scipy.spatial.distance import cdist

    exact = silhouette_score(cdist(customers, customers), np.repeat(labels, repeats), metric="precomputed")
    assert got.silhouette_rows == 120
    assert got.table.at[3, "silhouette"] == pytest.approx(exact, rel=1e-12)
