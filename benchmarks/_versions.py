"""Two versions of hclust side by side: a git revision exported to a temporary folder
and the working tree, each driven in its own worker process (bench_ab.py, same_z.py).

A worker imports hclust from the ``src`` folder it is given (``PYTHONPATH``),
then answers one JSON command per line on stdin: ``{"op": "time", "case":
"ward:100000x8"}`` runs the case once and answers its seconds; ``{"op": "z",
"case": ..., "path": ...}`` saves the case's ``Z`` (``.npy``); ``{"op":
"warm", "case": ...}`` runs it untimed. A case is ``METHOD:NxD`` on the
benchmark blobs (``bench_linkage.blobs``), METHOD one of ``mst`` (the
Borůvka MST alone, as bench_single times it), ``single``, ``ward``,
``centroid``, ``median``, ``average_sq`` (average on squared Euclidean
distances), all with ``algorithm="vector"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("mst", "single", "ward", "centroid", "median", "average_sq")


def parse_case(text: str) -> tuple[str, int, int]:
    """(method, n, d) from ``METHOD:NxD``."""
    try:
        method, size = text.split(":")
        n, d = (int(part) for part in size.lower().split("x"))
    except ValueError:
        raise ValueError(f"case {text!r} is not of the form METHOD:NxD, e.g. ward:100000x8") from None
    if method not in METHODS:
        raise ValueError(f"case {text!r}: the method is one of {', '.join(METHODS)}")
    return method, n, d


def export(revision: str) -> Path:
    """The ``src`` folder of ``revision`` exported (``git archive``) into a new temporary folder."""
    target = Path(tempfile.mkdtemp(prefix="hclust-" + revision.replace("/", "_")[:12] + "-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


class Worker:
    """A process running hclust from ``src``; ``ask`` sends one command and returns the answer."""

    def __init__(self, src: Path, label: str) -> None:
        self.label = label
        env = dict(os.environ, PYTHONPATH=str(src))
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tempfile.gettempdir(),
        )
        hello = self._read()
        self.file = hello["file"]

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.label} ended (exit code {self.process.wait()})")
        return json.loads(line)

    def ask(self, **command: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"worker {self.label}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def _run_case(case: str) -> Any:
    import numpy as np

    import hclust
    from hclust._emst import euclidean_mst

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_linkage import blobs

    method, n, d = parse_case(case)
    X = blobs(n, d)
    import time

    start = time.perf_counter()
    if method == "mst":
        import numba

        a, b, h = euclidean_mst(X, numba.get_num_threads())
        result = np.column_stack([a, b, h])
    elif method == "average_sq":
        result = hclust.linkage(X, "average", metric="sqeuclidean", algorithm="vector")
    else:
        result = hclust.linkage(X, method, algorithm="vector")
    return result, time.perf_counter() - start


def _serve() -> None:
    import numpy as np

    import hclust

    print(json.dumps({"file": hclust.__file__}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            result, seconds = _run_case(command["case"])
            if command["op"] == "z":
                np.save(command["path"], result)
            print(json.dumps({"seconds": seconds}), flush=True)
        except Exception as error:  # the driver reports it
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _serve()
