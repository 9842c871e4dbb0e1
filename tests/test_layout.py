"""hclust.layout against scipy's dendrogram(no_plot=True); colours against hclust.tree.cut."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch

from hclust import tree
from hclust.layout import DendrogramLayout, dendrogram_layout

METHODS = ["single", "average", "complete", "centroid", "median", "ward"]


def make_tree(seed: int, n: int, method: str, ties: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, 2)).astype(float) if ties else rng.normal(size=(n, 2))
    return sch.linkage(X, method)


CASES = [
    pytest.param(make_tree(seed, n, method, ties), id=f"{method}-n{n}-{'ties' if ties else 'free'}")
    for seed, n in enumerate((2, 9, 45))
    for method in METHODS
    for ties in (False, True)
]
TRUNCATIONS = [(None, 30), ("lastp", 10), ("lastp", 0), ("lastp", 100), ("level", 3), ("level", 0), ("level", 1)]
ORDERS = {
    None: {},
    "count_ascending": {"count_sort": "ascending"},
    "count_descending": {"count_sort": "descending"},
    "distance_ascending": {"distance_sort": "ascending"},
    "distance_descending": {"distance_sort": "descending"},
}


@pytest.mark.parametrize("Z", CASES)
def test_geometry_matches_scipy(Z):
    labels = [f"obs{i}" for i in range(Z.shape[0] + 1)]
    for truncate_mode, p in TRUNCATIONS:
        for leaf_order, scipy_kwargs in ORDERS.items():
            expected = sch.dendrogram(Z, no_plot=True, truncate_mode=truncate_mode, p=p, labels=labels, **scipy_kwargs)
            layout = dendrogram_layout(Z, labels=labels, truncate_mode=truncate_mode, p=p, leaf_order=leaf_order)
            np.testing.assert_array_equal(layout.icoord, np.reshape(expected["icoord"], (-1, 4)))
            np.testing.assert_array_equal(layout.dcoord, np.reshape(expected["dcoord"], (-1, 4)))
            assert layout.leaves.tolist() == expected["leaves"]
            assert layout.leaf_labels == expected["ivl"]


@pytest.mark.parametrize("Z", CASES)
def test_colours_are_cut_labels(Z):
    n = Z.shape[0] + 1
    for k in sorted({1, 2, min(3, n), n}):
        layout = dendrogram_layout(Z, n_clusters=k)
        labels = tree.cut(Z, n_clusters=k)
        assert layout.n_clusters == k
        # Every shown leaf is an observation here: its colour is its cut label.
        np.testing.assert_array_equal(layout.leaf_colors, labels[layout.leaves])
        # A link is coloured c exactly when all observations under it are in cluster c.
        size = np.bincount(labels, minlength=k)
        for node, colour in zip(layout.link_nodes.tolist(), layout.link_colors.tolist()):
            members = _members(Z, node)
            inside = np.unique(labels[members])
            if colour >= 0:
                assert inside.tolist() == [colour]
            else:
                assert len(inside) > 1 or len(members) > size[inside[0]]
        assert (layout.link_colors == -1).sum() == k - 1


def _members(Z: np.ndarray, node: int) -> list[int]:
    n = Z.shape[0] + 1
    out, stack = [], [node]
    while stack:
        v = stack.pop()
        if v < n:
            out.append(v)
        else:
            stack.extend(int(c) for c in Z[v - n, :2])
    return out


@pytest.mark.parametrize("Z", [c for c in CASES if "ties" not in c.id and "centroid" not in c.id and "median" not in c.id])
def test_colour_threshold_groups_match_scipy(Z):
    # Same partition of links into colour groups as scipy (default threshold 0.7 max).
    for threshold in (None, float(np.median(Z[:, 2])), 0.0):
        expected = sch.dendrogram(Z, no_plot=True, color_threshold=threshold)
        layout = dendrogram_layout(Z, color_threshold=threshold)
        pairs = set(zip(layout.link_colors.tolist(), expected["color_list"]))
        ours = {c for c, _ in pairs}
        assert len(pairs) == len(ours)  # each of our clusters is one scipy colour
        assert all((c == -1) == (colour == "C0") for c, colour in pairs)


def test_truncated_leaf_spanning_clusters_and_cut_height():
    Z = make_tree(4, 60, "ward", False)
    layout = dendrogram_layout(Z, truncate_mode="lastp", p=5, n_clusters=8)
    assert len(layout.leaves) == 5
    assert (layout.leaf_colors == -1).any()
    assert all(label.startswith("(") for label in layout.leaf_labels if not label.isdigit())
    layout = dendrogram_layout(Z, n_clusters=3)
    assert Z[-3, 2] < layout.cut_height < Z[-2, 2]
    assert layout.cut_height == pytest.approx((Z[-3, 2] + Z[-2, 2]) / 2)
    assert dendrogram_layout(Z, n_clusters=1).cut_height is None
    assert dendrogram_layout(Z, color_threshold=1.5).cut_height == 1.5


def test_to_dict_is_json():
    Z = make_tree(0, 12, "average", False)
    layout = dendrogram_layout(Z, n_clusters=3, labels=list("abcdefghijkl"))
    assert isinstance(layout, DendrogramLayout)
    doc = json.loads(json.dumps(layout.to_dict()))
    assert doc["ivl"] == layout.leaf_labels and doc["n_clusters"] == 3
    assert np.array_equal(doc["icoord"], layout.icoord)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"truncate_mode": "top"}, ValueError, "Unknown truncate_mode 'top'; valid values are: lastp, level"),
        ({"orientation": "up"}, ValueError, "Unknown orientation"),
        ({"leaf_order": "random"}, ValueError, "Unknown leaf_order"),
        ({"p": -1}, ValueError, "p must be a non-negative integer"),
        ({"n_clusters": 2, "color_threshold": 1.0}, ValueError, "not both"),
        ({"n_clusters": 0}, ValueError, "1 to 12 clusters"),
        ({"labels": ["a"]}, ValueError, "labels has 1 entries but Z has 12 leaves"),
        ({"color_threshold": "x"}, TypeError, "color_threshold must be a number"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    Z = make_tree(0, 12, "average", False)
    with pytest.raises(error, match=match):
        dendrogram_layout(Z, **kwargs)


def test_deep_tree_without_recursion():
    # A caterpillar of 50k leaves: scipy's recursive dendrogram cannot do this.
    n = 50_000
    Z = np.empty((n - 1, 4))
    Z[0] = (0, 1, 1.0, 2)
    Z[1:, 0] = np.arange(n, 2 * n - 2)
    Z[1:, 1] = np.arange(2, n)
    Z[1:, 2] = np.arange(2, n, dtype=float)
    Z[1:, 3] = np.arange(3, n + 1)
    layout = dendrogram_layout(Z, n_clusters=4)
    assert layout.leaves.tolist()[:3] == [0, 1, 2]
    assert layout.icoord.shape == (n - 1, 4)
    np.testing.assert_array_equal(layout.leaf_colors, tree.cut(Z, n_clusters=4)[layout.leaves])
    with pytest.raises(RecursionError):
        sch.dendrogram(Z, no_plot=True)
