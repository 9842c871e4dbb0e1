"""Time a git revision against the working tree, runs interleaved (ABAB), medians and ratios.

Usage: python benchmarks/bench_ab.py [--base main | --base-src DIR] [--repeats 5]
                                     [--cases single:100000x8 ward:100000x8 ...]

Each version runs in its own worker process (``_versions.py``), warmed up
first on every case (at most 30 000 rows: compiles or loads every kernel,
the parallel twins included). Then, ``--repeats`` times, every case runs once
in each worker, the order alternating from round to round (AB, BA, ...), so
that slow phases of a shared machine hit both versions alike. Prints each
version's median seconds and the ratio base / new (> 1: the working tree is
faster), with the median of the per-round ratios beside it. Run it with
``nice -n -5`` (as root) on a machine shared with nice-19 work.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import write_json  # noqa: E402
from _versions import ROOT, Worker, export, parse_case  # noqa: E402

DEFAULT_CASES = [
    "mst:100000x8", "single:100000x8", "mst:1000000x2", "mst:1000000x8",
    "ward:30000x8", "ward:100000x8", "centroid:20000x8", "median:20000x8",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare with (default: main)")
    parser.add_argument("--base-src", type=Path, help="an exported src folder to use instead of --base")
    parser.add_argument("--cases", nargs="+", default=DEFAULT_CASES)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--raw", action="store_true", help="print every time, round by round")
    parser.add_argument("--json", type=Path, help="also write the results (every time) to this JSON file")
    args = parser.parse_args()
    for case in args.cases:
        parse_case(case)
    base_src = args.base_src or export(args.base)
    workers = [Worker(base_src, "base"), Worker(ROOT / "src", "new")]
    print(f"base: {workers[0].file}\nnew:  {workers[1].file}", flush=True)
    for case in args.cases:
        method, n, d = parse_case(case)
        for worker in workers:
            worker.ask(op="warm", case=f"{method}:{min(n, 30_000)}x{d}")
    times: dict[str, list[list[float]]] = {case: [[], []] for case in args.cases}
    for repeat in range(args.repeats):
        for case in args.cases:
            order = (0, 1) if repeat % 2 == 0 else (1, 0)
            for index in order:
                times[case][index].append(workers[index].ask(op="time", case=case)["seconds"])
        print(f"round {repeat + 1} of {args.repeats} done", file=sys.stderr, flush=True)
    for worker in workers:
        worker.close()
    print(f"{'case':22} | {'base s':>8} {'new s':>8} | {'base/new':>8} {'per-round':>9} | rounds")
    rows = []
    for case in args.cases:
        base, new = times[case]
        ratio = statistics.median(base) / statistics.median(new)
        per_round = statistics.median(b / a for b, a in zip(base, new))
        print(f"{case:22} | {statistics.median(base):8.3f} {statistics.median(new):8.3f} | "
              f"{ratio:8.3f} {per_round:9.3f} | {len(base)}", flush=True)
        rows.append({"case": case, "base_s": statistics.median(base), "new_s": statistics.median(new),
                     "ratio": ratio, "per_round_ratio": per_round, "base_times": base, "new_times": new})
        if args.raw:
            print(f"{'':22} | base {' '.join(f'{t:.3f}' for t in base)}\n"
                  f"{'':22} | new  {' '.join(f'{t:.3f}' for t in new)}")
    if args.json:
        write_json(args.json, "bench_ab.py", rows, base=args.base if args.base_src is None else str(args.base_src),
                   repeats=args.repeats)


if __name__ == "__main__":
    main()
