"""Start-up: ``import hclust`` and ``hclust --help`` load no heavy library (PEP 562 lazy names).

Times are measured by ``benchmarks/bench_startup.py``, never asserted here; what is
asserted is the cause of a slow start: which modules a fresh interpreter has loaded.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

import hclust

HEAVY = ("numpy", "pandas", "scipy", "sklearn", "numba", "pyarrow", "plotly", "matplotlib", "sqlalchemy")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return sorted({name.split(".")[0] for name in modules} & set(HEAVY))


def test_import_hclust_loads_nothing_heavy():
    assert _loaded_after("import hclust") == []


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["segment", "--help"], ["report", "--help"]])
def test_help_loads_nothing_heavy(argv):
    code = ("import contextlib, io\nfrom hclust.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({argv!r}) == 0")
    loaded = _loaded_after(code)
    # `segment --help` lists the linkage methods, which come from the registry hclust._methods (numpy, numba,
    # and the parts of scipy numba reads); nothing else
    allowed = {"numpy", "numba", "scipy"} if argv[0] == "segment" else set()
    assert set(loaded) <= allowed


def test_every_public_name_resolves():
    for name in hclust.__all__:
        assert getattr(hclust, name) is not None, name
    assert set(hclust.__all__) <= set(dir(hclust))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hclust.nope  # noqa: B018


@pytest.mark.parametrize("package", ["hclust", "hclust.segment", "hclust.report"])
def test_no_public_name_is_also_a_module(package):
    """A public function never shares its name with a module (``hclust.linkage`` was both):
    implementation modules are private (``hclust._linkage``) and the names re-exported."""
    module = importlib.import_module(package)
    modules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert not modules & set(module.__all__), sorted(modules & set(module.__all__))


def test_functions_keep_their_names_when_their_modules_load():
    import hclust._compare
    import hclust._linkage
    import hclust.segment._profile
    import hclust.segment._rfm

    assert callable(hclust.linkage) and hclust.linkage is hclust._linkage.linkage
    assert callable(hclust.compare) and hclust.compare.__module__ == "hclust._compare"
    assert hclust.segment.profile is hclust.profile and hclust.segment.rfm is hclust.rfm
    assert hclust.tree.cut is hclust.cut  # submodules load on first access too
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hclust.linkage")  # the function, not a module
