"""Exact single linkage on a Dask cluster: Borůvka rounds over kd-trees of slabs of the rows.

The rows are first regrouped into slabs of the widest feature (one per
worker by default; cut at sampled quantiles: about equal row counts), so
that a row has neighbours in another slab only near the slab's border; each
slab lives on a worker with a kd-tree of it (tasks of the input's graph, so
a lost worker's trees are recomputed), every row keeping its observation
index. The client holds the state between rounds: for every row its
component label, a lower bound on its squared distance to other components
(the foreign set only shrinks, so a bound found in one round holds in the
next) and a point once found in another component (while it still is, a
real edge: an upper bound for the row's component). A round sends that
state (24 bytes a row) and asks, in two waves of tasks, for every
component's lightest edge to another component:

1. each slab against itself, pruned by the known upper bounds, which
   lowers them for every component with another component nearby;
2. each slab's rows that may still improve their component's edge (lower
   bound and distance to the other slab's box not above that edge) against
   the other slabs' trees; a pair of slabs whose boxes are farther apart
   than all bounds of the querying rows is skipped.

Only the state, candidate edges (component, squared length, two observation
indices), per-row bounds and those query rows travel. The client keeps each
component's lightest candidate under the in-process engine's strict order
(squared length, smaller index, larger index) and joins them all (Borůvka):
the tree is the unique minimum spanning tree under that order, hence
hclust.linkage's tree, and Z comes from the same edge -> Z conversion.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from .._kernels import partitioned as _part
from .._typing import FloatArray, IntArray, ProgressCallback
from ._common import (
    CONNECT_TIMEOUT,
    block_offsets,
    check_block,
    check_scale,
    raise_on_bad_blocks,
    resolve_client,
    as_row_blocks,
)

#: Times a round is retried after a failure of the cluster (lost workers, lost data).
ROUND_RETRIES = 3

#: Largest slab of rows (bytes of float64 features) by default: more slabs above.
SLAB_BYTES = 256 * 2**20


@dataclass(frozen=True)
class RoundStats:
    """What one distributed round cost.

    Attributes
    ----------
    round : int
        Round number, from 1.
    seconds : float
        Wall time of the round on the client (both waves, merge included).
    bytes_sent : int
        Labels and bounds sent to the workers.
    bytes_returned : int
        Candidate edges returned to the client.
    bytes_points : int
        Estimated bytes of query rows sent to other workers (the rows of a
        partition that may still improve their component's edge, to each
        worker holding a partition they are searched against).
    tasks : int
        Tasks run (both waves).
    active_before, active_after : int
        Components (clusters) before and after the round.
    """

    round: int
    seconds: float
    bytes_sent: int
    bytes_returned: int
    bytes_points: int
    tasks: int
    active_before: int
    active_after: int


def linkage(
    X: Any,
    method: str = "single",
    *,
    client: Any = None,
    progress: ProgressCallback | None = None,
    on_round: Callable[[RoundStats], None] | None = None,
    n_slabs: int | None = None,
    timeout: float = CONNECT_TIMEOUT,
) -> FloatArray:
    """The linkage matrix of :func:`hclust.linkage`, computed on a Dask cluster.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame, shape (n, d)
        Numeric observations, rows partitioned across the workers (any
        partition sizes, empty ones included). Euclidean geometry.
    method : {"single"}
        Linkage method. Single linkage is computed exactly (distributed
        Borůvka); other methods are not available on Dask yet.
    client : distributed.Client or str, optional
        The cluster: a Client, or a scheduler address (``"tcp://host:8786"``,
        connected for this call and closed after). Default: the current
        default Client.
    progress : callable, optional
        ``progress(done, total)`` after every round: tree edges found out of
        ``n - 1``.
    on_round : callable, optional
        ``on_round(stats)`` after every round, with a :class:`RoundStats`
        (time, bytes moved, active clusters).
    n_slabs : int, optional
        Number of slabs of space the rows are regrouped into (each with its
        kd-tree on a worker; a round runs about ``n_slabs`` to ``n_slabs**2``
        tasks). Default: one per worker, more where a slab would exceed
        256 MiB of rows.
    timeout : float, default=10
        Seconds to wait for a scheduler given by its address.

    Returns
    -------
    Z : ndarray of shape (n - 1, 4)
        Equal, bit for bit, to ``hclust.linkage(X.compute(), method)``,
        ties included.

    Raises
    ------
    ValueError
        NaN or infinite values (naming the partition and row, before any
        clustering work), fewer than 2 rows, values whose squared distances
        overflow, an unknown or unsupported method, no cluster.
    TypeError
        ``X`` not a dask collection, non-numeric columns.
    ConnectionError
        No scheduler answered at the given address within ``timeout``.

    Notes
    -----
    Borůvka's algorithm: every round, each component is joined to its
    nearest other component, so about log2(n) rounds. The rows are first
    regrouped into ``n_slabs`` slabs of space (one shuffle of the rows);
    each slab's kd-tree stays on its worker, and
    a row is searched in another slab only when that slab's box is within
    its component's best edge so far. The state between
    rounds (labels, edges found) lives on the client; the workers keep their
    partitions' kd-trees, tasks of the input's graph that Dask recomputes
    when a worker is lost, and a round that fails is run again (up to
    ``ROUND_RETRIES`` times). A round's memory on a worker is its
    partitions, their trees and the query partition of the running task.

    Ties: edges are ordered by squared length, then the smaller observation
    index, then the larger one, as in :func:`hclust.linkage`; the minimum
    spanning tree is unique under this order, whatever the partitioning.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> import hclust, hclust.dask
    >>> X = np.random.default_rng(0).normal(size=(500, 3))
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=None,
    ...                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \\
    ...         Client(cluster) as client:
    ...     Z = hclust.dask.linkage(da.from_array(X, chunks=(120, 3)), "single", client=client)
    >>> bool((Z == hclust.linkage(X, "single")).all())
    True
    """
    from .._methods import METHODS
    from .._validation import check_option

    method = check_option(method, "method", METHODS)
    if method != "single":
        raise ValueError(
            f"hclust.dask.linkage computes method='single' exactly; {method!r} is not available on "
            "Dask yet. For ward on data of any size use hclust.dask.summarize(X, n_micro=...)."
        )
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")
    if on_round is not None and not callable(on_round):
        raise TypeError("on_round must be a callable on_round(stats) or None.")
    if n_slabs is not None and (isinstance(n_slabs, bool) or not isinstance(n_slabs, (int, np.integer))
                                or n_slabs < 1):
        raise ValueError(f"n_slabs must be a positive integer or None; got {n_slabs!r}.")
    array, columns = as_row_blocks(X)
    client, owned = resolve_client(client, timeout)
    try:
        return _single(client, array, columns, progress, on_round, n_slabs)
    finally:
        if owned:
            client.close()


def _single(
    client: Any,
    array: Any,
    columns: list[Any] | None,
    progress: ProgressCallback | None,
    on_round: Callable[[RoundStats], None] | None,
    n_slabs: int | None,
) -> FloatArray:
    from dask.delayed import delayed

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
    check_scale(infos, columns)
    parts = [p for p in range(len(chunks)) if chunks[p] > 0]
    if n_slabs is None:
        workers = max(1, len(client.scheduler_info().get("workers", ())))
        n_slabs = max(workers, -(-n * array.shape[1] * 8 // SLAB_BYTES))
    n_slabs = min(int(n_slabs), n)
    if n_slabs == 1 and len(parts) == 1:
        p = parts[0]
        cells = [client.compute(delayed(_one_cell)(blocks[p], offsets[p]))]
    else:
        # Rows are regrouped into slabs of space, so that most pairs of slabs are
        # far apart and their searches stop at the root; rows keep their indices.
        cells = _spatial_cells(client, blocks, parts, offsets, infos, n_slabs)
    trees = client.compute([delayed(_build)(c) for c in cells])
    shapes = client.gather(client.compute([delayed(_cell_info)(c) for c in cells]))
    del persisted, blocks, cells  # the trees are built: what they came from may go (recomputable)
    parts = [k for k, info in enumerate(shapes) if info[0].shape[0] > 0]
    trees = {k: trees[k] for k in parts}
    knn = {k: client.submit(_neighbours, trees[k], pure=False) for k in parts}  # a task of the tree: recomputable
    rows_of = {k: shapes[k][0] for k in parts}
    low = {k: shapes[k][1] for k in parts}
    high = {k: shapes[k][2] for k in parts}
    gap = {(i, j): _box_gap(low[i], high[i], low[j], high[j]) for i in parts for j in parts if i != j}
    boxes = {k: (low[k], high[k]) for k in parts}

    parent = np.arange(n, dtype=np.int64)
    comp = np.arange(n, dtype=np.int64)
    lower = np.zeros(n)  # per row: below its squared distance to any other component
    near = (np.full(n, -1, dtype=np.int64), np.full(n, np.inf))  # per row: a point once in another component
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    d2 = np.empty(n - 1)
    done = 0
    active = n
    round_no = 0
    while done < n - 1:
        round_no += 1
        start = time.perf_counter()
        for attempt in range(ROUND_RETRIES + 1):
            try:
                cand, stats, new_lower, near = _round(client, trees, knn, gap, array.shape[1], comp, lower, near,
                                                      rows_of, boxes, parts)
                break
            except Exception as error:  # a lost worker, lost data: the state is here, run it again
                if attempt == ROUND_RETRIES or not _is_cluster_failure(error):
                    raise
        lower = new_lower
        new_done = _part.add_edges(parent, cand[1], cand[2], cand[0], a, b, d2, done)
        if new_done == done:  # cannot happen on finite input; never loop forever
            raise RuntimeError("hclust.dask.linkage made no progress in a round.")
        _part.flatten(parent, comp)
        before = active
        active = n - new_done
        done = new_done
        if on_round is not None:
            on_round(RoundStats(round_no, time.perf_counter() - start, stats[0], stats[1], stats[2],
                                stats[3], before, active))
        if progress is not None:
            progress(done, n - 1)
    return _edges_to_linkage(a, b, d2, n)


def _edges_to_linkage(a: IntArray, b: IntArray, d2: FloatArray, n: int) -> FloatArray:
    """Z from minimum spanning tree edges, exactly as hclust.linkage builds it."""
    from .._kernels import sorting as _sorting
    from .._kernels.unionfind import merges_to_linkage

    order = _sorting.edge_order(d2, a, b)  # (squared length, a, b), as euclidean_mst returns them
    a, b, h = a[order], b[order], np.sqrt(d2[order])
    # then, as hclust.linkage's merges: in height order, equal heights in the order found
    by_height = np.argsort(h, kind="mergesort")
    return merges_to_linkage(a[by_height], b[by_height], h[by_height], np.ones(n))


def _is_cluster_failure(error: BaseException) -> bool:
    """Whether the error comes from the cluster (a lost worker, lost data), not from the computation."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    failures: tuple[type[BaseException], ...] = (KilledWorker, CommClosedError, CancelledError, OSError)
    try:
        from distributed.client import FutureCancelledError
    except ImportError:  # pragma: no cover - older distributed
        pass
    else:
        failures += (FutureCancelledError,)
    return isinstance(error, failures)


def _round(
    client: Any,
    trees: dict[int, Any],
    knn: dict[int, Any],
    gap: dict[tuple[int, int], float],
    gap_dim: int,
    comp: IntArray,
    lower: FloatArray,
    near: tuple[IntArray, FloatArray],
    rows_of: dict[int, IntArray],
    boxes: dict[int, tuple[FloatArray, FloatArray]],
    parts: list[int],
) -> tuple[tuple[FloatArray, IntArray, IntArray], tuple[int, int, int, int], FloatArray,
           tuple[IntArray, FloatArray]]:
    """One Borůvka round.

    Returns ((d2, lo, hi) of each component's lightest edge, (bytes sent,
    returned, points moved, tasks), the rows' new lower bounds, the rows'
    nearest other-component points found).
    """
    # A point that was in another component and still is gives its row's
    # component a real edge: an upper bound that prunes from the first wave on.
    near_obs, near_d2 = near
    valid = near_obs >= 0
    valid[valid] = comp[near_obs[valid]] != comp[valid]
    known = np.full(comp.shape[0], np.inf)
    np.minimum.at(known, comp[valid], near_d2[valid])
    seed = known[comp]
    sent = 0
    labels = {}
    with warnings.catch_warnings():
        # the state travels in the tasks (so Dask can recompute them), and is large on purpose
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        for p in parts:
            rows = rows_of[p]
            labels[p] = client.submit(_identity, (comp[rows], lower[rows], seed[rows]), pure=False)
            sent += comp[rows].nbytes + lower[rows].nbytes + seed[rows].nbytes
    wave = [client.submit(_diagonal, trees[p], knn[p], labels[p], pure=False) for p in parts]
    found = client.gather(wave)
    returned = sum(sum(x.nbytes for x in r) for r in found)
    best = _lightest(found)
    tasks = len(wave)
    low = {p: found[k][4] for k, p in enumerate(parts)}  # min over the partitions queried
    near_obs = np.where(valid, near_obs, -1)
    near_d2 = np.where(valid, near_d2, np.inf)

    def keep_nearer(p: int, r: tuple[Any, ...], q_rows: IntArray | None = None) -> None:
        rows = rows_of[p] if q_rows is None else rows_of[p][q_rows]
        better = r[6] < near_d2[rows]
        near_obs[rows[better]] = r[5][better]
        near_d2[rows[better]] = r[6][better]

    for k, p in enumerate(parts):
        keep_nearer(p, found[k])
    if len(parts) > 1:
        bound_of = known  # the upper bounds known before the round, lowered by the first wave
        bound_of[best[0]] = np.minimum(bound_of[best[0]], best[1])
        bounds = bound_of[comp]
        del bound_of
        holders = _holders(client, trees)
        points = 0
        wave = []
        sources = []
        crossing = []
        box_lows = []
        for i in parts:
            rows = rows_of[i]
            piece = bounds[rows]
            # rows whose lower bound exceeds their component's bound cannot improve it
            searched = lower[rows] <= piece
            reach = float(piece[searched].max()) if searched.any() else -1.0
            targets = [j for j in parts if j != i and gap[i, j] <= reach]
            for j in parts:
                if j != i and j not in targets:  # not queried: the boxes' gap bounds the distances
                    np.minimum(low[i], gap[i, j], out=low[i])
            if not targets:
                continue
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                bounds_i = client.submit(_identity, piece, pure=False)
            sent += piece.nbytes
            for j in targets:
                # the rows near partition j's box go there (selected where partition i lives)
                selected = client.submit(_select_queries, trees[i], labels[i], bounds_i, *boxes[j], pure=False)
                sources.append(i)
                crossing.append(not holders[i] & holders[j])
                wave.append(client.submit(_cross, client.submit(_first, selected, pure=False), trees[j], labels[j],
                                          pure=False))
                box_lows.append(client.submit(_second, selected, pure=False))
        more = client.gather(wave)
        for i, box_low in zip(sources, client.gather(box_lows)):
            np.minimum(low[i], np.maximum(box_low, lower[rows_of[i]]), out=low[i])
            returned += box_low.nbytes
        row_bytes = 8 * (gap_dim + 5)  # a point, its index, label, bounds and row
        for i, r, far in zip(sources, more, crossing):
            q_rows = r[7]
            if far:
                points += q_rows.shape[0] * row_bytes
            low[i][q_rows] = np.minimum(low[i][q_rows], r[4])
            keep_nearer(i, r, q_rows)
        returned += sum(sum(x.nbytes for x in r) for r in more)
        tasks += len(wave)
        best = _lightest(found + more)
    else:
        points = 0
    _, d2, lo, hi = best
    new_lower = lower.copy()
    for p in parts:
        rows = rows_of[p]
        new_lower[rows] = np.maximum(new_lower[rows], low[p])
    return (d2, lo, hi), (sent, returned, points, tasks), new_lower, (near_obs, near_d2)


def _lightest(found: list[tuple[IntArray, FloatArray, IntArray, IntArray]]) -> tuple[IntArray, FloatArray, IntArray, IntArray]:
    """Each component's lightest candidate under (d2, lo, hi): (components, d2, lo, hi)."""
    comps = np.concatenate([f[0] for f in found])
    d2 = np.concatenate([f[1] for f in found])
    lo = np.concatenate([f[2] for f in found])
    hi = np.concatenate([f[3] for f in found])
    order = np.lexsort((hi, lo, d2, comps))
    comps = comps[order]
    first = np.ones(comps.shape[0], dtype=bool)
    first[1:] = comps[1:] != comps[:-1]
    keep = order[first]
    return comps[first], d2[keep], lo[keep], hi[keep]


def _holders(client: Any, trees: dict[int, Any]) -> dict[int, set[str]]:
    who = client.who_has(list(trees.values()))
    return {p: set(who.get(f.key, ())) for p, f in trees.items()}


def _box_gap(low_a: FloatArray, high_a: FloatArray, low_b: FloatArray, high_b: FloatArray) -> float:
    """Squared gap between two bounding boxes, never above a squared distance between their points."""
    diff = np.maximum(low_b - high_a, 0.0) + np.maximum(low_a - high_b, 0.0)
    acc = 0.0
    for v in diff.tolist():  # in dimension order, rounded like a distance
        acc += v * v
    return acc


# ----------------------------------------------------------------------------- worker tasks


def _identity(x: Any) -> Any:
    """Worker task holding a round's labels or bounds (its data lives in the task: recomputable)."""
    return x


def _one_cell(block: Any, offset: int) -> tuple[FloatArray, IntArray]:
    """Worker task: a partition as a cell (its rows, their observation indices)."""
    X = np.ascontiguousarray(block, dtype=np.float64)
    return X, np.arange(offset, offset + X.shape[0], dtype=np.int64)


def _cut_sample(block: Any, feature: int, size: int) -> FloatArray:
    """Worker task: an evenly spaced sample of one feature's sorted values in a block."""
    values = np.sort(np.asarray(block[:, feature], dtype=np.float64))
    if values.shape[0] <= size:
        return values
    return values[np.linspace(0, values.shape[0] - 1, size).astype(np.int64)]


def _split_block(block: Any, offset: int, feature: int, cuts: FloatArray) -> list[tuple[FloatArray, IntArray]]:
    """Worker task: a block's rows (and observation indices) by slab: feature value between cuts."""
    X = np.ascontiguousarray(block, dtype=np.float64)
    slab = np.searchsorted(cuts, X[:, feature], side="right")
    obs = np.arange(offset, offset + X.shape[0], dtype=np.int64)
    return [(X[slab == k], obs[slab == k]) for k in range(cuts.shape[0] + 1)]


def _gather_cell(k: int, *pieces: list[tuple[FloatArray, IntArray]]) -> tuple[FloatArray, IntArray]:
    """Worker task: slab k's rows from every block, in observation order."""
    X = np.concatenate([p[k][0] for p in pieces])
    obs = np.concatenate([p[k][1] for p in pieces])
    return np.ascontiguousarray(X), obs


def _spatial_cells(client: Any, blocks: list[Any], parts: list[int], offsets: list[int], infos: list[Any],
                   k: int) -> list[Any]:
    """Futures of k cells (fewer where values repeat): slabs of the widest feature, about equal row counts."""
    from dask.delayed import delayed

    span = np.max([infos[p].high for p in parts], axis=0) - np.min([infos[p].low for p in parts], axis=0)
    feature = int(np.argmax(span))
    samples = client.gather(client.compute([delayed(_cut_sample)(blocks[p], feature, 64 * k) for p in parts]))
    weights = np.concatenate([np.full(s.shape[0], infos[p].rows / max(1, s.shape[0])) for s, p in zip(samples, parts)])
    values = np.concatenate(samples)
    order = np.argsort(values, kind="stable")
    share = np.cumsum(weights[order]) / weights.sum()
    cuts = np.unique(values[order][np.searchsorted(share, np.arange(1, k) / k)])
    split = [delayed(_split_block)(blocks[p], offsets[p], feature, cuts) for p in parts]
    return client.compute([delayed(_gather_cell)(c, *split) for c in range(cuts.shape[0] + 1)])


def _cell_info(cell: tuple[FloatArray, IntArray]) -> tuple[IntArray, FloatArray, FloatArray]:
    """Worker task: a cell's observation indices and bounding box (what the client keeps)."""
    X, obs = cell
    if X.shape[0] == 0:
        return obs, np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    return obs, X.min(axis=0), X.max(axis=0)


def _build(cell: tuple[FloatArray, IntArray]) -> tuple[Any, IntArray] | None:
    """Worker task: a cell's kd-tree (:func:`hclust._kernels.kdtree.build`) and the observation
    index of every tree position.

    The cell's rows are in observation order, so the tree's own tie order
    (its ``perm`` and ``node_min``, rows of the cell) is the order of the
    observation indices.
    """
    from .._kernels.kdtree import LEAF_SIZE, build

    X, rows_obs = cell
    if X.shape[0] == 0:
        return None
    tree = build(X, LEAF_SIZE)
    return tree, rows_obs[tree.perm]


def _neighbours(built: tuple[Any, IntArray]) -> tuple[IntArray, FloatArray]:
    """Worker task: every tree point's nearest other points in its cell, as the in-process
    Borůvka's first round finds them (tree positions, squared distances; a task of the tree,
    so Dask recomputes it with the tree)."""
    from .._emst import neighbour_lists

    return neighbour_lists(built[0], threads=1)


def _query(
    Q: FloatArray, q_obs: IntArray, q_comp: IntArray, q_lower: FloatArray, shared_of_point: FloatArray | None,
    built: tuple[Any, IntArray], t_comp: IntArray, knn: tuple[IntArray, FloatArray] | None = None,
) -> tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray, IntArray, FloatArray]:
    tree, obs = built
    m = Q.shape[0]
    # components numbered 0..s-1 (queries' and tree's alike) for the per-component arrays
    if q_comp is t_comp:
        comps, slot = np.unique(t_comp, return_inverse=True)
        q_slot = t_slot = slot.ravel().astype(np.int64)
    else:
        comps, slot = np.unique(np.concatenate([q_comp, t_comp]), return_inverse=True)
        slot = slot.ravel().astype(np.int64)
        q_slot, t_slot = slot[:m], slot[m:]
    shared = np.full(comps.shape[0], np.inf)
    if shared_of_point is not None:
        shared[q_slot] = shared_of_point
    node_slot = _part.node_components(t_slot, tree.node_lo, tree.node_hi, tree.node_left)
    if knn is None:
        knn = (np.empty((m, 0), dtype=np.int64), np.empty((m, 0)))
    best_d2 = np.full(comps.shape[0], np.inf)
    best_lo = np.full(comps.shape[0], -1, dtype=np.int64)
    best_hi = np.full(comps.shape[0], -1, dtype=np.int64)
    low = np.empty(m)
    near_obs = np.empty(m, dtype=np.int64)
    near_d2 = np.empty(m)
    _part.lightest_foreign_edges(Q, q_obs, q_slot, shared, q_lower, knn[0], knn[1], tree, obs, t_slot, node_slot,
                                 best_d2, best_lo, best_hi, low, near_obs, near_d2)
    keep = best_lo >= 0
    return comps[keep], best_d2[keep], best_lo[keep], best_hi[keep], low, near_obs, near_d2


def _in_rows(values: NDArray[Any], perm: IntArray) -> NDArray[Any]:
    """Values given in tree order, put back in the partition's row order."""
    out = np.empty_like(values)
    out[perm] = values
    return out


def _diagonal(built: tuple[Any, IntArray], knn: tuple[IntArray, FloatArray],
              state: tuple[IntArray, FloatArray, FloatArray]) -> tuple[Any, ...]:
    """Worker task: each component's lightest edge inside one partition (+ the rows' bounds)."""
    tree, obs = built
    perm = tree.perm
    comp, lower, seed = state
    t_comp = np.ascontiguousarray(comp[perm])
    *edges, low, near_obs, near_d2 = _query(tree.data, obs, t_comp, np.ascontiguousarray(lower[perm]), seed[perm],
                                            built, t_comp, knn)
    return (*edges, _in_rows(low, perm), _in_rows(near_obs, perm), _in_rows(near_d2, perm))


def _select_queries(built: tuple[Any, IntArray], state: tuple[IntArray, FloatArray, FloatArray], bounds: FloatArray,
                    box_lo: FloatArray, box_hi: FloatArray) -> tuple[tuple[Any, ...], FloatArray]:
    """Worker task: the partition's rows that may improve their component's edge in a box.

    Returns ((points, observation indices, labels, lower bounds, component
    bounds, rows in the partition) of the rows whose lower bound and
    distance to the box are not above their component's bound, in tree
    order: what travels to the partition of that box; and, per row, a lower
    bound on its squared distance to the box's points (the box distance for
    the rows left out, inf for the others).
    """
    tree, obs = built
    Xt, perm = tree.data, tree.perm
    comp, lower, _ = state
    to_box = np.empty(Xt.shape[0])
    _part.box_distances(Xt, box_lo, box_hi, to_box)
    bound_t = bounds[perm]
    at = np.flatnonzero((lower[perm] <= bound_t) & (to_box <= bound_t))
    rows = perm[at]
    box_low = _in_rows(to_box, perm)
    box_low[rows] = np.inf  # searched: the search gives their bound
    queries = (np.ascontiguousarray(Xt[at]), obs[at], comp[rows], lower[rows], bounds[rows], rows)
    return queries, box_low


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _second(pair: tuple[Any, Any]) -> Any:
    return pair[1]


def _cross(queries: tuple[Any, ...], tree: tuple[Any, ...], state: tuple[IntArray, FloatArray, FloatArray]
           ) -> tuple[Any, ...]:
    """Worker task: the selected rows' components' lightest edges into another partition.

    Per-row results (lower bounds, nearest points) come for the selected
    rows, with their rows in the partition last.
    """
    Q, q_obs, q_comp, q_lower, q_bounds, q_rows = queries
    t_comp = np.ascontiguousarray(state[0][tree[0].perm])
    result = _query(Q, q_obs, q_comp, q_lower, q_bounds, tree, t_comp)
    return (*result, q_rows)
