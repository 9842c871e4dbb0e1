"""Rules the numba kernels must keep, checked on their source."""

from __future__ import annotations

import re
from pathlib import Path

import hclust

KERNELS = Path(hclust.__file__).resolve().parent / "_kernels"


def _parallel_kernels() -> dict[str, Path]:
    """Names bound to a parallel=True compilation, with the file defining them."""
    found = {}
    for path in KERNELS.glob("*.py"):
        for match in re.finditer(r"^(\w+)\s*=\s*njit\([^)]*parallel=True", path.read_text(), re.MULTILINE):
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
