"""Structured clustering: hclust against scikit-learn's AgglomerativeClustering(connectivity=).

Usage: python benchmarks/bench_connectivity.py [--n 100000] [--d 8] [--neighbors 10]
                                               [--methods ward average complete single]
                                               [--no-peer average complete] [--json PATH]

Builds one k-nearest-neighbour graph (``sklearn.neighbors.kneighbors_graph``,
not timed in either result) on Gaussian data (``--data blobs``: 12 separated
blobs, whose graph has several components that both libraries complete), then fits, in the same process run,
``HierarchicalClustering(linkage=m, connectivity=G)`` and
``AgglomerativeClustering(linkage=m, connectivity=G, compute_distances=True)``
with the full tree and 10 clusters. It prints seconds, peak resident memory
above the starting point (and per edge of the graph for hclust), the ratio
(scikit-learn time / hclust time, > 1 means hclust is faster) and whether both
trees agree (children equal, heights within 1e-12 relative). ``--json PATH`` also
writes the rows to a result file (``_measure.write_json``; the docs' benchmarks page
renders ``docs/benchmarks/results/connectivity.json``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gb, measure, write_json  # noqa: E402
from bench_linkage import blobs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--neighbors", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=["ward", "average", "complete", "single"])
    parser.add_argument("--data", choices=["gaussian", "blobs"], default="gaussian")
    parser.add_argument("--no-peer", nargs="*", default=[], metavar="METHOD",
                        help="methods to run with hclust only (scikit-learn's average and complete "
                             "took over 45 minutes and 8 GB at 100 000 rows)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # both libraries warn when they complete a graph

    import numba
    import sklearn
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.neighbors import kneighbors_graph

    import hclust

    if args.data == "blobs":
        X = blobs(args.n, args.d)
    else:
        X = np.random.default_rng(0).standard_normal((args.n, args.d))
    start = time.perf_counter()
    graph = kneighbors_graph(X, args.neighbors, include_self=False)
    knn_seconds = time.perf_counter() - start
    edges = ((graph + graph.T) > 0).sum() // 2
    n_components = connected_components(graph, directed=False)[0]
    print(
        f"{args.data}; hclust {hclust.__version__}, scikit-learn {sklearn.__version__}, numba {numba.__version__} "
        f"({numba.config.NUMBA_NUM_THREADS} threads); {args.n:,} x {args.d}, "
        f"{args.neighbors}-NN graph: {edges:,} edges, {n_components} component(s) ({knn_seconds:.1f} s to "
        "build, not timed below); peak = resident memory above the start"
    )
    small = blobs(2000, args.d, seed=1)
    small_graph = kneighbors_graph(small, args.neighbors, include_self=False)
    for method in args.methods:  # compile or load the cache
        hclust.HierarchicalClustering(10, linkage=method, connectivity=small_graph).fit(small)

    print(f"{'method':>9} {'hclust s':>9} {'sklearn s':>10} {'ratio':>7} {'hclust peak':>12} "
          f"{'B/edge':>7} {'sklearn peak':>13} {'same tree':>10}")  # fmt: skip
    rows = []
    for method in args.methods:
        ours, ours_s, ours_peak = measure(
            lambda: hclust.HierarchicalClustering(10, linkage=method, connectivity=graph).fit(X)
        )
        row = {"method": method, "n": args.n, "d": args.d, "edges": int(edges), "hclust_s": ours_s,
               "hclust_gb": ours_peak / 1e9, "bytes_per_edge": round(ours_peak / edges)}
        rows.append(row)
        if method in args.no_peer:
            print(f"{method:>9} {ours_s:9.2f} {'-':>10} {'-':>7} {gb(ours_peak):>12} {ours_peak / edges:7.0f}", flush=True)
            continue
        theirs, theirs_s, theirs_peak = measure(
            lambda: AgglomerativeClustering(
                10, linkage=method, connectivity=graph, compute_full_tree=True, compute_distances=True
            ).fit(X)
        )
        same = bool(
            np.array_equal(ours.children_, np.sort(theirs.children_, axis=1))
            and np.allclose(ours.distances_, theirs.distances_, rtol=1e-12, atol=0)
        )
        row.update(sklearn_s=theirs_s, sklearn_gb=theirs_peak / 1e9, same_tree=same)
        print(
            f"{method:>9} {ours_s:9.2f} {theirs_s:10.2f} {theirs_s / ours_s:7.1f} {gb(ours_peak):>12} "
            f"{ours_peak / edges:7.0f} {gb(theirs_peak):>13} {str(same):>10}",
            flush=True,
        )
    if args.json:
        write_json(
            args.json, "bench_connectivity.py", rows, data=f"{args.data}, {args.n} x {args.d}",
            graph=f"{args.neighbors}-nearest-neighbour graph (kneighbors_graph, not timed): {edges} edges, "
            f"{n_components} component(s)",
            peers=["sklearn.cluster.AgglomerativeClustering(compute_distances=True)"],
            memory="peak resident memory above the start", command="python " + " ".join(sys.argv),
        )


if __name__ == "__main__":
    main()
