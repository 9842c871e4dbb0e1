"""The table of linkage methods is what every layer reads."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch

import hclust
from hclust._methods import METHOD_TABLE, METHODS, method_info, methods_where


def test_names_and_codes_are_unique_and_scipy_names():
    names = [m.name for m in METHOD_TABLE]
    assert len(set(names)) == len(names) and tuple(sorted(names)) == METHODS == hclust.METHODS
    assert len({m.code for m in METHOD_TABLE}) == len(METHOD_TABLE)
    scipy_names = {"single", "complete", "average", "weighted", "centroid", "median", "ward"}
    assert scipy_names <= set(names)


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown method 'wards'; valid values are: average, centroid"):
        method_info("wards")


@pytest.mark.parametrize("entry", METHOD_TABLE, ids=lambda m: m.name)
def test_properties_hold(entry):
    X = np.random.default_rng(3).normal(size=(40, 3)) - 4.0 * np.arange(40)[:, None] * 0.01
    # squared (Euclidean-only) methods refuse other metrics; others accept them
    if entry.squared:
        assert not entry.gower
        with pytest.raises(ValueError, match="needs metric='euclidean'"):
            hclust.linkage(X, entry.name, "cityblock")
    else:
        assert sch.is_valid_linkage(hclust.linkage(X, entry.name, "cityblock"))
    Z = hclust.linkage(X, entry.name)
    if entry.monotone:
        assert np.all(np.diff(Z[:, 2]) >= 0)
    # weights: refused, ignored (same tree) or changing the tree
    w = np.random.default_rng(1).integers(1, 5, 40).astype(float)
    if entry.weights == "refused":
        with pytest.raises(ValueError, match="weights"):
            hclust.linkage(X, entry.name, weights=w)
    elif entry.weights == "ignored":
        np.testing.assert_array_equal(hclust.linkage(X, entry.name, weights=w)[:, :3], Z[:, :3])
    # the vector engine exists exactly where the table says
    if entry.vector_engine is not None:
        assert sch.is_valid_linkage(hclust.linkage(X, entry.name, algorithm="vector"))
    else:
        with pytest.raises(ValueError, match="no linear-memory algorithm"):
            hclust.linkage(X, entry.name, algorithm="vector")


def test_every_layer_reads_the_table():
    from hclust._connectivity import CONNECTIVITY_METHODS
    from hclust._inputs import EUCLIDEAN_ONLY, WEIGHT_AWARE
    from hclust.segment.model import _GOWER_METHODS
    from hclust.summary import SUMMARY_METHODS

    assert CONNECTIVITY_METHODS == methods_where(connectivity=True)
    assert SUMMARY_METHODS == methods_where(summary=True)
    assert _GOWER_METHODS == methods_where(gower=True)
    assert EUCLIDEAN_ONLY == methods_where(squared=True)
    assert WEIGHT_AWARE == methods_where(weights="change")


def test_predict_uses_each_method_s_join_rule():
    X = np.random.default_rng(0).normal(size=(60, 2))
    for entry in METHOD_TABLE:
        model = hclust.HierarchicalClustering(n_clusters=3, linkage=entry.name).fit(X)
        heights = model.join_heights(X[:5])
        assert heights.shape == (5, 3) and np.isfinite(heights).all()
