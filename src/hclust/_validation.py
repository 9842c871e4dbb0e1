"""Input checks shared by the public functions.

Kernels trust their input; everything that reaches them passes through here
first, so that bad input fails early with a message that says what is wrong
and where, and the caller's data is never modified.
"""

from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

from ._config import MEMORY_FRACTION
from ._typing import FloatArray


class InsufficientMemoryError(MemoryError):
    """An allocation would not fit in the memory that is available now."""


def _describe_position(array: np.ndarray, flat_index: int, columns: Sequence[Any] | None) -> str:
    if array.ndim == 1:
        return f"position {flat_index}"
    row, col = np.unravel_index(flat_index, array.shape)
    column = f"column {col}"
    if columns is not None:
        column = f"column {col} ({columns[col]!r})"
    return f"row {row}, {column}"


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
    check_finite(array, name)
    if (array < 0).any():
        first = int(np.flatnonzero(array < 0)[0])
        i, j = condensed_to_pair(first, n)
        raise ValueError(
            f"{name} has negative distances (first: {array[first]!r} between observations {i} and {j})."
        )
    return np.ascontiguousarray(array, dtype=np.float64), n


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
    check_finite(array, name)
    scale = float(np.abs(array).max()) or 1.0
    tol = 1e-12 * scale
    diagonal = np.abs(np.diagonal(array))
    if (diagonal > tol).any():
        i = int(np.flatnonzero(diagonal > tol)[0])
        raise ValueError(
            f"{name} is not a distance matrix: its diagonal must be 0, but {name}[{i}, {i}] = {array[i, i]!r}."
        )
    asym = np.abs(array - array.T)
    if (asym > tol).any():
        i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
        raise ValueError(
            f"{name} is not symmetric: {name}[{i}, {j}] = {array[i, j]!r} but "
            f"{name}[{j}, {i}] = {array[j, i]!r}."
        )
    if (array < 0).any():
        i, j = np.unravel_index(int(np.flatnonzero(array.ravel() < 0)[0]), array.shape)
        raise ValueError(f"{name} has negative distances (first: {name}[{i}, {j}] = {array[i, j]!r}).")
    rows, cols = np.triu_indices(n, k=1)
    return np.ascontiguousarray(array[rows, cols]), n


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (MemAvailable on Linux)."""
    override = os.environ.get("HCLUST_MAX_MEMORY")
    if override:
        return int(float(override))
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


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
    budget = available_memory() * MEMORY_FRACTION
    if n_bytes > budget:
        raise InsufficientMemoryError(
            f"{what} needs {format_bytes(n_bytes)} but only {format_bytes(budget)} is available "
            f"({MEMORY_FRACTION:.0%} of free memory). {alternatives}"
        )


def check_n_jobs(n_jobs: int | None) -> int:
    """Number of threads to use: None -> all numba threads, negative counts from the end."""
    import numba

    max_threads = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return max_threads
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None; got {n_jobs!r}.")
    if n_jobs < 0:
        return max(1, max_threads + 1 + int(n_jobs))
    return min(int(n_jobs), max_threads)


def check_option(value: Any, name: str, valid: Sequence[str]) -> str:
    """Check a string option against its valid values; the error lists them."""
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"Unknown {name} {value!r}; valid values are: {', '.join(valid)}.")
    return value
