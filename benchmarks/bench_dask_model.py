"""SegmentationModel.fit on a Dask DataFrame against the in-memory fits, on the same table in one run.

Run: python benchmarks/bench_dask_model.py [--n 1000000] [--parts 8] [--n-micro 10000] [--exact] [--json PATH]

A customer table (6 skewed amounts with 1% gaps, a 4-level plan; 8 groups)
is written as Parquet files (one per partition) in a temporary folder, then
segmented into 8 segments (given k: the choice of k is timed apart):

1. ``SegmentationModel(8, n_micro=M).fit(dd.read_parquet(...), client=...)``
   on a LocalCluster of 2 single-thread worker processes (loopback);
2. in memory, the same summary path: ``Preparer().fit_transform`` then
   ``hclust.summarize(features, n_micro=M)`` (one process, all rows read);
3. with ``--exact``, the in-memory model on the rows themselves
   (``SegmentationModel(8).fit(table)``, ward on every row).

Printed: times, the ratios, and the adjusted Rand index of the segments of
(1) against (2) and (3). Both engines get the same 2 cores; on a shared
machine compare the ratios of one run, not times across runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import write_json  # noqa: E402


def table(n: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    group = rng.integers(0, 8, n)
    centres = rng.uniform(2.0, 8.0, (8, 6))
    amounts = np.exp(centres[group] + rng.normal(0.0, 0.35, (n, 6)))
    frame = pd.DataFrame(amounts, columns=[f"amount{j}" for j in range(6)])
    for j in range(6):
        frame.loc[rng.random(n) < 0.01, f"amount{j}"] = np.nan
    frame["plan"] = np.array(["a", "b", "c", "d"])[np.where(rng.random(n) < 0.8, group % 4, rng.integers(0, 4, n))]
    frame.insert(0, "customer", np.arange(n))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--n-micro", type=int, default=10_000)
    parser.add_argument("--exact", action="store_true", help="also the in-memory fit on the rows (slow at 1M)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    import dask.dataframe as dd
    import distributed
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    import hclust
    from hclust.segment import Preparer
    from hclust.segment.model import SegmentationModel

    warnings.simplefilter("ignore")
    customers = table(args.n)
    folder = Path(tempfile.mkdtemp(prefix="bench_dask_model."))
    try:
        size = -(-args.n // args.parts)
        for p in range(args.parts):
            customers.iloc[p * size:(p + 1) * size].to_parquet(folder / f"part{p:03d}.parquet", index=False)
        print(f"{args.n:,} customers x 7 columns in {args.parts} Parquet files; n_micro={args.n_micro}; k=8")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None,
                                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
                distributed.Client(cluster, set_as_default=False) as client:
            frame = dd.read_parquet(str(folder / "*.parquet"))
            # warm-up (not timed): the workers import hclust and compile the CF-tree kernels once
            small = dd.from_pandas(customers.head(5_000), npartitions=2)
            SegmentationModel(8, exclude=["customer"], n_micro=500, n_boot=0).fit(small, client=client)
            hclust.summarize(Preparer().fit_transform(customers.head(5_000).drop(columns="customer")).to_numpy(),
                             n_micro=500)
            start = time.perf_counter()
            model = SegmentationModel(8, exclude=["customer"], n_micro=args.n_micro, n_boot=0)
            model.fit(frame, client=client)
            fit_dask = time.perf_counter() - start
            start = time.perf_counter()
            rows = client.compute(model.row_labels_).result()
            labels_dask = time.perf_counter() - start
            start = time.perf_counter()
            model.evaluate(range(2, 11))
            choose = time.perf_counter() - start
        start = time.perf_counter()
        read = pd.read_parquet(folder)
        features = Preparer().fit_transform(read.drop(columns="customer"))
        summary = hclust.summarize(features.to_numpy(), n_micro=args.n_micro)
        memory = summary.labels(8)
        fit_memory = time.perf_counter() - start
        print(f"hclust.dask (LocalCluster, 2 workers): fit {fit_dask:.1f} s (+{labels_dask:.1f} s every row's "
              f"segment; evaluate k=2..10 on the micro-clusters {choose:.2f} s); {model.n_micro_:,} micro-clusters, "
              f"{model.summary_.quality.within_share:.1%} of the variance within them")
        print(f"in memory, Preparer + hclust.summarize: {fit_memory:.1f} s; {summary.n_micro:,} micro-clusters, "
              f"{summary.quality.within_share:.1%} within")
        agree = adjusted_rand_score(rows, memory)
        print(f"ratio dask / in-memory summary: {fit_dask / fit_memory:.2f}x; "
              f"adjusted Rand index between them: {agree:.4f}")
        results = [
            {"fit": "hclust.dask, SegmentationModel.fit (LocalCluster, 2 workers)", "n": args.n,
             "seconds": round(fit_dask, 3), "labels_seconds": round(labels_dask, 3), "n_micro": model.n_micro_,
             "ari_vs_memory_summary": round(agree, 4)},
            {"fit": "in memory, Preparer + hclust.summarize", "n": args.n, "seconds": round(fit_memory, 3),
             "n_micro": summary.n_micro},
        ]
        if args.exact:
            start = time.perf_counter()
            exact = SegmentationModel(8, exclude=["customer"], n_boot=0, holdout=None).fit(customers)
            fit_exact = time.perf_counter() - start
            print(f"in memory, SegmentationModel on the rows (exact ward): {fit_exact:.1f} s; ratio dask / exact "
                  f"{fit_dask / fit_exact:.2f}x; adjusted Rand index dask vs exact: "
                  f"{adjusted_rand_score(rows, exact.labels_):.4f}")
            results.append({"fit": "in memory, SegmentationModel on the rows (exact ward)", "n": args.n,
                            "seconds": round(fit_exact, 3), "ari_vs_dask": round(adjusted_rand_score(rows, exact.labels_), 4)})
        if args.json:
            write_json(args.json, "bench_dask_model.py", results, n=args.n, parts=args.parts, n_micro=args.n_micro)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
