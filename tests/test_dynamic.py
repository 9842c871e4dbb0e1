"""Tests for hclust.dynamic.cutree_dynamic (Dynamic Tree Cut).

The reference labels in tests/data/dynamic were computed by R's dynamicTreeCut
(``cutreeDynamic``) on the same trees and distances; see the README there.
"""

from __future__ import annotations

import csv
import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist, squareform

from hclust._validation import InsufficientMemoryError
from hclust.dynamic import cutree_dynamic
from hclust.tree import leaves_list as hclust_leaves_list

DATA = Path(__file__).resolve().parent / "data" / "dynamic"


def _read_settings() -> list[dict[str, str]]:
    with open(DATA / "settings.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _read_labels() -> dict[str, str]:
    with gzip.open(DATA / "labels.csv.gz", "rt", newline="") as handle:
        return {row["id"]: row["labels"] for row in csv.DictReader(handle)}


SETTINGS = _read_settings()
R_LABELS = _read_labels()


@lru_cache(maxsize=None)
def _dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Z and condensed distances of a reference dataset."""
    X = np.loadtxt(DATA / f"{name.removesuffix('_swapped')}_points.csv", delimiter=",")
    Z = np.loadtxt(DATA / f"{name}_Z.csv", delimiter=",")
    Z.flags.writeable = False
    y = pdist(X)
    y.flags.writeable = False
    return Z, y


def _optional(value: str) -> float | None:
    return None if value == "NA" else float(value)


def _kwargs(row: dict[str, str]) -> dict[str, object]:
    deep = row["deepSplit"]
    kwargs: dict[str, object] = {
        "method": row["method"],
        "deep_split": deep == "TRUE" if deep in ("TRUE", "FALSE") else float(deep),
        "min_cluster_size": int(row["minClusterSize"]),
        "height": _optional(row["cutHeight"]),
    }
    if row["method"] == "hybrid":
        kwargs.update(
            pam_stage=row["pamStage"] == "TRUE",
            pam_respects_dendro=row["pamRespectsDendro"] == "TRUE",
            respect_small_clusters=row["respectSmallClusters"] == "TRUE",
            max_pam_dist=_optional(row["maxPamDist"]),
            max_core_scatter=_optional(row["maxCoreScatter"]),
            min_gap=_optional(row["minGap"]),
            min_split_height=_optional(row["minSplitHeight"]),
            max_abs_core_scatter=_optional(row["maxAbsCoreScatter"]),
            min_abs_gap=_optional(row["minAbsGap"]),
            min_abs_split_height=_optional(row["minAbsSplitHeight"]),
        )
    return kwargs


def _case_id(row: dict[str, str]) -> str:
    parts = [row["id"], row["dataset"], row["method"], f"deep={row['deepSplit']}", f"mcs={row['minClusterSize']}"]
    defaults = {"pamStage": "TRUE", "pamRespectsDendro": "TRUE", "respectSmallClusters": "TRUE"}
    for key, value in row.items():
        if key in defaults and value != defaults[key] and row["method"] == "hybrid":
            parts.append(f"{key}={value}")
        elif key not in defaults and key not in ("id", "dataset", "method", "deepSplit", "minClusterSize") and value != "NA":
            parts.append(f"{key}={value}")
    return "-".join(parts)


# ---------------------------------------------------------------------------
# Equality with R
# ---------------------------------------------------------------------------


def test_reference_files_are_complete():
    assert len(SETTINGS) >= 250
    assert {row["id"] for row in SETTINGS} == set(R_LABELS)
    assert {row["method"] for row in SETTINGS} == {"hybrid", "tree"}


@pytest.mark.parametrize("row", SETTINGS, ids=[_case_id(row) for row in SETTINGS])
def test_same_labels_as_r(row):
    Z, y = _dataset(row["dataset"])
    expected = np.array(R_LABELS[row["id"]].split(), dtype=np.int64)
    distances = y if row["method"] == "hybrid" else None
    labels = cutree_dynamic(Z, distances, **_kwargs(row))
    assert labels.dtype == np.int64
    assert labels.shape == expected.shape
    np.testing.assert_array_equal(labels, expected)


def test_reference_settings_cover_both_outcomes():
    """The references include cuts that leave objects unassigned and cuts that do not."""
    zeros = [np.count_nonzero(np.array(labels.split(), dtype=int) == 0) for labels in R_LABELS.values()]
    assert any(z == 0 for z in zeros) and any(z > 0 for z in zeros)


# ---------------------------------------------------------------------------
# Leaf order and input forms
# ---------------------------------------------------------------------------


def test_leaf_order_is_scipy_leaves_list():
    """The order the cut walks (and R's hclust order for the converted tree) is scipy's."""
    Z, _ = _dataset("n300_average")
    np.testing.assert_array_equal(hclust_leaves_list(Z), leaves_list(Z))
    swapped, _ = _dataset("n300_average_swapped")
    np.testing.assert_array_equal(hclust_leaves_list(swapped), leaves_list(swapped))
    assert not np.array_equal(leaves_list(Z), leaves_list(swapped))


def test_square_and_condensed_distances_agree():
    Z, y = _dataset("n150_complete")
    condensed = cutree_dynamic(Z, y, deep_split=2, min_cluster_size=5)
    square = cutree_dynamic(Z, squareform(y), deep_split=2, min_cluster_size=5)
    np.testing.assert_array_equal(condensed, square)


def test_inputs_are_not_modified():
    Z, y = _dataset("n50_average")
    Z_copy, y_copy = Z.copy(), y.copy()
    D = squareform(y)
    D_copy = D.copy()
    cutree_dynamic(Z.copy(), D, min_cluster_size=4)
    cutree_dynamic(Z, y, min_cluster_size=4)
    np.testing.assert_array_equal(Z, Z_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(D, D_copy)


def test_list_inputs_and_float32_distances():
    Z, y = _dataset("n50_average")
    expected = cutree_dynamic(Z, y, min_cluster_size=4)
    np.testing.assert_array_equal(cutree_dynamic(Z.tolist(), y.tolist(), min_cluster_size=4), expected)
    np.testing.assert_array_equal(cutree_dynamic(Z, y.astype(np.float32), min_cluster_size=4).shape, expected.shape)


def test_tree_method_ignores_distances():
    Z, y = _dataset("n300_average")
    without = cutree_dynamic(Z, method="tree", deep_split=True, min_cluster_size=8)
    np.testing.assert_array_equal(cutree_dynamic(Z, y, method="tree", deep_split=True, min_cluster_size=8), without)


def test_hybrid_deep_split_true_is_three():
    Z, y = _dataset("n150_complete")
    np.testing.assert_array_equal(
        cutree_dynamic(Z, y, deep_split=True, min_cluster_size=5),
        cutree_dynamic(Z, y, deep_split=3, min_cluster_size=5),
    )


def test_cut_below_all_merges_gives_zeros():
    Z, y = _dataset("n50_average")
    low = float(Z[0, 2]) * 1.000001
    assert not cutree_dynamic(Z, y, height=low, min_cluster_size=4).any()
    assert not cutree_dynamic(Z, method="tree", height=low, min_cluster_size=4).any()


def test_two_observations():
    Z = linkage(np.array([1.0]), "average")
    assert cutree_dynamic(Z, np.array([1.0]), min_cluster_size=1).tolist() in ([0, 0], [1, 1])
    assert cutree_dynamic(Z, method="tree", min_cluster_size=1).shape == (2,)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_tree():
    Z, y = _dataset("n50_average")
    return Z.copy(), y.copy()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda Z: Z[:, :3], r"Z must be a linkage matrix of shape"),
        (lambda Z: Z[:0], "Z has no rows"),
        (lambda Z: np.where(np.arange(Z.size).reshape(Z.shape) == 2, np.nan, Z), "Z is not a valid linkage.*finite"),
        (lambda Z: np.vstack([Z[:1] + [0.5, 0, 0, 0], Z[1:]]), "Z is not a valid linkage.*whole number"),
        (lambda Z: np.vstack([[[0, 60, 1.0, 2]], Z[1:]]), "Z is not a valid linkage.*not happened yet"),
        (lambda Z: np.vstack([Z[:1], Z[:1], Z[2:]]), "Z is not a valid linkage.*merged twice"),
        (lambda Z: np.vstack([Z[:1] * [1, 1, -1, 1], Z[1:]]), "Z is not a valid linkage.*negative height"),
    ],
    ids=["three-columns", "empty", "nan", "fractional-id", "future-node", "node-twice", "negative-height"],
)
def test_invalid_linkage(small_tree, mutate, message):
    Z, y = small_tree
    with pytest.raises(ValueError, match=message):
        cutree_dynamic(mutate(Z), y)


def test_linkage_of_strings_is_refused(small_tree):
    _, y = small_tree
    with pytest.raises(TypeError, match="Z must be a numeric linkage matrix"):
        cutree_dynamic(np.array([["a", "b", "c", "d"]]), y)


def test_hybrid_without_distances(small_tree):
    Z, _ = small_tree
    with pytest.raises(ValueError, match="method='hybrid' needs the distances.*method='tree'"):
        cutree_dynamic(Z)


@pytest.mark.parametrize(
    ("distances", "message"),
    [
        (np.ones(10), r"length 10.*50 leaves.*1225"),
        (np.ones((49, 49)), r"shape \(49, 49\).*50 leaves"),
        (np.ones((2, 3, 4)), "condensed distance vector or a square"),
    ],
    ids=["condensed-length", "square-shape", "three-dimensional"],
)
def test_distances_of_wrong_size(small_tree, distances, message):
    Z, _ = small_tree
    with pytest.raises(ValueError, match=message):
        cutree_dynamic(Z, distances)
    if distances.ndim <= 2:
        with pytest.raises(ValueError, match=message):
            cutree_dynamic(Z, distances, method="tree")


def test_bad_distance_values(small_tree):
    Z, y = small_tree
    negative = y.copy()
    negative[3] = -1.0
    with pytest.raises(ValueError, match="negative distances"):
        cutree_dynamic(Z, negative)
    missing = y.copy()
    missing[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cutree_dynamic(Z, missing)
    asymmetric = squareform(y)
    asymmetric[0, 1] += 1.0
    with pytest.raises(ValueError, match="not symmetric"):
        cutree_dynamic(Z, asymmetric)


@pytest.mark.parametrize("deep_split", [-1, 5, 4.5, -0.1])
def test_deep_split_out_of_range(small_tree, deep_split):
    Z, y = small_tree
    with pytest.raises(ValueError, match="deep_split must be from 0 to 4"):
        cutree_dynamic(Z, y, deep_split=deep_split)


def test_deep_split_wrong_type(small_tree):
    Z, y = small_tree
    with pytest.raises(TypeError, match="deep_split must be a number"):
        cutree_dynamic(Z, y, deep_split="2")
    with pytest.raises(TypeError, match="deep_split must be True or False"):
        cutree_dynamic(Z, method="tree", deep_split=0.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"method": "dynamic"}, ValueError, "Unknown method 'dynamic'; valid values are: hybrid, tree"),
        ({"min_cluster_size": 0}, ValueError, "min_cluster_size must be at least 1"),
        ({"min_cluster_size": 2.5}, TypeError, "min_cluster_size must be an integer"),
        ({"min_cluster_size": True}, TypeError, "min_cluster_size must be an integer"),
        ({"height": -1.0}, ValueError, "height must be positive"),
        ({"height": np.inf}, ValueError, "height must be finite"),
        ({"height": "high"}, TypeError, "height must be a number"),
        ({"max_pam_dist": np.nan}, ValueError, "max_pam_dist must be finite"),
        ({"min_gap": "0.1"}, TypeError, "min_gap must be a number"),
        ({"pam_stage": 1}, TypeError, "pam_stage must be True or False"),
        ({"respect_small_clusters": None}, TypeError, "respect_small_clusters must be True or False"),
    ],
    ids=lambda value: str(value) if not isinstance(value, type) else value.__name__,
)
def test_bad_parameters(small_tree, kwargs, error, message):
    Z, y = small_tree
    with pytest.raises(error, match=message):
        cutree_dynamic(Z, y, **kwargs)


def test_memory_is_checked_before_the_square_matrix(small_tree, monkeypatch):
    Z, y = small_tree
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "1000")
    with pytest.raises(InsufficientMemoryError, match="square distance matrix.*method='tree'"):
        cutree_dynamic(Z, y)
    # The tree method builds no matrix.
    assert cutree_dynamic(Z, y, method="tree", min_cluster_size=4).shape == (50,)


def test_inversions():
    """Trees with inversions: refused by the tree method, and by hybrid when they cross the cut."""
    Z = np.array([[0, 1, 1.0, 2], [2, 3, 3.0, 2], [4, 5, 2.0, 4]])
    y = pdist(np.array([[0.0], [1.0], [5.0], [8.0]]))
    with pytest.raises(ValueError, match="increasing order"):
        cutree_dynamic(Z, method="tree", min_cluster_size=1)
    with pytest.raises(ValueError, match="inversions"):
        cutree_dynamic(Z, y, height=2.5, min_cluster_size=1)


def test_cut_height_is_the_deprecated_name_of_height():
    Z, y = _dataset("n50_average")
    h = float(np.median(Z[:, 2]))
    with pytest.warns(FutureWarning, match=r"cutree_dynamic\(cut_height=\.\.\.\) is deprecated .* use height="):
        old = cutree_dynamic(Z, y, cut_height=h, min_cluster_size=4)
    np.testing.assert_array_equal(old, cutree_dynamic(Z, y, height=h, min_cluster_size=4))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def blob_trees(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n_blobs = draw(st.integers(1, 5))
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 40, size=n_blobs)
    X = np.vstack([rng.normal(rng.uniform(-10, 10, 2), rng.uniform(0.2, 2.0), size=(s, 2)) for s in sizes])
    if X.shape[0] < 3:
        X = np.vstack([X, rng.normal(size=(3, 2))])
    method = draw(st.sampled_from(["average", "complete", "ward", "single"]))
    y = pdist(X)
    return linkage(y, method), y


@settings(deadline=None, max_examples=40, derandomize=True)
@given(
    tree=blob_trees(),
    method=st.sampled_from(["hybrid", "tree"]),
    deep=st.integers(0, 4),
    min_cluster_size=st.integers(1, 30),
    pam_stage=st.booleans(),
    pam_respects_dendro=st.booleans(),
    respect_small_clusters=st.booleans(),
)
def test_property_clusters_are_large_enough_and_ordered(
    tree, method, deep, min_cluster_size, pam_stage, pam_respects_dendro, respect_small_clusters
):
    Z, y = tree
    n = Z.shape[0] + 1
    if method == "tree":
        labels = cutree_dynamic(Z, method="tree", deep_split=deep > 1, min_cluster_size=min_cluster_size)
    else:
        labels = cutree_dynamic(
            Z,
            y,
            deep_split=deep,
            min_cluster_size=min_cluster_size,
            pam_stage=pam_stage,
            pam_respects_dendro=pam_respects_dendro,
            respect_small_clusters=respect_small_clusters,
        )
    assert labels.shape == (n,)
    assert labels.min() >= 0
    sizes = np.bincount(labels)[1:]
    # Labels are 1..k without gaps, numbered by decreasing size.
    assert (sizes > 0).all()
    assert (np.diff(sizes) <= 0).all()
    assert (sizes >= min_cluster_size).all()
