"""compare(): several clustering methods side by side on the same rows."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hclust import Comparison, compare
from hclust._compare import DEFAULT_METHODS


def _segments(n_per: int = 60, seed: int = 0, spread: float = 1.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Four customer segments in (age, income), well separated, with their true labels."""
    rng = np.random.default_rng(seed)
    centres = [(25.0, 30.0), (45.0, 80.0), (65.0, 40.0), (35.0, 130.0)]
    scales = [(3.0, 5.0), (4.0, 6.0), (3.0, 4.0), (4.0, 8.0)]
    parts = [
        rng.normal(centre, np.multiply(scale, spread), size=(n_per, 2))
        for centre, scale in zip(centres, scales)
    ]
    frame = pd.DataFrame(np.vstack(parts), columns=["age", "income"])
    # Standardise, as hclust.segment.Preparer would, so every method sees comparable scales.
    frame = (frame - frame.mean()) / frame.std(ddof=0)
    return frame, np.repeat(np.arange(4), n_per)


@pytest.fixture(scope="module")
def segments() -> tuple[pd.DataFrame, np.ndarray]:
    return _segments()


@pytest.fixture(scope="module")
def result(segments) -> Comparison:
    X, truth = segments
    return compare(X, 4, labels_true=truth)


def test_default_methods_and_columns(result, segments):
    assert list(result.table.index) == list(DEFAULT_METHODS)
    assert result.table.index.name == "method"
    for column in (
        "family", "status", "seconds", "n_clusters", "smallest_share", "largest_share",
        "noise_share", "silhouette", "calinski_harabasz", "davies_bouldin", "ari", "ami",
    ):
        assert column in result.table.columns
    assert (result.table["status"] == "ok").all()
    assert set(result.table.loc[["kmeans", "gmm", "birch", "dbscan"], "family"]) == {"scikit-learn"}
    assert set(result.table.loc[["ward", "single"], "family"]) == {"hclust"}
    assert (result.table["seconds"] >= 0).all()
    assert result.n_samples == len(segments[0]) and result.n_clusters == 4


def test_well_separated_segments_are_recovered(result):
    for method in ("kmeans", "gmm", "ward", "birch"):
        assert result.table.loc[method, "ari"] == pytest.approx(1.0, abs=1e-9), method
        assert result.table.loc[method, "ami"] == pytest.approx(1.0, abs=1e-9), method
        assert result.table.loc[method, "n_clusters"] == 4
        assert result.table.loc[method, "smallest_share"] == pytest.approx(0.25)
        assert result.table.loc[method, "largest_share"] == pytest.approx(0.25)
    assert result.table.loc["ward", "silhouette"] > 0.6
    assert result.table.loc["ward", "davies_bouldin"] < 0.6


def test_silhouette_matches_scikit_learn(result, segments):
    from sklearn.metrics import silhouette_score

    X = segments[0].to_numpy()
    for method, labels in result.labels.items():
        kept = labels >= 0  # DBSCAN's noise is left out
        expected = silhouette_score(X[kept], labels[kept])
        assert result.table.loc[method, "silhouette"] == pytest.approx(expected, abs=1e-12), method


def test_labels_are_first_appearance_ints(result, segments):
    n = len(segments[0])
    for method, labels in result.labels.items():
        assert labels.dtype == np.int64 and labels.shape == (n,)
        clustered = labels[labels >= 0]
        assert clustered[0] == 0
        first = [int(v) for v in pd.unique(clustered)]
        assert first == list(range(len(first))), method


def test_agreement_matrix(result):
    agreement = result.agreement
    assert list(agreement.index) == list(agreement.columns) == list(DEFAULT_METHODS)
    values = agreement.to_numpy()
    np.testing.assert_allclose(values, values.T)
    np.testing.assert_array_equal(np.diag(values), 1.0)
    assert agreement.loc["kmeans", "ward"] == pytest.approx(1.0)
    assert ((values >= -1.0) & (values <= 1.0)).all()


def test_notes_and_text(result):
    notes = " ".join(result.notes)
    assert "DBSCAN eps=" in notes and "min_samples=4" in notes
    assert "BIRCH threshold=" in notes
    assert "noise points are left out" in notes
    text = str(result)
    assert text == result.to_string()
    assert "Agreement" in text and "ward" in text and "Notes:" in text


def test_to_dict_is_json(result):
    data = result.to_dict()
    again = json.loads(json.dumps(data, allow_nan=False))
    assert [row["method"] for row in again["table"]] == list(DEFAULT_METHODS)
    assert again["agreement"]["methods"] == list(DEFAULT_METHODS)
    assert again["labels"]["ward"] == result.labels["ward"].tolist()
    assert again["n_clusters"] == 4 and again["notes"] == result.notes


def test_methods_subset_and_order(segments):
    X, _ = segments
    out = compare(X, 4, methods=["ward", "kmeans", "centroid"])
    assert list(out.table.index) == ["ward", "kmeans", "centroid"]
    assert "ari" not in out.table.columns
    assert set(out.labels) == {"ward", "kmeans", "centroid"}
    assert list(compare(X, 4, methods="single").table.index) == ["single"]


def test_dbscan_noise(segments):
    X, truth = segments
    outlier = pd.DataFrame({"age": [40.0], "income": [40.0]})  # far from every segment
    data = pd.concat([X, outlier], ignore_index=True)
    out = compare(data, 4, methods=["dbscan"], labels_true=np.append(truth, 9))
    labels = out.labels["dbscan"]
    assert labels[-1] == -1
    noise = float((labels == -1).mean())
    assert out.table.loc["dbscan", "noise_share"] == pytest.approx(noise)
    assert noise < 0.2
    assert out.table.loc["dbscan", "n_clusters"] == len(set(labels[labels >= 0]))
    # Shares count all rows, so clusters and noise add up to 1 at most.
    assert out.table.loc["dbscan", "largest_share"] <= 1.0 - noise
    assert any("noise point" in note and "labelled -1" in note for note in out.notes)
    # The indices leave the noise out: the same as scoring the clustered rows alone.
    from sklearn.metrics import calinski_harabasz_score

    kept = labels >= 0
    assert out.table.loc["dbscan", "calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(data.to_numpy()[kept], labels[kept])
    )


def test_dbscan_eps_given(segments):
    X, _ = segments
    out = compare(X, 4, methods=["dbscan"], dbscan_eps=1e-6)
    # So small a radius leaves every row alone: all noise, no index defined.
    assert out.table.loc["dbscan", "noise_share"] == 1.0
    assert out.table.loc["dbscan", "n_clusters"] == 0
    assert math.isnan(out.table.loc["dbscan", "silhouette"])
    assert any("as given" in note for note in out.notes)


def test_one_cluster_gives_nan_not_a_crash(segments):
    X, truth = segments
    out = compare(X, 1, methods=["kmeans", "ward"], labels_true=truth)
    for method in ("kmeans", "ward"):
        row = out.table.loc[method]
        assert row["n_clusters"] == 1 and row["status"] == "ok"
        for column in ("silhouette", "calinski_harabasz", "davies_bouldin"):
            assert math.isnan(row[column])
        assert row["ari"] == pytest.approx(0.0)
    json.dumps(out.to_dict(), allow_nan=False)


def test_silhouette_sample(segments):
    X, _ = segments
    full = compare(X, 4, methods=["ward"])
    sampled = compare(X, 4, methods=["ward"], silhouette_sample_size=100, random_state=3)
    again = compare(X, 4, methods=["ward"], silhouette_sample_size=100, random_state=3)
    assert not any("sample" in note for note in full.notes)
    assert any("silhouette on a random sample of 100 of 240 rows (seed 3)" in n for n in sampled.notes)
    assert sampled.table.loc["ward", "silhouette"] == again.table.loc["ward", "silhouette"]
    assert sampled.table.loc["ward", "silhouette"] != full.table.loc["ward", "silhouette"]
    assert sampled.table.loc["ward", "silhouette"] == pytest.approx(
        full.table.loc["ward", "silhouette"], abs=0.05
    )
    from sklearn.metrics import silhouette_score

    rows = np.sort(np.random.default_rng(3).choice(240, size=100, replace=False))
    labels = sampled.labels["ward"]
    assert sampled.table.loc["ward", "silhouette"] == pytest.approx(
        silhouette_score(X.to_numpy()[rows], labels[rows]), abs=1e-12
    )
    # Indices other than the silhouette always use every row.
    assert sampled.table.loc["ward", "calinski_harabasz"] == full.table.loc["ward", "calinski_harabasz"]


def test_memory_failure_is_reported(segments, monkeypatch):
    X, truth = segments
    # hclust._validation.available_memory reads this on every call: 160 kB usable is
    # too little for the 229 kB condensed matrix of 240 rows, enough for vector
    # ward's arrays (about 0.1 MB).
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "200000")
    out = compare(X, 4, methods=["kmeans", "average", "ward", "complete"], labels_true=truth)
    for method in ("average", "complete"):
        row = out.table.loc[method]
        assert row["status"] == "memory"
        assert math.isnan(row["seconds"]) and math.isnan(row["silhouette"]) and math.isnan(row["ari"])
        assert pd.isna(row["n_clusters"])
        assert method not in out.labels
        assert any(note.startswith(f"{method}: not run, it would not fit in memory") for note in out.notes)
        assert out.agreement[method].isna().all()
    assert out.table.loc["ward", "status"] == "ok"
    assert out.table.loc["ward", "ari"] == pytest.approx(1.0)
    assert out.agreement.loc["kmeans", "ward"] == pytest.approx(1.0)
    data = json.loads(json.dumps(out.to_dict(), allow_nan=False))
    average = next(row for row in data["table"] if row["method"] == "average")
    assert average["n_clusters"] is None and average["status"] == "memory"
    assert "-" in str(out)


def test_failing_method_is_reported(segments, monkeypatch):
    import importlib

    module = importlib.import_module("hclust._compare")

    def broken(*args, **kwargs):
        raise ValueError("the engine broke\non two lines")

    monkeypatch.setattr(module, "linkage", broken)
    X, truth = segments
    out = compare(X, 4, methods=["ward", "kmeans"], labels_true=truth)
    assert out.table.loc["ward", "status"] == "failed"
    assert math.isnan(out.table.loc["ward", "ari"])
    assert "ward: failed: the engine broke on two lines" in out.notes
    assert out.table.loc["kmeans", "ari"] == pytest.approx(1.0)


def test_method_warnings_become_notes():
    # Three distinct points cannot make four K-Means clusters: scikit-learn warns.
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5 + [[2.0, 0.0]] * 5)
    out = compare(X, 4, methods=["kmeans", "ward"])
    assert any(note.startswith("kmeans: warning: ConvergenceWarning") for note in out.notes)
    assert out.table.loc["ward", "n_clusters"] == 4


def test_progress(segments):
    X, _ = segments
    calls: list[tuple[int, int]] = []
    compare(X, 4, methods=["kmeans", "ward"], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]


def test_deterministic(segments):
    X, truth = segments
    a = compare(X, 4, methods=["kmeans", "gmm", "dbscan", "birch"], random_state=7)
    b = compare(X, 4, methods=["kmeans", "gmm", "dbscan", "birch"], random_state=7)
    for method in a.labels:
        np.testing.assert_array_equal(a.labels[method], b.labels[method])
    assert a.notes == b.notes


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_clusters": 0}, ValueError, "n_clusters=0 is out of range"),
        ({"n_clusters": 241}, ValueError, "between 1 and 240"),
        ({"n_clusters": 2.5}, TypeError, "n_clusters must be an integer"),
        ({"n_clusters": True}, TypeError, "n_clusters must be an integer"),
        ({"methods": ["kmedoids"]}, ValueError, "Unknown method 'kmedoids'; valid methods are: kmeans"),
        ({"methods": []}, ValueError, "methods is empty"),
        ({"methods": ["ward", "ward"]}, ValueError, "more than once"),
        ({"labels_true": np.zeros(3)}, ValueError, "one label per row"),
        ({"labels_true": np.full(240, np.nan)}, ValueError, "labels_true contains NaN"),
        ({"silhouette_sample_size": 1}, ValueError, "silhouette_sample_size"),
        ({"random_state": "seed"}, TypeError, "random_state"),
        ({"dbscan_eps": -1.0}, ValueError, "dbscan_eps"),
        ({"progress": "yes"}, TypeError, "progress"),
    ],
)
def test_bad_arguments(segments, kwargs, error, match):
    X, _ = segments
    arguments = {"n_clusters": 4, **kwargs}
    with pytest.raises(error, match=match):
        compare(X, **arguments)


def test_k_is_the_deprecated_name_of_n_clusters(segments):
    X, _ = segments
    with pytest.warns(FutureWarning, match=r"compare\(k=\.\.\.\) is deprecated .* use n_clusters=\.\.\. instead"):
        old = compare(X, k=4, methods=["ward"])
    assert old.n_clusters == 4
    np.testing.assert_array_equal(old.labels["ward"], compare(X, n_clusters=4, methods=["ward"]).labels["ward"])
    with pytest.raises(TypeError, match="got both k= and n_clusters="):
        compare(X, k=4, n_clusters=4)


def test_bad_data():
    good = np.random.default_rng(0).normal(size=(10, 2))
    bad = good.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN at row 3, column 1"):
        compare(bad, 2)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        compare(bad, 2)
    with pytest.raises(ValueError, match="at least 2"):
        compare(good[:1], 1)
    with pytest.raises(ValueError, match="2-D"):
        compare(good[:, 0], 2)
    with pytest.raises(TypeError, match="non-numeric"):
        compare(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}), 2)


@pytest.mark.shared
def test_mall_customers_ward_and_kmeans_agree(shared_data):
    frame = pd.read_csv(shared_data / "mall_customers" / "Mall_Customers.csv")
    X = frame[["Annual Income (k$)", "Spending Score (1-100)"]]
    out = compare(X, 5, methods=["kmeans", "ward", "gmm", "average", "single"])
    # Measured: ward vs K-Means ARI 0.94 on the raw features (both are in 1..140),
    # ward vs GMM 0.98; single linkage chains (one segment of 96 % of customers).
    assert out.agreement.loc["ward", "kmeans"] > 0.9
    assert out.agreement.loc["ward", "gmm"] > 0.9
    assert out.agreement.loc["ward", "single"] < 0.2
    for method in ("kmeans", "ward"):
        assert out.table.loc[method, "n_clusters"] == 5
        assert out.table.loc[method, "silhouette"] > 0.5
