"""Exact ward linkage on a Dask cluster: reciprocal-nearest-neighbour rounds whose searches run on the workers.

The in-process vector engine (:mod:`hclust._linkage_vector`) merges
clusters in rounds: each round recomputes the nearest neighbour (by Ward's
cost, on centroids and weights, in a kd-tree refitted as clusters merge) of
some stale clusters, then merges every reciprocal pair at once. Here the
client runs exactly that loop, step by step (:class:`_WardRun`), and each
round's nearest-neighbour searches, nearly all of its time, are split
between the workers:

- every worker keeps a replica of the run (the round's active centroids,
  weights, candidate lists and kd-tree): a copy of the client's, kept in step
  by replaying each round's results; the replica is a cache, the client's
  run is the state, so a lost worker costs a new copy, not the result;
- a round sends every worker the previous round's search results (about 100
  bytes per searched cluster) and a share of the round's stale clusters;
  each worker replays the merges, chooses the same stale clusters and
  searches its share; the client gathers the results, stores them and
  merges all reciprocal pairs, as the in-process engine does.

Every step is the in-process engine's own kernel on the same arrays in the
same order, so the merges, their order and the floating-point operations
(merged centroids, costs, heights) are the in-process engine's: ``Z`` is
``hclust.linkage``'s bit for bit, ties included. Replicating the active
clusters (not partitioning them) keeps every search exact and every round's
traffic proportional to its searches; the price is that every worker and the
client hold all active centroids: O(n d) memory each, like the in-process
engine. Below ``CLIENT_BELOW`` active clusters a round is not worth shipping:
the client finishes alone.
"""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from typing import Any, Callable

import numpy as np

from .._kernels import new_cursor
from .._typing import FloatArray, IntArray, ProgressCallback

#: Below this many active clusters the client runs the rounds itself (a
#: round's searches then take less than shipping them; the result is the same).
CLIENT_BELOW = 4_096

#: Times a distributed round is retried after a failure of the cluster.
ROUND_RETRIES = 3

#: Where the last run's time went, in seconds summed over the rounds (read by
#: benchmarks/bench_dask.py for its projection): the workers' searches and
#: their replays of the previous round (the slowest worker's), the client's
#: merges (distributed rounds), the rounds finished on the client, and the
#: searches' work (summed over the workers).
LAST_RUN: dict[str, float] = {}


class _ReplicaMissing(RuntimeError):
    """A worker has no replica of the run at the round's state (new or restarted worker)."""


# ----------------------------------------------------------------------------- the run, step by step


class _WardRun:
    """``hclust._linkage_vector._ward_unique`` as a sequence of rounds one can split and replay.

    ``todo()`` chooses a round's stale clusters, ``search(lo, hi)`` finds the
    nearest neighbours of ``todo[lo:hi]`` (returning what it found),
    ``store(results)`` writes results found elsewhere, ``merge()`` merges the
    round's reciprocal pairs and moves to the next stage when one ends. The
    arrays, kernels and their order are those of ``_ward_unique``; a copy of
    a run (pickled) continues exactly as the original.
    """

    def __init__(self, X: FloatArray, w: FloatArray) -> None:
        from .._kernels import vector as _vector
        from .._linkage_vector import _CANDIDATES, _TREE_MAX_DIM

        n, d = X.shape
        self.n = n
        # what the run started from (the client sends it to start a replica); the arrays
        # below are copies, so these stay as they were
        self.X0 = X
        self.w0 = w
        self.use_tree = d <= _TREE_MAX_DIM
        self.C = np.array(X, dtype=np.float64, order="C", copy=True)
        self.w = np.array(w, dtype=np.float64, copy=True)
        self.ids = np.arange(n, dtype=np.int64)
        self.a = np.empty(n - 1, dtype=np.int64)
        self.b = np.empty(n - 1, dtype=np.int64)
        self.h = np.empty(n - 1)
        self.rnd = np.empty(n - 1, dtype=np.int64)
        self.counts = new_cursor(_vector.WARD_COUNTS)
        self.nn = np.full(n, -1, dtype=np.int64)
        self.nn_cost = np.zeros(n)
        self.stale = np.ones(n, dtype=np.bool_)
        self.cand = np.full((n, _CANDIDATES), -1, dtype=np.int64)
        self.bound = np.zeros(n)
        self.done = 0
        self.version = 0  # rounds merged
        self.todo_version = -1  # the version todo() last ran at
        self.n_todo = 0
        self.every = True
        self._begin_stage()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["X0"] = state["w0"] = None  # a snapshot continues a run; it never starts one
        return state

    @property
    def finished(self) -> bool:
        return self.done >= self.n - 1

    @property
    def live(self) -> int:
        return int(self.counts["live"][0]) if not self.finished else 1

    def _begin_stage(self) -> None:
        from .._kernels import kdtree as _kdtree
        from .._kernels import vector as _vector
        from .._linkage_vector import _REBUILD_MIN

        m = self.C.shape[0]
        tree = _kdtree.build(self.C, _vector.LEAF_SIZE)
        perm = tree.perm
        self.C = tree.data
        self.w = self.w[perm]
        self.ids = self.ids[perm]
        slot_of = np.empty(m + 1, dtype=np.int64)
        slot_of[perm] = np.arange(m)
        slot_of[m] = -1
        self.nn = slot_of[self.nn[perm]]
        self.cand = slot_of[self.cand[perm]]
        self.nn_cost = self.nn_cost[perm]
        self.stale = self.stale[perm]
        self.bound = self.bound[perm]
        node_parent, slot_leaf = _kdtree.node_parents(tree)
        self.tree = tree
        self.state = _vector.new_state(self.C, self.w, self.ids, self.nn, self.nn_cost, self.stale, self.cand,
                                       self.bound, tree, node_parent, slot_leaf, self.a, self.b, self.h, self.rnd,
                                       self.counts)
        _kdtree.refit_all(tree, self.C, self.w, self.state.alive, self.state.node_wmin, self.state.node_count)
        self.counts["live"] = m
        self.stage_end = self.n - 1 if m <= _REBUILD_MIN else self.done + m // 2
        self.all_stale = True

    def _end_stage(self) -> None:
        from .._kernels import vector as _vector

        state = self.state
        m = self.C.shape[0]
        keep = np.sort(state.live[: self.counts["live"][0]])
        kept_of = np.full(m + 1, -1, dtype=np.int64)
        kept_of[keep] = np.arange(keep.shape[0])
        self.nn = kept_of[_vector.follow_slots(self.nn[keep], state.into, state.alive)]
        self.cand = kept_of[_vector.follow_slots(self.cand[keep], state.into, state.alive)]
        self.C = self.C[keep]
        self.w = self.w[keep]
        self.ids = self.ids[keep]
        self.nn_cost = self.nn_cost[keep]
        self.stale = self.stale[keep]
        self.bound = self.bound[keep]
        del self.tree, self.state

    def todo(self) -> int:
        """Choose the round's stale clusters (``state.todo[:n_todo]``); returns n_todo."""
        from .._kernels import vector as _vector
        from .._linkage_vector import _QUANTILE

        if self.todo_version != self.version:
            self.every = self.all_stale or _QUANTILE >= 1.0
            self.n_todo = int(_vector.ward_todo(self.state, _QUANTILE, self.every))
            self.todo_version = self.version
        return self.n_todo

    def search(self, lo: int, hi: int) -> tuple[Any, ...]:
        """Nearest neighbours of todo[lo:hi]: (nn, nn_cost, cand rows, bound, searched), in todo order."""
        from .._kernels import vector as _vector

        state = self.state
        todo = state.todo[lo:hi]
        part = state._replace(todo=todo, searched=state.searched[lo:hi])
        _vector.nearest_batch_serial(self.tree, part, hi - lo, self.use_tree)
        return (self.nn[todo], self.nn_cost[todo], self.cand[todo], self.bound[todo],
                state.searched[lo:hi].copy())

    def store(self, results: tuple[Any, ...]) -> None:
        """Write the round's search results (for all of todo[:n_todo], in todo order)."""
        nn, nn_cost, cand, bound, searched = results
        todo = self.state.todo[: self.n_todo]
        self.nn[todo] = nn
        self.nn_cost[todo] = nn_cost
        self.cand[todo] = cand
        self.bound[todo] = bound
        self.state.searched[: self.n_todo] = searched

    def merge(self) -> int:
        """Merge the round's reciprocal pairs (then the next stage, when this one ends); returns the pairs."""
        from .._kernels import vector as _vector
        from .._validation import no_progress

        pairs = int(_vector.ward_merge(self.tree, self.state, self.n_todo, self.every))
        if pairs == 0 and self.every:
            raise no_progress("ward")
        self.all_stale = pairs == 0
        self.done = int(self.counts["merges"][0])
        self.version += 1
        if not (self.done < self.stage_end and self.counts["live"][0] > 1):
            self._end_stage()
            if not self.finished:
                self._begin_stage()
        return pairs

    def merges(self) -> tuple[IntArray, IntArray, FloatArray]:
        """(a, b, h) as ``_ward_unique`` returns them: equal heights in round order, then by smaller id."""
        a, b, h = self.a, self.b, self.h
        order = np.lexsort((np.minimum(a, b), self.rnd, h))
        return a[order], b[order], h[order]


# ----------------------------------------------------------------------------- worker side

#: The replicas of the runs on this worker process, by run token.
_REPLICAS: dict[str, _WardRun] = {}
_REPLICAS_LOCK = threading.Lock()


def _ward_step(token: str, version: int, payload: tuple[str, Any], lo: int, hi: int, n_todo: int) -> tuple[Any, ...]:
    """Worker task: bring the replica to ``version`` (rounds merged), then search todo[lo:hi].

    ``payload`` is ("init", (X, w)): the rows and weights of a new run
    (``version`` 0); ("snapshot", pickled run): the client's run at ``version``; or
    ("results", results): the search results of round ``version`` (the
    replica is then at ``version - 1``, or already at ``version`` when it
    ran another share of this round).
    """
    started = time.perf_counter()
    with _REPLICAS_LOCK:
        kind, data = payload
        if kind == "init":
            run = _WardRun(*data)
            _REPLICAS[token] = run
        elif kind == "snapshot":
            import pickle

            run = pickle.loads(data)
            _REPLICAS[token] = run
        else:
            run = _REPLICAS.get(token)  # type: ignore[assignment]
            if run is None or run.version not in (version - 1, version):
                raise _ReplicaMissing(f"no replica of ward run {token} at round {version} on this worker")
            if run.version == version - 1:
                run.todo()
                run.store(data)
                run.merge()
        if run.version != version:
            raise _ReplicaMissing(f"the replica of ward run {token} is at round {run.version}, not {version}")
        if run.todo() != n_todo:  # cannot happen: the same kernels on the same arrays
            raise RuntimeError(f"ward replica out of step: {run.n_todo} stale clusters, the client has {n_todo}")
        replayed = time.perf_counter()
        results = run.search(lo, hi)
        return (*results, np.array([replayed - started, time.perf_counter() - replayed]))


async def _drop_replica(token: str) -> None:
    """Worker function: forget a run's replica (a coroutine: Client.run need not wait for it)."""
    _REPLICAS.pop(token, None)  # atomic; the run's tasks have ended


# ----------------------------------------------------------------------------- client side


def ward_linkage(
    array: Any,
    columns: list[Any] | None,
    client: Any,
    weights: Any,
    progress: ProgressCallback | None,
    on_round: Callable[[Any], None] | None,
    round_stats: Callable[..., Any],
    is_cluster_failure: Callable[[BaseException], bool],
) -> FloatArray:
    """Z of ``hclust.linkage(X, "ward", weights=weights)`` for X the rows of ``array`` (see hclust.dask.linkage).

    ``round_stats`` builds what ``on_round`` gets (``RoundStats``) and
    ``is_cluster_failure`` tells the errors a round is retried after: both
    come from the caller, ``_exact``, which imports this module.
    """
    from dask.delayed import delayed

    from .._inputs import check_observation_scale
    from .._kernels.unionfind import merges_to_linkage
    from .._linkage import _check_vector_memory, _choose_engine
    from .._linkage_vector import collapse_duplicates
    from .._validation import check_weights
    from ._common import block_offsets, check_block, raise_on_bad_blocks

    chunks = tuple(int(c) for c in array.chunks[0])
    n = sum(chunks)
    if n < 2:
        raise ValueError(f"X has {n} observation{'s' if n != 1 else ''}; at least 2 are needed.")
    offsets = block_offsets(chunks)
    persisted = client.persist(array)
    blocks = persisted.to_delayed().ravel().tolist()
    # every block is checked before any clustering work
    infos = client.gather(client.compute([delayed(check_block)(b) for b in blocks]))
    raise_on_bad_blocks(infos, offsets, columns)
    if weights is not None:
        if hasattr(weights, "dask") and hasattr(weights, "compute"):
            weights = client.compute(weights).result()
        weights = check_weights(weights, n)
    pieces = client.gather(client.compute([delayed(_as_float64)(b) for b in blocks]))
    del persisted, blocks
    X = np.ascontiguousarray(np.concatenate(pieces, axis=0))
    del pieces
    engine = _choose_engine("auto", "ward", "euclidean", "vectors", X.shape)
    check_observation_scale(X, columns, "ward", "euclidean", engine, weights)
    if engine == "matrix":
        # hclust.linkage itself runs ward on the distance matrix here (few rows, or
        # many features): its Z is the one to equal, so the client computes it
        from .._linkage import linkage

        return linkage(X, "ward", weights=weights, progress=progress)
    _check_vector_memory(engine, "ward", "euclidean", X.shape)

    def rounds(Xu: FloatArray, wu: FloatArray, report: ProgressCallback | None) -> tuple[Any, ...]:
        return _rounds(client, Xu, wu, report, on_round, round_stats, is_cluster_failure)

    a, b, h = collapse_duplicates(X, weights, progress, rounds)
    return merges_to_linkage(a, b, h, np.ones(n))


def _identity(x: Any) -> Any:
    """Worker task holding a round's data (it lives in the task: recomputable)."""
    return x


def _as_float64(block: Any) -> FloatArray:
    """Worker task: a block as float64 rows."""
    return np.ascontiguousarray(block, dtype=np.float64)


def _rounds(
    client: Any,
    X: FloatArray,
    w: FloatArray,
    progress: ProgressCallback | None,
    on_round: Callable[[Any], None] | None,
    round_stats: Callable[..., Any],
    is_cluster_failure: Callable[[BaseException], bool],
) -> tuple[IntArray, IntArray, FloatArray]:
    """Ward merges of distinct rows X with weights w, as ``_ward_unique`` returns them."""

    n = X.shape[0]
    run = _WardRun(X, w)
    token = f"hclust-ward-{uuid.uuid4().hex}"
    pending: tuple[Any, ...] | None = None  # the last distributed round's results, not yet on the workers
    round_no = 0
    LAST_RUN.clear()
    LAST_RUN.update(worker_search_s=0.0, worker_replay_s=0.0, client_merge_s=0.0, client_rounds_s=0.0,
                    worker_search_work_s=0.0)
    try:
        while not run.finished:
            round_no += 1
            start = time.perf_counter()
            before = run.live
            n_todo = run.todo()
            sent = returned = tasks = 0
            if before < CLIENT_BELOW:
                run.search(0, n_todo)
            else:
                for attempt in range(ROUND_RETRIES + 1):
                    try:
                        results, sent, returned, tasks = _remote_round(client, token, run, pending, n_todo)
                        break
                    except Exception as error:  # a lost worker or replica: the run is here, send it again
                        if attempt == ROUND_RETRIES or not (
                            isinstance(error, _ReplicaMissing) or is_cluster_failure(error)
                        ):
                            raise
                        pending = None  # every worker gets a copy of the run
                run.store(results)
                pending = results
            merging = time.perf_counter()
            run.merge()
            if tasks:
                LAST_RUN["client_merge_s"] += time.perf_counter() - merging
            else:
                LAST_RUN["client_rounds_s"] += time.perf_counter() - start
            if on_round is not None:
                on_round(round_stats(round_no, time.perf_counter() - start, sent, returned, 0, tasks, before,
                                    run.live))
            if progress is not None:
                progress(run.done, n - 1)
    finally:
        try:  # not waited for: a worker that is dying must not hold the result back
            client.run(_drop_replica, token, wait=False)
        except Exception:  # noqa: BLE001 - best effort: a lost worker took its replica with it
            pass
    return run.merges()


def _remote_round(
    client: Any, token: str, run: _WardRun, pending: tuple[Any, ...] | None, n_todo: int
) -> tuple[tuple[Any, ...], int, int, int]:
    """One round's searches on the workers: (results in todo order, bytes sent, bytes returned, tasks)."""
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        client.wait_for_workers(1, timeout=60)
        workers = sorted(client.scheduler_info()["workers"])
    k = len(workers)
    # What the workers need travels in a task (through the scheduler, then from worker to
    # worker), not scattered: a task's data is recomputed when its worker dies, where a
    # scatter to a dying worker can wait forever.
    if pending is None and run.version == 0:
        # the first round: the rows and weights (a worker builds the same run from them)
        payload: tuple[str, Any] = ("init", (run.X0, run.w0))
        sent = k * (run.X0.nbytes + run.w0.nbytes)
    elif pending is None:
        # a copy of the client's run (after a failure), pickled here: a worker in this
        # process (threads) must not share the client's arrays
        import pickle

        blob = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
        payload = ("snapshot", blob)
        sent = k * len(blob)
        del blob
    else:
        payload = ("results", pending)
        sent = k * sum(x.nbytes for x in pending)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        data = client.submit(_identity, payload, pure=False)
    del payload
    futures = []
    for i, address in enumerate(workers):
        lo, hi = i * n_todo // k, (i + 1) * n_todo // k
        futures.append(client.submit(_ward_step, token, run.version, data, lo, hi, n_todo,
                                     workers=[address], allow_other_workers=True, pure=False))
    parts = client.gather(futures)
    del futures, data
    results = tuple(np.concatenate([p[f] for p in parts]) for f in range(5))
    returned = sum(x.nbytes for p in parts for x in p)
    LAST_RUN["worker_replay_s"] += max(float(p[5][0]) for p in parts)
    LAST_RUN["worker_search_s"] += max(float(p[5][1]) for p in parts)
    LAST_RUN["worker_search_work_s"] += sum(float(p[5][1]) for p in parts)
    return results, sent, returned, k
