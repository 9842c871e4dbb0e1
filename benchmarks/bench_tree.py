"""Tree toolkit on large trees: hclust.tree / hclust.layout beside scipy.

Run as a script for a table of timings and ratios::

    python benchmarks/bench_tree.py              # 1M leaves, scipy's slow functions at 5k
    python benchmarks/bench_tree.py --n 100000 --small 2000

The asv suite ``TreeSuite`` below times the same operations (``time_*``).

The tree is exact single linkage of random 1-D data, built in O(n log n) without a
distance matrix: on a line, single linkage merges neighbours in order of their gaps.
Such trees are deep (thousands of levels), which is where recursive code fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hclust import tree
from hclust._kernels.unionfind import merges_to_linkage
from hclust.layout import dendrogram_layout


def line_single_linkage(n: int, seed: int = 0) -> np.ndarray:
    """Single-linkage Z of n random points on a line (exact; ties broken by position)."""
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    order = np.argsort(x, kind="mergesort")
    gaps = np.diff(x[order])
    merge_order = np.argsort(gaps, kind="mergesort")
    a = order[merge_order].astype(np.int64)
    b = order[merge_order + 1].astype(np.int64)
    return merges_to_linkage(a, b, gaps[merge_order], np.ones(n))


def caterpillar(n: int) -> np.ndarray:
    """The deepest tree: merge i joins observation i + 1 to the cluster of 0..i."""
    Z = np.empty((n - 1, 4))
    Z[0] = (0, 1, 1.0, 2)
    Z[1:, 0] = np.arange(n, 2 * n - 2)
    Z[1:, 1] = np.arange(2, n)
    Z[1:, 2] = np.arange(2, n, dtype=float)
    Z[1:, 3] = np.arange(3, n + 1)
    return Z


def timed(function: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (after one warm-up call that also compiles)."""
    result = function()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def tree_depth(Z: np.ndarray) -> int:
    n = Z.shape[0] + 1
    depth = np.zeros(2 * n - 1, dtype=np.int64)
    for i in range(n - 2, -1, -1):
        depth[Z[i, :2].astype(np.int64)] = depth[n + i] + 1
    return int(depth.max())


def run(n: int, small: int) -> list[tuple[str, int, float, str]]:
    import scipy.cluster.hierarchy as sch

    rows: list[tuple[str, int, float, str]] = []

    def add(name: str, size: int, ours: float, scipy_time: float | str) -> None:
        if isinstance(scipy_time, str):
            rows.append((name, size, ours, scipy_time))
        else:
            rows.append((name, size, ours, f"{scipy_time:.3f} s ({scipy_time / ours:.1f}x)"))
        print_row(*rows[-1])

    start = time.perf_counter()
    Z = line_single_linkage(n)
    build = time.perf_counter() - start
    print(f"built Z with {n} leaves in {build:.2f} s; depth {tree_depth(Z)}", file=sys.stderr)

    ours, labels = timed(lambda: tree.cut(Z, n_clusters=10))
    assert len(np.unique(labels)) == 10
    reference, scipy_labels = timed(lambda: sch.fcluster(Z, 10, "maxclust"), repeat=1)
    add("cut(n_clusters=10) vs scipy fcluster maxclust", n, ours, reference)
    ours, _ = timed(lambda: tree.fcluster(Z, 10, "maxclust"))
    assert np.array_equal(tree.fcluster(Z, 10, "maxclust"), scipy_labels)
    add("fcluster(maxclust=10)", n, ours, reference)
    ours, _ = timed(lambda: tree.cut(Z, height=float(np.median(Z[:, 2]))))
    add("cut(height=median)", n, ours, "-")
    ours, _ = timed(lambda: tree.cut_tree(Z, n_clusters=[2, 5, 10, 50, 100]))
    add("cut_tree(5 values of k)", n, ours, "too slow at this n (Python loop)")
    ours, _ = timed(lambda: tree.leaves_list(Z))
    reference, _ = timed(lambda: sch.leaves_list(Z), repeat=1)
    add("leaves_list", n, ours, reference)
    ours, _ = timed(lambda: tree.inconsistent(Z, 2))
    if n <= 200_000:
        reference, _ = timed(lambda: sch.inconsistent(Z, 2), repeat=1)
        add("inconsistent(d=2)", n, ours, reference)
    else:
        add("inconsistent(d=2)", n, ours, "skipped: O(n^2) in scipy (clears an n-bit set per merge)")
    ours, layout = timed(lambda: dendrogram_layout(Z, n_clusters=10), repeat=1)
    assert layout.icoord.shape == (n - 1, 4)
    reference, _ = timed(lambda: sch.dendrogram(Z, no_plot=True), repeat=1)
    add("dendrogram_layout (full, 1 link per merge)", n, ours, reference)
    ours, _ = timed(lambda: dendrogram_layout(Z, truncate_mode="lastp", p=30, n_clusters=10))
    reference, _ = timed(lambda: sch.dendrogram(Z, no_plot=True, truncate_mode="lastp", p=30), repeat=1)
    add("dendrogram_layout(lastp, p=30)", n, ours, reference)

    # A chained tree (each merge adds one observation: depth n-1), as single linkage
    # produces on data that chains; scipy's recursive walks fail on it.
    chain = caterpillar(n)
    ours, _ = timed(lambda: dendrogram_layout(chain, n_clusters=10), repeat=1)
    try:
        sch.dendrogram(chain, no_plot=True)
        scipy_result = "ran"
    except RecursionError:
        scipy_result = "RecursionError"
    add("dendrogram_layout on a chain (depth n-1)", n, ours, f"scipy dendrogram: {scipy_result}")
    ours, _ = timed(lambda: tree.cut(chain, n_clusters=10))
    reference, _ = timed(lambda: sch.fcluster(chain, 10, "maxclust"), repeat=1)
    add("cut(k=10) on a chain vs scipy fcluster maxclust", n, ours, reference)

    Zs = line_single_linkage(small, seed=1)
    k = 10
    ours, labels = timed(lambda: tree.cut_tree(Zs, n_clusters=list(range(1, small + 1, max(1, small // 50)))))
    reference, expected = timed(
        lambda: sch.cut_tree(Zs, n_clusters=list(range(1, small + 1, max(1, small // 50)))), repeat=1
    )
    assert np.array_equal(labels, expected)
    add("cut_tree(50 values of k)", small, ours, reference)
    ours, _ = timed(lambda: tree.cut(Zs, n_clusters=k))
    reference, _ = timed(lambda: sch.cut_tree(Zs, n_clusters=k), repeat=1)
    add("cut(k=10) vs scipy cut_tree(k=10)", small, ours, reference)
    ours, _ = timed(lambda: tree.inconsistent(Zs, 2))
    reference, expected = timed(lambda: sch.inconsistent(Zs, 2), repeat=1)
    assert np.array_equal(tree.inconsistent(Zs, 2), expected)
    add("inconsistent(d=2)", small, ours, reference)
    ours, _ = timed(lambda: tree.cophenet(Zs))
    reference, _ = timed(lambda: sch.cophenet(Zs), repeat=1)
    add("cophenet", small, ours, reference)
    try:
        sys.setrecursionlimit(100_000)
        reference, _ = timed(lambda: sch.dendrogram(Zs, no_plot=True), repeat=1)
    except RecursionError:
        reference = "RecursionError"
    finally:
        sys.setrecursionlimit(1_000)
    ours, _ = timed(lambda: dendrogram_layout(Zs, n_clusters=k))
    add("dendrogram_layout vs scipy dendrogram(no_plot)", small, ours, reference)
    olo_n = min(small, 400)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(olo_n, 4))
    Zo = sch.linkage(X, "average")
    ours, ordered = timed(lambda: tree.optimal_leaf_ordering(Zo, X), repeat=1)
    reference, expected = timed(lambda: sch.optimal_leaf_ordering(Zo, X), repeat=1)
    assert np.array_equal(ordered, expected)
    add("optimal_leaf_ordering (average, 4-D)", olo_n, ours, reference)
    return rows


def print_row(name: str, size: int, ours: float, reference: str) -> None:
    print(f"{name:50s} {size:9d} {ours:9.4f}s  {reference}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="leaves of the large tree")
    parser.add_argument("--small", type=int, default=5_000, help="leaves where scipy's slow functions run")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    print(f"{'operation':50s} {'n':>9s} {'hclust':>10s}  scipy (ratio = scipy / hclust)")
    rows = run(args.n, args.small)
    if args.json:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _measure import write_json

        write_json(args.json, "bench_tree.py", [dict(zip(("operation", "n", "hclust_s", "scipy"), r)) for r in rows],
                   data="exact single linkage of random 1-D data (deep trees)", peers=["scipy.cluster.hierarchy"])
    return 0


class TreeSuite:
    """asv: cut and layout on a deep single-linkage tree."""

    params = [[10_000, 1_000_000]]
    param_names = ["n"]

    def setup(self, n: int) -> None:
        self.Z = line_single_linkage(n)
        tree.cut(self.Z, n_clusters=3)  # compile outside the timing
        dendrogram_layout(self.Z[:10] if n < 11 else line_single_linkage(20), n_clusters=3)

    def time_cut_k(self, n: int) -> None:
        tree.cut(self.Z, n_clusters=10)

    def time_fcluster_maxclust(self, n: int) -> None:
        tree.fcluster(self.Z, 10, "maxclust")

    def time_leaves_list(self, n: int) -> None:
        tree.leaves_list(self.Z)

    def time_dendrogram_layout(self, n: int) -> None:
        dendrogram_layout(self.Z, n_clusters=10)


if __name__ == "__main__":
    raise SystemExit(main())
