"""Timing and peak-memory helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(func: Callable[[], Any], interval: float = 0.002) -> tuple[Any, float, int]:
    """Run ``func()``; return (result, seconds, peak resident memory above the start, bytes).

    Memory is sampled from /proc/self/statm by a thread, so allocations made
    by C/C++ extensions count as well as NumPy's.
    """
    baseline = _rss_bytes()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        result = func()
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    peak = max(peak, _rss_bytes())
    return result, elapsed, peak - baseline


def gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.2f} GB"
