"""Array aliases shared by the typed modules."""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: ``progress(done, total)`` is called from time to time during long runs.
ProgressCallback = Callable[[int, int], None]
