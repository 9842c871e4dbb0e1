"""Euclidean single linkage from observations: hclust's Borůvka MST against its peers.

Usage: python benchmarks/bench_single.py [--sizes 10000x8 100000x8 1000000x8 1000000x2 1000000x32]

For every size (n x d, blobs) the script times, in the same process run:
hclust's Borůvka MST (``hclust._emst.euclidean_mst``) and its whole single
linkage (``hclust.linkage(X, "single")``: the MST, then ``Z``); the exact
MST of genieclust's engine (``quitefastmst.mst_euclid``, compared with the
Borůvka MST) and ``genieclust.Genie(gini_threshold=1.0).fit(X)`` (single
linkage cut into 12 clusters, compared with hclust.linkage), each skipped
when not installed; ``fastcluster.linkage_vector(X, 'single')`` (O(n^2),
skipped above --skip-quadratic-above, compared with hclust.linkage) and
hclust's Prim engine (``linkage._single_vectors``, O(n^2), same limit). It
prints seconds, peak resident memory above the starting point, ratios (peer
time / hclust time, > 1 means hclust is faster) and whether each peer's
tree has the same total length (Genie: the same 12 clusters as cutting Z).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gb, measure, write_json  # noqa: E402

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
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    import fastcluster
    import numba

    import hclust
    import hclust._linkage as hclust_linkage
    from hclust._emst import euclidean_mst
    from hclust._kernels import mst as _mst
    from hclust._threads import numba_threads

    try:
        import quitefastmst
    except ImportError:
        quitefastmst = None
    try:
        import genieclust
    except ImportError:
        genieclust = None

    threads = args.threads or numba.config.NUMBA_NUM_THREADS
    if quitefastmst is not None:
        quitefastmst.omp_set_num_threads(threads)
    genie = "quitefastmst " + quitefastmst.__version__ if quitefastmst is not None else "quitefastmst: not installed"
    genie += ", genieclust " + genieclust.__version__ if genieclust is not None else ", genieclust: not installed"
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
            hclust.linkage(warm, "single", n_jobs=threads)
        for warm_n in (100, 25_000):  # Prim's serial and parallel scans (n * d >= 200 000)
            hclust_linkage._single_vectors(blobs(warm_n, 8), _mst.VEC_EUCLIDEAN, threads, None)

        header = (
            f"{'n':>8} {'d':>3} | {'mst':>6} {'memory':>8} | {'qfm':>6} {'memory':>8} {'ratio':>5} | "
            f"{'Z':>6} {'memory':>8} | {'genie':>6} {'memory':>8} {'ratio':>5} | "
            f"{'fastcl':>6} {'ratio':>5} | {'prim':>6} {'ratio':>5} | same"
        )
        print(header)
        print("-" * len(header))
        blank = f"{'-':>6} {'-':>8} {'-':>5}"
        rows: list[dict] = []
        for n, d in args.sizes:
            X = blobs(n, d)
            (_, _, h), t_b, m_b = measure(lambda: euclidean_mst(X, threads))
            total = h.sum()
            row = {"n": n, "d": d, "hclust_mst_s": t_b, "hclust_mst_gb": m_b / 1e9}
            same = []
            qfm_cols = blank
            if quitefastmst is not None:
                (w, _), t_q, m_q = measure(lambda: quitefastmst.mst_euclid(X))
                qfm_cols = f"{t_q:6.2f} {gb(m_q):>8} {t_q / t_b:5.2f}"
                row.update(quitefastmst_s=t_q, quitefastmst_gb=m_q / 1e9)
                same.append(np.isclose(w.sum(), total, rtol=1e-9, atol=0))
                del w
            Z, t_z, m_z = measure(lambda: hclust.linkage(X, "single", n_jobs=threads))
            row.update(hclust_s=t_z, hclust_gb=m_z / 1e9)
            genie_cols = blank
            if genieclust is not None:
                labels, t_g, m_g = measure(
                    lambda: genieclust.Genie(n_clusters=12, gini_threshold=1.0).fit_predict(X)
                )
                genie_cols = f"{t_g:6.2f} {gb(m_g):>8} {t_g / t_z:5.2f}"
                row.update(genie_s=t_g, genie_gb=m_g / 1e9)
                ours = hclust.cut(Z, n_clusters=12)
                same.append(_same_partition(labels, ours))
            fast_cols = f"{'-':>6} {'-':>5}"
            prim_cols = f"{'-':>6} {'-':>5}"
            if n <= args.skip_quadratic_above:
                Z_f, t_f, _ = measure(lambda: fastcluster.linkage_vector(X, "single"))
                fast_cols = f"{t_f:6.2f} {t_f / t_z:5.2f}"
                row.update(fastcluster_vector_s=t_f)
                same.append(np.isclose(Z_f[:, 2].sum(), total, rtol=1e-9, atol=0))
                del Z_f
                if args.prim:
                    (_, _, h_p), t_p, _ = measure(
                        lambda: hclust_linkage._single_vectors(X, _mst.VEC_EUCLIDEAN, threads, None)
                    )
                    prim_cols = f"{t_p:6.2f} {t_p / t_b:5.2f}"
                    row.update(hclust_prim_s=t_p)
                    same.append(np.isclose(h_p.sum(), total, rtol=1e-9, atol=0))
            print(
                f"{n:8d} {d:3d} | {t_b:6.2f} {gb(m_b):>8} | {qfm_cols} | {t_z:6.2f} {gb(m_z):>8} | "
                f"{genie_cols} | {fast_cols} | {prim_cols} | {'yes' if all(same) else 'NO'}",
                flush=True,
            )
            row["same"] = bool(all(same))
            rows.append(row)
            del Z
    if args.json:
        write_json(args.json, "bench_single.py", rows, data="blobs (12 centres)",
                   peers=["genieclust.Genie", "quitefastmst.mst_euclid", "fastcluster.linkage_vector"])


def _same_partition(left: np.ndarray, right: np.ndarray) -> bool:
    """Whether two label vectors split the points alike (labels may differ)."""
    pairs = np.unique(np.stack([left, right]), axis=1)
    return pairs.shape[1] == len(np.unique(left)) == len(np.unique(right))


if __name__ == "__main__":
    main()
