"""Start-up time: ``import hclust``, ``hclust --help``, and what the first ``hclust demo`` compiles.

Each start is a fresh interpreter (warm: the files are in the OS cache after the first
run); the median of ``--repeat`` runs is printed with scipy's ``import scipy`` as the peer
measured in the same run, and the ratio. ``--src PATH`` measures another checkout's
``src`` folder in the same run too (e.g. the code before a change, exported with
``git archive``), so that before/after are compared on the same, possibly busy, machine.

``--demo`` runs ``hclust demo`` once with an empty numba cache (a fresh install) and
lists the kernels it compiled with their compile times (the outermost compilations;
nested helper compilations are included in them).

Usage::

    python benchmarks/bench_startup.py [--repeat 15] [--src OTHER/src] [--demo]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

_COMPILE_REPORT = r"""
import collections, sys, time
from numba.core import event
manager = event.install_recorder("numba:compile")
recorder = manager.__enter__()
start = time.perf_counter()
from hclust.cli import main
code = main(["demo", "--quiet", "--out", sys.argv[1]])
total = time.perf_counter() - start
manager.__exit__(None, None, None)
depth, outer_start, outer = 0, 0.0, collections.Counter()
for stamp, ev in recorder.buffer:
    if ev.is_start:
        if depth == 0:
            outer_start = stamp
        depth += 1
    elif ev.is_end:
        depth -= 1
        if depth == 0:
            func = ev.data["dispatcher"].py_func
            outer[f"{func.__module__}.{func.__qualname__}"] += stamp - outer_start
print(f"exit {code}; demo {total:.1f} s, of which compiling {sum(outer.values()):.1f} s in {len(outer)} kernels:")
for name, seconds in outer.most_common():
    print(f"  {seconds:6.2f} s  {name}")
"""


def _time(command: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time of ``repeat`` runs (after one untimed run that warms the file cache)."""
    subprocess.run(command, env=env, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--src", type=Path, action="append", default=[], help="another src folder to measure")
    parser.add_argument("--demo", action="store_true", help="measure the first demo's kernel compilation")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    rows: list[dict] = []
    python = sys.executable
    help_code = "import sys; from hclust.cli import main; sys.argv[0] = 'hclust'; sys.exit(main(['--help']))"
    peer = _time([python, "-c", "import scipy"], _env(HERE), args.repeat)
    bare = _time([python, "-c", "pass"], _env(HERE), args.repeat)
    print(f"python -c pass: {bare:.3f} s;  import scipy (peer): {peer:.3f} s  (medians of {args.repeat} warm starts)")
    rows += [{"command": "python -c pass", "seconds": bare}, {"command": "import scipy (peer)", "seconds": peer}]
    for src in [HERE, *args.src]:
        env = _env(src.resolve())
        imported = _time([python, "-c", "import hclust"], env, args.repeat)
        helped = _time([python, "-c", help_code], env, args.repeat)
        full = _time([python, "-c", "import hclust; hclust.SegmentationModel; hclust.linkage"], env, args.repeat)
        print(f"{src}:\n  import hclust {imported:.3f} s ({imported / peer:.2f}x scipy)"
              f"   hclust --help {helped:.3f} s ({helped / peer:.2f}x scipy)"
              f"   import + linkage + SegmentationModel {full:.3f} s")
        rows += [{"command": "import hclust", "src": str(src), "seconds": imported, "ratio_to_scipy": imported / peer},
                 {"command": "hclust --help", "src": str(src), "seconds": helped, "ratio_to_scipy": helped / peer},
                 {"command": "import + linkage + SegmentationModel", "src": str(src), "seconds": full}]
    if args.demo:
        cache = Path(tempfile.mkdtemp(prefix="hclust-numba-cache-"))
        out = Path(tempfile.mkdtemp(prefix="hclust-demo-"))
        try:
            env = {**_env(HERE), "NUMBA_CACHE_DIR": str(cache)}
            done = subprocess.run([python, "-c", _COMPILE_REPORT, str(out / "demo")], env=env,
                                  capture_output=True, text=True)
            print("first hclust demo, empty numba cache:")
            print(done.stdout.rstrip() or done.stderr[-2000:])
            start = time.perf_counter()
            subprocess.run([python, "-c", "from hclust.cli import main; main(['demo', '--quiet', '--out', "
                            f"{str(out / 'again')!r}])"], env=env, check=True, capture_output=True)
            print(f"second hclust demo (kernels cached): {time.perf_counter() - start:.1f} s")
        finally:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
    if args.json:
        sys.path.insert(0, str(HERE.parent / "benchmarks"))
        from _measure import write_json

        write_json(args.json, "bench_startup.py", rows, repeat=args.repeat, statistic="median of warm starts")


if __name__ == "__main__":
    main()
