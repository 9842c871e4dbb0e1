"""Thread settings, the serial/parallel chooser, and the environment's limits."""

from __future__ import annotations

import numpy as np
import pytest

import hclust
from hclust import _threads
from hclust._threads import ParallelChooser, forced_twins
from hclust._validation import InsufficientMemoryError, _cgroup_room, available_memory, check_n_jobs


@pytest.fixture(autouse=True)
def _fresh_learning(monkeypatch):
    monkeypatch.setattr(_threads, "_LEARNT", {})


def _drive(chooser, serial_rate, parallel_rate, calls):
    """Run ``calls`` calls against fixed rates; return the seconds spent and the parallel calls."""
    seconds = 0.0
    parallel_calls = 0
    for _ in range(calls):
        parallel, work = chooser.next()
        took = work / (parallel_rate if parallel else serial_rate)
        seconds += took
        parallel_calls += parallel
        chooser.record(parallel, work, took)
    return seconds, parallel_calls


def test_chooser_keeps_to_the_serial_twin_when_the_parallel_one_loses_badly():
    chooser = ParallelChooser("test", threads=2, first_work=1e5)
    seconds, parallel_calls = _drive(chooser, serial_rate=1e8, parallel_rate=1e6, calls=400)
    # serial alone: calls of 10 ms each -> 4 s; the probes lose at most 5% more
    assert seconds < 1.06 * 400 * 0.01 + 0.2
    assert 1 <= parallel_calls < 40
    assert chooser.best() is False


def test_chooser_moves_to_the_parallel_twin_when_it_wins():
    chooser = ParallelChooser("test", threads=2, first_work=1e5)
    _drive(chooser, serial_rate=1e8, parallel_rate=1.8e8, calls=100)
    assert chooser.best() is True
    _, parallel_calls = _drive(chooser, serial_rate=1e8, parallel_rate=1.8e8, calls=100)
    assert parallel_calls > 80


def test_chooser_follows_a_change_of_load():
    chooser = ParallelChooser("test", threads=2, first_work=1e5)
    _drive(chooser, serial_rate=1e8, parallel_rate=1.8e8, calls=60)
    assert chooser.best() is True
    # another process takes a core: the parallel twin becomes 20x slower
    _drive(chooser, serial_rate=1e8, parallel_rate=5e6, calls=10)
    assert chooser.best() is False


def test_chooser_believes_a_collapse_of_the_parallel_twin_at_once():
    chooser = ParallelChooser("test", threads=2, first_work=1e5)
    _drive(chooser, serial_rate=1e8, parallel_rate=1.8e8, calls=60)
    # one parallel call at a tenth of its rate: no second call at the stale rate
    _drive(chooser, serial_rate=1e8, parallel_rate=1.8e7, calls=1)
    assert chooser.best() is False


def test_chooser_warms_up_over_short_runs():
    # runs of 2 ms each: none reaches the 0.1 s warmup alone, together they do
    parallel_calls = 0
    for _ in range(200):
        chooser = ParallelChooser("short", threads=2, first_work=1e5)
        parallel_calls += _drive(chooser, serial_rate=1e8, parallel_rate=1.8e8, calls=2)[1]
    assert parallel_calls > 100
    assert ParallelChooser("short", threads=2).best() is True


def test_chooser_sizes_calls_by_the_measured_rate():
    chooser = ParallelChooser("test", threads=2, first_work=1e5, target=0.01)
    parallel, work = chooser.next()
    assert (parallel, work) == (False, 1e5)
    chooser.record(False, 1e5, 0.001)  # 1e8 per second
    _, work = chooser.next()
    assert work == pytest.approx(1e6)  # 10 ms at that rate


def test_chooser_is_off_with_one_thread_and_remembers_across_runs():
    assert ParallelChooser("test", threads=1).next()[0] is False
    first = ParallelChooser("shared", threads=2, first_work=1e5)
    _drive(first, serial_rate=1e8, parallel_rate=1.8e8, calls=60)
    second = ParallelChooser("shared", threads=2)
    assert second.best() is True


def test_forced_twins():
    chooser = ParallelChooser("test", threads=2)
    with forced_twins(True):
        assert all(chooser.next()[0] for _ in range(5))
    with forced_twins(False):
        assert not any(chooser.next()[0] for _ in range(5))


def test_forced_twins_give_the_same_tree():
    X = np.random.default_rng(0).normal(size=(1_100, 3))
    with forced_twins(False):
        serial = hclust.linkage(X, "average")
    with forced_twins(True):
        parallel = hclust.linkage(X, "average", n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)


def test_num_threads_environment(monkeypatch):
    import numba

    monkeypatch.setenv("HCLUST_NUM_THREADS", "1")
    assert check_n_jobs(None) == 1
    monkeypatch.setenv("HCLUST_NUM_THREADS", "999")
    assert check_n_jobs(None) == numba.config.NUMBA_NUM_THREADS
    assert check_n_jobs(1) == 1
    monkeypatch.setenv("HCLUST_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="HCLUST_NUM_THREADS must be a positive integer"):
        hclust.linkage(np.eye(3) + 1, "single")


def test_memory_fraction_environment(monkeypatch):
    monkeypatch.setenv("HCLUST_MEMORY_FRACTION", "abc")
    with pytest.raises(ValueError, match="HCLUST_MEMORY_FRACTION must be a number between 0 and 1"):
        hclust.pdist(np.random.default_rng(0).normal(size=(600, 2)))
    monkeypatch.setenv("HCLUST_MEMORY_FRACTION", "0.5")
    hclust.pdist(np.random.default_rng(0).normal(size=(600, 2)))


def test_cgroup_v2_limit(tmp_path):
    (tmp_path / "self").write_text("0::/box\n")
    box = tmp_path / "fs" / "box"
    box.mkdir(parents=True)
    (box / "memory.max").write_text("1000000\n")
    (box / "memory.current").write_text("250000\n")
    assert _cgroup_room(str(tmp_path / "fs"), str(tmp_path / "self")) == 750_000
    (box / "memory.max").write_text("max\n")
    assert _cgroup_room(str(tmp_path / "fs"), str(tmp_path / "self")) is None


def test_cgroup_v1_limit(tmp_path):
    (tmp_path / "self").write_text("4:memory:/job\n0::/\n")
    job = tmp_path / "fs" / "memory" / "job"
    job.mkdir(parents=True)
    (job / "memory.limit_in_bytes").write_text("2000000\n")
    (job / "memory.usage_in_bytes").write_text("500000\n")
    assert _cgroup_room(str(tmp_path / "fs"), str(tmp_path / "self")) == 1_500_000
    (job / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # no limit
    assert _cgroup_room(str(tmp_path / "fs"), str(tmp_path / "self")) is None


def test_available_memory_is_positive_and_overridable(monkeypatch):
    assert available_memory() > 0
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "12345")
    assert available_memory() == 12345
    monkeypatch.setenv("HCLUST_MAX_MEMORY", "lots")
    with pytest.raises(ValueError, match="HCLUST_MAX_MEMORY"):
        available_memory()


def test_optimal_leaf_ordering_checks_memory_before_computing_distances(monkeypatch):
    X = np.random.default_rng(0).normal(size=(3_000, 2))
    Z = hclust.linkage(X, "single")
    monkeypatch.setenv("HCLUST_MAX_MEMORY", str(50_000_000))  # the distances alone need 36 MB
    called = []
    import hclust.metrics as metrics_module

    monkeypatch.setattr(metrics_module, "pdist", lambda *a, **k: called.append(1))
    with pytest.raises(InsufficientMemoryError, match="optimal_leaf_ordering for 3,000 observations"):
        hclust.optimal_leaf_ordering(Z, X)
    assert not called


def test_the_matrix_engine_preloads_its_kernels_before_allocating(monkeypatch):
    import importlib

    module = importlib.import_module("hclust._linkage")
    order = []
    monkeypatch.setattr(module, "_PRELOAD_FROM", 10)
    original_preload = module._preload_matrix_kernels
    original_distances = module._distances
    monkeypatch.setattr(module, "_preload_matrix_kernels", lambda d: (order.append("preload"), original_preload(d)))
    monkeypatch.setattr(module, "_distances", lambda *a: (order.append("matrix"), original_distances(*a))[1])
    hclust.linkage(np.random.default_rng(1).normal(size=(20, 2)), "average")
    assert order == ["preload", "matrix"]


def test_openmp_workers_are_told_to_sleep_soon():
    """libgomp's idle workers spin 300 000 times by default, stealing a busy machine's cores:
    hclust sets GOMP_SPINCOUNT before numba starts them, unless the user chose otherwise."""
    import subprocess
    import sys

    code = (
        "import os, numpy as np, hclust; hclust.linkage(np.random.rand(20, 2), 'average'); "
        "print(os.environ.get('GOMP_SPINCOUNT'))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "10000"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"  # the user's choice stands
