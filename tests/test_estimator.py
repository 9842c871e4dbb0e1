"""Tests of hclust.estimator.HierarchicalClustering."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster
from scipy.cluster.hierarchy import linkage as scipy_linkage
from scipy.spatial.distance import cdist as scipy_cdist
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

import hclust.estimator as estimator_module
from hclust.estimator import HierarchicalClustering
from hclust import linkage
from hclust.tree import cut, is_monotonic

METHODS = ("single", "complete", "average", "weighted", "ward", "centroid", "median", "flexible")
SQUARED = ("ward", "centroid", "median")  # Lance-Williams on squared Euclidean distances

# --------------------------------------------------------------------- helpers


def tie_free(n: int, d: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * 2.0 + rng.integers(0, 3, size=(n, 1)) * 6.0


def blobs(n_per: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, 20.0, 20.0]])
    X = np.vstack([c + rng.standard_normal((n_per, 3)) for c in centres])
    return X, np.repeat(np.arange(3), n_per)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to renaming the labels."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def undo_last_merges(Z: np.ndarray, n_undone: int) -> np.ndarray:
    """scikit-learn's cut: the clusters left when the last ``n_undone`` merges are undone (naive)."""
    n = Z.shape[0] + 1
    members = [{i} for i in range(n)]
    for row in Z[: n - 1 - n_undone]:
        members.append(members[int(row[0])] | members[int(row[1])])
        members[int(row[0])] = members[int(row[1])] = set()
    labels = np.empty(n, dtype=np.int64)
    for label, group in enumerate(g for g in members if g):
        labels[list(group)] = label
    return labels


def lance_williams_scores(Z: np.ndarray, roots: np.ndarray, d_leaf: np.ndarray, method: str, beta: float) -> np.ndarray:
    """Distance of a new singleton to every tree node, by the textbook Lance-Williams update.

    ``d_leaf`` holds the distances to the leaves (squared for ward/centroid/median);
    the new point has size 1; merge heights are squared for the squared methods.
    """
    n = d_leaf.shape[0]
    dist = list(d_leaf)
    size = [1.0] * n
    for row in Z:
        a, b = int(row[0]), int(row[1])
        dab = row[2] ** 2 if method in SQUARED else row[2]
        da, db, na, nb = dist[a], dist[b], size[a], size[b]
        if method == "single":
            value = min(da, db)
        elif method == "complete":
            value = max(da, db)
        elif method == "average":
            value = (na * da + nb * db) / (na + nb)
        elif method == "weighted":
            value = (da + db) / 2
        elif method == "ward":
            value = ((na + 1) * da + (nb + 1) * db - dab) / (na + nb + 1)
        elif method == "centroid":
            value = (na * da + nb * db) / (na + nb) - na * nb * dab / (na + nb) ** 2
        elif method == "median":
            value = (da + db) / 2 - dab / 4
        else:  # flexible
            value = (1 - beta) / 2 * (da + db) + beta * dab
        dist.append(value)
        size.append(na + nb)
    return np.array(dist)[roots]


def segment_roots(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Node covering exactly each segment, found from the leaf sets (independent of the estimator)."""
    n = labels.shape[0]
    members: list[frozenset[int]] = [frozenset([i]) for i in range(n)]
    for row in Z:
        members.append(members[int(row[0])] | members[int(row[1])])
    index = {m: node for node, m in enumerate(members)}
    return np.array([index[frozenset(np.flatnonzero(labels == s).tolist())] for s in range(labels.max() + 1)])


# --------------------------------------------------------------- sklearn suite

CHECKED = [
    HierarchicalClustering(),
    HierarchicalClustering(linkage="average", n_clusters=3),
    HierarchicalClustering(linkage="single"),
    HierarchicalClustering(linkage="complete", metric="cityblock"),
    HierarchicalClustering(linkage="weighted"),
    HierarchicalClustering(linkage="centroid"),
    HierarchicalClustering(linkage="median"),
    HierarchicalClustering(linkage="flexible"),
    HierarchicalClustering(linkage="average", metric="precomputed"),
]

def expected_failures(estimator: HierarchicalClustering) -> dict[str, str]:
    """Only where scikit-learn's own AgglomerativeClustering fails the same check.

    AgglomerativeClustering(linkage="average", metric="precomputed") fails
    check_clustering too (checked by test_sklearn_declares_the_same_failures).
    """
    if estimator.metric == "precomputed":
        return {"check_clustering": PRECOMPUTED_CLUSTERING}
    return {}


PRECOMPUTED_CLUSTERING = "check_clustering fits on 2-feature observations, not on a square distance matrix."


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ fitting


@pytest.mark.parametrize("method", METHODS)
def test_fit_matches_linkage_and_scipy(method):
    X = tie_free(40, seed=1)
    model = HierarchicalClustering(n_clusters=4, linkage=method).fit(X)
    Z = model.linkage_matrix_
    np.testing.assert_array_equal(Z, linkage(X, method))
    assert same_partition(model.labels_, undo_last_merges(Z, 3))
    if is_monotonic(Z):
        assert same_partition(model.labels_, cut(Z, n_clusters=4))
    # segments numbered by their lexicographically smallest row
    order = np.lexsort(X.T[::-1])
    _, first = np.unique(model.labels_[order], return_index=True)
    np.testing.assert_array_equal(model.labels_[order][np.sort(first)], np.arange(4))
    np.testing.assert_array_equal(model.children_, Z[:, :2].astype(np.intp))
    np.testing.assert_array_equal(model.distances_, Z[:, 2])
    assert model.n_leaves_ == 40 and model.n_connected_components_ == 1
    assert model.labels_.dtype == np.int64
    assert model.n_clusters_ == 4
    assert model.n_features_in_ == 3
    if method != "flexible" and is_monotonic(Z):
        Z_scipy = scipy_linkage(X, method)
        assert same_partition(model.labels_, fcluster(Z_scipy, 4, "maxclust"))
    assert model.segment_sizes_.sum() == 40
    np.testing.assert_array_equal(model.segment_sizes_, np.bincount(model.labels_))
    for s in range(4):
        np.testing.assert_allclose(model.centroids_[s], X[model.labels_ == s].mean(axis=0), rtol=1e-12)


def test_distance_threshold_cuts_at_height():
    X = tie_free(30, seed=2)
    model = HierarchicalClustering(n_clusters=None, distance_threshold=5.0, linkage="average").fit(X)
    expected = cut(model.linkage_matrix_, height=5.0)
    assert same_partition(model.labels_, expected)
    assert model.n_clusters_ == expected.max() + 1
    assert same_partition(model.labels_, fcluster(scipy_linkage(X, "average"), 5.0, "distance"))


def test_cut_method_and_fit_predict():
    X = tie_free(25, seed=3)
    model = HierarchicalClustering(n_clusters=3, linkage="complete")
    with pytest.raises(NotFittedError):
        model.cut(n_clusters=2)
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.labels_)
    assert same_partition(model.cut(n_clusters=5), cut(model.linkage_matrix_, n_clusters=5))
    assert same_partition(model.cut(height=2.0), cut(model.linkage_matrix_, height=2.0))
    np.testing.assert_array_equal(model.cut(n_clusters=3), model.labels_)
    np.testing.assert_array_equal(model.labels_, labels)  # the fitted segments stay
    with pytest.raises(ValueError, match="exactly one"):
        model.cut()
    with pytest.raises(ValueError, match="from 1 to 25; got 26"):
        model.cut(n_clusters=26)


def test_dataframe_feature_names():
    X = tie_free(20, seed=4)
    frame = pd.DataFrame(X, columns=["recency", "frequency", "monetary"])
    model = HierarchicalClustering(n_clusters=3).fit(frame)
    np.testing.assert_array_equal(model.feature_names_in_, ["recency", "frequency", "monetary"])
    labels = model.predict(frame)
    with pytest.warns(UserWarning, match="fitted with feature names"):
        np.testing.assert_array_equal(model.predict(X), labels)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame[["monetary", "recency", "frequency"]])


# ------------------------------------------------------------------ predict


@pytest.mark.parametrize(
    ("method", "beta", "n_clusters"),
    [(method, -0.25, 4) for method in METHODS] + [("flexible", 0.3, 3), ("weighted", -0.25, 1)],
)
def test_predict_is_lance_williams_join(method, beta, n_clusters):
    """predict = argmin over segments of the Lance-Williams distance of {x} to the segment."""
    X = tie_free(35, seed=5)
    X_new = np.random.default_rng(6).uniform(-4, 16, size=(20, 3))
    model = HierarchicalClustering(n_clusters=n_clusters, linkage=method, beta=beta).fit(X)
    Z = model.linkage_matrix_
    roots = segment_roots(Z, model.labels_)
    D = scipy_cdist(X_new, X, "sqeuclidean" if method in SQUARED else "euclidean")
    scores = np.array([lance_williams_scores(Z, roots, D[i], method, beta) for i in range(len(X_new))])
    np.testing.assert_array_equal(model.predict(X_new), scores.argmin(axis=1))
    if method in ("average", "weighted", "flexible"):
        # the unrolled linear form gives the recursion's values, not only its argmin
        np.testing.assert_allclose(model._scores(X_new), scores, rtol=1e-12)


def test_predict_single_returns_training_labels():
    # a training point's nearest training member is itself
    for seed in range(3):
        X = tie_free(50, d=4, seed=seed)
        model = HierarchicalClustering(n_clusters=5, linkage="single").fit(X)
        np.testing.assert_array_equal(model.predict(X), model.labels_)
    X = tie_free(40, seed=7)
    model = HierarchicalClustering(n_clusters=4, linkage="single", metric="seuclidean").fit(X)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


@pytest.mark.parametrize("method", ["ward", "centroid"])
def test_predict_centroids_returns_their_segment(method):
    X = tie_free(60, seed=8)
    weights = np.random.default_rng(9).integers(1, 5, size=60).astype(float)
    for sample_weight in (None, weights):
        model = HierarchicalClustering(n_clusters=6, linkage=method).fit(X, sample_weight=sample_weight)
        np.testing.assert_array_equal(model.predict(model.centroids_), np.arange(6))


@pytest.mark.parametrize("method", METHODS)
def test_predict_recovers_blobs(method):
    X, y = blobs(30, seed=10)
    X_new, y_new = blobs(10, seed=11)
    model = HierarchicalClustering(n_clusters=3, linkage=method).fit(X)
    assert same_partition(model.labels_, y)
    mapping = {int(y[i]): int(model.labels_[i]) for i in range(len(y))}
    np.testing.assert_array_equal(model.predict(X_new), [mapping[int(c)] for c in y_new])


def test_predict_precomputed_matches_vectors():
    X = tie_free(30, seed=12)
    X_new = tie_free(12, seed=13)
    for method in ("single", "complete", "average", "weighted"):
        vectors = HierarchicalClustering(n_clusters=3, linkage=method).fit(X)
        D = scipy_cdist(X, X)
        pre = HierarchicalClustering(n_clusters=3, linkage=method, metric="precomputed").fit(D)
        # precomputed segments are numbered by first appearance (no rows to sort)
        assert same_partition(pre.labels_, vectors.labels_)
        rename = dict(zip(pre.labels_.tolist(), vectors.labels_.tolist()))
        predicted = pre.predict(scipy_cdist(X_new, X))
        np.testing.assert_array_equal([rename[p] for p in predicted.tolist()], vectors.predict(X_new))


def test_predict_in_blocks(monkeypatch):
    X = tie_free(40, seed=14)
    X_new = np.random.default_rng(15).uniform(-4, 16, size=(33, 3))
    for method in ("average", "flexible", "ward"):
        model = HierarchicalClustering(n_clusters=4, linkage=method).fit(X)
        whole = model.predict(X_new)
        monkeypatch.setattr(estimator_module, "_BLOCK_ENTRIES", 100)  # blocks of 1-2 rows
        np.testing.assert_array_equal(model.predict(X_new), whole)
        monkeypatch.undo()


def test_sample_weight_equals_repetition():
    X = tie_free(20, seed=16)
    counts = np.random.default_rng(17).integers(1, 4, size=20)
    X_new = np.random.default_rng(18).uniform(-4, 16, size=(30, 3))
    for method in ("single", "complete", "average", "weighted", "ward", "centroid", "median"):
        weighted = HierarchicalClustering(n_clusters=3, linkage=method).fit(X, sample_weight=counts)
        repeated = HierarchicalClustering(n_clusters=3, linkage=method).fit(np.repeat(X, counts, axis=0))
        assert same_partition(weighted.labels_, repeated.labels_[np.cumsum(counts) - counts])
        assert same_partition(
            np.concatenate([weighted.labels_, weighted.predict(X_new)]),
            np.concatenate([repeated.labels_[np.cumsum(counts) - counts], repeated.predict(X_new)]),
        ), method


def test_weights_change_average_prediction():
    X = np.array([[0.0], [1.0], [10.0], [10.5]])
    model = HierarchicalClustering(n_clusters=2, linkage="average")
    # mean distances: segment 0 (5.2 + 4.2) / 2 = 4.7, segment 1 (4.8 + 5.3) / 2 = 5.05
    assert model.fit(X).predict([[5.2]])[0] == 0
    # weight 100 on the row at 0: segment 0 becomes (100 * 5.2 + 4.2) / 101 > 5.05
    assert model.fit(X, sample_weight=[100.0, 1.0, 1.0, 1.0]).predict([[5.2]])[0] == 1


def test_estimator_is_deterministic_and_clonable():
    X = tie_free(30, seed=19)
    a = HierarchicalClustering(n_clusters=3, linkage="ward").fit(X)
    b = clone(a).fit(X)
    np.testing.assert_array_equal(a.linkage_matrix_, b.linkage_matrix_)
    assert not hasattr(clone(a), "labels_")


# ------------------------------------------------------------------- errors


def test_parameter_errors_name_the_values():
    X = tie_free(10, seed=20)
    with pytest.raises(ValueError, match=r"n_clusters=3 and distance_threshold=1\.0"):
        HierarchicalClustering(n_clusters=3, distance_threshold=1.0).fit(X)
    with pytest.raises(ValueError, match="n_clusters=None and distance_threshold=None"):
        HierarchicalClustering(n_clusters=None).fit(X)
    with pytest.raises(ValueError, match=r"n_clusters=11 .* n_samples=10"):
        HierarchicalClustering(n_clusters=11).fit(X)
    with pytest.raises(ValueError, match="positive integer; got 0"):
        HierarchicalClustering(n_clusters=0).fit(X)
    with pytest.raises(ValueError, match="positive integer; got 2.5"):
        HierarchicalClustering(n_clusters=2.5).fit(X)
    with pytest.raises(ValueError, match=r">= 0; got -1\.0"):
        HierarchicalClustering(n_clusters=None, distance_threshold=-1.0).fit(X)
    with pytest.raises(ValueError, match="Unknown linkage 'wards'; valid values are: average, centroid"):
        HierarchicalClustering(linkage="wards").fit(X)
    with pytest.raises(ValueError, match="Unknown metric 'manhatan'; valid values are: braycurtis"):
        HierarchicalClustering(linkage="average", metric="manhatan").fit(X)
    with pytest.raises(ValueError, match="linkage='ward' needs metric='euclidean', not 'cityblock'"):
        HierarchicalClustering(metric="cityblock").fit(X)
    with pytest.raises(ValueError, match=re.escape("hclust.linkage(df, 'average', metric='gower')")):
        HierarchicalClustering(linkage="average", metric="gower").fit(X)
    with pytest.raises(ValueError, match=r"square distance matrix; got shape \(10, 3\)"):
        HierarchicalClustering(linkage="average", metric="precomputed").fit(X)


def test_data_errors():
    X = tie_free(10, seed=21)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        HierarchicalClustering().fit(bad)
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        HierarchicalClustering(n_clusters=1).fit(X[:1])
    model = HierarchicalClustering(n_clusters=2).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        model.predict(bad)
    with pytest.raises(ValueError, match="X has 2 features, but HierarchicalClustering is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="2D array"):
        model.predict(X[0])
    with pytest.raises(NotFittedError):
        HierarchicalClustering().predict(X)


def test_sample_weight_errors():
    X = tie_free(10, seed=22)
    with pytest.raises(ValueError, match=r"shape \(10,\), one weight per observation; got shape \(9,\)"):
        HierarchicalClustering().fit(X, sample_weight=np.ones(9))
    with pytest.raises(ValueError, match=r"finite and >= 0; sample_weight\[4\] = -1\.0"):
        HierarchicalClustering().fit(X, sample_weight=np.r_[np.ones(4), -1.0, np.ones(5)])
    with pytest.raises(ValueError, match=r"finite and >= 0; sample_weight\[2\] = nan"):
        HierarchicalClustering().fit(X, sample_weight=np.r_[np.ones(2), np.nan, np.ones(7)])
    with pytest.raises(ValueError, match="Every sample weight is zero"):
        HierarchicalClustering().fit(X, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="Only 1 observation.*non-zero sample weight"):
        HierarchicalClustering(n_clusters=1).fit(X, sample_weight=np.r_[1.0, np.zeros(9)])
    with pytest.raises(ValueError, match=r"n_clusters=4 .* n_samples=3 of positive weight"):
        HierarchicalClustering(n_clusters=4).fit(X, sample_weight=np.r_[np.ones(3), np.zeros(7)])
    with pytest.raises(ValueError, match=r"whole counts .* sample_weight\[1\] = 1\.5"):
        HierarchicalClustering(linkage="flexible").fit(X, sample_weight=np.r_[1.0, 1.5, np.ones(8)])


def test_flexible_counts_repeat_rows():
    X = tie_free(3, seed=25)
    model = HierarchicalClustering(n_clusters=2, linkage="flexible").fit(X, sample_weight=[2, 0, 1])
    np.testing.assert_array_equal(model.leaf_rows_, [0, 0, 2])
    assert model.labels_[0] != model.labels_[2]
    assert model.labels_[1] == model.predict(X[1:2])[0]


@pytest.mark.parametrize("method", METHODS)
def test_zero_weight_leaves_the_row_out(method):
    X = tie_free(30, seed=23)
    w = np.random.default_rng(24).integers(0, 3, size=30).astype(float)
    w[:2] = 1.0
    kept = np.flatnonzero(w > 0)
    model = HierarchicalClustering(n_clusters=3, linkage=method).fit(X, sample_weight=w)
    if method == "flexible":  # whole counts: rows repeated
        reference = HierarchicalClustering(n_clusters=3, linkage=method).fit(np.repeat(X, w.astype(int), axis=0))
        np.testing.assert_array_equal(model.leaf_rows_, np.repeat(np.arange(30), w.astype(int)))
    else:
        reference = HierarchicalClustering(n_clusters=3, linkage=method).fit(X[kept], sample_weight=w[kept])
        np.testing.assert_array_equal(model.leaf_rows_, kept)
    np.testing.assert_array_equal(model.linkage_matrix_, reference.linkage_matrix_)
    assert model.n_leaves_ == reference.n_leaves_
    # the kept rows keep their segments (same numbers: canonical), the others get predict's
    counts = w[kept].astype(int) if method == "flexible" else np.ones(kept.size, dtype=int)
    np.testing.assert_array_equal(model.labels_[kept], reference.labels_[np.cumsum(counts) - counts])
    np.testing.assert_array_equal(model.labels_[w == 0], reference.predict(X[w == 0]))
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    np.testing.assert_array_equal(model.cut(n_clusters=3), model.labels_)
    other = model.cut(n_clusters=5)
    assert other.shape == (30,) and set(other.tolist()) == set(range(5))


@pytest.mark.parametrize("method", METHODS)
def test_edges_two_rows_and_duplicates(method):
    model = HierarchicalClustering(n_clusters=2, linkage=method).fit(np.array([[0.0, 0.0], [1.0, 1.0]]))
    np.testing.assert_array_equal(model.labels_, [0, 1])
    np.testing.assert_array_equal(model.predict([[0.1, 0.0], [0.9, 1.2]]), [0, 1])
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [5.0, 5.0]], dtype=np.float32)
    model = HierarchicalClustering(n_clusters=2, linkage=method).fit(X)
    np.testing.assert_array_equal(model.labels_, [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    one = HierarchicalClustering(n_clusters=1, linkage=method).fit(X)
    np.testing.assert_array_equal(one.predict(X), np.zeros(5, dtype=np.int64))


# ------------------------------------------------------- scikit-learn parity


@pytest.mark.parametrize(
    ("method", "metric", "sk_metric"),
    [("ward", "euclidean", "euclidean"), ("ward", "l2", "euclidean"),  # sklearn < 1.8 refuses l2 for ward
     ("complete", "l1", "l1"),
     ("average", "manhattan", "manhattan"), ("average", "cosine", "cosine"), ("single", "euclidean", "euclidean"),
     ("single", "cityblock", "cityblock"), ("complete", "euclidean", "euclidean")],
)  # fmt: skip
def test_matches_agglomerative_clustering(method, metric, sk_metric):
    from sklearn.cluster import AgglomerativeClustering

    X = tie_free(80, d=4, seed=30) + 20.0  # no zero rows for cosine
    for kwargs in ({"n_clusters": 5}, {"n_clusters": None, "distance_threshold": 3.0}):
        theirs = AgglomerativeClustering(linkage=method, metric=sk_metric, compute_distances=True, **kwargs).fit(X)
        ours = HierarchicalClustering(linkage=method, metric=metric, **kwargs).fit(X)
        assert same_partition(ours.labels_, theirs.labels_)
        assert ours.n_clusters_ == theirs.n_clusters_
        np.testing.assert_array_equal(ours.children_, np.sort(theirs.children_, axis=1))
        np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-12, atol=1e-15)
        assert ours.n_leaves_ == theirs.n_leaves_ and ours.n_connected_components_ == theirs.n_connected_components_
        assert ours.children_.dtype == np.intp


def test_distance_threshold_follows_sklearn_strictly_below():
    from sklearn.cluster import AgglomerativeClustering

    X = np.array([[0.0], [1.0], [3.0], [10.0]])  # single linkage heights 1, 2, 7
    theirs = AgglomerativeClustering(n_clusters=None, distance_threshold=2.0, linkage="single").fit(X)
    ours = HierarchicalClustering(n_clusters=None, distance_threshold=2.0, linkage="single").fit(X)
    np.testing.assert_array_equal(ours.labels_, [0, 0, 1, 2])  # the merge at exactly 2.0 is undone
    assert ours.n_clusters_ == theirs.n_clusters_ == 3 and same_partition(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.cut(height=2.0), ours.labels_)
    # hclust.cut keeps scipy's rule: merges at the height stay
    np.testing.assert_array_equal(cut(ours.linkage_matrix_, height=2.0), [0, 0, 0, 1])


def test_labels_do_not_depend_on_row_order():
    X = tie_free(50, seed=31)
    order = np.random.default_rng(32).permutation(50)
    for method in ("ward", "average", "single"):
        a = HierarchicalClustering(n_clusters=4, linkage=method).fit(X)
        b = HierarchicalClustering(n_clusters=4, linkage=method).fit(X[order])
        np.testing.assert_array_equal(a.labels_[order], b.labels_)
        np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_memory_caches_the_tree(tmp_path):
    X = tie_free(40, seed=33)
    first = HierarchicalClustering(n_clusters=3, memory=str(tmp_path)).fit(X)
    assert any(tmp_path.rglob("*.pkl"))  # joblib stored the tree
    second = HierarchicalClustering(n_clusters=6, memory=str(tmp_path)).fit(X)  # the cached tree, cut again
    np.testing.assert_array_equal(first.linkage_matrix_, second.linkage_matrix_)
    assert second.n_clusters_ == 6


def test_new_parameter_errors():
    X = tie_free(10, seed=34)
    with pytest.raises(ValueError, match="compute_full_tree=False stops the tree"):
        HierarchicalClustering(n_clusters=None, distance_threshold=1.0, compute_full_tree=False).fit(X)
    with pytest.raises(ValueError, match="compute_full_tree must be 'auto', True or False; got 'yes'"):
        HierarchicalClustering(compute_full_tree="yes").fit(X)
    with pytest.raises(ValueError, match="compute_distances must be True or False"):
        HierarchicalClustering(compute_distances="yes").fit(X)
    with pytest.raises(ValueError, match="needs metric='euclidean', not 'l1'"):
        HierarchicalClustering(metric="l1").fit(X)
    with pytest.raises(ValueError, match=r"shape \(9, 9\), but X has 10 observations"):
        HierarchicalClustering(connectivity=np.ones((9, 9))).fit(X)
    with pytest.raises(ValueError, match="supports method 'average', 'complete', 'single' or 'ward'"):
        HierarchicalClustering(linkage="median", connectivity=np.ones((10, 10))).fit(X)


def test_callable_metric_rows():
    X = tie_free(30, seed=35)
    ours = HierarchicalClustering(n_clusters=3, linkage="average", metric=lambda u, v: float(np.abs(u - v).sum())).fit(X)
    reference = HierarchicalClustering(n_clusters=3, linkage="average", metric="cityblock").fit(X)
    np.testing.assert_allclose(ours.linkage_matrix_, reference.linkage_matrix_, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(X[:7]), reference.predict(X[:7]))


def test_from_sklearn_takes_fitted_models():
    from sklearn.cluster import AgglomerativeClustering, FeatureAgglomeration

    from hclust import from_sklearn

    X = tie_free(30, d=6, seed=36)
    model = AgglomerativeClustering(n_clusters=3, compute_distances=True).fit(X)
    np.testing.assert_allclose(from_sklearn(model), linkage(X, "ward"), rtol=1e-12)
    np.testing.assert_array_equal(from_sklearn(model), from_sklearn(model.children_, model.distances_))
    features = FeatureAgglomeration(n_clusters=2, linkage="average", compute_distances=True).fit(X)
    np.testing.assert_allclose(from_sklearn(features), linkage(X.T, "average"), rtol=1e-12)
    ours = HierarchicalClustering(n_clusters=3).fit(X)
    np.testing.assert_array_equal(from_sklearn(ours), ours.linkage_matrix_)
    with pytest.raises(ValueError, match="AgglomerativeClustering is not fitted"):
        from_sklearn(AgglomerativeClustering())
    with pytest.raises(ValueError, match="has no distances_: fit it with compute_distances=True"):
        from_sklearn(AgglomerativeClustering(n_clusters=3).fit(X))
    from sklearn.neighbors import kneighbors_graph

    partial = AgglomerativeClustering(
        n_clusters=3, connectivity=kneighbors_graph(X, 12), compute_full_tree=False, compute_distances=True
    ).fit(X)
    with pytest.raises(ValueError, match="compute_full_tree=True"):
        from_sklearn(partial)
