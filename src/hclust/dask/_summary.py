"""Summary tier on a Dask cluster: micro-clusters per partition, one exact tree, every row labelled lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._typing import FloatArray, IntArray, ProgressCallback
from ..summary import Summary, SummaryQuality
from ._common import (
    CONNECT_TIMEOUT,
    as_row_blocks,
    block_offsets,
    check_block,
    check_scale,
    raise_on_bad_blocks,
    resolve_client,
)


@dataclass(frozen=True)
class DaskSummary(Summary):
    """A :class:`hclust.Summary` whose rows live on a Dask cluster.

    ``counts``, ``means``, ``ssd``, ``Z``, ``quality`` and ``method`` are
    in memory, as in :class:`hclust.Summary`; ``labels_`` (the micro-cluster
    of every row) is a lazy dask array with the input's row chunks, and
    :meth:`labels` gives the clusters of every row lazily too. The
    micro-cluster assignments stay on the workers (as tasks that Dask
    recomputes if a worker is lost) while this object lives.
    """

    _parts: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def labels(self, n_clusters: int) -> Any:
        """Cluster (0..n_clusters-1) of every row, as a lazy dask array aligned with the input.

        Parameters
        ----------
        n_clusters : int
            Number of clusters, 1..``n_micro``.

        Returns
        -------
        labels : dask.array.Array of int64, shape (n,)
            Same row chunks as the input; compute it with the cluster's
            client (``client.compute(labels)`` or ``labels.compute()``
            when that client is the default one).
        """
        of_micro = self.micro_labels(n_clusters)
        lazy: Any = self.labels_  # a dask array here
        return lazy.map_blocks(_take, of_micro, dtype=np.int64)


def _take(micro: IntArray, of_micro: IntArray) -> IntArray:
    return of_micro[micro]


def summarize(
    X: Any,
    n_micro: int | None = None,
    *,
    threshold: float | None = None,
    method: str = "ward",
    branching_factor: int = 50,
    client: Any = None,
    progress: ProgressCallback | None = None,
    timeout: float = CONNECT_TIMEOUT,
) -> DaskSummary:
    """:func:`hclust.summarize` for rows partitioned over a Dask cluster.

    Every partition is compressed into micro-clusters by the BIRCH CF tree
    of :func:`hclust.summarize` (on its worker: rows never travel); the
    partitions' micro-clusters are merged into at most ``n_micro`` by the
    same CF tree run on their weighted means; the tree over them is
    :func:`hclust.linkage` with the counts as weights, on the client.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame, shape (n, d)
        Numeric rows, any partitioning (empty partitions included).
    n_micro : int, optional
        Largest number of micro-clusters (1..n), for each partition and for
        the merged result. Default: ``min(n, 10_000)`` when ``threshold``
        is not given either.
    threshold : float, optional
        Starting radius threshold of the partitions' CF trees (as in
        :func:`hclust.summarize`).
    method : {"ward", "average", "centroid", "complete", "single"}, default="ward"
        Linkage on the micro-cluster means (counts as weights).
    branching_factor : int, default=50
        Largest number of entries in a CF-tree node.
    client : distributed.Client or str, optional
        The cluster (a Client or a scheduler address); default: the default Client.
    progress : callable, optional
        ``progress(done, total)`` as partitions are summarised.
    timeout : float, default=10
        Seconds to wait for a scheduler given by its address.

    Returns
    -------
    DaskSummary
        ``counts``, ``means``, ``ssd``, ``Z``, ``quality`` in memory;
        ``labels_`` and ``labels(k)`` lazy dask arrays aligned with ``X``.

    Raises
    ------
    ValueError
        NaN or infinite values (naming the partition and row, before any
        clustering work), fewer than 2 rows, ``n_micro`` not in 1..n, bad
        threshold, method or branching factor, no cluster.
    TypeError
        ``X`` not a dask collection, non-numeric columns.
    ConnectionError
        No scheduler answered at the given address within ``timeout``.

    Notes
    -----
    With one partition the result equals :func:`hclust.summarize` (same
    micro-clusters, tree and quality). The micro-cluster statistics are
    exact for the rows assigned: each partition's come from two passes over
    its rows, and the merge adds them up exactly (counts, weighted means,
    ``ssd`` plus the between part). The quality's total sum of squares is a
    second pass over the rows, about the global mean, as in
    :func:`hclust.summarize`. The row -> micro-cluster assignments (8 bytes
    a row) stay on the workers.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> import hclust.dask
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (500, 2)), rng.normal(20, 1, (500, 2))])
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=None,
    ...                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \\
    ...         Client(cluster) as client:
    ...     s = hclust.dask.summarize(da.from_array(X, chunks=(300, 2)), n_micro=40, client=client)
    ...     counts = np.bincount(s.labels(2).compute())
    >>> s.n_micro <= 40, counts.tolist()
    (True, [500, 500])
    """
    from dask.delayed import delayed

    from .._kernels import cftree as _cf
    from .._validation import check_option
    from ..summary import SUMMARY_METHODS, _check_sizes

    method = check_option(method, "method", SUMMARY_METHODS)
    if isinstance(branching_factor, bool) or not isinstance(branching_factor, (int, np.integer)) or branching_factor < 2:
        raise ValueError(f"branching_factor must be an integer >= 2; got {branching_factor!r}.")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")
    array, columns = as_row_blocks(X)
    chunks = tuple(int(c) for c in array.chunks[0])
    n = sum(chunks)
    if n < 2:
        raise ValueError(f"X has {n} observation{'s' if n != 1 else ''}; at least 2 are needed.")
    m_max, t = _check_sizes(n_micro, threshold, n, "birch")
    if m_max is None and t is None:
        m_max = min(n, 10_000)
    client, owned = resolve_client(client, timeout)
    try:
        offsets = block_offsets(chunks)
        blocks = array.to_delayed().ravel().tolist()
        infos = client.gather(client.compute([delayed(check_block)(b) for b in blocks]))
        raise_on_bad_blocks(infos, offsets, columns)
        check_scale(infos, columns)
        parts = [p for p in range(len(chunks)) if chunks[p] > 0]
        micro = client.compute([delayed(_micro)(blocks[p], m_max, t, int(branching_factor)) for p in parts])
        stats = [client.submit(_stats_of, f, pure=False) for f in micro]
        got = []
        for done, future in enumerate(stats, 1):  # in partition order (the client's own, not the default)
            got.append(future.result())
            if progress is not None:
                progress(done, len(parts))
        counts = np.concatenate([g[0] for g in got])
        means = np.concatenate([g[1] for g in got])
        ssd = np.concatenate([g[2] for g in got])
        used = max(g[3] for g in got)
        sizes = [g[0].shape[0] for g in got]
        group = np.arange(counts.shape[0], dtype=np.int64)
        if m_max is not None and counts.shape[0] > m_max:
            # the partitions' micro-clusters, as weighted points, through the same CF tree
            from ..summary import _birch

            group, m, merged_threshold = _birch(means, counts, m_max, None, int(branching_factor), None)
            used = max(used, merged_threshold)
            c2, mu2, between = _cf.group_stats(means, counts, group, m)
            ssd = between + np.bincount(group, weights=ssd, minlength=m)
            counts, means = c2, mu2
        grand = (counts[:, None] * means).sum(axis=0) / counts.sum()
        totals = client.gather(client.compute([delayed(_total_ss)(blocks[p], grand) for p in parts]))
        total = float(sum(totals))
        within = float(ssd.sum())
        quality = SummaryQuality(
            within_share=min(1.0, within / total) if total > 0 else 0.0,
            max_radius=float(np.sqrt(ssd / counts).max()),
            threshold=used,
            n_micro=int(counts.shape[0]),
        )
        if counts.shape[0] >= 2:
            import importlib

            linkage: Any = getattr(importlib.import_module("hclust"), "linkage")  # the public function
            Z = linkage(means, method, weights=counts)
        else:
            Z = np.empty((0, 4))
        labels_ = _lazy_labels(micro, parts, chunks, group, sizes)
        return DaskSummary(counts=counts, means=means, ssd=ssd, labels_=labels_, Z=Z, quality=quality,
                           method=method, _parts=tuple(micro))
    finally:
        if owned:
            client.close()


def _lazy_labels(micro: list[Any], parts: list[int], chunks: tuple[int, ...], group: IntArray,
                 sizes: list[int]) -> Any:
    """Row -> final micro-cluster, one lazy block per input partition."""
    import dask.array
    from dask.delayed import delayed

    da: Any = dask.array  # (untyped)

    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    of_part = dict(zip(parts, range(len(parts))))
    pieces = []
    for p, rows in enumerate(chunks):
        if rows == 0:
            pieces.append(da.zeros((0,), dtype=np.int64, chunks=(0,)))
            continue
        k = of_part[p]
        mapping = group[starts[k]:starts[k + 1]]
        pieces.append(da.from_delayed(delayed(_final_labels)(micro[k], mapping), shape=(rows,), dtype=np.int64))
    # concatenate drops empty blocks: the rechunk puts them back (the others stay as they are)
    return da.concatenate(pieces).rechunk((chunks,))


# ----------------------------------------------------------------------------- worker tasks


def _micro(block: Any, m_max: int | None, threshold: float | None, branching: int) -> tuple[Any, ...]:
    """Worker task: one partition's micro-clusters (labels, counts, means, ssd, threshold)."""
    from .._kernels import cftree as _cf
    from ..summary import _birch

    X = np.ascontiguousarray(block, dtype=np.float64)
    w = np.ones(X.shape[0])
    labels, m, used = _birch(X, w, None if m_max is None else min(m_max, X.shape[0]), threshold, branching, None)
    counts, means, ssd = _cf.group_stats(X, w, labels, m)
    return labels, counts, means, ssd, used


def _stats_of(result: tuple[Any, ...]) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """Worker task: the small part of a partition's result (what the client gathers)."""
    return result[1], result[2], result[3], float(result[4])


def _total_ss(block: Any, centre: FloatArray) -> float:
    """Worker task: the partition's sum of squared distances to ``centre``."""
    from .._kernels import cftree as _cf

    X = np.ascontiguousarray(block, dtype=np.float64)
    if X.shape[0] == 0:
        return 0.0
    return float(_cf.total_ss(X, np.ones(X.shape[0]), np.ascontiguousarray(centre)))


def _final_labels(result: tuple[Any, ...], mapping: IntArray) -> IntArray:
    return mapping[result[0]]

