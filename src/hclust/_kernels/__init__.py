"""numba kernels: arrays in, arrays out; the public functions validate their input."""

import numpy as np


def new_cursor(dtype: np.dtype) -> np.ndarray:
    """One zeroed record of ``dtype`` in a 1-element array, as the kernels' resumable
    state: a record array, so that ``state[0].field`` works in compiled kernels and
    in plain Python alike (``NUMBA_DISABLE_JIT=1``, for debugging)."""
    return np.zeros(1, dtype=dtype).view(np.recarray)
