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
    # the rate tests must not depend on what else runs on the machine now
    monkeypatch.setattr(ParallelChooser, "LOAD_AWARE", False)


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


def _parallel_best(name):
    chooser = ParallelChooser(name, threads=2, first_work=1e5)
    _drive(chooser, serial_rate=1e8, parallel_rate=1.8e8, calls=60)
    assert chooser.best() is True
    return chooser


def test_chooser_runs_the_serial_twin_while_no_core_is_free(monkeypatch):
    chooser = _parallel_best("gate")
    monkeypatch.setattr(ParallelChooser, "LOAD_AWARE", True)
    monkeypatch.setattr(_threads, "free_cores", lambda: 1)
    calls = [chooser.next() for _ in range(50)]
    assert not any(parallel for parallel, _ in calls)
    # full calls at the serial twin's rate, not probes
    assert all(work == pytest.approx(0.01 * chooser.rate[False]) for _, work in calls)
    assert chooser.best() is True  # what was learnt stays for when the core is free again


def test_chooser_runs_the_parallel_twin_on_the_free_cores(monkeypatch):
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    chooser = _parallel_best("gate")
    monkeypatch.setattr(ParallelChooser, "LOAD_AWARE", True)
    monkeypatch.setattr(_threads, "free_cores", lambda: 2)
    with hclust._threads.numba_threads(None):
        numba.set_num_threads(1)
        assert chooser.next()[0] is True
        assert numba.get_num_threads() == 2
    monkeypatch.setattr(_threads, "free_cores", lambda: None)  # /proc unreadable: the rates decide
    assert chooser.next()[0] is True


def test_free_cores_sees_a_competing_process():
    import os
    import subprocess
    import sys
    import time

    if _threads.free_cores() is None:
        pytest.skip("no /proc/loadavg here (Linux only)")
    cores = len(os.sched_getaffinity(0))
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        seen = [_threads._others_running() for _ in range(20)]
    finally:
        busy.kill()
        busy.wait()
    # the spinning child is runnable whenever we look (other processes may add to it)
    assert min(s for s in seen if s is not None) >= 1
    assert 1 <= _threads.free_cores() <= cores


def test_free_cores_is_unknown_without_proc(monkeypatch):
    def unreadable(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(_threads.os, "listdir", unreadable)
    assert _threads._others_running() is None
    assert _threads.free_cores() is None


def test_a_busy_machine_gives_the_same_tree_on_the_serial_twin(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4))
    expected = hclust.linkage(X, "average", n_jobs=1)
    monkeypatch.setattr(ParallelChooser, "LOAD_AWARE", True)
    monkeypatch.setattr(_threads, "free_cores", lambda: 1)
    seen = []
    record = ParallelChooser.record

    def spy(self, parallel, work, seconds):
        seen.append(parallel)
        return record(self, parallel, work, seconds)

    monkeypatch.setattr(ParallelChooser, "record", spy)
    np.testing.assert_array_equal(hclust.linkage(X, "average", n_jobs=2), expected)
    assert seen and not any(seen)


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
    original_vector_matrix = module._vector_matrix
    monkeypatch.setattr(module, "_preload_matrix_kernels", lambda d: (order.append("preload"), original_preload(d)))
    monkeypatch.setattr(module, "_distances", lambda *a: (order.append("matrix"), original_distances(*a))[1])
    monkeypatch.setattr(
        module, "_vector_matrix", lambda *a: (order.append("matrix"), original_vector_matrix(*a))[1]
    )
    X = np.random.default_rng(1).normal(size=(20, 2))
    hclust.linkage(X, "average")  # the distances and first neighbours in one pass
    hclust.linkage(X, "average", "cityblock")  # pdist, then the engine's first pass
    assert order == ["preload", "matrix"] * 2


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
