"""What the Dask tiers share: the client, the input as row blocks, the checks of every block."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._typing import FloatArray

#: Seconds to wait for a scheduler given by its address, unless told otherwise.
CONNECT_TIMEOUT = 10.0


def resolve_client(client: Any, timeout: float) -> tuple[Any, bool]:
    """(client, owned): the given Client, one connected to the given address, or the default one.

    ``owned`` is True when this call opened the connection (the caller closes it).
    """
    from distributed import Client, get_client

    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}.")
    if client is None:
        try:
            return get_client(), False
        except ValueError:
            raise ValueError(
                "hclust.dask needs a dask.distributed cluster: pass client= (a Client or a scheduler "
                "address such as 'tcp://host:8786'), or create a Client first, e.g. "
                "distributed.Client(distributed.LocalCluster())."
            ) from None
    if isinstance(client, str):
        connect: Any = Client  # (untyped)
        try:
            return connect(client, timeout=timeout, set_as_default=False), True
        except (OSError, TimeoutError) as error:
            raise ConnectionError(
                f"No Dask scheduler answered at {client!r} within {timeout:g} s ({error}). Check the "
                "address and that the scheduler runs, or allow longer with timeout=."
            ) from None
    if isinstance(client, Client):
        return client, False
    raise TypeError(f"client must be a distributed.Client, a scheduler address or None; got {type(client).__name__}.")


def as_row_blocks(X: Any, client: Any = None) -> tuple[Any, list[Any] | None]:
    """``X`` as a 2-D dask array with one chunk across the columns and known row counts.

    Returns (array, column names or None). A dask DataFrame must have numeric
    columns only; its partitions become the row blocks. Unknown row counts are
    computed by ``client`` (the cluster that holds the data) when given, else
    by Dask's default scheduler.
    """
    import dask.array as da

    columns = None
    if _is_dask_dataframe(X):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        bad = [str(c) for c, t in X.dtypes.items() if not (is_numeric_dtype(t) or is_bool_dtype(t))]
        if bad:
            raise TypeError(
                f"X has non-numeric columns: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}; "
                "select the numeric columns (or encode them) first."
            )
        columns = list(X.columns)
        # the row counts of the array's own blocks: Dask's optimiser may read a projection such
        # as map_partitions(len) in fewer, larger partitions (e.g. Parquet files combined)
        X = X.optimize()
        if client is not None:
            X = X.to_dask_array(lengths=partition_lengths(X, client))
        else:
            X = X.to_dask_array()
    else:
        check_collection(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows x features); got {X.ndim} dimension(s).")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers; got dtype {X.dtype}.")
    if X.shape[1] == 0:
        raise ValueError("X has no features (0 columns).")
    if any(math.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes() if client is None else _with_row_counts(X, client)
    return X.rechunk({1: -1}), columns


def partition_lengths(frame: Any, client: Any, progress: Any = None) -> list[int]:
    """Rows of each partition of a dask DataFrame (or Series), counted by ``client``'s workers.

    ``frame`` should be optimised already (``frame.optimize()``): its partitions
    are then the ones later tasks see.
    """
    from dask.delayed import delayed

    return [int(v) for v in gather_tracked(client, [delayed(len)(p) for p in frame.to_delayed()], progress)]


def _with_row_counts(X: Any, client: Any) -> Any:
    """The dask array ``X`` with its unknown row counts computed by ``client`` (same blocks)."""
    import dask.array
    from dask.delayed import delayed

    da: Any = dask.array  # (untyped)
    grid = X.to_delayed()

    rows = gather_tracked(client, [delayed(_rows)(b) for b in grid[:, 0]])
    widths = X.chunks[1]
    return da.block([[da.from_delayed(grid[i, j], shape=(int(rows[i]), int(widths[j])), dtype=X.dtype)
                      for j in range(grid.shape[1])] for i in range(grid.shape[0])])


def _rows(block: Any) -> int:
    return int(block.shape[0])


def gather_tracked(client: Any, tasks: list[Any], progress: Any = None, offset: int = 0, total: int | None = None) -> list[Any]:
    """Compute the dask ``tasks`` on ``client``; their results in order.

    ``progress(done, total)`` is called as each task's future completes on the
    cluster (``distributed.as_completed``: the scheduler's own completion
    events), ``done`` counted from ``offset`` and ``total`` defaulting to
    ``offset + len(tasks)``: several calls can feed one progress bar.
    """
    import distributed

    as_completed: Any = distributed.as_completed  # (untyped)
    futures = client.compute(tasks)
    if progress is not None:
        end = offset + len(futures) if total is None else total
        progress(offset, end)
        for done, _ in enumerate(as_completed(futures, loop=client.loop), 1):
            progress(offset + done, end)
    return list(client.gather(futures))


def check_collection(X: Any) -> None:
    """TypeError unless ``X`` is a dask array or a dask DataFrame (no computation)."""
    import dask.array as da

    if not (_is_dask_dataframe(X) or isinstance(X, da.Array)):
        raise TypeError(
            f"X must be a dask array or a dask DataFrame; got {type(X).__name__}. "
            "For data in memory use hclust.linkage / hclust.summarize."
        )


def _is_dask_dataframe(X: Any) -> bool:
    module = type(X).__module__
    if not (module.startswith("dask") and hasattr(X, "dtypes") and hasattr(X, "to_dask_array")):
        return False
    import dask.dataframe as dd

    return isinstance(X, dd.DataFrame)


@dataclass(frozen=True)
class BlockInfo:
    """Rows, first non-finite row (-1: none) and its column, and bounding box of one block."""

    rows: int
    bad_row: int
    low: FloatArray
    high: FloatArray
    bad_column: int = -1


def check_block(block: Any) -> BlockInfo:
    """Worker task: the block's BlockInfo (float64 rows)."""
    from .._kernels.partitioned import first_non_finite

    X = np.ascontiguousarray(block, dtype=np.float64)
    if X.shape[0] == 0:
        return BlockInfo(0, -1, np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf))
    bad = int(first_non_finite(X))
    if bad >= 0:
        column = int(np.flatnonzero(~np.isfinite(X[bad]))[0])
        return BlockInfo(X.shape[0], bad, np.zeros(0), np.zeros(0), column)
    return BlockInfo(X.shape[0], -1, X.min(axis=0), X.max(axis=0))


def raise_on_bad_blocks(infos: list[BlockInfo], offsets: list[int], columns: list[Any] | None) -> None:
    """A clear error naming the first partition and row with a NaN or an infinity."""
    for p, info in enumerate(infos):
        if info.bad_row >= 0:
            column = repr(columns[info.bad_column]) if columns is not None else info.bad_column
            raise ValueError(
                f"X has NaN or infinite values: partition {p}, row {info.bad_row} of the partition "
                f"(row {offsets[p] + info.bad_row} overall), column {column}. Drop or impute them "
                "before clustering."
            )


def block_offsets(chunks: tuple[int, ...]) -> list[int]:
    """First global row of each block."""
    return [0, *np.cumsum(chunks).tolist()][:-1]


def check_scale(infos: list[BlockInfo], columns: list[Any] | None) -> None:
    """Refuse data whose squared distances would overflow, as hclust.linkage does."""
    lows = [i.low for i in infos if i.rows]
    highs = [i.high for i in infos if i.rows]
    span = np.max(highs, axis=0) - np.min(lows, axis=0)
    with np.errstate(over="ignore"):
        total = float(np.sum((span / 2.0) ** 2)) * 4.0
    if not math.isfinite(total) or not all(math.isfinite(float(s)) for s in span):
        raise ValueError(
            "X's values are too large: squared distances between rows would overflow float64. "
            "Rescale the features (e.g. standardise them) first."
        )
