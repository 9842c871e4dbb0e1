"""Ward from observations: hclust's linear-memory engine against fastcluster.linkage_vector.

Usage: python benchmarks/bench_ward.py [--sizes 10000x8 30000x8 100000x8 300000x8 1000000x8]
                                       [--skip-peer-above 100000]

For every size (n x d, blobs with 12 centres of different spreads) the
script times, in the same process run, ``hclust.linkage(X, "ward",
algorithm="vector")`` and ``fastcluster.linkage_vector(X, "ward")`` (O(n^2)
time, skipped above --skip-peer-above). It prints seconds, peak resident
memory above the starting point, the ratio (fastcluster time / hclust time,
> 1 means hclust is faster), whether both trees agree (merges equal, heights
within 1e-12 relative), the exponent of time growth between sizes, and
hclust's nearest-neighbour searches per merge and rounds of merges.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gb, measure, write_json  # noqa: E402
from bench_linkage import blobs, same_tree  # noqa: E402
from bench_single import parse_size  # noqa: E402

DEFAULT_SIZES = ["10000x8", "30000x8", "100000x8", "300000x8", "1000000x8"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_size, nargs="+", default=[parse_size(s) for s in DEFAULT_SIZES])
    parser.add_argument("--skip-peer-above", type=int, default=100_000,
                        help="largest n for fastcluster.linkage_vector (O(n^2) time)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    import fastcluster
    import numba

    import hclust
    from hclust import _linkage_vector

    print(
        f"hclust {hclust.__version__}, fastcluster {fastcluster.__version__}, "
        f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads); blobs"
    )
    hclust.linkage(blobs(3000, 8), "ward", algorithm="vector")  # compile or load the cache
    header = (
        f"{'n x d':>12} | {'hclust':>8} {'memory':>8} | {'fastcl.':>8} {'memory':>8} {'ratio':>6} | "
        f"same tree | growth  | searches/merge rounds"
    )
    print(header)
    print("-" * len(header))
    previous: dict[int, tuple[int, float]] = {}
    rows: list[dict] = []
    for n, d in args.sizes:
        X = blobs(n, d)
        Z, t_h, m_h = measure(lambda: hclust.linkage(X, "ward", algorithm="vector"))
        stats = dict(_linkage_vector._STATS)
        row = {"n": n, "d": d, "hclust_s": t_h, "hclust_gb": m_h / 1e9}
        if n <= args.skip_peer_above:
            Z_f, t_f, m_f = measure(lambda: fastcluster.linkage_vector(X, "ward"))
            peer = f"{t_f:8.2f} {gb(m_f):>8} {t_f / t_h:6.2f}"
            agree = "yes" if same_tree(Z, Z_f) else "NO"
            row.update(fastcluster_vector_s=t_f, fastcluster_vector_gb=m_f / 1e9, same_tree=agree == "yes")
            del Z_f
        else:
            peer = f"{'-':>8} {'-':>8} {'-':>6}"
            agree = "-"
        growth = ""
        if d in previous:
            n0, t0 = previous[d]
            growth = f"n^{math.log(t_h / t0) / math.log(n / n0):.2f}"
        previous[d] = (n, t_h)
        print(
            f"{f'{n}x{d}':>12} | {t_h:8.2f} {gb(m_h):>8} | {peer} | {agree:>9} | {growth:7} | "
            f"{stats['searches'] / (n - 1):14.2f} {stats['rounds']:6d}",
            flush=True,
        )
        row.update(searches_per_merge=stats["searches"] / (n - 1), rounds=stats["rounds"])
        rows.append(row)
        del Z
    if args.json:
        write_json(args.json, "bench_ward.py", rows, data="blobs (12 centres)", peers=["fastcluster.linkage_vector"])


if __name__ == "__main__":
    main()
