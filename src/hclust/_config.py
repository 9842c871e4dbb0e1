"""Settings from the environment.

``HCLUST_NUMBA_CACHE`` is read once at import (kernels are decorated then);
the others are read when used, so a bad value gives a one-line error at the
call that needs it instead of breaking ``import hclust``.
"""

from __future__ import annotations

import os

#: Whether numba kernels cache their machine code on disk (``HCLUST_NUMBA_CACHE=0`` disables).
NUMBA_CACHE: bool = os.environ.get("HCLUST_NUMBA_CACHE", "1") not in ("0", "false", "no")

#: Default fraction of the available memory that one allocation may take.
DEFAULT_MEMORY_FRACTION = 0.8


def memory_fraction() -> float:
    """``HCLUST_MEMORY_FRACTION`` (0 < f <= 1; default 0.8): the share of available memory
    one allocation may take."""
    text = os.environ.get("HCLUST_MEMORY_FRACTION")
    if text is None or text.strip() == "":
        return DEFAULT_MEMORY_FRACTION
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise ValueError(
            f"HCLUST_MEMORY_FRACTION must be a number between 0 and 1 (the share of available "
            f"memory one allocation may take); got {text!r}. Unset it to use {DEFAULT_MEMORY_FRACTION}."
        )
    return value


def num_threads() -> int | None:
    """``HCLUST_NUM_THREADS`` (a positive integer): the default number of threads, or None."""
    text = os.environ.get("HCLUST_NUM_THREADS")
    if text is None or text.strip() == "":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"HCLUST_NUM_THREADS must be a positive integer (the default number of threads); "
            f"got {text!r}. Unset it to use every core."
        )
    return value
