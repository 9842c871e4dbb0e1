"""Summary tier on a Dask cluster: micro-clusters per partition, one exact tree, every row labelled lazily."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import FloatArray, IntArray, ProgressCallback
from ..summary import Summary, SummaryQuality
from ._common import (
    CONNECT_TIMEOUT,
    as_row_blocks,
    block_offsets,
    check_block,
    check_collection,
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
    _source: Any = field(default=None, repr=False, compare=False)
    _client: Any = field(default=None, repr=False, compare=False)

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

    def to_parquet(
        self,
        path: str | os.PathLike[str],
        n_clusters: int,
        *,
        id_column: Any = None,
        names: Sequence[str] | Mapping[int, str] | None = None,
        client: Any = None,
    ) -> Path:
        """Write every row's segment to a Parquet folder, one file per input partition.

        The rows are written by the workers (Dask's own ``to_parquet``) into a
        temporary folder beside ``path``, which is then renamed to ``path``:
        readers see the old folder or the new one, never half of one. A marker
        file ``_hclust_segments.json`` (ignored by Parquet readers) names the
        folder as hclust's output, so that a later call may replace it.

        Parameters
        ----------
        path : str or os.PathLike
            The output folder, on storage that the workers and this process
            share (a local or mounted path). It must not exist, be empty, or
            be a previous output of this method.
        n_clusters : int
            Number of segments, 1..``n_micro``.
        id_column : str or dask Series, optional
            The customer ID written beside the segment: the name of a column
            of the input (a dask DataFrame), or a dask Series with the
            input's partitions (e.g. ``frame["id"]`` when only the feature
            columns were summarised).
        names : sequence of str or mapping {segment: name}, optional
            Segment names, written as ``segment_name``.
        client : distributed.Client, optional
            The cluster that writes; default: the one given to
            :func:`summarize`, else the default Client.

        Returns
        -------
        pathlib.Path
            The folder written (``part.<i>.parquet`` for input partition i).

        Raises
        ------
        ValueError
            ``path`` is a file, a non-empty folder that is not hclust's
            output, or a folder the input is read from; an unknown ID column,
            an ID Series with another number of rows, names of the wrong
            length; ``n_clusters`` out of range.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np, pandas as pd, dask.dataframe as dd
        >>> from distributed import Client, LocalCluster
        >>> import hclust.dask
        >>> rng = np.random.default_rng(0)
        >>> table = pd.DataFrame({"customer": np.arange(1000),
        ...                       "spend": np.r_[rng.normal(0, 1, 500), rng.normal(20, 1, 500)]})
        >>> frame = dd.from_pandas(table, npartitions=3)
        >>> folder = os.path.join(tempfile.mkdtemp(), "segments")
        >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=None,
        ...                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \\
        ...         Client(cluster) as client:
        ...     s = hclust.dask.summarize(frame[["spend"]], n_micro=40, client=client)
        ...     _ = s.to_parquet(folder, 2, id_column=frame["customer"], names=["low", "high"])
        >>> out = pd.read_parquet(folder)
        >>> sorted(os.listdir(folder))
        ['_hclust_segments.json', 'part.0.parquet', 'part.1.parquet', 'part.2.parquet']
        >>> list(out.columns), len(out), out.groupby("segment_name")["customer"].count().tolist()
        (['customer', 'segment', 'segment_name'], 1000, [500, 500])
        """
        return _to_parquet(self, path, n_clusters, id_column, names, client)


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
    import distributed
    from dask.delayed import delayed

    from .._kernels import cftree as _cf
    from .._validation import check_option
    from ..summary import SUMMARY_METHODS, _check_sizes

    method = check_option(method, "method", SUMMARY_METHODS)
    if isinstance(branching_factor, bool) or not isinstance(branching_factor, (int, np.integer)) or branching_factor < 2:
        raise ValueError(f"branching_factor must be an integer >= 2; got {branching_factor!r}.")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")
    check_collection(X)
    client, owned = resolve_client(client, timeout)
    try:
        array, columns = as_row_blocks(X, client)  # unknown row counts: counted by the client's workers
        chunks = tuple(int(c) for c in array.chunks[0])
        n = sum(chunks)
        if n < 2:
            raise ValueError(f"X has {n} observation{'s' if n != 1 else ''}; at least 2 are needed.")
        m_max, t = _check_sizes(n_micro, threshold, n, "birch")
        if m_max is None and t is None:
            m_max = min(n, 10_000)
        offsets = block_offsets(chunks)
        blocks = array.to_delayed().ravel().tolist()
        infos = client.gather(client.compute([delayed(check_block)(b) for b in blocks]))
        raise_on_bad_blocks(infos, offsets, columns)
        check_scale(infos, columns)
        parts = [p for p in range(len(chunks)) if chunks[p] > 0]
        micro = client.compute([delayed(_micro)(blocks[p], m_max, t, int(branching_factor)) for p in parts])
        stats = [client.submit(_stats_of, f, pure=False) for f in micro]
        if progress is not None:
            # as the cluster finishes partitions (the scheduler's completion events), in any order
            progress(0, len(parts))
            completed: Any = distributed.as_completed  # (untyped)
            for done, _ in enumerate(completed(stats, loop=client.loop), 1):
                progress(done, len(parts))
        got = [future.result() for future in stats]  # in partition order (the client's own, not the default)
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
                           method=method, _parts=tuple(micro), _source=X, _client=None if owned else client)
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



# ----------------------------------------------------------------------------- Parquet output

#: The file that marks a folder as written by DaskSummary.to_parquet (Parquet readers skip "_" files).
PARQUET_MARKER = "_hclust_segments.json"


def _to_parquet(s: DaskSummary, path: Any, n_clusters: int, id_column: Any, names: Any, client: Any) -> Path:
    """DaskSummary.to_parquet: see there."""
    labels = s.labels(n_clusters)  # checks n_clusters
    return write_segments(labels, s._source, path, n_clusters, id_column, names,
                          client if client is not None else s._client)


def write_segments(labels: Any, source: Any, path: Any, n_clusters: int, id_column: Any, names: Any,
                   client: Any, progress: ProgressCallback | None = None) -> Path:
    """Every row's segment (the lazy int64 dask array ``labels``, -1: a row without one) to a
    Parquet folder, one file per partition, atomically; ``source``: the input the labels follow.

    ``progress(done, total)``: the labels' partitions as the cluster finishes them (they are
    then held on the workers, 8 bytes a row, while the files are written).
    """
    import dask.dataframe as dd
    import distributed
    from dask.delayed import delayed

    if isinstance(path, str) and "://" in path:
        raise ValueError(f"path must be a local or mounted folder that the workers share; got {path!r}.")
    target = Path(os.fspath(path))
    chunks = tuple(int(c) for c in labels.chunks[0])
    name_list = _segment_names(names, int(n_clusters))
    ids, id_name = _id_series(source, id_column)
    _check_parquet_target(target, _input_paths(source) + _input_paths(ids))
    client, owned = resolve_client(client, CONNECT_TIMEOUT)
    try:
        if progress is not None:
            labels = client.persist(labels)
            futures_of: Any = distributed.futures_of  # (untyped)
            futures = futures_of(labels)
            completed: Any = distributed.as_completed  # (untyped)
            progress(0, len(futures))
            for done, _ in enumerate(completed(futures, loop=client.loop), 1):
                progress(done, len(futures))
        id_parts: list[Any] = [None] * len(chunks)
        if ids is not None:
            # Dask may read a column alone in fewer, larger partitions than the features: the
            # labels follow the IDs' partitions (same rows in the same order, other cuts)
            id_parts = list(ids.to_delayed())
            lengths = tuple(int(x) for x in client.gather(client.compute([delayed(len)(q) for q in id_parts])))
            if sum(lengths) != sum(chunks):
                raise ValueError(
                    f"The ID column has {sum(lengths)} rows and the summarised input {sum(chunks)}: "
                    "take the IDs from the same frame as the features."
                )
            labels = labels.rechunk((lengths,))
        blocks = labels.to_delayed().ravel().tolist()
        meta = _segment_frame(None if ids is None else ids._meta, np.zeros(0, dtype=np.int64), name_list, id_name, -1)
        parts = [delayed(_segment_frame)(id_parts[p], blocks[p], name_list, id_name, p) for p in range(len(blocks))]
        frame: Any = dd.from_delayed(parts, meta=meta, verify_meta=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            os.chmod(temporary, 0o777 & ~_umask())
            client.compute(frame.to_parquet(str(temporary), write_index=False, compute=False)).result()
            marker = {"writer": "hclust.dask.DaskSummary.to_parquet", "n_clusters": int(n_clusters),
                      "rows": int(sum(chunks)), "partitions": len(chunks), "columns": list(meta.columns)}
            (temporary / PARQUET_MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
            _replace_folder(temporary, target)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
    finally:
        if owned:
            client.close()
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _segment_names(names: Any, k: int) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, Mapping):
        unknown = [key for key in names if not (isinstance(key, (int, np.integer)) and 0 <= key < k)]
        if unknown:
            raise ValueError(f"names has keys that are not segments 0..{k - 1}: {unknown[:5]}.")
        return [str(names.get(i, "")) for i in range(k)]
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a sequence of {k} names or a mapping {{segment: name}}; got {type(names).__name__}.")
    if len(names) != k:
        raise ValueError(f"names has {len(names)} names for {k} segments.")
    return [str(n) for n in names]


def _id_series(source: Any, id_column: Any) -> tuple[Any, str | None]:
    """(dask Series of IDs aligned with the input's partitions or None, its column name)."""
    if id_column is None:
        return None, None
    import dask.dataframe as dd

    if isinstance(id_column, str):
        if not isinstance(source, dd.DataFrame):
            raise ValueError(
                f"id_column={id_column!r} names a column, but the summarised input was not a dask DataFrame; "
                "pass the IDs as a dask Series with the input's partitions instead."
            )
        if id_column not in source.columns:
            raise ValueError(
                f"The input has no column {id_column!r}; its columns are {list(map(str, source.columns))}. "
                "Pass the IDs as a dask Series (e.g. frame['id']) when only the features were summarised."
            )
        ids = source[id_column]
    elif isinstance(id_column, dd.DataFrame) and len(id_column.columns) == 1:
        ids = id_column[id_column.columns[0]]
    elif isinstance(id_column, dd.Series):
        ids = id_column
    else:
        raise TypeError(f"id_column must be a column name or a dask Series; got {type(id_column).__name__}.")
    name = ids.name if ids.name is not None else "id"
    if str(name) in ("segment", "segment_name"):
        raise ValueError(f"The ID column may not be called {name!r} (an output column).")
    return ids, str(name)


def _segment_frame(ids: Any, labels: IntArray, names: list[str] | None, id_name: str | None, p: int) -> Any:
    """Worker task: one partition's output table (ID, segment, segment_name)."""
    import pandas as pd

    columns: dict[str, Any] = {}
    if id_name is not None:
        if len(ids) != len(labels):
            raise ValueError(
                f"The ID Series' partition {p} has {len(ids)} rows and the input's {len(labels)}: "
                "take the IDs from the same frame as the features."
            )
        columns[id_name] = ids.reset_index(drop=True)  # (its own dtype)
    columns["segment"] = np.asarray(labels, dtype=np.int64)
    if names is not None:
        # segment -1 (a row the preparation dropped) indexes the appended "": no name
        columns["segment_name"] = pd.Series(np.asarray([*names, ""], dtype=object)[columns["segment"]]
                                            if len(labels) else np.zeros(0, dtype=object), dtype=object)
    return pd.DataFrame(columns)


def _input_paths(collection: Any) -> list[Path]:
    """The files or folders a dask DataFrame is read from (as far as its expression says)."""
    expr = getattr(collection, "expr", None)
    if expr is None or not hasattr(expr, "walk"):
        return []
    found: list[Path] = []
    for node in expr.walk():
        for name in ("path", "filename", "urlpath", "paths"):
            try:
                value = node.operand(name)
            except (KeyError, ValueError, AttributeError, IndexError):
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, (str, os.PathLike)) and "://" not in os.fspath(v):
                    found.append(Path(os.fspath(v)))
    return found


def _check_parquet_target(target: Path, inputs: list[Path]) -> None:
    """Refuse a file, a foreign non-empty folder, or a folder that holds the input."""
    here = target.resolve()
    for source in inputs:
        # a glob such as 'folder/*.parquet': its folder part
        while any(c in source.name for c in "*?["):
            source = source.parent
        src = source.resolve()
        if src == here or here in src.parents:
            raise ValueError(f"The output {target} holds the input ({source}); choose another folder.")
    if target.exists() and not target.is_dir():
        raise ValueError(f"The output {target} is a file; give a folder name.")
    if target.is_dir():
        content = os.listdir(target)
        if content and PARQUET_MARKER not in content:
            raise ValueError(
                f"The output folder {target} is not empty and was not written by hclust; "
                "choose a new or empty folder (nothing was written)."
            )


def _replace_folder(new: Path, target: Path) -> None:
    """Move the finished folder ``new`` to ``target`` (an absent, empty or previous output folder)."""
    from ..io import fsync_dir

    if target.is_dir():
        if os.listdir(target):
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
            try:
                os.rename(new, target)
            except BaseException:
                os.rename(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rmdir(target)
            os.rename(new, target)
    else:
        os.rename(new, target)
    fsync_dir(target.parent)
