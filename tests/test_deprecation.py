"""Renamed keywords and keyword-only arguments: the old spelling works for one release, with a
FutureWarning naming the new one (hclust._deprecation), across the public API."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import hclust
from hclust._deprecation import REMOVED_IN, keyword_only, renamed_keywords


def test_renamed_keyword_moves_the_value_and_names_the_new_spelling():
    @renamed_keywords(k="n_clusters")
    def f(X, n_clusters=2, *, other=0):
        """Doc."""
        return n_clusters, other

    assert f(None, 5) == (5, 0) and f(None, n_clusters=4) == (4, 0)
    with pytest.warns(FutureWarning, match=rf"f\(k=\.\.\.\) is deprecated and will be removed in hclust {REMOVED_IN}; "
                                           r"use n_clusters=\.\.\. instead"):
        assert f(None, k=3, other=1) == (3, 1)
    with pytest.raises(TypeError, match="got both k= and n_clusters="):
        f(None, k=3, n_clusters=3)
    assert f.__doc__ == "Doc." and list(inspect.signature(f).parameters) == ["X", "n_clusters", "other"]


def test_a_rename_to_an_unknown_parameter_is_a_bug_found_at_import():
    with pytest.raises(AssertionError, match="cannot rename"):
        renamed_keywords(k="n_clusters")(lambda X, k=1: k)


def test_keyword_only_accepts_positions_for_one_release():
    @keyword_only(1)
    def g(X, *, a=1, b=2):
        return X, a, b

    assert g(0, b=5) == (0, 1, 5)
    with pytest.warns(FutureWarning, match=r"Pass a=7, b=8 as keyword arguments to g\(\)"):
        assert g(0, 7, 8) == (0, 7, 8)
    with pytest.raises(TypeError, match="at most 3 arguments"):
        g(0, 1, 2, 3)
    with pytest.raises(TypeError, match="multiple values for argument"):
        g(0, 7, a=1)


@pytest.mark.parametrize(
    "call, modern",
    [
        (lambda Z: hclust.cut(Z, 2, None, 2), lambda Z: hclust.cut(Z, 2, min_cluster_size=2)),
        (lambda Z: hclust.cut_tree(Z, heights=[1.0, 2.0]), lambda Z: hclust.cut_tree(Z, height=[1.0, 2.0])),
        (lambda Z: hclust.summarize(Z[:, 2:], 2, 0.5).labels(2), lambda Z: hclust.summarize(Z[:, 2:], 2, threshold=0.5).labels(2)),
        (lambda Z: hclust.dendrogram_layout(Z, None, "lastp", 4).to_dict(),
         lambda Z: hclust.dendrogram_layout(Z, truncate_mode="lastp", p=4).to_dict()),
    ],
)
def test_public_functions_keep_old_calls_working(call, modern):
    Z = hclust.linkage(np.arange(12.0).reshape(6, 2) ** 1.5, "average")
    with pytest.warns(FutureWarning):
        old = call(Z)
    new = modern(Z)
    if isinstance(new, dict):
        assert old.keys() == new.keys()
    else:
        np.testing.assert_array_equal(old, new)


def test_preparer_and_rfm_take_keywords_after_the_first_argument():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 40.0], "b": [0.0, 1.0, 0.0, 1.0]})
    with pytest.warns(FutureWarning, match=r"Pass impute='median' as a keyword argument to Preparer\(\)"):
        old = hclust.Preparer(None, "median")
    assert old.impute == "median" and old.schema is None
    pd.testing.assert_frame_equal(old.fit_transform(frame), hclust.Preparer(impute="median").fit_transform(frame))
    tx = pd.DataFrame({"c": [1, 1, 2], "d": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
                       "m": [10.0, 20.0, 5.0]})
    with pytest.warns(FutureWarning, match=r"Pass customer='c', date='d', amount='m' as keyword arguments to rfm\(\)"):
        table, _ = hclust.rfm(tx, "c", "d", "m")
    pd.testing.assert_frame_equal(table, hclust.rfm(tx, customer="c", date="d", amount="m")[0])
