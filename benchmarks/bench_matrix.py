"""The matrix engine (average, complete, weighted) against fastcluster, in one process run.

Usage: python benchmarks/bench_matrix.py [--sizes 2000 5000 10000 20000] [--dim 8]
       [--methods average complete weighted] [--repeat 3] [--threads 1 2]
       [--json results.json]

For every size the same blobs are clustered two ways: from the condensed
matrix (``pdist`` outside the time; hclust with ``n_jobs=1``, fastcluster
always single-threaded) and from the observations (distances included; hclust
with each ``--threads`` count). The two libraries alternate within every
repeat (so that a load that comes and goes on a shared machine hits both),
and the script prints the minimum and the median seconds of ``--repeat``
runs, the ratio fastcluster / hclust of the minima (> 1: hclust is faster;
the project's goal is 1.5), and whether the trees agree (merges equal,
heights within 1e-12 relative).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import write_json  # noqa: E402
from bench_linkage import blobs, same_tree  # noqa: E402


def _alternate(ours: Callable[[], Any], peer: Callable[[], Any], repeat: int) -> tuple[list[float], list[float]]:
    """Seconds of ``repeat`` runs of each, alternating ours and the peer."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        for func, times in ((ours, mine), (peer, theirs)):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
    return mine, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000])
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--methods", nargs="+", default=["average", "complete", "weighted"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    import fastcluster
    import numba
    from scipy.spatial.distance import pdist

    import hclust

    print(
        f"hclust {hclust.__version__}, fastcluster {fastcluster.__version__}, numba {numba.__version__} "
        f"({numba.config.NUMBA_NUM_THREADS} threads); d = {args.dim}, blobs; "
        f"min and median of {args.repeat}, the libraries alternating"
    )
    warm = blobs(1_500, args.dim)
    for method in args.methods:  # compile / load the kernels outside the timings
        for jobs in {1, *args.threads}:
            hclust.linkage(warm, method, n_jobs=jobs)
        hclust.linkage(pdist(warm), method, n_jobs=1)
    header = (f"{'method':9} {'n':>6} {'input':>16} | {'hclust min':>10} {'median':>7} | "
              f"{'fastcl. min':>11} {'median':>7} | {'ratio':>5} same")
    print(header)
    print("-" * len(header))
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        X = blobs(n, args.dim)
        y = pdist(X)
        for method in args.methods:
            runs: list[tuple[str, int, Callable[[], Any], Callable[[], Any]]] = [
                ("matrix", 1, lambda: hclust.linkage(y, method, n_jobs=1),
                 lambda: fastcluster.linkage(y, method)),
            ]
            for jobs in args.threads:
                runs.append(("observations", jobs, lambda j=jobs: hclust.linkage(X, method, n_jobs=j),
                             lambda: fastcluster.linkage(X, method)))
            for label, jobs, ours, peer in runs:
                same = same_tree(ours(), peer())
                mine, theirs = _alternate(ours, peer, args.repeat)
                row = {"method": method, "n": n, "d": args.dim, "input": label, "n_jobs": jobs,
                       "hclust_min": min(mine), "hclust_median": statistics.median(mine),
                       "fastcluster_min": min(theirs), "fastcluster_median": statistics.median(theirs),
                       "ratio": min(theirs) / min(mine), "same_tree": same}
                rows.append(row)
                print(
                    f"{method:9} {n:>6} {label + f' j={jobs}':>16} | {row['hclust_min']:10.3f} "
                    f"{row['hclust_median']:7.3f} | {row['fastcluster_min']:11.3f} "
                    f"{row['fastcluster_median']:7.3f} | {row['ratio']:5.2f} {'yes' if same else 'NO'}",
                    flush=True,
                )
    if args.json:
        write_json(args.json, "bench_matrix.py", rows, repeat=args.repeat,
                   statistic=f"min and median of {args.repeat} runs",
                   command="python " + " ".join(sys.argv), peers=["fastcluster.linkage"])


if __name__ == "__main__":
    main()
