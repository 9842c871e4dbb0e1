"""Serial and parallel compilations of one kernel, each cached under its own name."""

import types

from numba import njit

from .._config import NUMBA_CACHE


def twins(func, **options):
    """(serial, parallel) njit dispatchers of ``func``, the second with ``parallel=True``.

    numba names a kernel's cache files after the Python function's qualified
    name and keys their entries by signature, not by compile options: two
    compilations of one function share one cache entry, and whichever was
    compiled first is loaded for both (so the "parallel" twin ran serially,
    or the serial one in parallel). The parallel twin is compiled from a copy
    of the function named ``<name>_parallel``, which has cache files of its own.
    """
    serial = njit(cache=NUMBA_CACHE, **options)(func)
    clone = types.FunctionType(
        func.__code__, func.__globals__, func.__name__ + "_parallel", func.__defaults__, func.__closure__
    )
    clone.__qualname__ = func.__qualname__ + "_parallel"
    clone.__module__ = func.__module__
    clone.__doc__ = func.__doc__
    parallel = njit(cache=NUMBA_CACHE, parallel=True, **options)(clone)
    return serial, parallel
