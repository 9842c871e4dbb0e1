"""hclust.dask.linkage(X, "ward") on a real LocalCluster of two worker processes (loopback only).

The result must be hclust.linkage's Z bit for bit (merges and heights as
floats), ties, duplicates and weights included, whatever the partitioning;
a worker killed mid-run or a lost replica must end in the same Z.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import hclust

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import hclust.dask as hd  # noqa: E402
from hclust.dask import _exact, _ward  # noqa: E402


@pytest.fixture(autouse=True)
def ship_small_rounds(monkeypatch):
    """Distribute rounds down to 16 active clusters (default: the client finishes below 4,096)."""
    monkeypatch.setattr(_ward, "CLIENT_BELOW", 16)


def _blobs(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (5, d))
    return centres[rng.integers(0, 5, n)] + rng.normal(0, 1, (n, d))


def _ward_z(X: np.ndarray, chunks, client, **kwargs) -> np.ndarray:
    return hd.linkage(da.from_array(X, chunks=(chunks, X.shape[1])), "ward", client=client, **kwargs)


def _same(X: np.ndarray, chunks, client, weights=None) -> list:
    rounds: list = []
    Z = _ward_z(X, chunks, client, weights=weights, on_round=rounds.append)
    Zr = hclust.linkage(X, "ward", weights=weights)
    assert Z.shape == Zr.shape
    assert np.array_equal(Z, Zr), np.flatnonzero((Z != Zr).any(axis=1))[:5]
    return rounds


@pytest.mark.parametrize("d", [1, 2, 8, 32])
def test_ward_equals_in_process_on_blobs(client, d):
    rounds = _same(_blobs(2_500, d, seed=d), 600, client)
    assert sum(r.tasks >= 1 for r in rounds) >= 10  # most rounds asked the workers' shards


@pytest.mark.parametrize(
    "chunks",
    [
        (0, 5, 1_700, 0, 1, 794),  # very uneven, empty and one-row partitions
        (2_500,),  # one partition
        (1, 1, 2_498),
    ],
)
def test_ward_uneven_empty_and_one_partition(client, chunks):
    _same(_blobs(2_500, 4, seed=7), chunks, client)


@pytest.mark.parametrize("seed", range(3))
def test_ward_ties_and_duplicates(client, seed):
    rng = np.random.default_rng(seed)
    # a small integer grid: many equal costs, many equal rows (collapsed into weights first)
    X = rng.integers(0, 40 + 20 * seed, (3_000, 2 + seed % 2)).astype(np.float64)
    rounds = _same(X, 700, client)
    assert sum(r.tasks >= 1 for r in rounds) >= 5


def test_ward_all_rows_equal_and_small_inputs(client):
    _same(np.ones((2_100, 3)), 500, client)
    # fewer than 2,048 rows: hclust.linkage runs ward on the matrix, and so does the client
    _same(_blobs(300, 3, seed=1), 70, client)
    _same(np.array([[0.0, 1.0], [3.0, 5.0]]), 1, client)


def test_ward_weights(client):
    X = _blobs(2_400, 3, seed=4)
    w = np.random.default_rng(4).integers(1, 5, X.shape[0]).astype(np.float64)
    _same(X, 500, client, weights=w)
    # a dask array of weights, partitioned like X or not
    Z = _ward_z(X, 500, client, weights=da.from_array(w, chunks=700))
    assert np.array_equal(Z, hclust.linkage(X, "ward", weights=w))
    # integer weights: the tree of the repeated rows
    Xr = np.repeat(X[:1_200], w[:1_200].astype(int), axis=0)
    assert np.array_equal(_ward_z(X[:1_200], 300, client, weights=w[:1_200])[:, 2],
                          hclust.linkage(X[:1_200], "ward", weights=w[:1_200])[:, 2])
    assert Xr.shape[0] > 2_048
    with pytest.raises(ValueError, match=r"weights must have shape \(2400,\)"):
        _ward_z(X, 500, client, weights=w[:-1])
    with pytest.raises(ValueError, match="weights"):
        _ward_z(X, 500, client, weights=-w)
    with pytest.raises(ValueError, match="weights apply to method='ward'"):
        hd.linkage(da.from_array(X, chunks=(500, 3)), "single", client=client, weights=w)


def test_ward_dask_dataframe_input(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X = _blobs(2_200, 3, seed=3)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=4)
    assert np.array_equal(hd.linkage(frame, "ward", client=client), hclust.linkage(X, "ward"))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_ward_non_finite_value_names_partition_and_row(client, bad):
    X = _blobs(2_400, 2, seed=2)
    X[1_000 + 37, 1] = bad  # partition 2 (rows 1000..1499), its row 37
    with pytest.raises(ValueError, match=r"partition 2, row 37 of the partition \(row 1037 overall\), column 1\."):
        _ward_z(X, 500, client)


def test_ward_bad_input(client):
    with pytest.raises(ValueError, match="X has 1 observation; at least 2"):
        hd.linkage(da.zeros((1, 2), chunks=(1, 2)), "ward", client=client)
    with pytest.raises(ValueError, match="beyond float64's range"):  # hclust.linkage's refusal
        hd.linkage(da.from_array(np.array([[0.0], [1e300]] * 1_100), chunks=(500, 1)), "ward", client=client)


def test_ward_rounds_and_progress_are_reported(client):
    X = _blobs(3_000, 3, seed=1)
    rounds, steps = [], []
    _ward_z(X, 800, client, on_round=rounds.append, progress=lambda done, total: steps.append((done, total)))
    assert [r.round for r in rounds] == list(range(1, len(rounds) + 1))
    assert rounds[0].active_before == 3_000 and rounds[-1].active_after == 1
    assert all(r.active_after <= r.active_before for r in rounds)  # a round may find no pair: it marks stale
    shipped = [r for r in rounds if r.tasks]
    assert shipped and all(1 <= r.tasks <= 4 and r.bytes_sent > 0 and r.bytes_returned > 0 for r in shipped)
    # the first round sends each worker its shard (every row once, not a copy of the run each), asks each
    # search's own shard, then the other shard only for the searches near it
    assert shipped[0].round == 1 and shipped[0].tasks == 4
    assert 3_000 * 3 * 8 < shipped[0].bytes_sent < 3_000 * 3 * 8 * 2 + 3_000 * 48
    local = [r for r in rounds if not r.tasks]
    # only the last rounds run on the client, and rounds whose searches the candidate lists decided
    assert all(r.active_before < 16 or r.bytes_sent == r.bytes_returned == 0 for r in local)
    assert sum(r.active_before >= 16 for r in local) < len(shipped) / 4
    assert steps[-1] == (2_999, 2_999) and len(steps) == len(rounds)


def _wait_for_replacement(client, address: str) -> None:
    deadline = time.monotonic() + 60
    while address in client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.05)
    client.wait_for_workers(2, timeout=60)


def test_ward_worker_killed_mid_run_gives_the_same_result(client):
    X = _blobs(4_000, 3, seed=11)
    workers = sorted(client.scheduler_info()["workers"])
    assert len(workers) == 2
    killed = []

    def die_soon():  # defined here: pickled by value for the worker
        import os
        import threading

        threading.Timer(0.05, os._exit, (1,)).start()

    def kill_after_round_two(stats):
        if stats.round == 2:
            client.run(die_soon, workers=[workers[0]])  # its replica of the run dies with it
            killed.append(stats.round)

    try:
        Z = _ward_z(X, 1_000, client, on_round=kill_after_round_two)
    finally:
        _wait_for_replacement(client, workers[0])
    assert killed == [2]
    assert workers[0] not in client.scheduler_info()["workers"]
    assert np.array_equal(Z, hclust.linkage(X, "ward"))


def test_ward_lost_shards_are_sent_again(client, monkeypatch):
    X = _blobs(2_500, 2, seed=12)
    lost, copied = [], []
    real_copies = _ward._ShardSet.copies

    def copies(self, run):
        made = real_copies(self, run)
        copied.extend((run.version, s) for s in made)
        return made

    monkeypatch.setattr(_ward._ShardSet, "copies", copies)

    def clear():  # on a worker: its module's shards
        from hclust.dask import _ward

        _ward._SHARDS.clear()

    def forget(stats):
        if stats.round in (2, 5):
            client.run(clear)  # as if both workers had been replaced
            lost.append(stats.round)

    rounds = _same_with(X, client, forget)
    assert lost == [2, 5]
    # both shards were copied at the start and again, from the client's run, in the first round
    # after each loss that asked the workers (rounds 3 and 6 unless the candidates decided them)
    first_after = [min(r.round for r in rounds if r.round > after and r.tasks) for after in lost]
    assert sorted(copied) == [(0, 0), (0, 1)] + [(f - 1, s) for f in first_after for s in (0, 1)]
    for f in first_after:
        assert rounds[f - 1].bytes_sent > 8 * 2 * rounds[f - 1].active_before  # every live centroid once


def _same_with(X, client, on_round):
    rounds: list = []

    def both(stats):
        rounds.append(stats)
        on_round(stats)

    Z = _ward_z(X, 600, client, on_round=both)
    assert np.array_equal(Z, hclust.linkage(X, "ward"))
    return rounds


def test_ward_failed_round_is_run_again(client, monkeypatch):
    from distributed.comm.core import CommClosedError

    real = _ward._remote_round
    failures = []

    def flaky(*args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise CommClosedError("worker lost (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(_ward, "_remote_round", flaky)
    X = _blobs(2_200, 3, seed=5)
    _same(X, 500, client)
    assert len(failures) == 2

    def wrong(*args, **kwargs):
        raise ZeroDivisionError("a bug, not the cluster")

    monkeypatch.setattr(_ward, "_remote_round", wrong)
    with pytest.raises(ZeroDivisionError):  # not retried
        _ward_z(X, 500, client)
    # nothing is left on the workers (dropped without waiting)
    deadline = time.monotonic() + 30
    while any(client.run(_replicas_held).values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(client.run(_replicas_held).values())


def _replicas_held() -> int:
    """On a worker: the number of ward replicas it holds."""
    from hclust.dask import _ward

    return len(_ward._SHARDS)


# ----------------------------------------------------------------------------- fuzz: ties at small sizes


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _grid_rows(draw):
    n = draw(st.integers(3, 50))
    d = draw(st.integers(1, 3))
    # a coarse grid: equal costs everywhere (the rows are distinct, as after the collapse)
    values = draw(st.lists(st.integers(-3, 3), min_size=n * d, max_size=n * d))
    X = np.unique(np.array(values, dtype=np.float64).reshape(n, d), axis=0)
    w = np.array(draw(st.lists(st.sampled_from([1.0, 1.0, 2.0, 3.0]), min_size=X.shape[0], max_size=X.shape[0])))
    return X, w


@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@settings(max_examples=15, deadline=None)
@given(data=_grid_rows())
def test_ward_rounds_equal_the_in_process_rounds_on_ties(client, data):
    from hclust._linkage_vector import _ward_unique

    X, w = data
    if X.shape[0] < 2:
        return
    below, _ward.CLIENT_BELOW = _ward.CLIENT_BELOW, 2  # every round on the workers
    try:
        got = _ward._rounds(client, X, w, None, None, hd.RoundStats, _exact._is_cluster_failure)
    finally:
        _ward.CLIENT_BELOW = below
    want = _ward_unique(X, w, 1, None, None)
    for g, r in zip(got, want):
        assert np.array_equal(g, r)


# ----------------------------------------------------------------------------- the shard kernels, without a cluster


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shard_answers_combine_into_the_exact_k_nearest(seed):
    """Shards of a tied point set answer searches whose combination is the exact K nearest by (cost, id),
    with no bound, and with the K-th cost itself as the bound (equal costs must not be dropped)."""
    from hclust._kernels import ward_shards

    rng = np.random.default_rng(seed)
    n, d, K = 300, 2, 8
    C = np.unique(rng.integers(0, 6, (n, d)).astype(np.float64), axis=0)  # a grid: many equal costs
    n = C.shape[0]
    w = rng.choice([1.0, 2.0, 3.0], n)
    ids = rng.permutation(n).astype(np.int64)
    bounds = [0, n // 3, n // 3, n]  # the middle shard is empty
    shards = [_ward._Shard(lo, hi, np.arange(hi - lo), C[lo:hi], w[lo:hi], ids[lo:hi], 0, seed != 1)
              for lo, hi in zip(bounds[:-1], bounds[1:])]
    queries = np.arange(n, dtype=np.int64)
    costs = np.array([[w[x] * w[j] / (w[x] + w[j]) * ((C[x] - C[j]) ** 2).sum() for j in range(n)]
                      for x in range(n)])
    want = [sorted((costs[x, j], ids[j], j) for j in range(n) if j != x)[:K] for x in range(n)]
    for tight in (False, True):
        upper = np.array([want[x][-1][0] for x in range(n)]) if tight else np.full(n, np.inf)
        rows, keys, found = [], [], []
        for s, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            own = np.arange(lo, hi)
            other = np.setdiff1d(queries, own)
            k_, c_ = shards[s].search(own, upper[own], C[other], w[other], upper[other], K)
            rows.append(np.concatenate([own, other]))
            keys.append(k_)
            found.append(c_)
        cand = np.full((n, K), -1, dtype=np.int64)
        bound, nn, nn_cost = np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n)
        ward_shards.combine(C, w, ids, cand, bound, nn, nn_cost, queries, np.arange(n), np.concatenate(rows),
                            np.concatenate(keys), np.concatenate(found))
        for x in range(n):
            assert list(cand[x]) == [j for _, _, j in want[x]]
            assert nn[x] == want[x][0][2] and nn_cost[x] == want[x][0][0] and bound[x] == want[x][-1][0]


def test_shard_updates_and_rebuild():
    """Merges applied to a shard (ended clusters, moved centroids, heavier weights, new ids) leave it answering
    as a shard built from the merged state; past half its clusters it rebuilds its tree."""
    rng = np.random.default_rng(4)
    n, K = 2_000, 8
    C = rng.normal(size=(n, 3))
    w = np.ones(n)
    ids = np.arange(n, dtype=np.int64)
    shard = _ward._Shard(0, n, np.arange(n), C, w, ids, 0, True)
    alive = np.ones(n, dtype=bool)
    C2, w2, ids2 = C.copy(), w.copy(), ids.copy()
    for _ in range(3):  # three rounds of merges of random live pairs
        live = np.flatnonzero(alive)
        pairs = rng.permutation(live)[: 2 * (live.shape[0] // 3)].reshape(-1, 2)
        x, y = pairs[:, 0], pairs[:, 1]
        total = w2[x] + w2[y]
        C2[y] = (w2[x, None] * C2[x] + w2[y, None] * C2[y]) / total[:, None]
        w2[y] = total
        ids2[y] = np.maximum(ids2[x], ids2[y])
        alive[x] = False
        shard.apply((x, y, C2[y], w2[y], ids2[y]))
    assert shard.n_live == alive.sum() and shard.built < n  # rebuilt over the live ones once
    live = np.flatnonzero(alive)
    fresh = _ward._Shard(0, n, live, C2[live], w2[live], ids2[live], 0, True)
    Q = rng.normal(size=(50, 3))
    wq = rng.choice([1.0, 5.0], 50)
    for s in (shard, fresh):
        s.answer = s.search(np.empty(0, dtype=np.int64), np.empty(0), Q, wq, np.full(50, np.inf), K)
    assert np.array_equal(shard.answer[0], fresh.answer[0]) and np.array_equal(shard.answer[1], fresh.answer[1])
    lo, hi, wmin, count = shard.box()
    assert count == live.shape[0] and wmin == w2[live].min()
    assert np.array_equal(lo, C2[live].min(axis=0)) and np.array_equal(hi, C2[live].max(axis=0))
