"""Exact ward linkage on a Dask cluster: reciprocal-nearest-neighbour rounds whose searches run on the workers.

The in-process vector engine (:mod:`hclust._linkage_vector`) merges
clusters in rounds: each round recomputes the nearest neighbour (by Ward's
cost, on centroids and weights) of some stale clusters, then merges every
reciprocal pair at once. Here the client runs exactly that loop
(:class:`_WardRun`: which clusters a round searches, the candidate lists,
the merges) and the searches, nearly all of the work, run on the workers
over shards of the active clusters (:mod:`hclust._kernels.ward_shards`):

- the rows are split into one shard per worker, contiguous runs of the
  first kd-tree's order (compact regions of the space); a cluster stays in
  the shard of the row it started from, a merged cluster where the larger
  slot of its pair lived, so a worker holds its shard's centroids, weights
  and kd-tree: memory bounded by its share of the rows, whatever n;
- a round sends each shard the previous round's merges that touch it (the
  ended clusters' keys, the merged centroids: O(round) bytes) and the
  searches it may answer: its own clusters by key, others' with their
  centroid and weight, each with an upper bound of the K-th nearest cost
  from its old candidates, which skips the shards whose box, smallest
  weight and count rule them out and prunes inside the ones asked;
- each shard answers with its K nearest (keys, costs) per search; the
  client keeps the K nearest of the answers in the in-process engine's
  (cost, id) order and merges the round's reciprocal pairs.

The shards' answers are exact and their costs the in-process engine's
expression on the same values, so every search's result, the rounds, the
merges, their order and their heights are the in-process engine's: ``Z`` is
``hclust.linkage``'s bit for bit, ties included. The state between rounds is
the client's run; a worker's shard is a cache that the client can rebuild
from it (a lost worker costs a new copy of its shard, not the result). The
client holds the run (O(n d), like the in-process engine); no worker holds
more than its shard and a round's searches. Below ``CLIENT_BELOW`` active
clusters a round is not worth shipping: the client finishes alone.
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
#: the updates of their shards (the slowest worker's), the client's share
#: of the distributed rounds (candidates, answers, merges), the rounds
#: finished on the client, and the searches' work (summed over the workers);
#: ``shard_bytes``: the largest arrays a shard held (at its start).
LAST_RUN: dict[str, float] = {}


class _ShardMissing(RuntimeError):
    """A worker has no shard of the run at the round's state (new or restarted worker)."""


# ----------------------------------------------------------------------------- the run, step by step


class _WardRun:
    """``hclust._linkage_vector._ward_unique`` as a sequence of rounds one can split.

    ``todo()`` chooses a round's stale clusters, ``search(lo, hi)`` finds the
    nearest neighbours of ``todo[lo:hi]`` here, ``merge()`` merges the
    round's reciprocal pairs and moves to the next stage when one ends
    (``updates`` then holds the round's merges by key). The arrays, kernels
    and their order are those of ``_ward_unique``. ``key`` names a slot's
    cluster for the shards: the position, in the first stage's kd-tree
    order, of the row whose slot the cluster lives in (it never changes).
    """

    def __init__(self, X: FloatArray, w: FloatArray) -> None:
        from .._kernels import vector as _vector
        from .._linkage_vector import _CANDIDATES, _TREE_MAX_DIM

        n, d = X.shape
        self.n = n
        self.use_tree = d <= _TREE_MAX_DIM
        self.C = np.array(X, dtype=np.float64, order="C", copy=True)
        self.w = np.array(w, dtype=np.float64, copy=True)
        self.ids = np.arange(n, dtype=np.int64)
        self.key = np.empty(0, dtype=np.int64)  # set by the first stage
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
        self.updates: tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray] | None = None
        self._begin_stage()

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
        self.key = np.arange(m, dtype=np.int64) if self.key.shape[0] == 0 else self.key[perm]
        slot_of = np.empty(m + 1, dtype=np.int64)
        slot_of[perm] = np.arange(m)
        slot_of[m] = -1
        self.nn = slot_of[self.nn[perm]]
        self.cand = slot_of[self.cand[perm]]
        self.nn_cost = self.nn_cost[perm]
        self.stale = self.stale[perm]
        self.bound = self.bound[perm]
        # the slot of every live cluster's key (the shards answer with keys)
        self.slot_of_key = np.full(self.n, -1, dtype=np.int64)
        self.slot_of_key[self.key] = np.arange(m)
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
        self.key = self.key[keep]
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

    def search(self, lo: int, hi: int) -> None:
        """Nearest neighbours of todo[lo:hi], here (the in-process batch)."""
        from .._kernels import vector as _vector

        state = self.state
        part = state._replace(todo=state.todo[lo:hi], searched=state.searched[lo:hi])
        _vector.nearest_batch_serial(self.tree, part, hi - lo, self.use_tree)

    def merge(self) -> int:
        """Merge the round's reciprocal pairs (then the next stage, when this one ends); returns the pairs."""
        from .._kernels import vector as _vector
        from .._validation import no_progress

        pairs = int(_vector.ward_merge(self.tree, self.state, self.n_todo, self.every))
        if pairs == 0 and self.every:
            raise no_progress("ward")
        # the round's merges by key, for the shards: the ended clusters, and the
        # merged ones (in the larger slot of each pair) with their centroid, weight and id
        merged = self.state.merged[: 2 * pairs]
        ended, kept = merged[0::2], merged[1::2]
        self.updates = (self.key[ended], self.key[kept], self.C[kept], self.w[kept], self.ids[kept])
        self.all_stale = pairs == 0
        self.done = int(self.counts["merges"][0])
        self.version += 1
        if not (self.done < self.stage_end and self.counts["live"][0] > 1):
            self._end_stage()
            if not self.finished:
                self._begin_stage()
        return pairs

    def live_slots(self) -> IntArray:
        """The slots of the live clusters (this stage)."""
        return self.state.live[: self.counts["live"][0]]

    def merges(self) -> tuple[IntArray, IntArray, FloatArray]:
        """(a, b, h) as ``_ward_unique`` returns them: equal heights in round order, then by smaller id."""
        a, b, h = self.a, self.b, self.h
        order = np.lexsort((np.minimum(a, b), self.rnd, h))
        return a[order], b[order], h[order]


# ----------------------------------------------------------------------------- worker side


class _Shard:
    """A worker's shard of a run: the live clusters whose keys lie in [lo, hi), with a kd-tree over them."""

    def __init__(self, lo: int, hi: int, index: IntArray, C: FloatArray, w: FloatArray, ids: IntArray,
                 version: int, use_tree: bool) -> None:
        self.lo, self.hi = lo, hi
        self.version = version
        self.use_tree = use_tree
        self._build(index, C, w, ids)

    def _build(self, index: IntArray, C: FloatArray, w: FloatArray, ids: IntArray) -> None:
        """Slots for the given clusters (keys lo + index), tree order."""
        from .._kernels import kdtree as _kdtree
        from .._kernels import vector as _vector

        m = index.shape[0]
        d = C.shape[1]
        # one row more than the slots: where a search from another shard is put (see shard_knn)
        self.C = np.empty((m + 1, d))
        self.w = np.empty(m + 1)
        if m > 0:
            tree = _kdtree.build(np.ascontiguousarray(C, dtype=np.float64), _vector.LEAF_SIZE)
            perm = tree.perm
            self.C[:m] = tree.data
            self.node = (tree.node_lo, tree.node_hi, tree.node_left, tree.box_lo, tree.box_hi)
            self.node_parent, self.slot_leaf = _kdtree.node_parents(tree)
        else:
            perm = np.arange(0)
            empty = np.empty(0, dtype=np.int64)
            self.node = (empty, empty, empty, np.empty((0, d)), np.empty((0, d)))
            self.node_parent, self.slot_leaf = empty, empty
        self.w[:m] = w[perm]
        self.ids = np.ascontiguousarray(ids[perm], dtype=np.int64)
        self.key_of = np.ascontiguousarray(index[perm] + self.lo, dtype=np.int64)
        self.alive = np.ones(m, dtype=np.bool_)
        self.slot_of = np.full(self.hi - self.lo, -1, dtype=np.int64)
        self.slot_of[index[perm]] = np.arange(m)
        n_nodes = self.node[2].shape[0]
        self.node_wmin = np.empty(n_nodes)
        self.node_count = np.empty(n_nodes, dtype=np.int64)
        if m > 0:
            _kdtree.refit_all(tree, self.C, self.w, self.alive, self.node_wmin, self.node_count)
        self.n_live = m
        self.built = m

    @property
    def nbytes(self) -> int:
        arrays = (self.C, self.w, self.ids, self.key_of, self.alive, self.slot_of, self.node_parent,
                  self.slot_leaf, self.node_wmin, self.node_count, *self.node)
        return int(sum(a.nbytes for a in arrays))

    def apply(self, updates: tuple[Any, ...]) -> None:
        """One round's merges that touch this shard."""
        from .._kernels import ward_shards as _shards
        from .._linkage_vector import _REBUILD_MIN

        dead, kept, kept_C, kept_w, kept_ids = updates
        node_lo, node_hi, node_left, box_lo, box_hi = self.node
        _shards.shard_apply(self.C, self.w, self.alive, self.ids, node_lo, node_hi, node_left, self.node_parent,
                            self.slot_leaf, box_lo, box_hi, self.node_wmin, self.node_count, self.slot_of, self.lo,
                            dead, kept, kept_C, kept_w, kept_ids)
        self.n_live -= dead.shape[0]
        if self.built > _REBUILD_MIN and 2 * self.n_live <= self.built:
            # the boxes of a tree whose clusters have merged away grow loose: rebuild over the live ones
            live = np.flatnonzero(self.alive)
            self._build(self.key_of[live] - self.lo, self.C[live], self.w[live], self.ids[live])

    def box(self) -> tuple[FloatArray, FloatArray, float, int]:
        """(lo, hi, smallest weight, live count) over the live clusters (the refitted root)."""
        if self.n_live == 0:
            d = self.C.shape[1]
            return np.full(d, np.inf), np.full(d, -np.inf), np.inf, 0
        return self.node[3][0].copy(), self.node[4][0].copy(), float(self.node_wmin[0]), self.n_live

    def search(self, own: IntArray, own_upper: FloatArray, Q: FloatArray, wq: FloatArray, upper: FloatArray,
               cap: int) -> tuple[Any, ...]:
        """The K nearest of this shard for searches of its own clusters (keys ``own``) and others' (rows Q)."""
        from .._kernels import ward_shards as _shards

        slots = self.slot_of[own - self.lo]
        n_q = own.shape[0] + Q.shape[0]
        out_key = np.empty((n_q, cap), dtype=np.int64)
        out_cost = np.empty((n_q, cap))
        live = np.empty(0, dtype=np.int64) if self.use_tree else np.flatnonzero(self.alive)
        node_lo, node_hi, node_left, box_lo, box_hi = self.node
        _shards.shard_knn(self.C, self.w, self.alive, self.ids, self.key_of, node_lo, node_hi, node_left, box_lo,
                          box_hi, self.node_wmin, self.node_count, self.use_tree, live, live.shape[0], slots,
                          np.ascontiguousarray(Q, dtype=np.float64), np.ascontiguousarray(wq, dtype=np.float64),
                          np.concatenate([own_upper, upper]), out_key, out_cost)
        return out_key, out_cost


#: The shards of the runs on this worker process, by (run token, shard).
_SHARDS: dict[tuple[str, int], _Shard] = {}
_SHARDS_LOCK = threading.Lock()


def _shard_step(token: str, shard: int, version: int, payload: tuple[str, Any], own: IntArray,
                own_upper: FloatArray, Q: FloatArray, wq: FloatArray, upper: FloatArray, cap: int) -> tuple[Any, ...]:
    """Worker task: bring shard ``shard`` of a run to ``version`` (rounds merged), then answer its searches.

    ``payload`` is ("init", (lo, hi, index, C, w, ids, use_tree)): the
    shard's live clusters at ``version`` (a new run, or a copy after a
    loss); or ("updates", (first, [updates of rounds first+1 .. version])):
    the merges since the version the client last knew it at. The searches:
    this shard's clusters of keys ``own`` and others' centroids ``Q`` with
    weights ``wq``, each with the upper bound of its K-th nearest cost (a
    searched cluster's own id decides no tie: only the neighbours' ids do).
    Returns (keys, costs, box lo, box hi, smallest weight, live count,
    [update seconds, search seconds, the shard's bytes]).
    """
    started = time.perf_counter()
    with _SHARDS_LOCK:
        kind, data = payload
        if kind == "init":
            lo, hi, index, C, w, ids, use_tree = data
            state = _Shard(lo, hi, index, C, w, ids, version, use_tree)
            _SHARDS[(token, shard)] = state
        else:
            first, rounds = data
            state = _SHARDS.get((token, shard))  # type: ignore[assignment]
            if state is None or not first <= state.version <= version:
                raise _ShardMissing(f"no shard {shard} of ward run {token} at round {version} on this worker")
            for updates in rounds[state.version - first:]:
                state.apply(updates)
                state.version += 1
        if state.version != version:
            raise _ShardMissing(f"shard {shard} of ward run {token} is at round {state.version}, not {version}")
        updated = time.perf_counter()
        keys, costs = state.search(own, own_upper, Q, wq, upper, cap)
        box_lo, box_hi, wmin, count = state.box()
        return (keys, costs, box_lo, box_hi, np.array([wmin]), np.array([count]),
                np.array([updated - started, time.perf_counter() - updated, state.nbytes]))


async def _drop_shards(token: str) -> None:
    """Worker function: forget a run's shards (a coroutine: Client.run need not wait for it)."""
    for name in [name for name in list(_SHARDS) if name[0] == token]:
        _SHARDS.pop(name, None)  # atomic; the run's tasks have ended


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


def _as_float64(block: Any) -> FloatArray:
    """Worker task: a block as float64 rows."""
    return np.ascontiguousarray(block, dtype=np.float64)


class _ShardSet:
    """The client's view of a run's shards: key ranges, where each lives, what each was last known to hold.

    Shard s holds the clusters whose key lies in ``bounds[s]:bounds[s + 1]``.
    ``known[s]``: the round (version) the shard was at after the last round
    it answered, None when it must get a copy; ``log``: the merges of the
    rounds since the oldest known version; the boxes, smallest weights and
    live counts bound each shard's clusters (the shard's own at its last
    answer, widened by the merged centroids placed in it since).
    """

    def __init__(self, run: _WardRun, k: int) -> None:
        self.k = k
        self.bounds = np.array([s * run.n // k for s in range(k + 1)], dtype=np.int64)
        self.known: list[int | None] = [None] * k
        self.where: list[str | None] = [None] * k
        self.log: list[tuple[int, tuple[Any, ...]]] = []
        d = run.C.shape[1]
        self.box_lo = np.full((k, d), np.inf)
        self.box_hi = np.full((k, d), -np.inf)
        self.wmin = np.full(k, np.inf)
        self.count = np.zeros(k, dtype=np.int64)

    def lost(self) -> None:
        """After a failure: every shard gets a new copy."""
        self.known = [None] * self.k
        self.log.clear()

    def owner(self, keys: IntArray) -> IntArray:
        return np.searchsorted(self.bounds, keys, side="right") - 1

    def place(self, workers: list[str]) -> None:
        """Keep each shard where it is while its worker lives; give the others' shards to the workers in turn."""
        for s in range(self.k):
            if self.where[s] not in workers:
                self.where[s] = workers[s % len(workers)]
                self.known[s] = None

    def copies(self, run: _WardRun) -> dict[int, tuple[Any, ...]]:
        """The shards that need a copy, at the run's version, from the client's run; sets their boxes."""
        needed = [s for s in range(self.k) if self.known[s] is None]
        if not needed:
            return {}
        live = run.live_slots()
        owner = self.owner(run.key[live])
        by_shard = live[np.argsort(owner, kind="stable")]  # slot order within each shard
        starts = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=self.k))])
        out = {}
        for s in needed:
            mine = by_shard[starts[s] : starts[s + 1]]
            lo, hi = int(self.bounds[s]), int(self.bounds[s + 1])
            C = run.C[mine]
            w = run.w[mine]
            self.count[s] = mine.shape[0]
            if mine.shape[0]:
                self.box_lo[s], self.box_hi[s], self.wmin[s] = C.min(axis=0), C.max(axis=0), w.min()
            else:
                self.box_lo[s], self.box_hi[s], self.wmin[s] = np.inf, -np.inf, np.inf
            out[s] = (lo, hi, run.key[mine] - lo, C, w, run.ids[mine], run.use_tree)
        return out

    def updates_for(self, s: int, since: int) -> list[tuple[Any, ...]]:
        """Shard s's part of the merges of the rounds after ``since``."""
        lo, hi = self.bounds[s], self.bounds[s + 1]
        out = []
        for version, (dead, kept, kept_C, kept_w, kept_ids) in self.log:
            if version <= since:
                continue
            a = (dead >= lo) & (dead < hi)
            b = (kept >= lo) & (kept < hi)
            out.append((dead[a], kept[b], kept_C[b], kept_w[b], kept_ids[b]))
        return out

    def record(self, run: _WardRun) -> None:
        """Log the round just merged; widen the shards' boxes by the merged centroids placed in them."""
        assert run.updates is not None
        dead, kept, kept_C, kept_w, _ = run.updates
        self.log.append((run.version, run.updates))
        known = [v for v in self.known if v is not None]
        oldest = min(known) if len(known) == self.k else -1
        self.log = [entry for entry in self.log if entry[0] > oldest]
        # (a shard's count only falls: clusters never move between shards)
        into = self.owner(kept)
        np.minimum.at(self.box_lo, into, kept_C)
        np.maximum.at(self.box_hi, into, kept_C)
        np.minimum.at(self.wmin, into, kept_w)
        self.count -= np.bincount(self.owner(dead), minlength=self.k)


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
    shards: _ShardSet | None = None
    round_no = 0
    LAST_RUN.clear()
    LAST_RUN.update(worker_search_s=0.0, worker_update_s=0.0, client_merge_s=0.0, client_rounds_s=0.0,
                    worker_search_work_s=0.0, shard_bytes=0.0)
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
                if shards is None:
                    shards = _ShardSet(run, max(1, len(_workers(client))))
                for attempt in range(ROUND_RETRIES + 1):
                    try:
                        sent, returned, tasks = _remote_round(client, token, run, shards, n_todo)
                        break
                    except Exception as error:  # a lost worker or shard: the run is here, send copies
                        if attempt == ROUND_RETRIES or not (
                            isinstance(error, _ShardMissing) or is_cluster_failure(error)
                        ):
                            raise
                        shards.lost()
            merging = time.perf_counter()
            run.merge()
            if shards is not None and run.live >= CLIENT_BELOW:
                shards.record(run)  # the next round runs on the workers too
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
            client.run(_drop_shards, token, wait=False)
        except Exception:  # noqa: BLE001 - best effort: a lost worker took its shards with it
            pass
    return run.merges()


def _workers(client: Any) -> list[str]:
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        client.wait_for_workers(1, timeout=60)
        workers = sorted(client.scheduler_info()["workers"])
    return workers


def _remote_round(client: Any, token: str, run: _WardRun, shards: _ShardSet, n_todo: int) -> tuple[int, int, int]:
    """One round's searches on the shards, their answers written into the run: (bytes sent, bytes returned, tasks).

    A search whose candidate list gives no upper bound (the first round's,
    and a few near the end) first asks its own shard alone: that shard's
    K-th cost bounds it, so the other shards are then asked only where they
    may beat it, as for the others.
    """
    from .._kernels import ward_shards as _ws

    shards.place(_workers(client))
    state = run.state
    clock = time.perf_counter()
    upper = np.empty(n_todo)
    _ws.candidate_pass(state.C, state.w, state.alive, state.ids, state.into, state.cand, state.bound, state.nn,
                       state.nn_cost, state.todo, n_todo, state.searched, upper)
    picked = np.flatnonzero(state.searched[:n_todo])
    queries = np.ascontiguousarray(state.todo[picked])
    q_upper = upper[picked]
    owner = shards.owner(run.key[queries])
    copies = shards.copies(run)  # (sets their boxes)
    k = shards.k
    answered = np.zeros((queries.shape[0], k), dtype=np.bool_)
    rows: list[IntArray] = []
    answers: list[tuple[Any, ...]] = []
    totals = [0, 0, 0]  # bytes sent, bytes returned, tasks
    client_s = time.perf_counter() - clock

    def ask(mask: Any) -> None:
        """Ask each shard the searches of its column of mask; keep the answers, update the shards' state."""
        futures, asked = [], []
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            for s in range(k):
                own = np.flatnonzero(mask[:, s] & (owner == s))
                other = np.flatnonzero(mask[:, s] & (owner != s))
                if own.shape[0] + other.shape[0] == 0:
                    continue  # nothing to ask: its merges wait in the log
                since = shards.known[s]
                payload: tuple[str, Any] = (
                    ("init", copies[s]) if since is None else ("updates", (since, shards.updates_for(s, since)))
                )
                args = (run.key[queries[own]], q_upper[own], state.C[queries[other]], state.w[queries[other]],
                        q_upper[other])
                totals[0] += sum(a.nbytes for a in args) + _payload_bytes(payload)
                rows.append(np.concatenate([own, other]))
                asked.append(s)
                futures.append(client.submit(_shard_step, token, s, run.version, payload, *args,
                                             state.cand.shape[1], workers=[shards.where[s]],
                                             allow_other_workers=True, pure=False))
                del payload
        if not futures:
            return
        parts = client.gather(futures)
        del futures
        for s, p in zip(asked, parts):
            shards.known[s] = run.version
            shards.box_lo[s], shards.box_hi[s], shards.wmin[s], shards.count[s] = p[2], p[3], p[4][0], p[5][0]
            answers.append((p[0], p[1]))
        totals[1] += sum(x.nbytes for p in parts for x in p)
        totals[2] += len(parts)
        LAST_RUN["worker_update_s"] += max(float(p[6][0]) for p in parts)
        LAST_RUN["worker_search_s"] += max(float(p[6][1]) for p in parts)
        LAST_RUN["worker_search_work_s"] += sum(float(p[6][1]) for p in parts)
        LAST_RUN["shard_bytes"] = max(LAST_RUN["shard_bytes"], *(float(p[6][2]) for p in parts))

    unbounded = np.isinf(q_upper)
    if k > 1 and 2 * int(unbounded.sum()) > queries.shape[0]:
        first = np.zeros((queries.shape[0], k), dtype=np.bool_)
        first[np.flatnonzero(unbounded), owner[unbounded]] = True
        ask(first)
        answered |= first
        clock = time.perf_counter()
        # each of those searches' K-th cost in its own shard (inf when the shard has fewer than K others)
        for r, (keys, costs) in zip(rows, answers):
            q_upper[r] = np.minimum(q_upper[r], costs[:, -1])
        client_s += time.perf_counter() - clock
    clock = time.perf_counter()
    mask = np.empty((queries.shape[0], k), dtype=np.bool_)
    _ws.shard_mask(state.C, state.w, queries, q_upper, shards.box_lo, shards.box_hi, shards.wmin, shards.count,
                   mask)
    mask &= ~answered
    client_s += time.perf_counter() - clock
    ask(mask)
    del copies
    if answers:
        clock = time.perf_counter()
        _ws.combine(state.C, state.w, state.ids, state.cand, state.bound, state.nn, state.nn_cost, queries,
                    run.slot_of_key, np.concatenate(rows), np.concatenate([a[0] for a in answers]),
                    np.concatenate([a[1] for a in answers]))
        client_s += time.perf_counter() - clock
    LAST_RUN["client_merge_s"] += client_s
    return totals[0], totals[1], totals[2]


def _payload_bytes(payload: tuple[str, Any]) -> int:
    kind, data = payload
    if kind == "init":
        return int(sum(getattr(x, "nbytes", 8) for x in data))
    return int(sum(x.nbytes for updates in data[1] for x in updates))
