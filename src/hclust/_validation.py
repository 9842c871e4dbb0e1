"""Input checks shared by the public functions.

Kernels trust their input; everything that reaches them passes through here
first, so that bad input fails early with a message that says what is wrong
and where, and the caller's data is never modified.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Iterable, Sequence, TypeGuard

import numpy as np

from ._config import memory_fraction, num_threads
from ._typing import FloatArray


class InsufficientMemoryError(MemoryError):
    """An allocation would not fit in the memory that is available now."""


def _describe_position(array: np.ndarray, flat_index: int, columns: Sequence[Any] | None) -> str:
    if array.ndim == 1:
        return f"position {flat_index}"
    row, col = (int(i) for i in np.unravel_index(flat_index, array.shape))
    column = f"column {col}"
    if columns is not None:
        column = f"column {col} ({columns[col]!r})"
    return f"row {row}, {column}"


def no_progress(what: str) -> RuntimeError:
    """The error a merge loop raises when it cannot make progress (never on validated data)."""
    return RuntimeError(
        f"hclust internal error: the {what} linkage loop could not find a merge (non-finite "
        "distances reached a kernel). Please report this with the data that caused it."
    )


def check_finite(array: np.ndarray, name: str, columns: Sequence[Any] | None = None) -> None:
    """Raise ``ValueError`` naming the first NaN or infinite entry of ``array``."""
    finite = np.isfinite(array)
    if finite.all():
        return
    flat_index = int(np.flatnonzero(~finite.ravel())[0])
    value = array.ravel()[flat_index]
    kind = "NaN" if np.isnan(value) else "an infinite value"
    raise ValueError(
        f"{name} contains {kind} at {_describe_position(array, flat_index, columns)}; "
        f"{int((~finite).sum())} entries in all are not finite. Remove or impute them first "
        "(hclust.segment.Preparer imputes), or use metric='gower', which skips missing values."
    )


def _numeric_frame(frame: Any, name: str) -> tuple[np.ndarray, list[Any]]:
    import pandas as pd

    columns = list(frame.columns)
    bad = [
        col
        for col in columns
        if not (pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]))
    ]
    if bad:
        raise TypeError(
            f"{name} has non-numeric columns {bad}; numeric metrics need numbers. "
            "Use metric='gower' for mixed data, encode them (hclust.segment.Preparer), "
            "or select the numeric columns."
        )
    try:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} could not be converted to float64: {exc}") from None
    return values, columns


def as_float_array(X: Any, name: str = "X") -> tuple[np.ndarray, list[Any] | None]:
    """Convert array-likes and DataFrames to a float64 ndarray, refusing non-numeric data."""
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        return _numeric_frame(X, name)
    if hasattr(X, "to_numpy") and hasattr(X, "dtype"):  # a pandas Series
        X = X.to_numpy()
    array = np.asarray(X)
    if array.dtype.kind in "biuf":
        return np.asarray(array, dtype=np.float64), None
    if array.dtype.kind == "c":
        raise TypeError(f"{name} is complex; distances need real numbers.")
    if array.dtype.kind == "O":
        try:
            converted = np.asarray(array, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(
                (
                    (index, value)
                    for index, value in np.ndenumerate(array)
                    if not isinstance(value, (int, float, np.number, bool, np.bool_))
                ),
                None,
            )
            where = f" (first at index {bad[0]}: {bad[1]!r})" if bad else ""
            raise TypeError(
                f"{name} contains values that are not numbers{where}. "
                "Use metric='gower' for mixed data or encode the categories first."
            ) from None
        return converted, None
    raise TypeError(
        f"{name} has dtype {array.dtype}, which is not numeric. "
        "Use metric='gower' for mixed data or encode the categories first."
    )


def as_observations(X: Any, name: str = "X", min_samples: int = 2) -> FloatArray:
    """Return ``X`` as a C-contiguous float64 (n, d) matrix of finite numbers.

    The result may share memory with ``X``; callers must not write to it.
    """
    array, columns = as_float_array(X, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D observation matrix (n_samples, n_features); got shape {array.shape}."
        )
    n, d = array.shape
    if n < min_samples:
        raise ValueError(
            f"{name} has {n} observation{'s' if n != 1 else ''}; at least {min_samples} are needed."
        )
    if d == 0:
        raise ValueError(f"{name} has no features (shape {array.shape}).")
    check_finite(array, name, columns)
    return np.ascontiguousarray(array, dtype=np.float64)


def n_from_condensed_length(m: int, name: str = "y") -> int:
    """Number of observations ``n`` with ``n (n - 1) / 2 == m``; a clear error otherwise."""
    n = int(round((1.0 + math.sqrt(1.0 + 8.0 * m)) / 2.0))
    if n * (n - 1) // 2 != m:
        lower = int((1.0 + math.sqrt(1.0 + 8.0 * m)) / 2.0)
        below, above = lower * (lower - 1) // 2, (lower + 1) * lower // 2
        raise ValueError(
            f"{name} has length {m}, which is not n*(n-1)/2 for any n, so it is not a condensed "
            f"distance matrix (the nearest valid lengths are {below} for n={lower} and {above} "
            f"for n={lower + 1}). Pass a square matrix with metric='precomputed', or observations."
        )
    return n


def as_condensed(y: Any, name: str = "y") -> tuple[FloatArray, int]:
    """Validate a condensed distance vector; return it as float64 and the number of points."""
    array, _ = as_float_array(y, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (a condensed distance vector); got shape {array.shape}.")
    n = n_from_condensed_length(array.shape[0], name)
    if n < 2:
        raise ValueError(f"{name} is empty: at least 2 observations (1 distance) are needed.")
    array = np.ascontiguousarray(array, dtype=np.float64)
    scan_distances(array, name, n)
    return array, n


#: Entries per block when scanning a condensed matrix: two reductions per block,
#: no temporary as large as the matrix.
_SCAN_BLOCK = 1 << 20


def scan_distances(y: FloatArray, name: str, n: int, metric: Any = None, X: Any = None) -> float:
    """Largest entry of a condensed distance vector; a clear error on NaN, inf or negatives.

    Scans in blocks (no temporary of the matrix's size). ``metric`` and ``X``,
    when the distances were computed from observations, let the message name
    the metric, the pair of rows and why the metric is undefined for them.
    """
    largest = 0.0
    for start in range(0, y.shape[0], _SCAN_BLOCK):
        block = y[start : start + _SCAN_BLOCK]
        high = float(block.max())
        low = float(block.min())
        if math.isfinite(high) and low >= 0.0:
            largest = max(largest, high)
            continue
        bad = ~np.isfinite(block)
        if bad.any():
            k = start + int(np.flatnonzero(bad)[0])
            i, j = condensed_to_pair(k, n)
            total = sum(int((~np.isfinite(y[s : s + _SCAN_BLOCK])).sum()) for s in range(0, y.shape[0], _SCAN_BLOCK))
            if metric is not None:
                raise ValueError(_undefined_distance(metric, X, i, j, float(y[k]), total))
            kind = "NaN" if math.isnan(float(y[k])) else "an infinite value"
            raise ValueError(
                f"{name} contains {kind} at position {k} (observations {i} and {j}); {total} "
                "distances in all are not finite. Remove or impute them first."
            )
        k = start + int(np.flatnonzero(block < 0)[0])
        i, j = condensed_to_pair(k, n)
        raise ValueError(
            f"{name} has negative distances (first: {y[k]!r} between observations {i} and {j})."
        )
    return largest


def _undefined_distance(metric: Any, X: Any, i: int, j: int, value: float, total: int) -> str:
    """Why ``metric`` gave a non-finite distance between rows i and j of X (one line)."""
    name = metric if isinstance(metric, str) else getattr(metric, "__name__", "the metric function")
    what = "NaN" if math.isnan(value) else str(value)
    head = f"metric={name!r} gives {what} between rows {i} and {j} ({total} distance(s) in all are not finite)"
    hint = "Check the metric function, or drop or rescale those rows."
    if X is not None and isinstance(metric, str):
        rows = np.asarray(X)[[i, j]]
        zero = [r for r, row in zip((i, j), rows) if not row.any()]
        constant = [r for r, row in zip((i, j), rows) if (row == row[0]).all()]
        if metric in ("cosine", "cos") and zero:
            hint = (f"row {zero[0]} is all zeros, which has no direction: drop all-zero rows "
                    "(or add a constant feature), or use another metric.")
        elif metric in ("correlation", "co") and constant:
            hint = (f"row {constant[0]} is constant (zero variance across features), so its "
                    "correlation is undefined: drop constant rows, or use another metric.")
        elif metric == "braycurtis":
            hint = ("braycurtis divides by sum |u + v|, which is 0 for this pair: drop all-zero "
                    "rows (or rows that are exact negatives of each other), or use another metric.")
        else:
            hint = ("the values are too large for this metric's sums in float64: scale the "
                    "columns (for instance standardise them), or use another metric.")
    return f"{head}: {hint}"


def condensed_to_pair(k: int, n: int) -> tuple[int, int]:
    """The pair ``(i, j)``, ``i < j``, stored at index ``k`` of a condensed vector."""
    i = int(n - 2 - int(math.sqrt(-8 * k + 4 * n * (n - 1) - 7) / 2.0 - 0.5))
    j = int(k + i + 1 - n * (n - 1) // 2 + (n - i) * ((n - i) - 1) // 2)
    return i, j


def square_to_condensed(D: Any, name: str = "X") -> tuple[FloatArray, int]:
    """Validate a square distance matrix and return its condensed upper triangle."""
    array, _ = as_float_array(D, name)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(
            f"metric='precomputed' needs a square distance matrix; {name} has shape {array.shape}."
        )
    n = array.shape[0]
    if n < 2:
        raise ValueError(f"{name} has {n} observation(s); at least 2 are needed.")
    # Row blocks: no temporary as large as the matrix (the square input already is;
    # index arrays or |D - D.T| would each cost as much again).
    block = max(1, (1 << 22) // n)
    scale = 0.0
    for r0 in range(0, n, block):
        rows = array[r0 : r0 + block]
        if not np.isfinite(rows).all():
            _raise_at(array, r0, rows, name)
        scale = max(scale, float(np.abs(rows).max()))
    scale = scale or 1.0
    tol = 1e-12 * scale
    diagonal = np.abs(np.diagonal(array))
    if (diagonal > tol).any():
        i = int(np.flatnonzero(diagonal > tol)[0])
        raise ValueError(
            f"{name} is not a distance matrix: its diagonal must be 0, but {name}[{i}, {i}] = {array[i, i]!r}."
        )
    condensed = np.empty(n * (n - 1) // 2)
    start = 0
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        rows = array[r0:r1]
        asym = np.abs(rows - array[:, r0:r1].T)
        if (asym > tol).any():
            i, j = (int(k) for k in np.unravel_index(int(np.argmax(asym)), asym.shape))
            i += r0
            raise ValueError(
                f"{name} is not symmetric: {name}[{i}, {j}] = {array[i, j]!r} but "
                f"{name}[{j}, {i}] = {array[j, i]!r}."
            )
        if (rows < 0).any():
            i, j = (int(k) for k in np.unravel_index(int(np.flatnonzero(rows.ravel() < 0)[0]), rows.shape))
            i += r0
            raise ValueError(f"{name} has negative distances (first: {name}[{i}, {j}] = {array[i, j]!r}).")
        for i in range(r0, r1):
            length = n - 1 - i
            condensed[start : start + length] = array[i, i + 1 :]
            start += length
    return condensed, n


def _raise_at(array: np.ndarray, r0: int, rows: np.ndarray, name: str) -> bool:
    """check_finite on a block of rows, with the message's row numbers in the whole matrix."""
    bad = np.flatnonzero(~np.isfinite(rows.ravel()))
    i, j = np.unravel_index(int(bad[0]), rows.shape)
    value = rows[i, j]
    kind = "NaN" if np.isnan(value) else "an infinite value"
    total = int((~np.isfinite(array)).sum())
    raise ValueError(
        f"{name} contains {kind} at row {r0 + i}, column {j}; {total} entries in all are not finite. "
        "Remove or impute them first (hclust.segment.Preparer imputes), or use metric='gower', "
        "which skips missing values."
    )


#: Largest magnitude a kernel's sums and products may reach: a few sums of
#: such terms still fit in float64 (max 1.8e308), so nothing overflows to inf
#: (and inf - inf to NaN) inside a kernel.
SAFE_MAGNITUDE = 1e300
_LOG_SAFE = math.log10(SAFE_MAGNITUDE)

#: Weights (counts) between these bounds: products of two weights and a
#: distance neither overflow nor vanish.
WEIGHT_MIN = 1e-150
WEIGHT_TOTAL_MAX = 1e150


def _log10(value: float) -> float:
    return math.log10(value) if value > 0.0 else -math.inf


def column_spans(X: FloatArray, absolute: bool = False) -> tuple[FloatArray, np.ndarray]:
    """Per-column ``max - min`` (or ``max |x|``), halved so it cannot overflow; and the rows
    holding each column's (min, max)."""
    low = X.min(axis=0)
    high = X.max(axis=0)
    rows = np.stack([X.argmin(axis=0), X.argmax(axis=0)])
    if absolute:
        half = np.maximum(np.abs(low), np.abs(high)) * 0.5
    else:
        half = high * 0.5 - low * 0.5
    return half, rows


def log10_norm(half_spans: FloatArray, power: float) -> float:
    """log10 of ``sum_j (2 s_j)^power`` (power 0: ``max_j 2 s_j``), without overflow."""
    top = float(half_spans.max()) if half_spans.size else 0.0
    if top <= 0.0:
        return -math.inf
    if power == 0:
        return _log10(top) + math.log10(2.0)
    ratio = float(np.sum((half_spans / top) ** power))
    return power * (_log10(top) + math.log10(2.0)) + _log10(ratio)


def refuse_scale(
    X: FloatArray,
    log_value: float,
    what: str,
    name: str = "X",
    columns: Sequence[Any] | None = None,
    absolute: bool = False,
) -> None:
    """Raise ``ValueError`` when ``10 ** log_value`` would exceed :data:`SAFE_MAGNITUDE`,
    naming the widest column of ``X`` and the rows holding its extremes."""
    if log_value <= _LOG_SAFE:
        return
    half, rows = column_spans(X, absolute)
    col = int(np.argmax(half))
    label = f"column {col}" + (f" ({columns[col]!r})" if columns is not None else "")
    lo_row, hi_row = int(rows[0, col]), int(rows[1, col])
    raise ValueError(
        f"{name} {label} ranges from {X[lo_row, col]:.3g} (row {lo_row}) to {X[hi_row, col]:.3g} "
        f"(row {hi_row}): {what} would reach about 1e{int(log_value)}, beyond float64's range. "
        "Scale the columns (for instance standardise them: hclust.segment.Preparer(scale="
        "'standard')), or remove the extreme rows."
    )


def check_squares(X: FloatArray, what: str, name: str = "X", total_weight: float | None = None) -> None:
    """Refuse observations whose squares, summed over the features and the rows (or their
    weights), would overflow: the sums of squares of k-means, BIRCH's clustering
    features, within-cluster sums of squares."""
    half, _ = column_spans(X, absolute=True)
    weight = float(X.shape[0]) if total_weight is None else float(total_weight)
    refuse_scale(X, log10_norm(half, 2.0) + math.log10(max(weight, 1.0)), what, name=name, absolute=True)


def check_feature_weights(weights: Iterable[tuple[Any, Any]], name: str) -> list[float]:
    """Feature (column) weights as (name, weight) pairs: finite and non-negative (0 drops a
    feature); the error names every bad one. Observation weights are :func:`check_weights`'s."""
    values: list[float] = []
    bad: list[tuple[Any, Any]] = []
    for key, value in weights:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            bad.append((key, value))
        values.append(number)
    if bad:
        raise ValueError(f"{name} must be finite and non-negative; got {dict(bad)}.")
    return values


def check_weights(weights: Any, n: int, name: str = "weights") -> FloatArray:
    """Observation weights (counts): 1-D, one per observation, finite and within
    [WEIGHT_MIN, WEIGHT_TOTAL_MAX] in total, so weighted sums cannot overflow or vanish."""
    w, _ = as_float_array(weights, name)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one per observation; got {w.shape}.")
    if not np.isfinite(w).all():
        raise ValueError(f"{name} must be finite; position {int(np.flatnonzero(~np.isfinite(w))[0])} is not.")
    if (w <= 0).any():
        first = int(np.flatnonzero(w <= 0)[0])
        raise ValueError(
            f"{name} must be positive; {name}[{first}] = {w[first]!r}. Drop observations of weight 0."
        )
    total = float(np.sum(w * (1.0 / WEIGHT_TOTAL_MAX))) * WEIGHT_TOTAL_MAX  # no overflow
    smallest = float(w.min())
    if smallest < WEIGHT_MIN or not total <= WEIGHT_TOTAL_MAX:
        where = (
            f"the smallest, {name}[{int(np.argmin(w))}], is {smallest:.3g}"
            if smallest < WEIGHT_MIN
            else f"they sum to {total:.3g}"
        )
        raise ValueError(
            f"{name} must lie between {WEIGHT_MIN:g} and a total of {WEIGHT_TOTAL_MAX:g} (products of "
            f"weights and distances must fit in float64); {where}. Divide them by a common "
            "factor: only their ratios matter (ward heights scale with its square root)."
        )
    return np.ascontiguousarray(w, dtype=np.float64)


def available_memory() -> int:
    """Bytes of memory available to a new allocation now.

    The smaller of the system's MemAvailable and, inside a container, what
    its cgroup (v2 ``memory.max``, or v1 ``memory.limit_in_bytes``) still
    allows; ``HCLUST_MAX_MEMORY`` (bytes) overrides both.
    """
    override = os.environ.get("HCLUST_MAX_MEMORY")
    if override:
        try:
            return int(float(override))
        except ValueError:
            raise ValueError(
                f"HCLUST_MAX_MEMORY must be a number of bytes; got {override!r}."
            ) from None
    available = _meminfo_available()
    limit = _cgroup_room()
    return min(available, limit) if limit is not None else available


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _read_number(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _cgroup_room(root: str = "/sys/fs/cgroup", self_cgroup: str = "/proc/self/cgroup") -> int | None:
    """Bytes this process's cgroup may still allocate (limit - usage), or None if unlimited.

    The process's groups come from /proc/self/cgroup: ``0::/path`` for v2
    (``memory.max`` - ``memory.current``), ``N:memory:/path`` for v1
    (``memory.limit_in_bytes`` - ``memory.usage_in_bytes``; a limit near
    2**63 means none). A container sees its own group as the root.
    """
    v2_group, v1_group = None, None
    try:
        with open(self_cgroup, encoding="ascii") as handle:
            for line in handle:
                parts = line.strip().split(":", 2)
                if len(parts) != 3:
                    continue
                if parts[0] == "0" and parts[1] == "":
                    v2_group = parts[2]
                elif "memory" in parts[1].split(","):
                    v1_group = parts[2]
    except OSError:
        pass
    rooms = []
    if v2_group is not None:
        for folder in (os.path.join(root, v2_group.lstrip("/")), root):
            limit = _read_number(os.path.join(folder, "memory.max"))
            if limit is not None:
                rooms.append(max(0, limit - (_read_number(os.path.join(folder, "memory.current")) or 0)))
                break
    if v1_group is not None:
        for folder in (os.path.join(root, "memory", v1_group.lstrip("/")), os.path.join(root, "memory")):
            limit = _read_number(os.path.join(folder, "memory.limit_in_bytes"))
            if limit is not None and limit < (1 << 60):
                usage = _read_number(os.path.join(folder, "memory.usage_in_bytes")) or 0
                rooms.append(max(0, limit - usage))
                break
    return min(rooms) if rooms else None


def format_bytes(n_bytes: float) -> str:
    """Human-readable size: ``1.6 GB``."""
    value = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000.0 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000.0
    raise AssertionError("unreachable")


def check_memory(n_bytes: float, what: str, alternatives: str) -> None:
    """Refuse, before allocating, an allocation that does not fit in available memory."""
    fraction = memory_fraction()
    budget = available_memory() * fraction
    if n_bytes > budget:
        raise InsufficientMemoryError(
            f"{what} needs {format_bytes(n_bytes)} but only {format_bytes(budget)} is available "
            f"({fraction:.0%} of free memory). {alternatives}"
        )


def check_n_jobs(n_jobs: int | None) -> int:
    """Number of threads to use: None -> ``HCLUST_NUM_THREADS`` or all numba threads,
    negative counts from the end (-1: all)."""
    import numba

    max_threads = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set from the environment at run time
    if n_jobs is None:
        default = num_threads()
        return max_threads if default is None else min(default, max_threads)
    if not is_integer(n_jobs) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None; got {n_jobs!r}.")
    if n_jobs < 0:
        return max(1, max_threads + 1 + int(n_jobs))
    return min(int(n_jobs), max_threads)


def check_option(value: Any, name: str, valid: Sequence[str]) -> str:
    """Check a string option against its valid values; the error lists them."""
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"Unknown {name} {value!r}; valid values are: {', '.join(valid)}.")
    return value


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (a count: of rows, of repetitions, of clusters), as an int."""
    if not is_integer(value) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def is_integer(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is a whole number (Python or NumPy integer), booleans excluded.

    The one integer test of the package: ``True`` is an ``int`` to Python, but never a
    count, a number of clusters or a depth here.
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
