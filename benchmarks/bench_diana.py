"""DIANA and bisecting k-means timings (run: python benchmarks/bench_diana.py [n]).

Prints the time of hclust.divisive.diana on n rows of 8-d blobs (the goal:
5 000 rows in seconds) and, for reference, agglomerative average linkage on the
same distances, and bisecting_kmeans down to 50 clusters.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import gb, measure, write_json  # noqa: E402

import hclust  # noqa: E402
from hclust.divisive import bisecting_kmeans, diana  # noqa: E402


def blobs(n: int, d: int = 8, k: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, d))
    return centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))


def main() -> None:
    json_path = None
    if "--json" in sys.argv:  # python benchmarks/bench_diana.py [N] [--json PATH]
        at = sys.argv.index("--json")
        json_path = sys.argv[at + 1]
        del sys.argv[at : at + 2]
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    diana(blobs(50))  # compile
    bisecting_kmeans(blobs(50), 5)
    X = blobs(n)
    start = time.perf_counter()
    y = hclust.pdist(X)
    t_pdist = time.perf_counter() - start
    Z, t_diana, mem = measure(lambda: diana(y))
    _, t_average, _ = measure(lambda: hclust.linkage(y, "average"))
    _, t_bisect, _ = measure(lambda: bisecting_kmeans(X, 50))
    print(f"n = {n:,} x 8")
    print(f"pdist                        {t_pdist:8.2f} s")
    print(f"diana (from distances)       {t_diana:8.2f} s   peak +{gb(mem)}  dc = {hclust.divisive.divisive_coefficient(Z):.4f}")
    print(f"linkage average (reference)  {t_average:8.2f} s")
    print(f"bisecting_kmeans, 50 leaves  {t_bisect:8.2f} s")
    if json_path:
        rows = [{"operation": "pdist", "n": n, "d": 8, "hclust_s": t_pdist},
                {"operation": "diana (from distances)", "n": n, "d": 8, "hclust_s": t_diana, "hclust_gb": mem / 1e9},
                {"operation": "linkage average (reference)", "n": n, "d": 8, "hclust_s": t_average},
                {"operation": "bisecting_kmeans, 50 leaves", "n": n, "d": 8, "hclust_s": t_bisect}]
        write_json(json_path, "bench_diana.py", rows, data="blobs")


if __name__ == "__main__":
    main()
