"""Settings read once from the environment."""

from __future__ import annotations

import os

#: Whether numba kernels cache their machine code on disk (``HCLUST_NUMBA_CACHE=0`` disables).
NUMBA_CACHE: bool = os.environ.get("HCLUST_NUMBA_CACHE", "1") not in ("0", "false", "no")

#: Fraction of the currently available memory that one allocation may take.
MEMORY_FRACTION: float = float(os.environ.get("HCLUST_MEMORY_FRACTION", "0.8"))
