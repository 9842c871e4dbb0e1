"""Exact single linkage on a Dask cluster: Borůvka rounds over kd-trees of slabs of the rows.

The rows are first regrouped into slabs of the widest feature (one per
worker by default; cut at sampled quantiles: about equal row counts), so
that a row has neighbours in another slab only near the slab's border; each
slab lives on a worker with a kd-tree of it (tasks of the input's graph, so
a lost worker's trees are recomputed), every row keeping its observation
index. The state between rounds stays where Dask can recompute it: every
slab's per-row state (component label, and a lower bound on the row's
squared distance to other components: the foreign set only shrinks, so a
bound found in one round holds in the next) is a chain of tasks on the
slab's worker, one link a round, built from the previous link, the round's
search results and the labels the round changed; the first round's k
nearest neighbours of every row within its slab are a task of the slab's
tree (as in the in-process engine, a row's first neighbour of another
component is its nearest one in the slab, and later rounds search only the
rows whose list holds none). The client keeps the union-find of the
components (8 bytes a row) and, each round, sends the merged components'
new labels and per-component upper bounds (edges already found), and asks,
in two waves of tasks, for every component's lightest edge to another
component:

1. each slab against itself, pruned by the known upper bounds, which
   lowers them for every component with another component nearby;
2. each slab's rows that may still improve their component's edge (lower
   bound and distance to the other slab's points not above that edge; the
   distance bounded by the boxes of the top levels of that slab's tree)
   against the other slabs' trees; a pair of slabs whose boxes are farther
   apart than all bounds of the querying components is skipped.

Only labels, per-component bounds, candidate edges (component, squared
length, two observation indices) and the query rows of the second wave
travel. The client keeps each
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
    check_collection,
)

#: Times a round is retried after a failure of the cluster (lost workers, lost data).
ROUND_RETRIES = 3

#: Levels of a slab's kd-tree whose boxes decide which rows of other slabs search it.
TOP_DEPTH = 6

#: Largest slab of rows (bytes of float64 features) by default: more slabs above.
SLAB_BYTES = 256 * 2**20


@dataclass(frozen=True)
class RoundStats:
    """What one distributed round cost.

    The fields below describe single linkage's rounds; for ward's, the bytes
    are the shards' updates and searches sent, and their answers returned
    (``bytes_points`` 0), and ``tasks`` the shard tasks (0 for a round run on
    the client, or whose searches the candidate lists all decided).

    Attributes
    ----------
    round : int
        Round number, from 1.
    seconds : float
        Wall time of the round on the client (both waves, merge included).
    bytes_sent : int
        Sent to the workers: the new labels of the merged components and
        per-component upper bounds (16 bytes each; the per-row state stays
        on the workers).
    bytes_returned : int
        Candidate edges returned to the client.
    bytes_points : int
        Bytes of query rows sent between workers: the rows a partition
        selected (those that may still improve their component's edge) for
        a search in another partition, counted when that search ran on
        another worker than the selection.
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
    weights: Any = None,
) -> FloatArray:
    """The linkage matrix of :func:`hclust.linkage`, computed on a Dask cluster.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame, shape (n, d)
        Numeric observations, rows partitioned across the workers (any
        partition sizes, empty ones included). Euclidean geometry.
    method : {"single", "ward"}
        Linkage method, computed exactly: single by distributed Borůvka,
        ward by reciprocal-nearest-neighbour rounds whose searches run on the
        workers (see Notes); other methods are not available on Dask yet.
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
        Single only: number of slabs of space the rows are regrouped into (each with its
        kd-tree on a worker; a round runs about ``n_slabs`` to ``n_slabs**2``
        tasks). Default: one per worker, more where a slab would exceed
        256 MiB of rows.
    timeout : float, default=10
        Seconds to wait for a scheduler given by its address.
    weights : array-like or dask array of shape (n,), optional
        Ward only: positive observation weights (counts), as in
        :func:`hclust.linkage`.

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
    its component's best edge so far. The edges found and
    the components' union-find live on the client; the workers keep their
    slabs' kd-trees, neighbour lists and per-row state (labels, bounds),
    tasks that Dask recomputes from their lineage when a worker is lost, and
    a round that fails is run again (up to ``ROUND_RETRIES`` times). A
    round's memory on a worker is its slabs, their trees, neighbour lists
    and per-row state, and the query rows of the running task.

    Ties: edges are ordered by squared length, then the smaller observation
    index, then the larger one, as in :func:`hclust.linkage`; the minimum
    spanning tree is unique under this order, whatever the partitioning.

    Ward: the client runs the in-process vector engine's rounds step by step
    and each round's nearest-neighbour searches run on the workers, each of
    which holds a shard of the active clusters (its share of the rows and a
    kd-tree over them; a lost shard is sent again from the client's run);
    ties, duplicates and weights therefore come out as in
    :func:`hclust.linkage`, bit for bit. The client gathers the rows
    (duplicates collapse there) and holds the run: O(n d) memory, where a
    worker holds O(n d / workers) plus a round's searches. Where
    :func:`hclust.linkage` would run ward on the distance matrix (fewer than 2,048 rows, or more than 32
    features while the matrix fits), the client does just that.

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
    ...     Xw = np.random.default_rng(1).normal(size=(2_500, 3))
    ...     Zw = hclust.dask.linkage(da.from_array(Xw, chunks=(1_000, 3)), "ward", client=client)
    >>> bool((Z == hclust.linkage(X, "single")).all())
    True
    >>> bool((Zw == hclust.linkage(Xw, "ward")).all())
    True
    """
    from .._methods import METHODS
    from .._validation import check_option

    method = check_option(method, "method", METHODS)
    if method not in ("single", "ward"):
        raise ValueError(
            f"hclust.dask.linkage computes methods 'single' and 'ward' exactly; {method!r} is not available "
            "on Dask yet. For data of any size use hclust.dask.summarize(X, n_micro=...)."
        )
    if weights is not None and method != "ward":
        raise ValueError("weights apply to method='ward' on Dask (they do not change single linkage): leave them out.")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")
    if on_round is not None and not callable(on_round):
        raise TypeError("on_round must be a callable on_round(stats) or None.")
    if n_slabs is not None and (isinstance(n_slabs, bool) or not isinstance(n_slabs, (int, np.integer))
                                or n_slabs < 1):
        raise ValueError(f"n_slabs must be a positive integer or None; got {n_slabs!r}.")
    check_collection(X)  # before connecting: no computation
    client, owned = resolve_client(client, timeout)
    try:
        array, columns = as_row_blocks(X, client)  # unknown row counts: counted by the client's workers
        if method == "ward":
            from ._ward import ward_linkage

            return ward_linkage(array, columns, client, weights, progress, on_round, RoundStats, _is_cluster_failure)
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
    # each slab's tree where its slab is, one slab a worker in turn (elsewhere if that worker is lost)
    built = [client.submit(_build, c, pure=False, **_placement(client, k)) for k, c in enumerate(cells)]
    shapes = client.gather(client.compute([delayed(_cell_info)(c) for c in cells]))
    del persisted, blocks, cells  # the trees are built: what they came from may go (recomputable)
    parts = [k for k, info in enumerate(shapes) if info[0] > 0]
    trees = {k: built[k] for k in parts}
    del built
    # the top levels of every slab's tree: where its points are, more closely than its box
    tops = dict(zip(parts, client.gather([client.submit(_top_boxes, trees[k], pure=False) for k in parts])))
    # tasks of the trees, so Dask recomputes them with the trees: the first round's
    # neighbour lists and every slab's per-row state (labels, lower bounds)
    knn = {k: client.submit(_neighbours, trees[k], pure=False) for k in parts}
    states = {k: client.submit(_start, trees[k], pure=False) for k in parts}
    low = {k: shapes[k][1] for k in parts}
    high = {k: shapes[k][2] for k in parts}
    gap = {(i, j): _box_gap(low[i], high[i], low[j], high[j]) for i in parts for j in parts if i != j}

    parent = np.arange(n, dtype=np.int64)
    roots = np.arange(n, dtype=np.int64)  # the components' labels (their smallest observation index)
    seeds = (np.empty(0, dtype=np.int64), np.empty(0))  # a known edge's length for some components
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    d2 = np.empty(n - 1)
    done = 0
    round_no = 0
    while done < n - 1:
        round_no += 1
        start = time.perf_counter()
        for attempt in range(ROUND_RETRIES + 1):
            try:
                candidates, found, stats = _round(client, trees, knn, states, gap, tops, parts, seeds,
                                                  array.shape[1])
                break
            except Exception as error:  # a lost worker, lost data: the inputs are recomputable, run it again
                if attempt == ROUND_RETRIES or not _is_cluster_failure(error):
                    raise
        new_done = _part.add_edges(parent, candidates[2], candidates[3], candidates[1], a, b, d2, done)
        if new_done == done:  # cannot happen on finite input; never loop forever
            raise RuntimeError("hclust.dask.linkage made no progress in a round.")
        new_roots = np.empty_like(roots)
        _part.find_roots(parent, roots, new_roots)
        moved = new_roots != roots
        with warnings.catch_warnings():
            # the labels travel in the task (so Dask can recompute the states), large in the first rounds
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            labels = client.submit(_identity, (roots[moved], new_roots[moved]), pure=False)
        before = roots.shape[0]
        roots = roots[~moved]
        seeds = _seeds(parent, found)
        # the rows' next state: bounds raised by the round's searches, labels of the merged components
        rows = stats.pop("rows")
        if new_done < n - 1:
            states = {k: client.submit(_advance, states[k], found_rows, labels, pure=False)
                      for k, found_rows in rows.items()}
        del rows
        done = new_done
        if on_round is not None:
            on_round(RoundStats(round_no, time.perf_counter() - start, stats["sent"] + 16 * int(moved.sum()),
                                stats["returned"], stats["points"], stats["tasks"], before, roots.shape[0]))
        if progress is not None:
            progress(done, n - 1)
    return _edges_to_linkage(a, b, d2, n)


def _placement(client: Any, k: int) -> dict[str, Any]:
    """Where slab k goes first: the workers in turn (any other one when it is lost or none is known)."""
    workers = sorted(client.scheduler_info().get("workers", ()))
    if not workers:
        return {}
    return {"workers": [workers[k % len(workers)]], "allow_other_workers": True}


def _seeds(parent: IntArray, found: tuple[IntArray, FloatArray, IntArray, IntArray]
           ) -> tuple[IntArray, FloatArray]:
    """Upper bounds for the next round: each found edge still between two components bounds both."""
    _, d2, lo, hi = found
    lo_root = np.empty_like(lo)
    hi_root = np.empty_like(hi)
    _part.find_roots(parent, lo, lo_root)
    _part.find_roots(parent, hi, hi_root)
    apart = lo_root != hi_root
    comps = np.concatenate([lo_root[apart], hi_root[apart]])
    lengths = np.concatenate([d2[apart], d2[apart]])
    order = np.lexsort((lengths, comps))
    comps, lengths = comps[order], lengths[order]
    first = np.ones(comps.shape[0], dtype=bool)
    first[1:] = comps[1:] != comps[:-1]
    return comps[first], lengths[first]


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
    states: dict[int, Any],
    gap: dict[tuple[int, int], float],
    tops: dict[int, tuple[IntArray, FloatArray, FloatArray]],
    parts: list[int],
    seeds: tuple[IntArray, FloatArray],
    dim: int,
) -> tuple[tuple[IntArray, FloatArray, IntArray, IntArray], tuple[IntArray, FloatArray, IntArray, IntArray],
           dict[str, Any]]:
    """One Borůvka round, from the slabs' states (futures); nothing is changed until it succeeds.

    Returns (each component's lightest edge (components, d2, lo, hi), every
    edge found (same arrays), stats: bytes sent, returned and moved between
    workers, tasks, and "rows": per slab the futures its next state is made of).
    """
    with warnings.catch_warnings():
        # the data travels in the tasks (so Dask can recompute them)
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        seed_future = client.submit(_identity, seeds, pure=False)
    sent = seeds[0].nbytes + seeds[1].nbytes
    diagonal = {p: client.submit(_diagonal, trees[p], knn[p], states[p], seed_future, pure=False) for p in parts}
    found = client.gather([client.submit(_diagonal_edges, diagonal[p], pure=False) for p in parts])
    returned = sum(sum(x.nbytes for x in r) for r in found)
    tasks = 2 * len(parts)
    present = {p: r[4] for p, r in zip(parts, found)}
    found = [r[:4] for r in found]
    rows: dict[int, tuple[Any, ...]] = {p: (diagonal[p], [], [], np.inf) for p in parts}
    points = 0
    if len(parts) > 1:
        # each component's best edge so far bounds the searches in the other slabs
        comps, d2, _, _ = _lightest(found + [(seeds[0], seeds[1], seeds[0], seeds[0])])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            bound_future = client.submit(_identity, (comps, d2), pure=False)
        sent += comps.nbytes + d2.nbytes
        cross = []
        for i in parts:
            # a component without a known edge may reach anywhere
            reach = np.inf
            if present[i].shape[0] <= comps.shape[0]:
                at = np.minimum(np.searchsorted(comps, present[i]), max(comps.shape[0] - 1, 0))
                if comps.shape[0] and (comps[at] == present[i]).all():
                    reach = float(d2[at].max())
            targets = [j for j in parts if j != i and gap[i, j] <= reach]
            gmin = min([gap[i, j] for j in parts if j != i and j not in targets], default=np.inf)
            selects = []
            results = []
            for j in targets:
                # the rows near slab j's boxes go there (selected where slab i lives)
                selected = client.submit(_select_queries, trees[i], states[i], bound_future, tops[j], pure=False)
                result = client.submit(_cross, selected, trees[j], states[j], pure=False)
                selects.append(selected)
                results.append(result)
                cross.append(client.submit(_cross_edges, result, pure=False))
            rows[i] = (diagonal[i], selects, results, gmin)
        more = client.gather(cross)
        tasks += 3 * len(cross)
        for r in more:
            if r[5]:  # the search ran on another worker than the selection: the rows travelled
                points += r[4] * 8 * (dim + 4)  # a point, its index, label, bounds and tree position
        returned += sum(sum(x.nbytes for x in r[:4]) for r in more)
        found += [r[:4] for r in more]
    every = (np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]),
             np.concatenate([f[2] for f in found]), np.concatenate([f[3] for f in found]))
    return _lightest(found), every, {"sent": sent, "returned": returned, "points": points, "tasks": tasks,
                                     "rows": rows}


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


def _here() -> str | None:
    """The address of the worker running the current task (None outside a worker)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except ValueError:  # not in a worker task
        return None


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
    split = client.compute([delayed(_split_block)(blocks[p], offsets[p], feature, cuts) for p in parts])
    # one slab a worker in turn (its tree and searches follow it), elsewhere if that worker is lost
    return [client.submit(_gather_cell, c, *split, pure=False, **_placement(client, c))
            for c in range(cuts.shape[0] + 1)]


def _cell_info(cell: tuple[FloatArray, IntArray]) -> tuple[int, FloatArray, FloatArray]:
    """Worker task: a cell's row count and bounding box (what the client keeps)."""
    X, obs = cell
    if X.shape[0] == 0:
        return 0, np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    return X.shape[0], X.min(axis=0), X.max(axis=0)


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


def _lookup(labels: IntArray, values: FloatArray, keys: IntArray, default: float = np.inf) -> FloatArray:
    """values[labels == key] for each key (labels sorted, unique), default where absent."""
    out = np.full(keys.shape[0], default)
    if labels.shape[0]:
        at = np.minimum(np.searchsorted(labels, keys), labels.shape[0] - 1)
        hit = labels[at] == keys
        out[hit] = values[at[hit]]
    return out


def _start(built: tuple[Any, IntArray]) -> tuple[IntArray, FloatArray]:
    """Worker task: a slab's first state, by tree position: every row alone, no bound known."""
    obs = built[1]
    return obs.copy(), np.zeros(obs.shape[0])


def _diagonal(built: tuple[Any, IntArray], knn: tuple[IntArray, FloatArray], state: tuple[IntArray, FloatArray],
              seeds: tuple[IntArray, FloatArray]) -> tuple[Any, ...]:
    """Worker task: each component's lightest edge inside one slab.

    Returns (components, d2, lo, hi, the components present in the slab,
    each row's bound on its squared distance to the slab's other components).
    """
    tree, _ = built
    comp, lower = state
    *edges, low, _, _ = _query(tree.data, built[1], comp, lower, _lookup(*seeds, comp), built, comp, knn)
    return (*edges, np.unique(comp), low)


def _diagonal_edges(result: tuple[Any, ...]) -> tuple[Any, ...]:
    """Worker task: what the client takes of a slab's search: its edges and components."""
    return result[:5]


def _top_boxes(built: tuple[Any, IntArray], depth: int = TOP_DEPTH) -> tuple[IntArray, FloatArray, FloatArray]:
    """Worker task: the nodes of a slab's kd-tree down to ``depth``, as a small tree of boxes
    (node_left, box_lo, box_hi; children numbered after their parent, -1 for a leaf)."""
    tree = built[0]
    order = [(0, 0)]
    left = [-1]
    at = 0
    while at < len(order):
        k, level = order[at]
        child = int(tree.node_left[k])
        if child >= 0 and level < depth:
            left[at] = len(order)
            order += [(child, level + 1), (child + 1, level + 1)]
            left += [-1, -1]
        at += 1
    nodes = np.array([k for k, _ in order], dtype=np.int64)
    return np.array(left, dtype=np.int64), tree.box_lo[nodes], tree.box_hi[nodes]


def _select_queries(built: tuple[Any, IntArray], state: tuple[IntArray, FloatArray],
                    bounds: tuple[IntArray, FloatArray], top: tuple[IntArray, FloatArray, FloatArray]
                    ) -> tuple[tuple[Any, ...], FloatArray, str | None]:
    """Worker task: the slab's rows that may improve their component's edge in another slab.

    Returns ((points, observation indices, labels, lower bounds, component
    bounds, tree positions) of the rows whose lower bound and distance to
    the other slab's boxes (``top``, from :func:`_top_boxes`) are not above
    their component's bound: what travels to that slab; and, per row, a
    lower bound on its squared distance to that slab's points (the boxes'
    distance for the rows left out, inf for the others); and the address of
    the worker that selected them.
    """
    tree, obs = built
    comp, lower = state
    bound = _lookup(*bounds, comp)
    to_box = np.empty(tree.data.shape[0])
    _part.boxes_distances(tree.data, bound, *top, to_box)
    at = np.flatnonzero((lower <= bound) & (to_box <= bound))
    to_box[at] = np.inf  # searched: the search gives their bound
    queries = (np.ascontiguousarray(tree.data[at]), obs[at], comp[at], lower[at], bound[at], at)
    return queries, to_box, _here()


def _cross(selected: tuple[tuple[Any, ...], FloatArray, str | None], built: tuple[Any, IntArray],
           state: tuple[IntArray, FloatArray]) -> tuple[Any, ...]:
    """Worker task: the selected rows' components' lightest edges into another slab.

    Returns (components, d2, lo, hi, the selected rows' bounds, their tree
    positions in their slab, whether the rows came from another worker).
    """
    Q, q_obs, q_comp, q_lower, q_bounds, q_at = selected[0]
    *edges, low, _, _ = _query(Q, q_obs, q_comp, q_lower, q_bounds, built, state[0])
    here = _here()
    return (*edges, low, q_at, here is not None and selected[2] != here)


def _cross_edges(result: tuple[Any, ...]) -> tuple[Any, ...]:
    """Worker task: what the client takes of a cross search: its edges, number of
    queries and whether they travelled between workers."""
    return (*result[:4], result[5].shape[0], result[6])


def _advance(state: tuple[IntArray, FloatArray], rows: tuple[Any, ...], labels: tuple[IntArray, IntArray]
             ) -> tuple[IntArray, FloatArray]:
    """Worker task: a slab's state after a round.

    Each row's lower bound rises to its bound over all slabs (its own
    slab's search; another slab's box gap, box distance or search), which
    holds in later rounds too (components only grow); labels of merged
    components become the new ones (labels: old, new, old sorted).
    """
    diagonal, selects, results, gmin = rows
    comp, lower = state
    low = np.minimum(diagonal[5], gmin)
    for selected, result in zip(selects, results):
        np.minimum(low, np.maximum(selected[1], lower), out=low)
        at = result[5]
        low[at] = np.minimum(low[at], result[4])
    new_lower = np.maximum(lower, low)
    old, new = labels
    new_comp = comp.copy()
    if old.shape[0]:
        at = np.minimum(np.searchsorted(old, comp), old.shape[0] - 1)
        hit = old[at] == comp
        new_comp[hit] = new[at[hit]]
    return new_comp, new_lower
