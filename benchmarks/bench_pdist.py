"""hclust.pdist against scipy.spatial.distance.pdist: time, ratio and peak memory.

Run from the repository root::

    .venv/bin/python benchmarks/bench_pdist.py            # n = 5000 and 20000, d = 8
    .venv/bin/python benchmarks/bench_pdist.py --n 20000 --metrics euclidean
    .venv/bin/python benchmarks/bench_pdist.py --n 5000 --metrics dice jensenshannon yule
    .venv/bin/python benchmarks/bench_pdist.py --n 5000 --metrics all

The boolean metrics (dice, jaccard, rogerstanimoto, ...) get boolean data (40% True),
jensenshannon non-negative data, the others normal data.

Each function is called once before timing (numba compiles on the first call), then
timed as the best of ``--repeat`` runs, alternating with its peer; the CPU seconds
(summed over threads) show the work done, which a busy machine distorts less than the
wall clock. Peak memory is the largest traced allocation
(``tracemalloc``, which numpy reports to) during one extra call; the output vector
alone is 8 n (n - 1) / 2 bytes. The two implementations must agree: the script checks
the largest relative difference.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
import tracemalloc
from functools import partial
from typing import Any, Callable

import numba
import numpy as np
from scipy.spatial import distance as scipy_distance

from hclust._metrics import METRICS, lookup
from hclust.metrics import pdist


def data_for(metric: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Observations the metric is meant for (booleans, distributions, or real numbers)."""
    if lookup(metric).boolean:
        return rng.random((n, d)) < 0.4
    if metric == "jensenshannon":
        return rng.random((n, d))
    return rng.normal(size=(n, d))


def best_times(funcs: list[Callable[[], Any]], repeat: int) -> list[tuple[float, float]]:
    """Best (wall, cpu) seconds of each function; the runs alternate, so that a busy
    machine slows every function alike."""
    best = [(float("inf"), float("inf"))] * len(funcs)
    for _ in range(repeat):
        for index, func in enumerate(funcs):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            func()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[index] = (min(best[index][0], wall), min(best[index][1], cpu))
    return best


def peak_bytes(func: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, nargs="+", default=[5000, 20000], help="numbers of observations"
    )
    parser.add_argument("--d", type=int, default=8, help="number of features")
    parser.add_argument("--metrics", nargs="+", default=["euclidean", "cityblock", "cosine"])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="threads for hclust (default: all)"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.metrics == ["all"]:
        args.metrics = list(METRICS)
    rows: list[dict[str, Any]] = []

    rng = np.random.default_rng(0)
    print(
        f"numba threads: {numba.get_num_threads()}, cpus: {os.cpu_count()}, "
        f"d = {args.d}, best of {args.repeat}"
    )
    header = (
        f"{'metric':<15} {'n':>6} {'scipy s':>8} {'hclust s':>9} {'speed-up':>9} "
        f"{'scipy cpu':>10} {'hclust cpu':>11} {'scipy MB':>9} {'hclust MB':>10} {'max rel diff':>13}"
    )
    print(header)
    print("-" * len(header))
    for n in args.n:
        for metric in args.metrics:
            X = data_for(metric, n, args.d, rng)
            ours = partial(pdist, X, metric, n_jobs=args.n_jobs)
            theirs = partial(scipy_distance.pdist, X, metric)
            mine, ref = ours(), theirs()  # warm-up: compile, and check agreement
            scale = np.maximum(np.abs(ref), np.finfo(np.float64).tiny)
            same = (mine == ref) | (np.isnan(mine) & np.isnan(ref))  # scipy's NaN conventions too
            diff = float(np.max(np.where(same, 0.0, np.abs(mine - ref) / scale)))
            del mine, ref
            (w_scipy, c_scipy), (w_ours, c_ours) = best_times([theirs, ours], args.repeat)
            m_scipy = peak_bytes(theirs) / 1e6
            m_ours = peak_bytes(ours) / 1e6
            print(
                f"{metric:<15} {n:>6} {w_scipy:>8.3f} {w_ours:>9.3f} {w_scipy / w_ours:>8.2f}x "
                f"{c_scipy:>10.3f} {c_ours:>11.3f} {m_scipy:>9.1f} {m_ours:>10.1f} {diff:>13.1e}"
            )
            rows.append({"metric": metric, "n": n, "d": args.d, "scipy_s": w_scipy, "hclust_s": w_ours,
                         "scipy_cpu_s": c_scipy, "hclust_cpu_s": c_ours, "scipy_gb": m_scipy / 1e3,
                         "hclust_gb": m_ours / 1e3, "max_rel_diff": diff})
    print(
        "s: best wall-clock seconds; cpu: best CPU seconds (all threads); MB: peak traced allocation"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MB")
    if args.json:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _measure import write_json

        write_json(args.json, "bench_pdist.py", rows, data="standard normal", peers=["scipy.spatial.distance.pdist"],
                   memory="peak traced allocation (tracemalloc)")


if __name__ == "__main__":
    main()
