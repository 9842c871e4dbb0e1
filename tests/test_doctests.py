"""Every module's docstring examples run and show what the code returns (doctest).

One test per module of ``hclust`` (the numba kernels excepted: their docstrings hold dtypes
and shapes, no examples), found by walking the package, so a new module is covered without
being listed. Each runs in an empty working directory (an example that writes a file writes
it there), with the suite's warnings-as-errors in force.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import hclust

#: Modules whose examples need an optional library, and which.
NEEDS = {"hclust.plot": "matplotlib", "hclust.report.static": "matplotlib"}


def _modules() -> list[str]:
    names = ["hclust"]
    for info in pkgutil.walk_packages(hclust.__path__, "hclust."):
        if info.name.startswith("hclust._kernels"):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_the_walk_finds_the_package():
    assert {"hclust._linkage", "hclust.tree", "hclust.segment.model", "hclust.report.html", "hclust.cli"} <= set(MODULES)
    assert not [name for name in MODULES if name.startswith("hclust._kernels")]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in finder.find(module, name):  # each example sees its module's names, as with testmod
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (output above)"


def test_every_public_function_teaches_by_example():
    """STYLE.md: public functions have runnable Examples (the test above runs them)."""
    import inspect

    missing = [name for name in hclust.__all__
               if inspect.isfunction(getattr(hclust, name)) and ">>>" not in (getattr(hclust, name).__doc__ or "")]
    assert not missing
