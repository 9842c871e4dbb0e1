"""Rules the numba kernels must keep, checked on their source."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

import hclust

KERNELS = Path(hclust.__file__).resolve().parent / "_kernels"


def _parallel_kernels() -> dict[str, Path]:
    """Names bound to a parallel compilation (``serial, parallel = twins(f)``), with their file."""
    found = {}
    for path in KERNELS.glob("*.py"):
        for match in re.finditer(r"^\w+,\s*(\w+)\s*=\s*twins\(", path.read_text(), re.MULTILINE):
            found[match.group(1)] = path
    return found


def test_there_are_parallel_kernels_to_check():
    assert len(_parallel_kernels()) >= 5


def test_no_kernel_calls_a_parallel_kernel():
    # A cached njit function that calls a parallel=True one can crash when it
    # is loaded from the cache (numba issue 8578; seen here with vector ward),
    # so parallel kernels are called from Python only. A kernel that needs a
    # parallel loop is compiled as a parallel twin of the whole function.
    names = _parallel_kernels()
    for path in KERNELS.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for name in names:
                if re.search(rf"\b{name}\s*\(", line):
                    raise AssertionError(f"{path.name}:{number} calls the parallel kernel {name}: {line.strip()}")


def test_parallel_compilations_go_through_twins():
    # A bare njit(parallel=True)(f) beside njit(f) shares f's cache entry
    # (see test_gh_twins_have_their_own_cache): use _twins.twins instead.
    for path in KERNELS.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "parallel=True" in line and "njit(" in line and path.name != "_twins.py":
                raise AssertionError(f"{path.name}:{number} compiles parallel=True outside twins(): {line.strip()}")


def test_every_kernel_dispatcher_has_its_own_cache_name():
    # numba names cache files after the function's qualified name.
    import importlib

    from numba.core.registry import CPUDispatcher

    seen: dict[str, str] = {}
    for path in sorted(KERNELS.glob("*.py")):
        module = importlib.import_module(f"hclust._kernels.{path.stem}")
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == module.__name__:
                key = f"{path.stem}.{value.py_func.__qualname__}"
                assert key not in seen or seen[key] == name, f"{name} and {seen[key]} share the cache name {key}"
                seen[key] = name


_TWIN_MODULE = """
import numpy as np
from numba import prange

from hclust._kernels._twins import twins


def _total(x):
    out = np.zeros(4)
    for b in prange(4):
        for i in range(b, x.shape[0], 4):
            out[b] += x[i]
    return out.sum()


total_serial, total_parallel = twins(_total)
"""

_TWIN_RUN = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import twin_module as m
x = np.arange(100.0)
assert m.total_serial(x) == m.total_parallel(x) == 4950.0
print(len(m.total_serial.stats.cache_hits), len(m.total_parallel.stats.cache_hits),
      m.total_parallel.targetoptions.get("parallel") is True)
"""


def test_gh_twins_have_their_own_cache(tmp_path):
    # Regression: the parallel twin of a cached kernel used to load the serial
    # twin's machine code from the cache (same function, same cache entry),
    # so the "parallel" kernels of a fresh install ran on one thread.
    import os
    import subprocess
    import sys

    (tmp_path / "twin_module.py").write_text(_TWIN_MODULE)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("NUMBA_DISABLE_JIT", None)
    env.pop("HCLUST_NUMBA_CACHE", None)

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _TWIN_RUN, str(tmp_path)],
            env=env, capture_output=True, text=True, timeout=300, check=True,
        )
        return done.stdout.split()

    # first process: the serial twin compiles and is cached; the parallel one
    # must compile its own code, not load the serial one's
    assert run() == ["0", "0", "True"]
    # second process: each loads its own cache entry
    assert run() == ["1", "1", "True"]
    names = sorted(p.name for p in (tmp_path / "cache").rglob("*.nbi"))
    assert len(names) == 2 and any("_total_parallel" in name for name in names), names


def test_the_engines_run_as_plain_python(tmp_path):
    """NUMBA_DISABLE_JIT=1 (for debugging a kernel in Python) runs every engine and gives
    the compiled kernels' trees: the cursors are record arrays, the prefetch a no-op."""
    import subprocess
    import sys

    X = np.random.default_rng(11).normal(size=(40, 3))
    runs = [(m, a) for m in ("single", "average", "complete", "weighted", "ward", "centroid", "median")
            for a in ("matrix", "vector") if a == "matrix" or m in ("single", "ward", "centroid", "median")]
    np.save(tmp_path / "X.npy", X)
    code = (
        "import numpy as np, hclust, sys\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"for i, (m, a) in enumerate({runs!r}):\n"
        f"    np.save({str(tmp_path)!r} + f'/Z{{i}}.npy', hclust.linkage(X, m, algorithm=a))\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for i, (method, algorithm) in enumerate(runs):
        expected = hclust.linkage(X, method, algorithm=algorithm)
        np.testing.assert_array_equal(np.load(tmp_path / f"Z{i}.npy"), expected, err_msg=f"{method} {algorithm}")
