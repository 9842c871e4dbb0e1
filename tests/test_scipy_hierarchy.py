"""scipy's own ``cluster/tests/test_hierarchy.py``, run against hclust.

The test file of the installed scipy wheel is executed with scipy's functions
replaced by hclust's (see ``_scipy_suite.py``): every test below is scipy's,
calling hclust's ``linkage``, ``fcluster``, ``fclusterdata``, ``cut_tree``,
``cophenet``, ``inconsistent``, ``leaves_list``, ``optimal_leaf_ordering``,
``is_valid_linkage``, ``is_monotonic``, ``dendrogram`` (hclust.plot, computed by
``dendrogram_layout``), ``set_link_color_palette`` and ``pdist``, and scipy's
shortcuts ``single(y)`` / ``ward(y)`` as ``hclust.linkage(y, method)``. scipy's
other functions (``maxdists``, ``to_tree``, ``is_isomorphic``, ...) stay scipy's.
The sentinel tests at the end prove that the replacements are in effect.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pytest
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd

import hclust
import hclust.plot
from _scipy_suite import collect_into, differences, load_scipy_tests, xp  # noqa: F401 (xp: fixture)


def single(y: Any) -> np.ndarray:
    """scipy's ``single(y)``: ``linkage(y, 'single')``."""
    return hclust.linkage(y, "single")


def ward(y: Any) -> np.ndarray:
    """scipy's ``ward(y)``: ``linkage(y, 'ward')``."""
    return hclust.linkage(y, "ward")


HIERARCHY: dict[str, Callable[..., Any]] = {
    "linkage": hclust.linkage,
    "fcluster": hclust.fcluster,
    "fclusterdata": hclust.fclusterdata,
    "cut_tree": hclust.cut_tree,
    "cophenet": hclust.cophenet,
    "inconsistent": hclust.inconsistent,
    "leaves_list": hclust.leaves_list,
    "optimal_leaf_ordering": hclust.optimal_leaf_ordering,
    "is_valid_linkage": hclust.is_valid_linkage,
    "is_monotonic": hclust.is_monotonic,
    "dendrogram": hclust.plot.dendrogram,
    "set_link_color_palette": hclust.plot.set_link_color_palette,
    "single": single,
    "ward": ward,
}
DISTANCE: dict[str, Callable[..., Any]] = {"pdist": hclust.pdist}

try:
    scipy_tests = load_scipy_tests(
        "cluster/tests/test_hierarchy.py",
        {"scipy.cluster.hierarchy": HIERARCHY, "scipy.spatial.distance": DISTANCE},
    )
except FileNotFoundError as missing:  # a scipy build without its tests
    pytest.skip(str(missing), allow_module_level=True)

#: Documented differences: scipy's tests that fail by design (strict xfail).
DIFFERENCES: dict[str, str] = {}

differences(scipy_tests, DIFFERENCES)
COLLECTED = collect_into(scipy_tests, globals())


# --------------------------------------------------------------------------- sentinels


def test_sentinel_scipy_names_are_hclust_functions():
    for name, ours in {**HIERARCHY, **DISTANCE}.items():
        assert getattr(scipy_tests, name) is ours, name
    assert scipy_tests.eager.is_valid_linkage is hclust.is_valid_linkage
    # scipy itself was restored once the file had run
    assert sch.linkage is not hclust.linkage and sch.linkage.__module__ == "scipy.cluster.hierarchy"
    assert ssd.pdist is not hclust.pdist and sch.dendrogram is not hclust.plot.dendrogram
    assert set(COLLECTED) >= {"TestLinkage", "TestFcluster", "TestDendrogram", "test_cut_tree"}


def _run(test_class: str | None, test: str, *args: Any) -> None:
    """Run one of scipy's tests directly."""
    if test_class is None:
        getattr(scipy_tests, test)(*args)
        return
    instance = getattr(scipy_tests, test_class)()
    if hasattr(instance, "setup_method"):
        instance.setup_method()
    getattr(instance, test)(*args)


def _first(criterion: str) -> float:
    return next(iter(getattr(scipy_tests.hierarchy_test_data, f"fcluster_{criterion}")))


#: For each replaced function, one of scipy's tests that must call it.
REPRESENTATIVE: dict[str, Callable[[Any], None]] = {
    "linkage": lambda xp: _run("TestLinkage", "test_linkage_tdist", xp),
    "fcluster": lambda xp: _run("TestFcluster", "test_fcluster_maxclust_gh_12651", xp),
    "fclusterdata": lambda xp: _run("TestFclusterData", "test_fclusterdata", _first("maxclust"), "maxclust", xp),
    "cut_tree": lambda xp: _run(None, "test_cut_tree", xp),
    "cophenet": lambda xp: _run("TestCopheneticDistance", "test_linkage_cophenet_tdist_Z_Y", xp),
    "inconsistent": lambda xp: _run("TestInconsistent", "test_inconsistent_tdist", xp),
    "leaves_list": lambda xp: _run("TestLeavesList", "test_leaves_list_1x4", xp),
    "optimal_leaf_ordering": lambda xp: _run(None, "test_optimal_leaf_ordering", xp),
    "is_valid_linkage": lambda xp: _run("TestIsValidLinkage", "test_is_valid_linkage_4_and_up", xp),
    "is_monotonic": lambda xp: _run("TestIsMonotonic", "test_is_monotonic_1x4", xp),
    "dendrogram": lambda xp: _run("TestDendrogram", "test_dendrogram_single_linkage_tdist", xp),
    "set_link_color_palette": lambda xp: _run("TestDendrogram", "test_dendrogram_colors", xp, threading.Lock()),
    "single": lambda xp: _run("TestFcluster", "test_fcluster_maxclust_gh_12651", xp),
    "ward": lambda xp: _run(None, "test_cut_tree", xp),
    "pdist": lambda xp: _run("TestLinkage", "test_linkage_X", xp),
}


@pytest.mark.parametrize("name", sorted({**HIERARCHY, **DISTANCE}))
def test_sentinel_each_replacement_is_exercised(name, monkeypatch, xp):
    """scipy's test runs hclust's function (counted) and passes; with a function that
    raises in its place, the same test fails: the suite above really tests hclust."""
    ours = {**HIERARCHY, **DISTANCE}[name]
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return ours(*args, **kwargs)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("sentinel")

    for replacement in (counting, broken):
        monkeypatch.setattr(scipy_tests, name, replacement)
        if name == "is_valid_linkage":
            monkeypatch.setattr(scipy_tests.eager, "is_valid_linkage", replacement)
        if replacement is counting:
            REPRESENTATIVE[name](xp)
            assert calls, f"scipy's test did not call hclust's {name}"
        else:
            with pytest.raises(RuntimeError, match="sentinel"):
                REPRESENTATIVE[name](xp)
