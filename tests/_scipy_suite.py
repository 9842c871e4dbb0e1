"""Run scipy's own test files against hclust: the loader shared by test_scipy_*.py.

:func:`load_scipy_tests` executes a test file of the installed scipy wheel as a
private module (``scipy.<package>.tests._hclust_<file>``, so its relative imports
of scipy's test data work) while scipy's functions are replaced by hclust's in
the scipy modules themselves. Everything the test file binds at import time
(``from scipy.cluster.hierarchy import linkage``, helpers such as
``wpdist = _weight_checked(pdist)``, class attributes) therefore binds hclust's
functions; the originals are restored as soon as the file has run, so scipy itself
(and hclust's other tests, which compare against scipy) are untouched.
:func:`collect_into` then exposes the file's tests and fixtures to pytest from
the calling test module, with :func:`differences` marking the listed ones as
strict expected failures.

scipy's tests are parametrized over array-API backends through an ``xp``
fixture; here it is NumPy only (scipy's own NumPy namespace), applying scipy's
``skip_xp_backends`` / ``xfail_xp_backends`` marks the way scipy's conftest does
for NumPy.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest
import scipy

SCIPY_ROOT = Path(scipy.__file__).resolve().parent


@contextlib.contextmanager
def _replaced(replacements: Mapping[str, Mapping[str, Callable[..., Any]]]) -> Iterator[None]:
    """Set ``module.name = ours`` for every scipy module and name; restore on exit.

    scipy's ``make_xp_test_case(f)`` reads the array-API capabilities of ``f`` from a
    table keyed by function, so each replacement borrows the entry of the function it
    replaces for as long as the test file is being executed.
    """
    from scipy._lib import _array_api

    table = _array_api.xp_capabilities_table
    saved: list[tuple[types.ModuleType, str, Any]] = []
    borrowed: list[Any] = []
    try:
        for module_name, names in replacements.items():
            module = importlib.import_module(module_name)
            for name, ours in names.items():
                original = getattr(module, name)  # AttributeError: scipy renamed something
                saved.append((module, name, original))
                setattr(module, name, ours)
                if original in table and ours not in table:
                    table[ours] = table[original]
                    borrowed.append(ours)
        yield
    finally:
        for module, name, original in reversed(saved):
            setattr(module, name, original)
        for ours in borrowed:
            table.pop(ours, None)


@contextlib.contextmanager
def _scipy_conftest_names() -> Iterator[None]:
    """scipy's test files import a few marks from ``scipy.conftest``, whose import would
    also load scipy's hypothesis profile and set its multiprocessing start method:
    provide just those names (their values for NumPy without SCIPY_ARRAY_API)."""
    if "scipy.conftest" in sys.modules:
        yield
        return
    stub = types.ModuleType("scipy.conftest")
    stub.skip_xp_invalid_arg = pytest.mark.skipif(False, reason="NumPy only")  # type: ignore[attr-defined]
    sys.modules["scipy.conftest"] = stub
    try:
        yield
    finally:
        del sys.modules["scipy.conftest"]


def load_scipy_tests(
    relative_path: str, replacements: Mapping[str, Mapping[str, Callable[..., Any]]]
) -> types.ModuleType:
    """Execute scipy's test file ``relative_path`` with scipy's functions replaced by ours.

    Returns the private module. Raises AttributeError when a replaced name no longer
    exists in scipy (the replacement list must then be updated), FileNotFoundError when
    the wheel does not ship the file.
    """
    path = SCIPY_ROOT / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: this scipy wheel does not ship its tests")
    package = "scipy." + ".".join(Path(relative_path).parent.parts)
    name = f"{package}._hclust_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with _scipy_conftest_names(), _replaced(replacements):
        spec.loader.exec_module(module)
    return module


def _is_fixture(obj: Any) -> bool:
    return type(obj).__name__ == "FixtureFunctionDefinition" or hasattr(obj, "_pytestfixturefunction")


def differences(module: types.ModuleType, listed: Mapping[str, str]) -> None:
    """Mark the listed tests (``"Class::test"`` or ``"test"``) as strict expected failures.

    ``strict=True``: a listed test that starts passing fails the run, so the list
    cannot outlive the difference it documents.
    """
    for target, reason in listed.items():
        owner: Any = module
        *outer, test = target.split("::")
        for part in outer:
            owner = getattr(owner, part)
        function = getattr(owner, test)
        pytest.mark.xfail(strict=True, reason=reason)(function)


def collect_into(module: types.ModuleType, namespace: dict[str, Any]) -> list[str]:
    """Expose ``module``'s test classes, test functions and fixtures in ``namespace``.

    Returns the names exposed. A name already defined there is an error (it would hide
    either the scipy test or ours).
    """
    exposed = []
    for key, value in vars(module).items():
        if key.startswith(("test_", "Test")) or _is_fixture(value):
            if key in namespace:
                raise RuntimeError(f"{key!r} of {module.__name__} would hide a name of the test module")
            namespace[key] = value
            exposed.append(key)
    return exposed


def _numpy_skip_or_xfail(request: pytest.FixtureRequest) -> None:
    """scipy's conftest, for the NumPy backend: skip / xfail marks that name 'numpy'."""
    for kind, action in (("skip", pytest.skip), ("xfail", pytest.xfail)):
        for marker in request.node.iter_markers(f"{kind}_xp_backends"):
            if marker.args and marker.args[0] == "numpy":
                action(reason=marker.kwargs.get("reason") or "not run with NumPy")


@pytest.fixture
def xp(request: pytest.FixtureRequest) -> Any:
    """scipy's ``xp`` fixture, NumPy only: scipy's own NumPy array namespace."""
    import numpy as np
    from scipy._lib._array_api import array_namespace

    _numpy_skip_or_xfail(request)
    return array_namespace(np.empty(0))
