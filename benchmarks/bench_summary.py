"""Summary tier benchmark (run: python benchmarks/bench_summary.py [n_rows] [n_micro]).

1. Time of summarize(X, n_micro) on n_rows x 8 blobs (default 1 000 000 rows ->
   10 000 micro-clusters): CF tree, exact weighted ward tree on the micro-clusters,
   and a label for every row (goal: under a minute on 2 cores).
2. Agreement with exact ward on 100 000 rows (third argument; the exact
   linear-memory ward engine takes about a minute here): adjusted Rand index between hclust.linkage(X, "ward")
   cut at k and summary-ward labels at k, for BIRCH and k-means micro-clusters.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import gb, measure, write_json  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

import hclust  # noqa: E402
from hclust.summary import summarize  # noqa: E402
from hclust.tree import cut  # noqa: E402


def blobs(n: int, d: int = 8, k: int = 10, seed: int = 0, scale: float = 4.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=scale, size=(k, d))
    return centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))


def main() -> None:
    json_path = None
    if "--json" in sys.argv:  # python benchmarks/bench_summary.py [N [N_MICRO [M]]] [--json PATH]
        at = sys.argv.index("--json")
        json_path = sys.argv[at + 1]
        del sys.argv[at : at + 2]
    rows: list[dict] = []
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_micro = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    summarize(blobs(3_000), n_micro=200).labels(3)  # compile
    summarize(blobs(3_000), n_micro=200, algorithm="kmeans")

    X = blobs(n)
    start = time.perf_counter()
    s, t_sum, mem = measure(lambda: summarize(X, n_micro=n_micro))
    labels, t_cut, _ = measure(lambda: s.labels(10))
    print(f"summarize {n:,} x 8 -> {s.n_micro:,} micro-clusters (n_micro={n_micro:,}): "
          f"{t_sum:.1f} s, peak +{gb(mem)}; labels for every row: {t_cut:.2f} s; "
          f"total {time.perf_counter() - start:.1f} s")
    q = s.quality
    print(f"  within-micro share of SS {q.within_share:.4f}, max radius {q.max_radius:.3f}, threshold {q.threshold:.3f}")
    rows.append({"data": "blobs", "n": n, "d": 8, "algorithm": "birch", "n_micro": s.n_micro, "summarize_s": t_sum,
                 "summarize_gb": mem / 1e9, "labels_s": t_cut, "within_share": q.within_share})

    m = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    for label, scale in (("separated blobs", 4.0), ("overlapping blobs", 1.0)):
        Xs = blobs(m, seed=1, scale=scale)
        Z, t_exact, mem_exact = measure(lambda: hclust.linkage(Xs, "ward"))
        print(f"exact ward on {m:,} rows of {label} (centre scale {scale}): {t_exact:.1f} s, peak +{gb(mem_exact)}")
        rows.append({"data": label, "n": m, "d": 8, "algorithm": "exact ward", "hclust_s": t_exact,
                     "hclust_gb": mem_exact / 1e9})
        for algorithm, micro in (("birch", 1_000), ("birch", 2_000), ("kmeans", 1_000)):
            s, t, _ = measure(lambda: summarize(Xs, n_micro=micro, algorithm=algorithm))
            scores = ", ".join(
                f"k={k}: {adjusted_rand_score(cut(Z, n_clusters=k), s.labels(k)):.3f}" for k in (2, 5, 10, 20)
            )
            print(f"  summary ward, {algorithm}, {s.n_micro:,} micro-clusters: {t:.1f} s; ARI vs exact {scores}")
            rows.append({"data": label, "n": m, "d": 8, "algorithm": algorithm, "n_micro": s.n_micro, "summarize_s": t,
                         **{f"ari_k{k}": adjusted_rand_score(cut(Z, n_clusters=k), s.labels(k)) for k in (2, 5, 10, 20)}})
    if json_path:
        write_json(json_path, "bench_summary.py", rows, data="blobs")


if __name__ == "__main__":
    main()
