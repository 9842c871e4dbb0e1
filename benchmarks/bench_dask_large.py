"""The summary tier's goal run: 50M x 8 rows, larger than any worker's memory, every row labelled.

Run: python benchmarks/bench_dask_large.py [--n 50000000] [--d 8] [--rows-per-part 500000]
     [--workers 2] [--memory-limit 2GiB] [--n-micro 10000] [--k 8] [--out FOLDER] [--json PATH]

Starts a LocalCluster of ``--workers`` worker processes (1 thread each,
loopback only, ``--memory-limit`` each) and generates the rows on the
workers, partition by partition, as a lazy dask array (20 Gaussian blobs,
the same generator as bench_dask.py) with a customer ID column beside it.
The rows are never persisted nor gathered: :func:`hclust.dask.summarize`
reads each partition once for its micro-clusters and once for the total
sum of squares (the generated rows are computed twice: reading Parquet
input would read them twice instead), and :meth:`DaskSummary.to_parquet`
writes every row's ID and segment from the row -> micro-cluster
assignments the workers kept (the features are not read again).

Printed: the time of each stage (summary, the labels written), the
workers' peak memory (sampled from the scheduler's heartbeats every 0.5 s)
against their limit, bytes spilled to disk, and a check of the output: its
row count, the IDs 0..n-1 each exactly once, and the segment sizes
against the summary's micro-cluster counts.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import gb, write_json  # noqa: E402
from bench_dask import WorkerMemory, _block  # noqa: E402


def _ids(block_info=None) -> np.ndarray:
    """IDs of one partition's rows: their positions in the whole array."""
    start, stop = block_info[None]["array-location"][0]
    return np.arange(start, stop, dtype=np.int64)


def data(n: int, d: int, rows_per_part: int, seed: int = 0):
    """(features as a lazy dask array, IDs as a dask Series with the same partitions)."""
    import dask.array as da
    import dask.dataframe as dd

    parts = math.ceil(n / rows_per_part)
    chunks = tuple(min(rows_per_part, n - p * rows_per_part) for p in range(parts))
    X = da.map_blocks(lambda block_info=None: _block(block_info[None]["chunk-location"],
                                                     block_info[None]["chunk-shape"][0], d, seed),
                      chunks=(chunks, (d,)), dtype=np.float64)
    ids = dd.from_dask_array(da.map_blocks(_ids, chunks=(chunks,), dtype=np.int64), columns="customer_id")
    return X, ids


def _spilled(client) -> int:
    """Bytes the workers hold on disk now (their spill)."""
    info = client.scheduler_info()["workers"]
    return sum(int(w["metrics"].get("spilled_bytes", {}).get("disk", 0)) for w in info.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--rows-per-part", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GiB")
    parser.add_argument("--n-micro", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=8, help="segments written")
    parser.add_argument("--out", default=None, help="output folder (default: a temporary one, removed)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import dask
    import dask.dataframe as dd
    import distributed
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    import hclust.dask as hd

    limit = parse_bytes(args.memory_limit)
    scratch = Path(tempfile.mkdtemp(prefix="hclust-large-"))
    out = Path(args.out) if args.out else scratch / "segments"
    try:
        with LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                          memory_limit=args.memory_limit, local_directory=str(scratch),
                          dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                          silence_logs=40) as cluster, Client(cluster) as client:
            small, small_ids = data(3_000, args.d, 1_000)
            hd.summarize(small, n_micro=100, client=client)  # compile the kernels on every worker first

            X, ids = data(args.n, args.d, args.rows_per_part)
            print(f"data: {args.n:,} x {args.d} generated on the workers in {X.numblocks[0]} partitions "
                  f"({gb(X.nbytes)} in all, {gb(X.nbytes / X.numblocks[0])} a partition); "
                  f"{args.workers} workers x 1 thread, memory limit {gb(limit)} each")
            with WorkerMemory(client) as memory:
                start = time.perf_counter()
                s = hd.summarize(X, n_micro=args.n_micro, client=client)
                t_summary = time.perf_counter() - start
                print(f"summary: {t_summary:.0f} s, {s.n_micro:,} micro-clusters, within share "
                      f"{s.quality.within_share:.4f}, largest radius {s.quality.max_radius:.3f}", flush=True)
                start = time.perf_counter()
                s.to_parquet(out, args.k, id_column=ids, client=client)
                t_write = time.perf_counter() - start
            total = t_summary + t_write
            peak = max(memory.peak.values())
            spilled = _spilled(client)
            print(f"every row's segment written to {out}: {t_write:.0f} s; total {total:.0f} s "
                  f"({total / 60:.1f} min; goal: 10 min)")
            print(f"worker peak memory (heartbeats): " + ", ".join(gb(v) for v in memory.peak.values())
                  + f" against a limit of {gb(limit)}; on disk (spilled) at the end: {gb(spilled)}")

            written = dd.read_parquet(str(out))
            counts = client.compute(written["segment"].value_counts()).result().sort_index()
            id_sum, id_min, id_max, rows = client.gather(client.compute(
                [written["customer_id"].sum(), written["customer_id"].min(), written["customer_id"].max(),
                 written["customer_id"].count()]))
            expected_sum = args.n * (args.n - 1) // 2
            ids_ok = int(rows) == args.n and int(id_min) == 0 and int(id_max) == args.n - 1 \
                and int(id_sum) == expected_sum
            sizes = np.bincount(s.micro_labels(args.k), weights=s.counts, minlength=args.k).astype(np.int64)
            sizes_ok = np.array_equal(counts.to_numpy(), sizes)
            print(f"check: {int(rows):,} rows written; IDs 0..n-1 (count, min, max, sum): {ids_ok}; "
                  f"segment sizes equal the micro-clusters' counts: {sizes_ok} ({counts.tolist()})")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        row = {"tier": "summary goal", "n": args.n, "d": args.d, "partitions": int(X.numblocks[0]),
               "workers": args.workers, "memory_limit_gb": limit / 1e9, "n_micro": int(s.n_micro),
               "summary_s": t_summary, "write_s": t_write, "total_s": total,
               "worker_peak_gb": peak / 1e9, "spilled_gb": spilled / 1e9,
               "within_share": s.quality.within_share, "rows_written": int(rows), "ids_ok": bool(ids_ok),
               "sizes_ok": bool(sizes_ok)}
        write_json(args.json, "bench_dask_large.py", [row], data="blobs", dask=dask.__version__,
                   distributed=distributed.__version__,
                   note="2-core machine shared with other engineers' jobs during the run")


if __name__ == "__main__":
    main()
