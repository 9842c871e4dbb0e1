"""Euclidean single linkage from observations: hclust's Borůvka MST against its peers.

Usage: python benchmarks/bench_single.py [--sizes 10000x8 100000x8 1000000x8 1000000x2 1000000x32]

For every size (n x d, blobs) the script times, in the same process run:
hclust's Borůvka kd-tree MST (``hclust._emst.euclidean_mst``), the exact
MST of genieclust (``quitefastmst.mst_euclid``, the engine behind
``genieclust.Genie``; skipped when not installed),
``fastcluster.linkage_vector(X, 'single')`` (O(n^2), skipped above
--skip-quadratic-above) and hclust's Prim engine (``linkage._single_vectors``,
O(n^2), same limit). It prints seconds, peak resident memory above the
starting point, ratios (peer time / Borůvka time, > 1 means Borůvka is
faster) and whether each peer's tree has the same total length.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gb, measure  # noqa: E402

DEFAULT_SIZES = ["10000x8", "100000x8", "1000000x8", "1000000x2", "1000000x32"]


def blobs(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(12, d))
    labels = rng.integers(0, 12, size=n)
    return centers[labels] + rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=12)[labels, None]


def parse_size(text: str) -> tuple[int, int]:
    try:
        n, d = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not of the form NxD, e.g. 100000x8") from None
    if n < 2 or d < 1:
        raise argparse.ArgumentTypeError(f"size {text!r} needs n >= 2 and d >= 1")
    return n, d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_size, nargs="+", default=[parse_size(s) for s in DEFAULT_SIZES])
    parser.add_argument("--threads", type=int, default=None, help="numba/OpenMP threads (default: all)")
    parser.add_argument("--skip-quadratic-above", type=int, default=100_000,
                        help="largest n for the O(n^2) peers (fastcluster, Prim)")
    parser.add_argument("--no-prim", dest="prim", action="store_false", help="skip hclust's Prim engine")
    args = parser.parse_args()

    import fastcluster
    import numba

    import importlib

    import hclust
    from hclust._emst import euclidean_mst
    from hclust._kernels import mst as _mst
    from hclust._threads import numba_threads

    hclust_linkage = importlib.import_module("hclust.linkage")  # the module, not the function

    try:
        import quitefastmst
    except ImportError:
        quitefastmst = None

    threads = args.threads or numba.config.NUMBA_NUM_THREADS
    if quitefastmst is not None:
        quitefastmst.omp_set_num_threads(threads)
    genie = "quitefastmst " + quitefastmst.__version__ if quitefastmst is not None else "genieclust: not installed"
    print(
        f"hclust {hclust.__version__}, fastcluster {fastcluster.__version__}, {genie}, "
        f"numba {numba.__version__} ({threads} threads); blobs"
    )
    with numba_threads(threads):
        # Compile (or load the cache of) every kernel outside the timings: d = 2
        # takes the leaf-batched neighbour search, d = 3 the per-point one, and
        # 30 000 rows reach the parallel twins (loading one costs 1-3 s).
        for warm_d in (2, 3):
            warm = blobs(30_000, warm_d)
            euclidean_mst(warm, threads)
            euclidean_mst(warm[:100], 1)
        for warm_n in (100, 25_000):  # Prim's serial and parallel scans (n * d >= 200 000)
            hclust_linkage._single_vectors(blobs(warm_n, 8), _mst.VEC_EUCLIDEAN, threads, None)

        header = (
            f"{'n':>8} {'d':>3} | {'boruvka':>7} {'memory':>8} | {'genie':>7} {'memory':>8} {'ratio':>6} | "
            f"{'fastcl.':>7} {'memory':>8} {'ratio':>6} | {'prim':>7} {'ratio':>6} | same total"
        )
        print(header)
        print("-" * len(header))
        for n, d in args.sizes:
            X = blobs(n, d)
            (_, _, h), t_b, m_b = measure(lambda: euclidean_mst(X, threads))
            total = h.sum()
            same = []
            genie_cols = f"{'-':>7} {'-':>8} {'-':>6}"
            if quitefastmst is not None:
                (w, _), t_g, m_g = measure(lambda: quitefastmst.mst_euclid(X))
                genie_cols = f"{t_g:7.2f} {gb(m_g):>8} {t_g / t_b:6.2f}"
                same.append(np.isclose(w.sum(), total, rtol=1e-9, atol=0))
            fast_cols = f"{'-':>7} {'-':>8} {'-':>6}"
            prim_cols = f"{'-':>7} {'-':>6}"
            if n <= args.skip_quadratic_above:
                Z, t_f, m_f = measure(lambda: fastcluster.linkage_vector(X, "single"))
                fast_cols = f"{t_f:7.2f} {gb(m_f):>8} {t_f / t_b:6.2f}"
                same.append(np.isclose(Z[:, 2].sum(), total, rtol=1e-9, atol=0))
                del Z
                if args.prim:
                    (_, _, h_p), t_p, _ = measure(
                        lambda: hclust_linkage._single_vectors(X, _mst.VEC_EUCLIDEAN, threads, None)
                    )
                    prim_cols = f"{t_p:7.2f} {t_p / t_b:6.2f}"
                    same.append(np.isclose(h_p.sum(), total, rtol=1e-9, atol=0))
            print(
                f"{n:8d} {d:3d} | {t_b:7.2f} {gb(m_b):>8} | {genie_cols} | {fast_cols} | {prim_cols} | "
                f"{'yes' if all(same) else 'NO'}",
                flush=True,
            )


if __name__ == "__main__":
    main()
