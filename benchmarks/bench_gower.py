"""Gower matrix of mixed customer rows: hclust.gower vs the PyPI ``gower`` package.

Run:  python benchmarks/bench_gower.py [--n 20000] [--peer-n 5000]

Generates n rows (numeric, categorical and binary columns, ~5 % missing in
the numeric and categorical ones), times ``Gower().fit(df).condensed()``
(compile excluded) and ``gower.gower_matrix``, checks that both give the same
values on rows without missing values (the package returns NaN for a pair with
a missing number, where Gower skips the variable), and prints times, the ratio
and peak memory. When ``--peer-n`` is smaller than ``--n`` the package is
measured at ``peer-n`` and its time extrapolated as O(n^2) (said so in the
output).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from hclust.gower import Gower


def make_customers(n: int, seed: int = 0, missing: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.lognormal(10.5, 0.6, n).round(0),
            "spend": rng.gamma(2.0, 120.0, n).round(2),
            "visits": rng.poisson(6, n).astype(float),
            "region": pd.Series(rng.choice(["north", "south", "east", "west", "centre"], n), dtype=object),
            "channel": pd.Series(rng.choice(["web", "store", "phone"], n), dtype=object),
            "plan": pd.Series(rng.choice(["basic", "plus", "premium", "family"], n), dtype=object),
            "member": pd.Series(rng.choice(["yes", "no"], n), dtype=object),
            "newsletter": pd.Series(rng.choice(["yes", "no"], n, p=[0.3, 0.7]), dtype=object),
        }
    )
    for col in ["income", "spend", "region", "channel"]:
        mask = rng.random(n) < missing
        frame.loc[mask, col] = np.nan
    return frame


def timed(fn):
    tracemalloc.start()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--peer-n", type=int, default=5_000, help="rows for the gower package")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    import gower  # the peer: pip install gower

    frame = make_customers(args.n)
    # compile (or load the cache of) the serial and the parallel kernels outside the timing
    Gower().fit(frame.iloc[:50]).condensed()
    Gower().fit(frame.iloc[:2_000]).condensed()

    import numba

    y, ours, ours_cpu, ours_peak = timed(lambda: Gower().fit(frame).condensed())
    print(
        f"hclust Gower   n={args.n:>6}: {ours:8.2f} s wall, {ours_cpu:8.2f} s CPU "
        f"({numba.get_num_threads()} threads), peak {ours_peak / 1e9:.2f} GB (traced allocations)"
    )

    peer_n = min(args.peer_n, args.n)
    sub = frame.iloc[:peer_n]
    theirs_matrix, theirs, theirs_cpu, theirs_peak = timed(lambda: gower.gower_matrix(sub))
    print(
        f"gower package  n={peer_n:>6}: {theirs:8.2f} s wall, {theirs_cpu:8.2f} s CPU, "
        f"peak {theirs_peak / 1e9:.2f} GB (traced allocations)"
    )
    if peer_n < args.n:
        scale = (args.n / peer_n) ** 2
        theirs_full = theirs * scale
        print(f"gower package  n={args.n:>6}: {theirs_full:8.2f} s EXTRAPOLATED as O(n^2) from n={peer_n}")
    else:
        theirs_full = theirs
    print(f"ratio (gower package / hclust) at n={args.n}: {theirs_full / ours:.1f}x (wall)")

    # same values: on rows without missing values, at float32 precision
    complete = sub.notna().all(axis=1).to_numpy()
    ours_sub = Gower().fit(sub).pairwise()
    # the package fits ranges on the rows it is given; so does fit() here
    diff = np.abs(ours_sub[np.ix_(complete, complete)] - theirs_matrix[np.ix_(complete, complete)])
    print(f"max |hclust - gower| over {complete.sum()} complete rows: {diff.max():.2e} (package is float32)")
    del y
    if args.json:
        import importlib.metadata
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _measure import write_json

        rows = [{"library": "hclust.Gower", "n": args.n, "wall_s": ours, "cpu_s": ours_cpu, "peak_gb": ours_peak / 1e9},
                {"library": "gower " + importlib.metadata.version("gower"), "n": peer_n, "wall_s": theirs,
                 "cpu_s": theirs_cpu, "peak_gb": theirs_peak / 1e9},
                {"library": "gower (extrapolated O(n^2))", "n": args.n, "wall_s": theirs_full,
                 "ratio": theirs_full / ours}]
        write_json(args.json, "bench_gower.py", rows, data="generated mixed customers", peers=["gower (PyPI)"],
                   memory="peak traced allocation (tracemalloc)")


if __name__ == "__main__":
    main()
