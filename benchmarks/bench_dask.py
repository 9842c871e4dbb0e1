"""hclust.dask against the in-process engines, on the same data in one run.

Run: python benchmarks/bench_dask.py [--n 1000000] [--d 8] [--parts 2] [--n-micro 10000]
[--tiers single,ward,summary] [--repeat 3] [--json PATH]

Starts a LocalCluster of 2 worker processes (1 thread each, loopback only)
and, on blobs generated on the workers (partition by partition) and
gathered once for the in-process runs:

1. exact single linkage: hclust.linkage(X, "single", n_jobs=2) against
   hclust.dask.linkage(X, "single"); per round: time, bytes sent / returned /
   partition points moved, active clusters; the workers' peak memory; Z
   compared bit for bit;
2. exact ward: hclust.linkage(X, "ward", n_jobs=2) against
   hclust.dask.linkage(X, "ward"); the distributed rounds (time, bytes
   sent / returned, active clusters), where the time went (the workers'
   searches and shard updates, the client's share of the rounds and its
   final rounds), the workers' shards and peak memory; Z compared bit for
   bit;
3. summary tier: hclust.summarize(X, n_micro) against
   hclust.dask.summarize(X, n_micro) and a label for every row;
4. projections of the exact tiers to 100M x 8 rows on 32 workers from the
   measured compute and bytes (assumptions printed with them).

Both engines get the same 2 cores; on a shared machine compare the ratios
of one run, not times across runs.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import gb, measure, write_json  # noqa: E402

import hclust  # noqa: E402


def _block(block_id: tuple[int, ...], rows: int, d: int, seed: int) -> np.ndarray:
    """Rows of one partition: 20 Gaussian blobs (centres from the seed, rows from seed + block)."""
    centres = np.random.default_rng(seed).normal(0, 8, (20, d))
    rng = np.random.default_rng([seed, block_id[0]])
    return centres[rng.integers(0, 20, rows)] + rng.normal(size=(rows, d))


def blobs(n: int, d: int, parts: int, seed: int = 0):
    import dask.array as da

    size = math.ceil(n / parts)
    chunks = tuple(min(size, n - p * size) for p in range(parts))
    return da.map_blocks(lambda block_info=None: _block(block_info[None]["chunk-location"], block_info[None]["chunk-shape"][0], d, seed),
                         chunks=(chunks, (d,)), dtype=np.float64)


class WorkerMemory:
    """Peak resident memory of each worker, sampled from the scheduler's heartbeats."""

    def __init__(self, client) -> None:
        self.client = client
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for address, info in self.client.scheduler_info()["workers"].items():
                self.peak[address] = max(self.peak.get(address, 0), int(info["metrics"]["memory"]))
            self._stop.wait(0.5)

    def __enter__(self) -> "WorkerMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def projection(rounds: list[tuple[float, int]], n: int, d: int, n_big: int = 100_000_000,
               workers: int = 32) -> dict:
    """Exact tier at n_big rows on ``workers`` workers, from the measured rounds (seconds, bytes sent).

    Assumptions (printed): one partition per worker, regrouped into slabs as
    here, so a row costs what it cost here (worker-seconds a row over all
    rounds: the rounds' wall time times the 2 busy workers, over n), times
    the ratio of round counts (log2 n more rounds, each no dearer a row);
    the bytes sent (labels of merged components, per-component bounds) grow
    with the rows, the extra rounds sending little (few components left);
    the per-row state stays on the workers; the client keeps a union-find of
    8 bytes a row; the client's own per-round work (O(components) NumPy) and
    the network are left out.
    """
    per_row = sum(seconds for seconds, _ in rounds) * 2 / n
    big_rounds = len(rounds) + math.ceil(math.log2(n_big / n))
    seconds = per_row * n_big / workers * big_rounds / len(rounds)
    sent_per_row = sum(sent for _, sent in rounds) / n
    sent = sent_per_row * n_big
    print(f"projection, {n_big:,} x {d} on {workers} workers: about {seconds / 60:.0f} min of worker compute "
          f"({per_row * 1e6:.0f} us a row measured over {len(rounds)} rounds, x {big_rounds} / {len(rounds)} "
          f"rounds), {sent / 1e9:.1f} GB of labels and bounds sent by the client in all ({sent_per_row:.0f} "
          f"bytes a row over all rounds), {8 * n_big / 1e9:.1f} GB of union-find on the client. Assumes one "
          "partition a worker, regrouped into slabs as here, and leaves out the client's O(components) NumPy "
          "work a round and the network.")
    return {"tier": "projection", "n": n_big, "d": d, "workers": workers, "rounds": big_rounds,
            "seconds": seconds, "bytes_sent": sent}


def ward_projection(n: int, d: int, breakdown: dict, rounds: int, copy_bytes: int,
                    sent: int, n_big: int = 100_000_000, workers: int = 32) -> dict:
    """Exact ward at n_big rows on ``workers`` workers, from the measured run.

    Assumptions (printed): the searches' work and the shards' updates grow
    like n log n and split over the workers (each worker answers for its
    shard); the client's share of a round (candidate lists, combining the
    answers, merges) is O(active clusters) and does not split, growing like
    n log n too (rounds grow like log n); bytes sent grow like n log n; each
    worker holds its shard (the bytes a shard took here, per row of it),
    the client the run (the bytes the client's run took here, per row); the
    network is left out.
    """
    grow = n_big / n * math.log(n_big) / math.log(n)
    search = (breakdown["worker_search_work_s"] + 2 * breakdown["worker_update_s"]) * grow / workers
    serial = (breakdown["client_merge_s"] + breakdown["client_rounds_s"]) * grow
    shard = breakdown["shard_bytes"] / (n / 2) * n_big / workers
    copy = copy_bytes / n * n_big
    print(f"ward projection, {n_big:,} x {d} on {workers} workers: about {(search + serial) / 60:.0f} min "
          f"({search / 60:.0f} min of searches and shard updates split over the workers, {serial / 60:.0f} min "
          f"of the client's share of the rounds), {sent / n * n_big * math.log(n_big) / math.log(n) / 1e9:.0f} GB "
          f"sent by the client in all; a shard of {shard / 1e9:.1f} GB on each worker "
          f"({breakdown['shard_bytes'] / (n / 2):.0f} bytes a row of it) and the run, {copy / 1e9:.0f} GB "
          f"({copy_bytes / n:.0f} bytes a row), on the client. Assumes work and bytes grow like n log n and "
          "leaves out the network.")
    return {"tier": "ward projection", "n": n_big, "d": d, "workers": workers,
            "seconds": search + serial, "copy_bytes": copy, "shard_bytes": shard}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--parts", type=int, default=2, help="partitions of the data (default: one per worker)")
    parser.add_argument("--n-micro", type=int, default=10_000)
    parser.add_argument("--tiers", default="single,ward,summary", help="comma-separated: single, ward, summary")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the exact single tier (medians reported)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    tiers = set(args.tiers.split(","))

    from distributed import Client, LocalCluster

    import hclust.dask as hd

    rows: list[dict] = []
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                      silence_logs=40) as cluster, Client(cluster) as client:
        # compile (and fill the numba caches) on both sides first
        small = blobs(3_000, args.d, 2)
        hd.linkage(small, "single", client=client)
        hd.summarize(small, n_micro=100, client=client)
        Xs = small.compute()
        hclust.linkage(Xs, "single")
        hclust.summarize(Xs, n_micro=100)
        if "ward" in tiers:
            from hclust.dask import _ward

            below, _ward.CLIENT_BELOW = _ward.CLIENT_BELOW, 16  # compile the workers' kernels too
            hd.linkage(small, "ward", client=client)
            _ward.CLIENT_BELOW = below
            hclust.linkage(Xs, "ward")

        Xd = client.persist(blobs(args.n, args.d, args.parts))
        X = client.compute(Xd).result()
        print(f"data: {args.n:,} x {args.d} blobs in {args.parts} partitions on 2 workers "
              f"({gb(X.nbytes)}, {gb(X.nbytes / args.parts)} a partition)")

        if "single" in tiers:
            rows += single_tier(client, X, Xd, args)
        if "ward" in tiers:
            rows += ward_tier(client, X, Xd, args)
        if "summary" in tiers:
            rows += summary_tier(client, X, Xd, args)

    single_rounds = [(r["seconds"], r["bytes_sent"]) for r in rows if r["tier"] == "exact single round"]
    if single_rounds:
        rows.append(projection(single_rounds, args.n, args.d))
    ward = [r for r in rows if r["tier"] == "exact ward"]
    if ward:
        w = ward[0]
        rows.append(ward_projection(args.n, args.d, w, w["rounds"], w["copy_bytes"], w["bytes_sent"]))
    if args.json:
        import dask
        import distributed

        write_json(args.json, "bench_dask.py", rows, data="blobs", workers=2, dask=dask.__version__,
                   distributed=distributed.__version__, load_average_at_end=round(os.getloadavg()[0], 1),
                   note="timings on a 2-core machine shared with other engineers: compare the ratios")


def ward_tier(client, X, Xd, args) -> list[dict]:
    import hclust.dask as hd
    from hclust.dask import _ward

    rows: list[dict] = []
    Z_in, t_in, mem_in = measure(lambda: hclust.linkage(X, "ward", n_jobs=2))
    print(f"ward, in-process (2 threads): {t_in:.1f} s, peak +{gb(mem_in)}")
    stats = []
    with WorkerMemory(client) as memory:
        Z_d, t_d, mem_d = measure(lambda: hd.linkage(Xd, "ward", client=client, on_round=stats.append))
    same = bool(np.array_equal(Z_in, Z_d))
    breakdown = dict(_ward.LAST_RUN)
    shipped = [s for s in stats if s.tasks]
    print(f"ward, hclust.dask (LocalCluster 2 x 1 thread): {t_d:.1f} s = {t_d / t_in:.2f} x in-process; "
          f"Z identical: {same}; {len(stats)} rounds, {len(shipped)} on the workers; client peak +{gb(mem_d)}, "
          "worker peak memory " + ", ".join(gb(v) for v in memory.peak.values()))
    walls = ("worker_search_s", "worker_update_s", "client_merge_s", "client_rounds_s")
    print(f"  largest shard {gb(breakdown['shard_bytes'])} ({breakdown['shard_bytes'] / (args.n / 2):.0f} bytes a "
          f"row of its half), the client's run {gb(_run_bytes(X))}")
    print("  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in breakdown.items() if k.endswith("_s"))
          + f"; other (gathering, collapsing duplicates, transfers, Z) {t_d - sum(breakdown[k] for k in walls):.1f} s")
    print(f"  {'round':>5} {'time s':>8} {'sent MB':>8} {'returned MB':>11} {'tasks':>5} {'clusters before -> after':>26}")
    for s in shipped:
        print(f"  {s.round:>5} {s.seconds:>8.2f} {s.bytes_sent / 1e6:>8.1f} {s.bytes_returned / 1e6:>11.1f} "
              f"{s.tasks:>5} {s.active_before:>14,} -> {s.active_after:<9,}")
        rows.append({"tier": "exact ward round", "n": args.n, "d": args.d, "parts": args.parts, "round": s.round,
                     "seconds": s.seconds, "bytes_sent": s.bytes_sent, "bytes_returned": s.bytes_returned,
                     "active_before": s.active_before, "active_after": s.active_after})
    local = [s for s in stats if not s.tasks]
    if local:
        print(f"  then {len(local)} rounds on the client, {local[0].active_before:,} -> 1 clusters, "
              f"{sum(s.seconds for s in local):.2f} s")
    rows.append({"tier": "exact ward", "n": args.n, "d": args.d, "parts": args.parts, "hclust_s": t_in,
                 "dask_s": t_d, "ratio": t_d / t_in, "identical": same, "rounds": len(stats),
                 "rounds_on_workers": len(shipped), **breakdown,
                 "copy_bytes": _run_bytes(X),
                 "bytes_sent": sum(s.bytes_sent for s in stats),
                 "worker_peak_gb": max(memory.peak.values()) / 1e9})
    return rows


def _run_bytes(X: np.ndarray) -> int:
    """Bytes of a ward run for X's rows (what the client holds), from 20,000 rows."""
    import pickle

    from hclust.dask import _ward

    m = min(20_000, X.shape[0])
    run = _ward._WardRun(np.unique(X[:m], axis=0), np.ones(np.unique(X[:m], axis=0).shape[0]))
    return int(len(pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)) / m * X.shape[0])


def single_tier(client, X, Xd, args) -> list[dict]:
    import hclust.dask as hd

    rows: list[dict] = []
    # the two engines alternate; medians of the repeats (the machine may be shared)
    runs_in, runs_d = [], []
    with WorkerMemory(client) as memory:
        for _ in range(args.repeat):
            Z_in, t_in, mem_in = measure(lambda: hclust.linkage(X, "single", n_jobs=2))
            runs_in.append(t_in)
            stats: list = []
            Z_d, t_d, _ = measure(lambda: hd.linkage(Xd, "single", client=client, on_round=stats.append))
            runs_d.append((t_d, stats))
            print(f"  run: in-process {t_in:.1f} s, hclust.dask {t_d:.1f} s = {t_d / t_in:.2f} x")
    t_in = float(np.median(runs_in))
    t_d = float(np.median([t for t, _ in runs_d]))
    stats = sorted(runs_d, key=lambda run: run[0])[(len(runs_d) - 1) // 2][1]  # the rounds of a median run
    print(f"single, in-process (2 threads): {t_in:.1f} s (median of {args.repeat}), peak +{gb(mem_in)}")
    print(f"single, hclust.dask (LocalCluster 2 x 1 thread): {t_d:.1f} s = {t_d / t_in:.2f} x in-process; "
          f"Z identical: {bool(np.array_equal(Z_in, Z_d))}; worker peak memory "
          + ", ".join(gb(v) for v in memory.peak.values()))
    print(f"  {'round':>5} {'time s':>8} {'sent MB':>8} {'returned MB':>11} {'points MB':>9} {'tasks':>5} "
          f"{'clusters before -> after':>26}")
    for s in stats:
        print(f"  {s.round:>5} {s.seconds:>8.2f} {s.bytes_sent / 1e6:>8.1f} {s.bytes_returned / 1e6:>11.1f} "
              f"{s.bytes_points / 1e6:>9.1f} {s.tasks:>5} {s.active_before:>14,} -> {s.active_after:<9,}")
        rows.append({"tier": "exact single round", "n": args.n, "d": args.d, "parts": args.parts,
                     "round": s.round, "seconds": s.seconds, "bytes_sent": s.bytes_sent,
                     "bytes_returned": s.bytes_returned, "bytes_points": s.bytes_points,
                     "active_before": s.active_before, "active_after": s.active_after})
    rows.append({"tier": "exact single", "n": args.n, "d": args.d, "parts": args.parts, "hclust_s": t_in,
                 "dask_s": t_d, "ratio": t_d / t_in, "identical": bool(np.array_equal(Z_in, Z_d)),
                 "repeats": args.repeat, "worker_peak_gb": max(memory.peak.values()) / 1e9})
    return rows


def summary_tier(client, X, Xd, args) -> list[dict]:
    import hclust.dask as hd

    rows: list[dict] = []
    s_in, t_sin, _ = measure(lambda: hclust.summarize(X, n_micro=args.n_micro))
    with WorkerMemory(client) as memory:
        s_d, t_sd, _ = measure(lambda: hd.summarize(Xd, n_micro=args.n_micro, client=client))
        labels, t_lab, _ = measure(lambda: client.compute(s_d.labels(10)).result())
    print(f"summary, in-process: {t_sin:.1f} s ({s_in.n_micro:,} micro-clusters, within share "
          f"{s_in.quality.within_share:.4f}); hclust.dask: {t_sd:.1f} s = {t_sd / t_sin:.2f} x "
          f"({s_d.n_micro:,} micro-clusters, within share {s_d.quality.within_share:.4f}), "
          f"labels of all {labels.shape[0]:,} rows {t_lab:.1f} s")
    rows.append({"tier": "summary", "n": args.n, "d": args.d, "parts": args.parts, "n_micro": args.n_micro,
                 "hclust_s": t_sin, "dask_s": t_sd, "labels_s": t_lab, "ratio": t_sd / t_sin,
                 "hclust_within_share": s_in.quality.within_share,
                 "dask_within_share": s_d.quality.within_share})
    return rows


if __name__ == "__main__":
    main()
