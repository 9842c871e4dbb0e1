"""hclust.dask on a real LocalCluster of two worker processes (loopback only).

The exact tier must give hclust.linkage's Z bit for bit, whatever the
partitioning; faults (a worker killed mid-run, a scheduler that does not
answer, NaN in one partition) must end in the same result or a clear error.
"""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest

import hclust

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import hclust.dask as hd  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        client.cluster_ = cluster
        yield client


def _blobs(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (5, d))
    return centres[rng.integers(0, 5, n)] + rng.normal(0, 1, (n, d))


def _same(X: np.ndarray, chunks, client) -> None:
    Z = hd.linkage(da.from_array(X, chunks=(chunks, X.shape[1])), "single", client=client)
    Zr = hclust.linkage(X, "single")
    assert Z.shape == Zr.shape
    assert np.array_equal(Z, Zr), np.flatnonzero((Z != Zr).any(axis=1))[:5]


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8, 16, 32])
def test_single_equals_in_process_on_blobs(client, d):
    _same(_blobs(1_200, d, seed=d), 300, client)


@pytest.mark.parametrize("seed", range(4))
def test_single_ties_and_duplicates(client, seed):
    rng = np.random.default_rng(seed)
    # a small integer grid: many equal distances and many equal rows
    X = rng.integers(0, 5, (600, 1 + seed % 3)).astype(np.float64)
    _same(X, 97, client)


def test_single_all_rows_equal(client):
    _same(np.ones((50, 3)), 7, client)


@pytest.mark.parametrize(
    "chunks",
    [
        (0, 5, 700, 0, 1, 294),  # very uneven, empty and one-row partitions
        (1_000,),  # one partition
        (1, 1, 998),
        (500, 0, 500),
    ],
)
def test_single_uneven_empty_and_one_partition(client, chunks):
    _same(_blobs(1_000, 4, seed=7), chunks, client)


def test_two_rows_in_two_partitions(client):
    _same(np.array([[0.0, 1.0], [3.0, 5.0]]), 1, client)


def test_dask_dataframe_input(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X = _blobs(700, 3, seed=3)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=4)
    assert np.array_equal(hd.linkage(frame, "single", client=client), hclust.linkage(X, "single"))
    frame["name"] = "x"
    with pytest.raises(TypeError, match="non-numeric columns: name"):
        hd.linkage(frame, "single", client=client)


def test_rounds_are_reported(client):
    X = _blobs(800, 3, seed=1)
    rounds, steps = [], []
    hd.linkage(da.from_array(X, chunks=(200, 3)), "single", client=client, on_round=rounds.append,
               progress=lambda done, total: steps.append((done, total)))
    assert [r.round for r in rounds] == list(range(1, len(rounds) + 1))
    assert rounds[0].active_before == 800 and rounds[-1].active_after == 1
    assert all(r.active_after * 2 <= r.active_before for r in rounds)  # Borůvka at least halves
    assert all(r.bytes_sent >= 8 * 800 and r.bytes_returned > 0 and r.tasks >= 4 for r in rounds)
    assert steps[-1] == (799, 799) and len(steps) == len(rounds)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_value_names_partition_and_row(client, bad):
    X = _blobs(400, 2, seed=2)
    X[100 + 37, 1] = bad  # partition 1 (rows 100..199), its row 37
    with pytest.raises(ValueError, match=r"partition 1, row 37 of the partition \(row 137 overall\)"):
        hd.linkage(da.from_array(X, chunks=(100, 2)), "single", client=client)


def test_bad_input(client):
    with pytest.raises(ValueError, match="X has 1 observation; at least 2"):
        hd.linkage(da.zeros((1, 2), chunks=(1, 2)), "single", client=client)
    with pytest.raises(TypeError, match="dask array or a dask DataFrame"):
        hd.linkage(np.zeros((5, 2)), "single", client=client)
    with pytest.raises(ValueError, match="2-D"):
        hd.linkage(da.zeros(5, chunks=2), "single", client=client)
    with pytest.raises(ValueError, match="not available on Dask yet"):
        hd.linkage(da.zeros((5, 2), chunks=(2, 2)), "ward", client=client)
    with pytest.raises(ValueError, match="method"):
        hd.linkage(da.zeros((5, 2), chunks=(2, 2)), "nope", client=client)
    with pytest.raises(ValueError, match="overflow"):
        hd.linkage(da.from_array(np.array([[0.0], [1e300]]), chunks=(1, 1)), "single", client=client)
    with pytest.raises(TypeError, match="client must be"):
        hd.linkage(da.zeros((5, 2), chunks=(2, 2)), "single", client=42)


def test_no_default_client_is_a_clear_error():
    code = ("import dask.array as da, hclust.dask as hd\n"
            "try:\n    hd.linkage(da.zeros((4, 2), chunks=(2, 2)), 'single')\n"
            "except ValueError as e:\n    print('refused:', e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "refused: hclust.dask needs a dask.distributed cluster" in done.stdout, done.stderr


def test_scheduler_that_does_not_answer():
    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ConnectionError, match=rf"No Dask scheduler answered at '{address}' within 1 s"):
        hd.linkage(da.zeros((4, 2), chunks=(2, 2)), "single", client=address, timeout=1)
    with pytest.raises(ValueError, match="timeout must be"):
        hd.linkage(da.zeros((4, 2), chunks=(2, 2)), "single", client=address, timeout=0)


def test_worker_killed_mid_run_gives_the_same_result(client):
    X = _blobs(3_000, 3, seed=11)
    workers = sorted(client.scheduler_info()["workers"])
    assert len(workers) == 2
    killed = []

    def die_soon():  # defined here: pickled by value for the worker
        import os
        import threading

        threading.Timer(0.05, os._exit, (1,)).start()

    def kill_after_first_round(stats):
        if stats.round == 1:
            # the worker process dies (its nanny starts a new one): its trees are lost
            client.run(die_soon, workers=[workers[0]])
            killed.append(stats.round)

    try:
        Z = hd.linkage(da.from_array(X, chunks=(500, 3)), "single", client=client,
                       on_round=kill_after_first_round)
    finally:
        client.wait_for_workers(2, timeout=60)
    assert killed == [1]
    assert workers[0] not in client.scheduler_info()["workers"]  # a new process replaced it
    assert np.array_equal(Z, hclust.linkage(X, "single"))


def test_missing_extra_says_how_to_install():
    code = ("import sys\nsys.modules['distributed'] = None\n"
            "try:\n    import hclust.dask\n"
            "except ImportError as e:\n    print('refused:', e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert 'refused: hclust.dask needs Dask' in done.stdout and 'pip install "hclust[dask]"' in done.stdout, (
        done.stdout + done.stderr)
