"""Thread limits for numba's parallel kernels, restored when the work ends."""

from __future__ import annotations

import contextlib
from typing import Iterator

from ._validation import check_n_jobs


@contextlib.contextmanager
def numba_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the body with numba limited to ``n_jobs`` threads; yields the count used."""
    import numba

    count = check_n_jobs(n_jobs)
    previous = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(previous)
