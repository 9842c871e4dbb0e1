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


def machine() -> dict[str, Any]:
    """The machine and library versions a result was measured with (for the result files)."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions: dict[str, Any] = {}
    for name in ("hclust", "numpy", "scipy", "numba", "fastcluster", "sklearn", "genieclust", "quitefastmst", "pandas"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        versions[name] = getattr(module, "__version__", "?")
    try:
        import numba

        threads = numba.config.NUMBA_NUM_THREADS
    except ImportError:
        threads = None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "threads": threads,
        "versions": versions,
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def write_json(path: str | os.PathLike[str], script: str, rows: list[dict[str, Any]], **meta: Any) -> None:
    """Write a benchmark's results as ``{"meta": {...}, "rows": [...]}``, atomically.

    ``meta`` gets the script name, the date, the machine and the versions
    (:func:`machine`) plus the keyword arguments (the run's options); each
    row is one printed line, as plain numbers (seconds, GB) and strings. The
    documentation's benchmarks page renders these files.
    """
    import json
    from pathlib import Path

    target = Path(path)
    record = {"meta": {"script": script, **machine(), **meta}, "rows": rows}
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(json.dumps(record, indent=1, default=_plain) + "\n", encoding="utf-8")
    os.replace(temporary, target)
