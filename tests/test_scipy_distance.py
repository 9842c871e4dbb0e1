"""scipy's own ``spatial/tests/test_distance.py``, run against hclust.

The test file of the installed scipy wheel is executed with scipy's ``pdist`` and
``cdist`` replaced by hclust's (see ``_scipy_suite.py``), including the weight-checking
wrappers the file builds around them at import (``wpdist``, ``wcdist``); scipy's
single-pair functions (``scipy.spatial.distance.dice``, ...) stay scipy's, and passed
to hclust's ``pdist`` as metrics they run hclust's kernels. The sentinel tests at the
end prove that the replacements are in effect.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
import scipy.spatial.distance as ssd

import hclust
from _scipy_suite import collect_into, differences, load_scipy_tests, xp  # noqa: F401 (xp: fixture)

DISTANCE: dict[str, Callable[..., Any]] = {"pdist": hclust.pdist, "cdist": hclust.cdist}

try:
    scipy_tests = load_scipy_tests("spatial/tests/test_distance.py", {"scipy.spatial.distance": DISTANCE})
except FileNotFoundError as missing:  # a scipy build without its tests
    pytest.skip(str(missing), allow_module_level=True)

#: Documented differences: scipy's tests that fail by design (strict xfail).
DIFFERENCES: dict[str, str] = {}

differences(scipy_tests, DIFFERENCES)
COLLECTED = collect_into(scipy_tests, globals())


# --------------------------------------------------------------------------- sentinels


def test_sentinel_scipy_names_are_hclust_functions():
    assert scipy_tests.pdist is hclust.pdist and scipy_tests.cdist is hclust.cdist
    # the weight-checking wrappers scipy's file builds at import wrap hclust's functions
    for wrapper in ("wpdist", "wpdist_no_const"):
        assert getattr(scipy_tests, wrapper).__wrapped__ is hclust.pdist
    for wrapper in ("wcdist", "wcdist_no_const"):
        assert getattr(scipy_tests, wrapper).__wrapped__ is hclust.cdist
    # scipy's single-pair functions stay scipy's; scipy itself was restored
    assert scipy_tests.dice is ssd.dice
    assert ssd.pdist is not hclust.pdist and ssd.pdist.__module__ == "scipy.spatial.distance"
    assert {"TestPdist", "TestCdist", "test_Xdist_non_negative_weights"} <= set(COLLECTED)


@pytest.mark.parametrize(
    "name, test_class, test",
    [("pdist", "TestPdist", "test_pdist_out"), ("cdist", "TestCdist", "test_cdist_out")],
)
@pytest.mark.parametrize("metric", ["euclidean", "yule", "jensenshannon"])
def test_sentinel_each_replacement_is_exercised(name, test_class, test, metric, monkeypatch):
    """scipy's test runs hclust's function (counted) and passes; with a function that
    raises in its place, the same test fails."""
    ours = DISTANCE[name]
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return ours(*args, **kwargs)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("sentinel")

    monkeypatch.setattr(scipy_tests, name, counting)
    instance = getattr(scipy_tests, test_class)()
    instance.setup_method()
    getattr(instance, test)(metric)
    assert calls
    monkeypatch.setattr(scipy_tests, name, broken)
    with pytest.raises(RuntimeError, match="sentinel"):
        getattr(instance, test)(metric)


def test_listed_differences_become_strict_expected_failures():
    import types

    module = types.ModuleType("fake_scipy_tests")

    class TestThing:
        def test_wording(self):
            raise AssertionError

    def test_backend():
        raise AssertionError

    module.TestThing = TestThing  # type: ignore[attr-defined]
    module.test_backend = test_backend  # type: ignore[attr-defined]
    differences(module, {"TestThing::test_wording": "checks scipy's wording", "test_backend": "array API"})
    for function, reason in ((TestThing.test_wording, "checks scipy's wording"), (test_backend, "array API")):
        (mark,) = function.pytestmark
        assert mark.name == "xfail" and mark.kwargs == {"strict": True, "reason": reason}
    with pytest.raises(AttributeError):
        differences(module, {"TestThing::test_gone": "renamed in scipy"})
