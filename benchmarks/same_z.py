"""Whether a git revision and the working tree give bit-identical results on the benchmark blobs.

Usage: python benchmarks/same_z.py [--base main | --base-src DIR] [--cases ward:100000x8 ...]

For a refactoring that must not change any result: every case (``METHOD:NxD``,
see ``_versions.py``; default: single, ward, centroid, median and average on
squared Euclidean distances, d = 2, 3, 8, 32, n up to 100 000 for single and
ward, 20 000 for the O(n^2 d) centroid family, plus the Borůvka MST's edges)
runs under both versions, each in its own process, and the script prints
whether the two ``Z`` (or edge lists) are equal byte for byte. Exit code 1
when one differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _versions import ROOT, Worker, export, parse_case  # noqa: E402


def default_cases() -> list[str]:
    cases = []
    for d in (2, 3, 8, 32):
        for n in (1_000, 10_000, 100_000):
            cases += [f"mst:{n}x{d}", f"single:{n}x{d}", f"ward:{n}x{d}"]
        for n in (1_000, 5_000, 20_000):
            cases += [f"centroid:{n}x{d}", f"median:{n}x{d}", f"average_sq:{n}x{d}"]
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare with (default: main)")
    parser.add_argument("--base-src", type=Path, help="an exported src folder to use instead of --base")
    parser.add_argument("--cases", nargs="+", default=None)
    args = parser.parse_args()
    cases = args.cases or default_cases()
    for case in cases:
        parse_case(case)
    base_src = args.base_src or export(args.base)
    workers = {"base": Worker(base_src, "base"), "new": Worker(ROOT / "src", "new")}
    print(f"base: {workers['base'].file}\nnew:  {workers['new'].file}", flush=True)
    differ = 0
    with tempfile.TemporaryDirectory() as folder:
        for case in cases:
            results = {}
            seconds = {}
            for label, worker in workers.items():
                path = Path(folder) / f"{label}.npy"
                seconds[label] = worker.ask(op="z", case=case, path=str(path))["seconds"]
                results[label] = np.load(path)
            same = results["base"].shape == results["new"].shape and (
                results["base"].tobytes() == results["new"].tobytes()
            )
            differ += not same
            print(f"{case:22} {'identical' if same else 'DIFFERENT'}   "
                  f"({seconds['base']:.2f} s / {seconds['new']:.2f} s)", flush=True)
    for worker in workers.values():
        worker.close()
    print(f"{len(cases) - differ} of {len(cases)} cases identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
