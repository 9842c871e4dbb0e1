"""Every engine on an idle machine and with one core held by a competing process.

Usage: python benchmarks/bench_contention.py [--sizes 5000 10000 20000] [--engines ...]
       [--repeat 3] [--json results.json]

For each engine and size the same blobs (d = 8) are clustered by hclust with
its default threads and with ``n_jobs=1``, and by scipy, first on the idle
machine, then while another process spins on one core (a Python busy loop, as
an analyst's other work would). It prints the median seconds of ``--repeat``
runs and the two ratios the project's goals are about: busy default / busy
``n_jobs=1`` (goal: at most 1.2, a parallel kernel must never lose to its own
serial path; the two are run alternately) and scipy busy / hclust busy default (goal: at least 1, never
slower than scipy). Distances are included in every time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import write_json  # noqa: E402
from bench_linkage import blobs  # noqa: E402

# engine label -> (hclust call, scipy method or None)
ENGINES: dict[str, tuple[Callable[..., Any], str | None]] = {
    "average (matrix)": (lambda hc, X, j: hc.linkage(X, "average", n_jobs=j), "average"),
    "complete (matrix)": (lambda hc, X, j: hc.linkage(X, "complete", n_jobs=j), "complete"),
    "weighted (matrix)": (lambda hc, X, j: hc.linkage(X, "weighted", n_jobs=j), "weighted"),
    "ward (matrix)": (lambda hc, X, j: hc.linkage(X, "ward", n_jobs=j, algorithm="matrix"), "ward"),
    "ward (vector)": (lambda hc, X, j: hc.linkage(X, "ward", n_jobs=j, algorithm="vector"), "ward"),
    "centroid (vector)": (lambda hc, X, j: hc.linkage(X, "centroid", n_jobs=j, algorithm="vector"), "centroid"),
    "median (vector)": (lambda hc, X, j: hc.linkage(X, "median", n_jobs=j, algorithm="vector"), "median"),
    "average sqeuclidean (vector)": (
        lambda hc, X, j: hc.linkage(X, "average", "sqeuclidean", n_jobs=j, algorithm="vector"),
        None,
    ),
    "single (Boruvka)": (lambda hc, X, j: hc.linkage(X, "single", n_jobs=j), "single"),
    "single cityblock (Prim)": (lambda hc, X, j: hc.linkage(X, "single", "cityblock", n_jobs=j), None),
    "pdist": (lambda hc, X, j: hc.pdist(X, n_jobs=j), None),
}


def _busy() -> subprocess.Popen[bytes]:
    """A competing process: one core's worth of pure Python spinning."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _time(func: Callable[[], Any], repeat: int) -> float:
    return _time_pair(func, None, repeat)[0]


def _time_pair(first: Callable[[], Any], second: Callable[[], Any] | None, repeat: int) -> tuple[float, float]:
    """Median seconds of ``first`` and ``second``, run alternately (a drift of the
    machine's speed during the measurement then falls on both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for k, func in enumerate((first, second)):
            if func is None:
                continue
            start = time.perf_counter()
            func()
            times[k].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1]) if times[1] else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES), metavar="ENGINE")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-scipy", dest="scipy", action="store_false")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    import numba
    import scipy
    from scipy.cluster import hierarchy as sch
    from scipy.spatial.distance import pdist as scipy_pdist

    import hclust

    threads = numba.config.NUMBA_NUM_THREADS
    print(
        f"hclust {hclust.__version__}, scipy {scipy.__version__}, numba {numba.__version__} "
        f"({threads} threads, layer {os.environ.get('NUMBA_THREADING_LAYER', 'default')}); "
        f"{os.cpu_count()} cores; d = {args.dim}, blobs; median of {args.repeat}"
    )
    # compile / load every kernel (serial and parallel twins) outside the timings
    warm = blobs(4_500, args.dim)
    for name in args.engines:
        for jobs in (None, 1):
            ENGINES[name][0](hclust, warm, jobs)

    header = (
        f"{'engine':30} {'n':>6} | {'idle':>7} {'idle j=1':>8} | {'busy':>7} {'busy j=1':>8} "
        f"{'scipy busy':>10} | {'busy/j=1':>8} {'scipy/busy':>10}"
    )
    print(header)
    print("-" * len(header))
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        X = blobs(n, args.dim)
        for name in args.engines:
            call, peer = ENGINES[name]
            row: dict[str, Any] = {"engine": name, "n": n, "d": args.dim}
            row["idle"], row["idle_serial"] = _time_pair(
                lambda: call(hclust, X, None), lambda: call(hclust, X, 1), args.repeat
            )
            busy = _busy()
            try:
                time.sleep(0.2)
                row["busy"], row["busy_serial"] = _time_pair(
                    lambda: call(hclust, X, None), lambda: call(hclust, X, 1), args.repeat
                )
                row["scipy_busy"] = None
                if args.scipy and (peer is not None or name == "pdist"):
                    if name == "pdist":
                        row["scipy_busy"] = _time(lambda: scipy_pdist(X), args.repeat)
                    else:
                        row["scipy_busy"] = _time(lambda: sch.linkage(X, peer), 1)
            finally:
                busy.kill()
                busy.wait()
            ratio = row["busy"] / row["busy_serial"]
            versus = row["scipy_busy"] / row["busy"] if row["scipy_busy"] else None
            rows.append(row)
            print(
                f"{name:30} {n:>6} | {row['idle']:7.3f} {row['idle_serial']:8.3f} | {row['busy']:7.3f} "
                f"{row['busy_serial']:8.3f} {row['scipy_busy'] or float('nan'):10.3f} | {ratio:8.2f} "
                f"{versus or float('nan'):10.2f}",
                flush=True,
            )
    if args.json:
        write_json(args.json, "bench_contention.py", rows, repeat=args.repeat,
                   statistic=f"median of {args.repeat} runs", command="python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
