"""Connectivity-constrained linkage: the same trees as scikit-learn's structured clustering."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.spatial.distance import pdist as scipy_pdist
from scipy.spatial.distance import squareform
from sklearn.cluster import AgglomerativeClustering, ward_tree
from sklearn.cluster._agglomerative import linkage_tree
from sklearn.neighbors import kneighbors_graph

import hclust
from hclust import ConnectivityWarning, HierarchicalClustering, InsufficientMemoryError, from_sklearn, is_valid_linkage

METHODS = ("ward", "average", "complete", "single")


def sklearn_tree(X, method, graph, metric="euclidean"):
    """(children, distances, n_components) of scikit-learn's structured tree, its warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if method == "ward":
            children, n_components, _, _, distances = ward_tree(X, connectivity=graph, return_distance=True)
        else:
            children, n_components, _, _, distances = linkage_tree(
                X, connectivity=graph, linkage=method, affinity=metric, return_distance=True
            )
    return np.sort(children, axis=1), distances, n_components


def assert_same_as_sklearn(Z, X, method, graph, metric="euclidean"):
    children, distances, _ = sklearn_tree(X, method, graph, metric)
    np.testing.assert_array_equal(Z[:, :2].astype(np.int64), children)
    if method == "ward":  # the same arithmetic: bit for bit
        np.testing.assert_array_equal(Z[:, 2], distances)
    else:  # cosine: 1 - cos loses digits near 0 in either implementation
        np.testing.assert_allclose(Z[:, 2], distances, rtol=1e-12, atol=1e-15 if metric == "cosine" else 0)
    assert is_valid_linkage(Z)


def knn_data(n, d=3, k=5, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X, kneighbors_graph(X, k, include_self=False)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("n", "d", "k"), [(40, 2, 3), (300, 3, 6), (1500, 5, 10)])
def test_same_merges_as_sklearn(method, n, d, k):
    X, graph = knn_data(n, d, k, seed=n)
    Z = hclust.linkage(X, method, connectivity=graph)
    assert_same_as_sklearn(Z, X, method, graph)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 40),
    density=st.floats(0.02, 0.6),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 2**31 - 1),
)
def test_random_graphs_match_sklearn(n, density, method, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) * 10.0
    graph = sparse.random_array((n, n), density=density, rng=rng, format="csr")
    if n > 1 and graph.nnz == 0:
        graph = sparse.csr_array(([1.0], ([0], [n - 1])), shape=(n, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConnectivityWarning)
        Z = hclust.linkage(X, method, connectivity=graph)
    assert_same_as_sklearn(Z, X, method, graph)


def test_ward_ties_follow_sklearn_exactly():
    # integer grid: many equal merge costs; the same heap order and arithmetic as scikit-learn
    X = np.array([[i, j] for i in range(12) for j in range(9)], dtype=float)
    graph = kneighbors_graph(X, 4, include_self=False)
    assert_same_as_sklearn(hclust.linkage(X, "ward", connectivity=graph), X, "ward", graph)


@pytest.mark.parametrize("method", METHODS)
def test_complete_graph_is_the_unconstrained_tree(method):
    X = np.random.default_rng(3).standard_normal((60, 3))
    full = np.ones((60, 60))
    Z = hclust.linkage(X, method, connectivity=full)
    Z_free = hclust.linkage(X, method)
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], Z_free[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], Z_free[:, 2], rtol=1e-12)


def test_every_sparse_format_and_callables_give_the_same_tree():
    X, graph = knn_data(120, seed=4)
    reference = hclust.linkage(X, "average", connectivity=graph)
    upper = sparse.triu(graph + graph.T)  # one direction is enough: C + C.T counts
    variants = [
        graph.tocsc(), graph.tocoo(), graph.tolil(), graph.todok(), graph.tobsr(),
        sparse.csr_array(graph), sparse.coo_array(upper), graph.toarray(), graph.toarray() > 0,
        upper.tocsr(), lambda data: kneighbors_graph(data, 5, include_self=False),
    ]  # fmt: skip
    for variant in variants:
        np.testing.assert_array_equal(hclust.linkage(X, "average", connectivity=variant), reference)


def test_values_and_explicit_zeros_of_the_graph():
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    # values do not matter; an explicitly stored 0 is no edge (as in scikit-learn)
    chain = sparse.csr_array(([5.0, -2.0, 0.5, 0.0], ([0, 1, 2, 0], [1, 2, 3, 3])), shape=(4, 4))
    Z = hclust.linkage(X, "complete", connectivity=chain)
    np.testing.assert_array_equal(Z, [[0, 1, 1, 2], [2, 4, 2, 3], [3, 5, 4, 4]])
    assert_same_as_sklearn(Z, X, "complete", chain)


def test_disconnected_graph_is_completed_as_sklearn_does():
    X, graph = knn_data(300, d=2, k=2, seed=5)
    for method in METHODS:
        with pytest.warns(ConnectivityWarning, match=r"has \d+ connected components"):
            Z, n_components = hclust._connectivity.constrained_linkage(X, method, "euclidean", graph)
        assert n_components == sklearn_tree(X, method, graph)[2] > 1
        assert_same_as_sklearn(Z, X, method, graph)


def test_graph_without_edges_is_the_unconstrained_tree():
    X = np.random.default_rng(6).standard_normal((25, 2))
    with pytest.warns(ConnectivityWarning, match="25 connected components"):
        Z = hclust.linkage(X, "single", connectivity=sparse.csr_array((25, 25)))
    np.testing.assert_array_equal(Z, hclust.linkage(X, "single"))


@pytest.mark.parametrize("method", ["average", "complete", "single"])
def test_distances_as_input(method):
    X, graph = knn_data(150, seed=7)
    reference = hclust.linkage(X, method, connectivity=graph)
    y = scipy_pdist(X)
    np.testing.assert_allclose(hclust.linkage(y, method, connectivity=graph), reference, rtol=1e-12)
    D = squareform(y)
    np.testing.assert_allclose(hclust.linkage(D, method, "precomputed", connectivity=graph), reference, rtol=1e-12)
    # disconnected: completed from the distances
    sparse_graph = kneighbors_graph(X, 1, include_self=False)
    with pytest.warns(ConnectivityWarning):
        Z = hclust.linkage(D, method, "precomputed", connectivity=sparse_graph)
    children, distances, _ = sklearn_tree(D, method, sparse_graph, "precomputed")
    np.testing.assert_array_equal(Z[:, :2], children)


@pytest.mark.parametrize(("ours", "theirs"), [("cityblock", "manhattan"), ("cosine", "cosine"), ("euclidean", "l2")])
def test_other_metrics_match_sklearn(ours, theirs):
    X, graph = knn_data(200, seed=8)
    X += 5.0  # no zero rows for cosine
    for method in ("average", "complete"):
        Z = hclust.linkage(X, method, ours, connectivity=graph)
        assert_same_as_sklearn(Z, X, method, graph, theirs)
    callable_Z = hclust.linkage(X, "average", lambda u, v: float(np.abs(u - v).sum()), connectivity=graph)
    np.testing.assert_allclose(callable_Z, hclust.linkage(X, "average", "cityblock", connectivity=graph), rtol=1e-12)


@pytest.mark.parametrize("metric", ["chebyshev", "sqeuclidean", "canberra", "correlation"])
def test_metrics_equal_their_distances(metric):
    X, graph = knn_data(120, seed=19)
    D = squareform(scipy_pdist(X, metric))
    for method in ("average", "complete", "single"):
        Z = hclust.linkage(X, method, metric, connectivity=graph)
        np.testing.assert_allclose(Z, hclust.linkage(D, method, "precomputed", connectivity=graph), rtol=1e-12)


def test_seuclidean_uses_variances_of_all_rows():
    X, graph = knn_data(80, seed=9)
    X[:, 1] *= 50.0
    Z = hclust.linkage(X, "complete", "seuclidean", connectivity=graph)
    scaled = X / X.std(axis=0, ddof=1)
    np.testing.assert_allclose(Z, hclust.linkage(scaled, "complete", connectivity=graph), rtol=1e-12)


def naive_constrained_ward(X, weights, edges):
    """Textbook structured ward with weights: merge the connected pair of least cost."""
    clusters = {i: (weights[i], weights[i] * X[i], {i}) for i in range(len(X))}
    links = {frozenset(e) for e in edges}
    node = len(X)
    merges = []
    while len(clusters) > 1:
        def cost(pair):
            a, b = sorted(pair)
            wa, sa, _ = clusters[a]
            wb, sb, _ = clusters[b]
            return 2.0 * wa * wb / (wa + wb) * float(np.sum((sa / wa - sb / wb) ** 2))
        best = min(links, key=cost)
        a, b = sorted(best)
        merges.append((a, b, np.sqrt(cost(best))))
        wa, sa, ma = clusters.pop(a)
        wb, sb, mb = clusters.pop(b)
        clusters[node] = (wa + wb, sa + sb, ma | mb)
        links = {frozenset(node if x in (a, b) else x for x in link) for link in links if link != best}
        links = {link for link in links if len(link) == 2}
        node += 1
    return np.array(merges)


def test_weighted_ward_matches_the_textbook_algorithm():
    X, graph = knn_data(40, d=2, k=3, seed=10)
    weights = np.random.default_rng(11).integers(1, 6, size=40).astype(float)
    lower = sparse.tril(graph + graph.T, k=-1).tocoo()
    expected = naive_constrained_ward(X, weights, zip(lower.row.tolist(), lower.col.tolist()))
    Z = hclust.linkage(X, "ward", connectivity=graph, weights=weights)
    np.testing.assert_array_equal(Z[:, :2], expected[:, :2])
    np.testing.assert_allclose(Z[:, 2], expected[:, 2], rtol=1e-12)
    np.testing.assert_array_equal(hclust.linkage(X, "ward", connectivity=graph, weights=np.ones(40)),
                                  hclust.linkage(X, "ward", connectivity=graph))  # fmt: skip


def test_inversions_stay_in_merge_order():
    # under a graph, merging can bring clusters closer to a neighbour: heights decrease
    found = False
    for seed in range(20):
        X, graph = knn_data(200, d=2, k=3, seed=seed)
        Z = hclust.linkage(X, "ward", connectivity=graph)
        if np.any(np.diff(Z[:, 2]) < 0):
            found = True
            assert is_valid_linkage(Z)
            assert (Z[:, :2].max(axis=1) < 200 + np.arange(199)).all()
            break
    assert found


def test_progress_is_reported():
    X, graph = knn_data(500, seed=12)
    calls = []
    hclust.linkage(X, "average", connectivity=graph, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (499, 499)


def test_errors():
    X, graph = knn_data(30, seed=13)
    with pytest.raises(ValueError, match=r"shape \(29, 29\), but X has 30 observations"):
        hclust.linkage(X, "ward", connectivity=graph[:29, :29])
    with pytest.raises(ValueError, match="square"):
        hclust.linkage(X, "ward", connectivity=np.ones(30))
    bad = graph.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        hclust.linkage(X, "ward", connectivity=bad)
    with pytest.raises(TypeError, match="hold numbers"):
        hclust.linkage(X, "ward", connectivity=np.full((30, 30), "a"))
    with pytest.raises(ValueError, match="supports method 'average', 'complete', 'single' or 'ward'.*'centroid'"):
        hclust.linkage(X, "centroid", connectivity=graph)
    with pytest.raises(ValueError, match="ward' with connectivity needs observations"):
        hclust.linkage(scipy_pdist(X), "ward", connectivity=graph)
    with pytest.raises(ValueError, match="optimal_ordering and algorithm do not apply"):
        hclust.linkage(X, "ward", connectivity=graph, optimal_ordering=True)
    X_zero = X.copy()
    X_zero[4] = 0.0
    with pytest.raises(ValueError, match="cosine' distance between observations .* is nan"):
        hclust.linkage(X_zero, "average", "cosine", connectivity=np.ones((30, 30)))
    nan_X = X.copy()
    nan_X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        hclust.linkage(nan_X, "ward", connectivity=graph)


def test_memory_is_estimated_before_allocating(monkeypatch):
    X, graph = knn_data(50, seed=14)
    monkeypatch.setattr("hclust._validation.available_memory", lambda: 10_000)
    with pytest.raises(InsufficientMemoryError, match="edges"):
        hclust.linkage(X, "average", connectivity=graph)


def test_random_graphs_in_a_child_process():
    # out-of-bounds access in a kernel would crash the interpreter: fuzz in a child
    script = textwrap.dedent(
        """
        import warnings
        import numpy as np
        from scipy import sparse
        import hclust
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(0)
        for trial in range(60):
            n = int(rng.integers(2, 60))
            X = rng.standard_normal((n, 2))
            graph = sparse.random_array((n, n), density=float(rng.uniform(0.0, 0.5)), rng=rng)
            for method in ("ward", "average", "complete", "single"):
                Z = hclust.linkage(X, method, connectivity=graph)
                assert hclust.is_valid_linkage(Z) and Z[-1, 3] == n
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


# ------------------------------------------------------------------ estimator


@pytest.mark.parametrize("method", METHODS)
def test_estimator_matches_agglomerative_clustering(method):
    X, graph = knn_data(400, seed=15)
    for kwargs in ({"n_clusters": 7}, {"n_clusters": None, "distance_threshold": 1.5}):
        theirs = AgglomerativeClustering(linkage=method, connectivity=graph, compute_distances=True, **kwargs).fit(X)
        ours = HierarchicalClustering(linkage=method, connectivity=graph, **kwargs).fit(X)
        np.testing.assert_array_equal(ours.children_, np.sort(theirs.children_, axis=1))
        np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-12)
        assert ours.n_clusters_ == theirs.n_clusters_
        assert same_partition(ours.labels_, theirs.labels_)
        assert ours.n_leaves_ == theirs.n_leaves_ == 400
        assert ours.n_connected_components_ == theirs.n_connected_components_ == 1
        np.testing.assert_array_equal(from_sklearn(theirs)[:, :2], ours.linkage_matrix_[:, :2])


@pytest.mark.parametrize("method", METHODS)
def test_estimator_stops_early_as_sklearn(method):
    X, graph = knn_data(500, seed=16)
    kwargs = {"n_clusters": 120, "linkage": method, "connectivity": graph}
    theirs = AgglomerativeClustering(compute_distances=True, **kwargs).fit(X)  # auto: stops early
    ours = HierarchicalClustering(**kwargs).fit(X)
    rows = 499 if method == "single" else 380  # scikit-learn's single linkage builds the whole MST
    assert ours.children_.shape == theirs.children_.shape == (rows, 2)
    np.testing.assert_array_equal(ours.children_, np.sort(theirs.children_, axis=1))
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-12)
    assert same_partition(ours.labels_, theirs.labels_) and ours.n_clusters_ == 120
    if method != "single":
        assert ours.linkage_matrix_ is None
        with pytest.raises(ValueError, match="compute_full_tree=True"):
            ours.cut(n_clusters=3)
    assert ours.predict(X[:5]).shape == (5,)
    full = HierarchicalClustering(compute_full_tree=True, **kwargs).fit(X)
    np.testing.assert_array_equal(full.labels_, ours.labels_)
    assert full.children_.shape == (499, 2)


def test_estimator_callable_connectivity_and_disconnected_graph():
    X, _ = knn_data(200, seed=17)
    connect = lambda data: kneighbors_graph(data, 1, include_self=False)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = AgglomerativeClustering(n_clusters=4, connectivity=connect).fit(X)
    with pytest.warns(ConnectivityWarning):
        ours = HierarchicalClustering(n_clusters=4, connectivity=connect).fit(X)
    assert ours.n_connected_components_ == theirs.n_connected_components_ > 1
    np.testing.assert_array_equal(ours.children_, np.sort(theirs.children_, axis=1))
    assert same_partition(ours.labels_, theirs.labels_)


def test_estimator_zero_weights_with_connectivity():
    X, graph = knn_data(100, seed=18)
    w = np.ones(100)
    w[[3, 50, 77]] = 0.0
    kept = np.flatnonzero(w > 0)
    ours = HierarchicalClustering(n_clusters=5, connectivity=graph).fit(X, sample_weight=w)
    sub = HierarchicalClustering(n_clusters=5, connectivity=graph[kept][:, kept]).fit(X[kept])
    np.testing.assert_array_equal(ours.linkage_matrix_, sub.linkage_matrix_)
    np.testing.assert_array_equal(ours.labels_[kept], sub.labels_)
    np.testing.assert_array_equal(ours.labels_[[3, 50, 77]], sub.predict(X[[3, 50, 77]]))


def same_partition(a, b):
    pairs = set(zip(np.asarray(a).tolist(), np.asarray(b).tolist()))
    return len(pairs) == len(set(np.asarray(a).tolist())) == len(set(np.asarray(b).tolist()))


def test_negative_distances_from_a_callable_are_refused():
    X, graph = knn_data(20, seed=20)
    with pytest.raises(ValueError, match="negative distance"):
        hclust.linkage(X, "average", lambda u, v: -1.0, connectivity=graph)
