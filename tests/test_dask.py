"""hclust.dask on a real LocalCluster of two worker processes (loopback only).

The exact tier must give hclust.linkage's Z bit for bit, whatever the
partitioning; faults (a worker killed mid-run, a scheduler that does not
answer, NaN in one partition) must end in the same result or a clear error.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import hclust

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import hclust.dask as hd  # noqa: E402


def _wait_until_gone(client, address: str) -> None:
    """Until the scheduler has seen the worker at ``address`` die, then until 2 workers run again."""
    deadline = time.monotonic() + 60
    while address in client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.05)
    client.wait_for_workers(2, timeout=60)


def _blobs(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (5, d))
    return centres[rng.integers(0, 5, n)] + rng.normal(0, 1, (n, d))


def _same(X: np.ndarray, chunks, client, n_slabs=None) -> None:
    Z = hd.linkage(da.from_array(X, chunks=(chunks, X.shape[1])), "single", client=client, n_slabs=n_slabs)
    Zr = hclust.linkage(X, "single")
    assert Z.shape == Zr.shape
    assert np.array_equal(Z, Zr), np.flatnonzero((Z != Zr).any(axis=1))[:5]


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8, 16, 32])
def test_single_equals_in_process_on_blobs(client, d):
    _same(_blobs(1_200, d, seed=d), 300, client, n_slabs=1 + d % 4)


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
@pytest.mark.parametrize("n_slabs", [None, 1, 5])
def test_single_uneven_empty_and_one_partition(client, chunks, n_slabs):
    _same(_blobs(1_000, 4, seed=7), chunks, client, n_slabs)


def test_two_rows_in_two_partitions(client):
    _same(np.array([[0.0, 1.0], [3.0, 5.0]]), 1, client)


def test_dask_dataframe_input(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X = _blobs(700, 3, seed=3)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=4)
    assert np.array_equal(hd.linkage(frame, "single", client=client), hclust.linkage(X, "single"))
    bad = pd.DataFrame(X, columns=["a", "b", "c"])
    bad.loc[650, "c"] = np.nan
    with pytest.raises(ValueError, match=r"partition 3, row \d+ of the partition \(row 650 overall\), column 'c'"):
        hd.linkage(dd.from_pandas(bad, npartitions=4), "single", client=client)
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
    # only label changes and per-component bounds travel to the workers (16 bytes each), not rows
    assert all(0 < r.bytes_sent <= 48 * r.active_before and r.bytes_returned > 0 and r.tasks >= 4
               for r in rounds)
    assert steps[-1] == (799, 799) and len(steps) == len(rounds)
    # query rows are counted when they travel: whole rows (a point, index, label, bounds, position)
    assert all(r.bytes_points % (8 * (3 + 4)) == 0 for r in rounds)


def test_query_rows_count_as_moved_only_between_workers(client, monkeypatch):
    from hclust.dask import _exact

    here = client.submit(_exact._here, pure=False).result()
    assert here in client.scheduler_info()["workers"]
    assert _exact._here() is None  # the client is no worker
    queries = (np.zeros((2, 3)), np.arange(2), np.zeros(2, dtype=np.int64), np.zeros(2), np.ones(2),
               np.arange(2))
    edge = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    with monkeypatch.context() as patch:
        patch.setattr(_exact, "_query", lambda *args: (*edge, np.zeros(2), None, None))
        assert _exact._cross((queries, np.zeros(2), "tcp://elsewhere:1"), None, (None,))[6] is False  # not in a worker
    workers = sorted(client.scheduler_info()["workers"])
    for origin, moved in ((workers[0], False), (workers[1], True)):
        flag = client.submit(_moved_flag, origin, workers=[workers[0]], allow_other_workers=False, pure=False)
        assert flag.result() is moved


def _moved_flag(origin):
    """Worker task: _cross's moved flag for rows selected on ``origin`` (the search itself stubbed)."""
    from hclust.dask import _exact

    original = _exact._query
    _exact._query = lambda *args: (None, None, None, None, np.zeros(2), None, None)
    try:
        return _exact._cross(((None,) * 6, None, origin), None, (None,))[6]
    finally:
        _exact._query = original  # the worker serves the module's other tests


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_value_names_partition_and_row(client, bad):
    X = _blobs(400, 2, seed=2)
    X[100 + 37, 1] = bad  # partition 1 (rows 100..199), its row 37
    with pytest.raises(ValueError, match=r"partition 1, row 37 of the partition \(row 137 overall\), column 1\."):
        hd.linkage(da.from_array(X, chunks=(100, 2)), "single", client=client)


def test_bad_input(client):
    with pytest.raises(ValueError, match="X has 1 observation; at least 2"):
        hd.linkage(da.zeros((1, 2), chunks=(1, 2)), "single", client=client)
    with pytest.raises(TypeError, match="dask array or a dask DataFrame"):
        hd.linkage(np.zeros((5, 2)), "single", client=client)
    with pytest.raises(ValueError, match="2-D"):
        hd.linkage(da.zeros(5, chunks=2), "single", client=client)
    for method in ("average", "complete"):
        with pytest.raises(ValueError, match=f"{method}' is not available on Dask yet"):
            hd.linkage(da.zeros((5, 2), chunks=(2, 2)), method, client=client)
    with pytest.raises(ValueError, match="method"):
        hd.linkage(da.zeros((5, 2), chunks=(2, 2)), "nope", client=client)
    with pytest.raises(ValueError, match="overflow"):
        hd.linkage(da.from_array(np.array([[0.0], [1e300]]), chunks=(1, 1)), "single", client=client)
    with pytest.raises(ValueError, match="n_slabs must be"):
        hd.linkage(da.zeros((5, 2), chunks=(2, 2)), "single", client=client, n_slabs=0)
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
        _wait_until_gone(client, workers[0])
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


# ----------------------------------------------------------------------------- summary tier


def _shuffled_blobs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (n // 2, 3)), rng.normal(20, 1, (n - n // 2, 3))])
    return X[rng.permutation(n)]


def _check_summary(s, X: np.ndarray, client) -> None:
    """Statistics exact for the assignment; the tree is hclust.linkage's on them."""
    micro = client.compute(s.labels_).result()
    assert micro.shape == (X.shape[0],) and micro.min() >= 0 and micro.max() == s.n_micro - 1
    counts = np.bincount(micro, minlength=s.n_micro)
    assert np.array_equal(counts, s.counts)
    means = np.stack([np.bincount(micro, weights=X[:, f]) for f in range(X.shape[1])], axis=1) / counts[:, None]
    np.testing.assert_allclose(s.means, means, rtol=1e-12, atol=1e-12)
    ssd = np.bincount(micro, weights=((X - means[micro]) ** 2).sum(axis=1), minlength=s.n_micro)
    np.testing.assert_allclose(s.ssd, ssd, rtol=1e-9, atol=1e-9)
    total = ((X - X.mean(axis=0)) ** 2).sum()
    assert s.quality.within_share == pytest.approx(ssd.sum() / total, rel=1e-9)
    assert s.quality.n_micro == s.n_micro
    assert np.array_equal(s.Z, hclust.linkage(s.means, s.method, weights=s.counts))


def test_summary_of_one_partition_equals_in_process(client):
    X = _shuffled_blobs(3_000, seed=1)
    s = hd.summarize(da.from_array(X, chunks=(3_000, 3)), n_micro=150, client=client)
    ref = hclust.summarize(X, n_micro=150)
    assert isinstance(s, hclust.Summary)
    assert np.array_equal(s.Z, ref.Z) and np.array_equal(s.means, ref.means)
    assert np.array_equal(s.counts, ref.counts) and np.array_equal(s.ssd, ref.ssd)
    assert s.quality == ref.quality
    assert np.array_equal(client.compute(s.labels(4)).result(), ref.labels(4))


@pytest.mark.parametrize("chunks", [(500,) * 8, (0, 3_999, 0, 1), (7, 1_000, 2_993)])
def test_summary_labels_every_row(client, chunks):
    X = _shuffled_blobs(4_000, seed=2)
    s = hd.summarize(da.from_array(X, chunks=(chunks, 3)), n_micro=120, client=client)
    assert s.n_micro <= 120 and s.counts.sum() == 4_000
    _check_summary(s, X, client)
    labels = s.labels(2)
    assert labels.chunks == (chunks,)  # aligned with the input's partitions
    got = client.compute(labels).result()
    truth = (X[:, 0] > 10).astype(int)  # two far-apart blobs: every row in its blob's cluster
    assert abs(np.corrcoef(got, truth)[0, 1]) == pytest.approx(1.0)


def test_summary_bad_input(client):
    X = _shuffled_blobs(300, seed=3)
    X[250, 2] = np.nan
    with pytest.raises(ValueError, match=r"partition 2, row 50 of the partition \(row 250 overall\)"):
        hd.summarize(da.from_array(X, chunks=(100, 3)), n_micro=10, client=client)
    Y = da.from_array(_shuffled_blobs(300, seed=3), chunks=(100, 3))
    with pytest.raises(ValueError, match="n_micro"):
        hd.summarize(Y, n_micro=301, client=client)
    with pytest.raises(ValueError, match="method"):
        hd.summarize(Y, n_micro=10, method="median", client=client)
    with pytest.raises(ValueError, match="n_clusters must be between 1"):
        hd.summarize(Y, n_micro=10, client=client).labels(11)


def test_summary_survives_a_killed_worker(client):
    X = _shuffled_blobs(4_000, seed=4)
    Xd = da.from_array(X, chunks=(500, 3))
    ref = hd.summarize(Xd, n_micro=100, client=client)
    workers = sorted(client.scheduler_info()["workers"])

    def die_soon():  # defined here: pickled by value for the worker
        import os
        import threading

        threading.Timer(0.05, os._exit, (1,)).start()

    def kill_after_first_partition(done, total):
        if done == 1:
            client.run(die_soon, workers=[workers[0]])

    try:
        s = hd.summarize(Xd, n_micro=100, client=client, progress=kill_after_first_partition)
        assert np.array_equal(s.Z, ref.Z) and s.quality == ref.quality
        # the assignments lived on the workers: kill one again, the labels are recomputed
        _wait_until_gone(client, workers[0])
        workers = sorted(client.scheduler_info()["workers"])
        client.run(die_soon, workers=[workers[1]])
        _wait_until_gone(client, workers[1])
        labels = client.compute(s.labels(2)).result()
    finally:
        client.wait_for_workers(2, timeout=60)
    assert np.array_equal(labels, client.compute(ref.labels(2)).result())
    _check_summary(s, X, client)


@pytest.mark.parametrize("module", ["hclust.dask._exact", "hclust.dask._summary"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    failed, attempted = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failed == 0


# ----------------------------------------------------------------------------- fuzz and retries


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _partitioned_rows(draw):
    n = draw(st.integers(2, 60))
    d = draw(st.integers(1, 4))
    # a coarse grid: equal distances and equal rows are common
    values = draw(st.lists(st.integers(-3, 3), min_size=n * d, max_size=n * d))
    X = np.array(values, dtype=np.float64).reshape(n, d) * draw(st.sampled_from([1.0, 0.5, 1e-3]))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)))
    chunks = tuple(np.diff([0, *cuts, n]).tolist())
    return X, chunks, draw(st.sampled_from([None, 1, 2, 3, 7]))


# The client's background threads use the random module (connection back-off) while
# Hypothesis draws an example; Hypothesis takes that for a strategy using it.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@settings(max_examples=25)
@given(data=_partitioned_rows())
def test_single_equals_in_process_fuzzed(client, data):
    X, chunks, n_slabs = data
    _same(X, chunks, client, n_slabs)


def test_a_failed_round_is_run_again(client, monkeypatch):
    from distributed.comm.core import CommClosedError

    from hclust.dask import _exact

    real = _exact._round
    failures = []

    def flaky(*args, **kwargs):
        if len(failures) < 2:  # the first two tries of round 1 lose their connection
            failures.append(1)
            raise CommClosedError("worker lost (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(_exact, "_round", flaky)
    X = _blobs(500, 3, seed=5)
    _same(X, 100, client)
    assert len(failures) == 2

    def broken(*args, **kwargs):
        raise CommClosedError("worker lost (simulated)")

    monkeypatch.setattr(_exact, "_round", broken)
    with pytest.raises(CommClosedError):
        hd.linkage(da.from_array(X, chunks=(100, 3)), "single", client=client)

    def wrong(*args, **kwargs):
        raise ZeroDivisionError("a bug, not the cluster")

    monkeypatch.setattr(_exact, "_round", wrong)
    with pytest.raises(ZeroDivisionError):  # not retried
        hd.linkage(da.from_array(X, chunks=(100, 3)), "single", client=client)


# ----------------------------------------------------------------------------- Parquet output


def _customers(n: int, seed: int, npartitions: int):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X = _shuffled_blobs(n, seed)
    table = pd.DataFrame(X, columns=["a", "b", "c"])
    table.insert(0, "customer", [f"C{i:05d}" for i in range(n)])
    return table, dd.from_pandas(table, npartitions=npartitions, sort=False)


def test_to_parquet_labels_every_row_with_its_id(client, tmp_path):
    pd = pytest.importorskip("pandas")
    table, frame = _customers(3_000, seed=5, npartitions=4)
    s = hd.summarize(frame[["a", "b", "c"]], n_micro=80, client=client)
    out = s.to_parquet(tmp_path / "segments", 3, id_column=frame["customer"],
                       names={0: "zero", 1: "one", 2: "two"})
    assert out == tmp_path / "segments"
    files = sorted(os.listdir(out))
    assert files == ["_hclust_segments.json", *[f"part.{i}.parquet" for i in range(4)]]
    assert json.loads((out / "_hclust_segments.json").read_text())["rows"] == 3_000
    assert [p.name for p in tmp_path.iterdir()] == ["segments"]  # no temporary folder left
    got = pd.concat([pd.read_parquet(out / f"part.{i}.parquet") for i in range(4)], ignore_index=True)
    assert list(got.columns) == ["customer", "segment", "segment_name"]
    expected = client.compute(s.labels(3)).result()
    assert np.array_equal(got["segment"].to_numpy(), expected)  # every row, in the input's order
    assert got["customer"].tolist() == table["customer"].tolist()
    assert got["segment_name"].tolist() == [["zero", "one", "two"][k] for k in expected]
    # each file is its input partition
    sizes = [len(pd.read_parquet(out / f"part.{i}.parquet")) for i in range(4)]
    assert sizes == list(frame.map_partitions(len).compute(scheduler="sync"))


def test_to_parquet_id_column_of_the_input_and_no_ids(client, tmp_path):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X = _shuffled_blobs(1_000, seed=6)
    table = pd.DataFrame({"id": np.arange(1_000, 2_000), "a": X[:, 0], "b": X[:, 1]})
    frame = dd.from_pandas(table, npartitions=3)
    s = hd.summarize(frame, n_micro=30, client=client)  # the ID is a column of the input (and a feature)
    s.to_parquet(tmp_path / "with_id", 2, id_column="id")
    got = pd.read_parquet(tmp_path / "with_id")
    assert list(got.columns) == ["id", "segment"] and got["id"].tolist() == list(range(1_000, 2_000))
    assert np.array_equal(got["segment"].to_numpy(), client.compute(s.labels(2)).result())
    # a dask array as input: the segment column only, chunks of any size (an empty one included)
    a = hd.summarize(da.from_array(X, chunks=((400, 0, 600), 3)), n_micro=30, client=client)
    a.to_parquet(tmp_path / "plain", 2)
    got = pd.read_parquet(tmp_path / "plain")
    assert list(got.columns) == ["segment"] and len(got) == 1_000
    assert np.array_equal(got["segment"].to_numpy(), client.compute(a.labels(2)).result())
    # a previous output is replaced, atomically
    a.to_parquet(tmp_path / "plain", 3)
    assert np.array_equal(pd.read_parquet(tmp_path / "plain")["segment"].to_numpy(),
                          client.compute(a.labels(3)).result())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "with_id"]
    with pytest.raises(ValueError, match="not a dask DataFrame"):
        a.to_parquet(tmp_path / "x", 2, id_column="id")
    with pytest.raises(ValueError, match="no column 'nope'"):
        s.to_parquet(tmp_path / "x", 2, id_column="nope")
    other = dd.from_pandas(table, npartitions=2)["id"]  # the same rows, cut otherwise: the IDs' cuts
    s.to_parquet(tmp_path / "cuts", 2, id_column=other)
    assert sorted(os.listdir(tmp_path / "cuts")) == ["_hclust_segments.json", "part.0.parquet", "part.1.parquet"]
    got = pd.read_parquet(tmp_path / "cuts")
    assert got["id"].tolist() == list(range(1_000, 2_000))
    assert np.array_equal(got["segment"].to_numpy(), client.compute(s.labels(2)).result())
    shutil.rmtree(tmp_path / "cuts")
    with pytest.raises(ValueError, match="names has 3 names for 2 segments"):
        s.to_parquet(tmp_path / "x", 2, names=["a", "b", "c"])
    with pytest.raises(ValueError, match="n_clusters must be between 1"):
        s.to_parquet(tmp_path / "x", 31)
    assert not (tmp_path / "x").exists()


# dask's Parquet reader (2026.8) calls reset_index(inplace=True), which pandas 3.1 deprecates
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_to_parquet_refuses_to_overwrite(client, tmp_path):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    table, _ = _customers(600, seed=7, npartitions=2)
    source = tmp_path / "customers"
    source.mkdir()
    table.iloc[:300].to_parquet(source / "a.parquet")
    table.iloc[300:].to_parquet(source / "b.parquet")
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    frame = dd.read_parquet(str(source / "*.parquet"))
    s = hd.summarize(frame[["a", "b", "c"]], n_micro=20, client=client)
    for target in (source, tmp_path):  # the input's folder, a folder holding it
        with pytest.raises(ValueError, match="holds the input"):
            s.to_parquet(target, 2, id_column=frame["customer"])
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and was not written by hclust"):
        s.to_parquet(tmp_path / "notes", 2)
    (tmp_path / "file.parquet").write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        s.to_parquet(tmp_path / "file.parquet", 2)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    assert (tmp_path / "file.parquet").read_text() == "not a folder"
    (tmp_path / "empty").mkdir()
    s.to_parquet(tmp_path / "empty", 2, id_column=frame["customer"])
    got = pd.read_parquet(tmp_path / "empty")
    assert got["customer"].tolist() == table["customer"].tolist()
    # a previous output read as the input of the next one is not overwritten either
    again = dd.read_parquet(str(tmp_path / "empty"))
    t = hd.summarize(again[["segment"]].astype("float64"), n_micro=2, client=client)
    with pytest.raises(ValueError, match="holds the input"):
        t.to_parquet(tmp_path / "empty", 2)
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers", "empty", "file.parquet", "notes"]


def test_to_parquet_failure_leaves_nothing(client, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"id": np.arange(100), "a": np.arange(100.0)})
    frame = dd.from_pandas(table, npartitions=2)
    s = hd.summarize(frame[["a"]], n_micro=10, client=client)
    shifted = dd.from_pandas(table.iloc[:90], npartitions=2)["id"]
    with pytest.raises(ValueError, match=r"The ID column has 90 rows and the summarised input 100"):
        s.to_parquet(tmp_path / "out", 2, id_column=shifted)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- SegmentationModel


@pytest.fixture(scope="module")
def wholesale_model():
    from hclust.datasets import load_wholesale

    customers = load_wholesale()
    model = hclust.SegmentationModel(4, exclude=["Channel", "Region"], holdout=None).fit(customers)
    return customers, model


@pytest.mark.parametrize("rule", ["nearest", "linkage", "centroid"])
def test_model_assign_of_a_dask_dataframe(client, wholesale_model, rule):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    customers, model = wholesale_model
    rng = np.random.default_rng(3)
    new = customers.sample(300, random_state=1).copy()
    new["Fresh"] = new["Fresh"] * rng.uniform(0.8, 1.2, len(new))  # mostly unseen customers
    new.index = [f"n{i}" for i in range(len(new))]
    frame = dd.from_pandas(new, npartitions=4, sort=False)
    out = model.assign(frame, rule=rule, n_neighbors=7)
    assert isinstance(out, dd.DataFrame) and out.npartitions == 4
    assert list(out.columns) == ["segment", "segment_name", "distance", "confidence", "runner_up", "known"]
    got = client.compute(out).result()
    gathered = client.compute(frame).result()  # (dask stores the string index as pyarrow strings)
    expected = model.assign(gathered, rule=rule, n_neighbors=7)
    pd.testing.assert_frame_equal(got, expected)
    assert got.index.tolist() == new.index.tolist()
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  model.assign(new, rule=rule, n_neighbors=7).reset_index(drop=True))
    assert got.dtypes.to_dict() == out._meta.dtypes.to_dict()  # the meta is what the workers return
    assert not got["known"].all() and (got["segment"] >= 0).all()


def test_model_assign_of_a_dask_dataframe_refuses_bad_input(client, wholesale_model):
    dd = pytest.importorskip("dask.dataframe")
    customers, model = wholesale_model
    with pytest.raises(ValueError, match=r"lack the model's column\(s\) \['Milk'\]"):
        model.assign(dd.from_pandas(customers.drop(columns="Milk"), npartitions=2))
    with pytest.raises(ValueError, match="rule"):
        model.assign(dd.from_pandas(customers, npartitions=2), rule="nope")
    with pytest.raises(TypeError, match="pandas or dask DataFrame"):
        model.assign(dd.from_pandas(customers["Milk"], npartitions=2))
    empty = dd.from_pandas(customers.iloc[:0], npartitions=1)
    assert len(client.compute(model.assign(empty)).result()) == 0


# ----------------------------------------------------------------------------- CLI


@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_cli_segment_with_dask(client, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from hclust.cli import main

    table, _ = _customers(2_000, seed=8, npartitions=1)
    table["region"] = "north"  # text: left out of the features
    source = tmp_path / "customers"
    source.mkdir()
    for i in range(3):
        table.iloc[i * 700:(i + 1) * 700].to_parquet(source / f"part{i}.parquet", index=False)
    out = tmp_path / "segments"
    pattern = str(source / "*.parquet")
    assert main(["segment", pattern, "--dask", "local:1", "--k", "2", "--n-micro", "50", "--id", "customer",
                 "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "2000 customers, 3 features (a, b, c)" in said and f"Wrote {out}" in said
    got = pd.read_parquet(out)
    assert list(got.columns) == ["customer", "segment", "segment_name"]
    assert got["customer"].tolist() == table["customer"].tolist()
    # the same as the library: SegmentationModel.fit on the dask DataFrame (tests/test_dask_model.py)
    from hclust.segment.model import SegmentationModel

    frame = dd.read_parquet(pattern)
    model = SegmentationModel(2, columns=["a", "b", "c"], n_micro=50, n_boot=0).fit(frame, client=client)
    assert np.array_equal(got["segment"].to_numpy(), client.compute(model.row_labels_).result())
    truth = (table["a"].to_numpy() > 10).astype(int)  # two far-apart blobs
    assert abs(np.corrcoef(got["segment"], truth)[0, 1]) == pytest.approx(1.0)
    # refusals, before any work: the input's folder, an unsupported option, no k, a bad cluster spec
    for argv, message in [
        (["--out", str(source)], "holds the input"),
        (["--out", str(out), "--k", "2", "--weights", "a"], "--weights not available with --dask"),
        (["--out", str(tmp_path / "x"), "--k", "2", "--id", "nope"], "--id: no column(s) ['nope']"),
    ]:
        if "--k" not in argv and "holds" in message:
            argv = [*argv, "--k", "2"]
        assert main(["segment", pattern, "--dask", "local:1", *argv]) == 1
        assert message in capsys.readouterr().err
    assert main(["segment", pattern, "--dask", "remote", "--k", "2", "--out", str(tmp_path / "x")]) == 1
    assert "expected local, local:N or a scheduler address" in capsys.readouterr().err
    with socket.socket() as free:  # a loopback port that nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["segment", pattern, "--scheduler", f"tcp://127.0.0.1:{port}", "--k", "2",
                 "--out", str(tmp_path / "x")]) == 1
    assert f"No Dask scheduler answered at 'tcp://127.0.0.1:{port}'" in capsys.readouterr().err
    assert main(["segment", pattern, "--n-micro", "5", "--k", "2", "--out", str(tmp_path / "x.csv")]) == 1
    assert "--n-micro goes with --dask" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["customers", "segments"]
