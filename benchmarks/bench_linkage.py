"""hclust.linkage against scipy and fastcluster, in one process run.

Usage: python benchmarks/bench_linkage.py [--sizes 5000 20000] [--dim 8] [--methods ...]

For every method and size, each library clusters the same blobs from the
observation matrix (distances included in the time); the script prints
seconds, peak resident memory above the starting point, the ratios
(peer time / hclust time, > 1 means hclust is faster) and whether the trees
agree with scipy (merges equal, heights within 1e-12 relative).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gb, measure, write_json  # noqa: E402

METHODS = ("single", "complete", "average", "weighted", "ward", "centroid", "median")


def blobs(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(12, d))
    labels = rng.integers(0, 12, size=n)
    return centers[labels] + rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=12)[labels, None]


def same_tree(Z: np.ndarray, Z_ref: np.ndarray) -> bool:
    return bool(
        np.array_equal(np.sort(Z[:, :2], axis=1), np.sort(Z_ref[:, :2], axis=1))
        and np.allclose(Z[:, 2], Z_ref[:, 2], rtol=1e-12, atol=0)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--skip-scipy-above", type=int, default=10**9)
    parser.add_argument("--no-vector", dest="vector", action="store_false",
                        help="skip the linear-memory rows (ward, single, centroid, median against linkage_vector)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    import fastcluster
    import numba
    import scipy
    from scipy.cluster import hierarchy as sch

    import hclust

    print(
        f"hclust {hclust.__version__}, scipy {scipy.__version__}, fastcluster {fastcluster.__version__}, "
        f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads); d = {args.dim}, blobs"
    )
    # Compile (or load the cache of) every kernel outside the timings: 4 500
    # rows reach the parallel kernels too (the generic algorithm's parallel
    # column pass starts at 4 096; loading it once costs 1-3 s).
    warm = blobs(4_500, args.dim)
    for method in args.methods:
        hclust.linkage(warm, method)
        if method in ("ward", "single", "centroid", "median") and args.vector:
            hclust.linkage(warm, method, algorithm="vector")

    header = (
        f"{'method':9} {'n':>6} | {'hclust':>7} {'memory':>8} | {'fastcl.':>7} {'memory':>8} "
        f"{'ratio':>6} | {'scipy':>7} {'memory':>8} {'ratio':>6} | same as scipy"
    )
    print(header)
    print("-" * len(header))
    rows: list[dict] = []
    for n in args.sizes:
        X = blobs(n, args.dim)
        for method in args.methods:
            Z, t_h, m_h = measure(lambda: hclust.linkage(X, method))
            Z_f, t_f, m_f = measure(lambda: fastcluster.linkage(X, method))
            del Z_f
            row = {"method": method, "algorithm": "auto", "n": n, "d": args.dim, "hclust_s": t_h,
                   "hclust_gb": m_h / 1e9, "fastcluster_s": t_f, "fastcluster_gb": m_f / 1e9}
            if n <= args.skip_scipy_above:
                Z_s, t_s, m_s = measure(lambda: sch.linkage(X, method))
                scipy_cols = f"{t_s:7.2f} {gb(m_s):>8} {t_s / t_h:6.2f}"
                agree = "yes" if same_tree(Z, Z_s) else "NO"
                row.update(scipy_s=t_s, scipy_gb=m_s / 1e9, same_as_scipy=agree == "yes")
                del Z_s
            else:
                scipy_cols = f"{'-':>7} {'-':>8} {'-':>6}"
                agree = "-"
            print(
                f"{method:9} {n:6d} | {t_h:7.2f} {gb(m_h):>8} | {t_f:7.2f} {gb(m_f):>8} "
                f"{t_f / t_h:6.2f} | {scipy_cols} | {agree}",
                flush=True,
            )
            rows.append(row)
            if method in ("ward", "single", "centroid", "median") and args.vector:
                Z_v, t_v, m_v = measure(lambda: hclust.linkage(X, method, algorithm="vector"))
                _, t_fv, m_fv = measure(lambda: fastcluster.linkage_vector(X, method))
                print(
                    f"{method + '/vec':9} {n:6d} | {t_v:7.2f} {gb(m_v):>8} | {t_fv:7.2f} {gb(m_fv):>8} "
                    f"{t_fv / t_v:6.2f} | (peer: fastcluster.linkage_vector)   | "
                    f"{'yes' if same_tree(Z_v, Z) else 'NO'} (vs matrix)",
                    flush=True,
                )
                rows.append({"method": method, "algorithm": "vector", "n": n, "d": args.dim, "hclust_s": t_v,
                             "hclust_gb": m_v / 1e9, "fastcluster_vector_s": t_fv, "fastcluster_vector_gb": m_fv / 1e9,
                             "same_as_matrix": same_tree(Z_v, Z)})
    if args.json:
        write_json(args.json, "bench_linkage.py", rows, data="blobs (12 centres)",
                   peers=["fastcluster.linkage", "fastcluster.linkage_vector", "scipy.cluster.hierarchy.linkage"])


if __name__ == "__main__":
    main()
