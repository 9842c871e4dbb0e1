"""Pairwise distances between observations, compatible with ``scipy.spatial.distance``.

:func:`pdist` returns scipy's condensed distance vector and :func:`cdist` the
rectangular matrix between two sets of observations, for every metric of scipy
(:data:`METRICS`; names, aliases and properties come from the table in
:mod:`hclust._metrics`), with the same values as scipy: the same formulas, summed over the
features in the same order (most metrics agree bit for bit). The work runs in
parallel numba kernels, in blocks of rows, so that long runs report progress and
stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from . import _metrics as _table
from ._kernels import distances as _kd
from ._metrics import METRICS
from ._threads import ParallelChooser, numba_threads
from ._typing import FloatArray, ProgressCallback
from ._validation import as_float_array, as_observations, check_memory, check_n_jobs

__all__ = ["METRICS", "cdist", "pdist"]

# feature-pair operations per kernel call: a few milliseconds, so that progress is
# reported often and Ctrl-C is honoured quickly, while the call overhead stays negligible
_WORK_PER_BLOCK = 1 << 24
# smaller outputs are allocated without asking the system for its free memory
_MEMORY_CHECK_MIN_BYTES = 1 << 20
# below this much work, starting the threads costs more than they save
_PARALLEL_MIN_WORK = 1 << 20

_MEMORY_ALTERNATIVES = (
    "Alternatives: single linkage on the observations (hclust.linkage(X, 'single')) "
    "needs no distance matrix (O(n d) memory); micro-cluster summaries "
    "(hclust.summarize) cluster a few thousand weighted representatives instead of "
    "every row; or pass out= a preallocated float64 buffer, e.g. a numpy.memmap on disk."
)


@dataclass(frozen=True)
class _Metric:
    """A validated metric: kernel code and parameters (empty arrays when unused)."""

    name: str
    code: int
    w: FloatArray  # feature weights, ones when unweighted
    weighted: bool
    p: float  # minkowski's p; log(base) for jensenshannon
    V: FloatArray
    VI: FloatArray
    as_booleans: bool  # the observations are read as booleans (non-zero is True)


# ---------------------------------------------------------------------------
# metric names and parameters


def _resolve_metric(metric: Any) -> _table.ResolvedMetric | Callable[..., Any]:
    """The metric's table row (and whether to read booleans), or the user's callable."""
    return _table.resolve(metric)


def _check_kwargs(name: str, kwargs: Mapping[str, Any]) -> None:
    allowed = _table.lookup(name).params
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        takes = ", ".join(f"{key}=" for key in allowed)
        raise TypeError(
            f"metric={name!r} does not take {', '.join(f'{key}=' for key in unknown)}; "
            f"it takes {takes}."
        )


def _as_vector(value: Any, name: str, d: int, metric: str) -> FloatArray:
    array, _ = as_float_array(value, name)
    if array.ndim != 1 or array.shape[0] != d:
        raise ValueError(
            f"{name} for metric={metric!r} must be a 1-D array with one value per feature "
            f"({d}); got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name}[{bad}] = {float(array[bad])} is not finite.")
    return np.array(array, dtype=np.float64, order="C")


def _check_weights(w: Any, d: int, metric: str) -> FloatArray:
    weights = _as_vector(w, "w", d, metric)
    if (weights < 0).any():
        bad = int(np.flatnonzero(weights < 0)[0])
        raise ValueError(
            f"Feature weights w must be non-negative; w[{bad}] = {float(weights[bad])}."
        )
    return weights


def _real(value: Any, what: str) -> float:
    """A real number given as a Python or numpy scalar (or a 0-d array, as scipy allows)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{what} must be a real number; got {value!r}.")
    return float(value)


def _check_p(p: Any) -> float:
    value = _real(p, "p for metric='minkowski'")
    if not value > 0.0:  # also refuses NaN
        raise ValueError(
            f"p for metric='minkowski' must be greater than 0; got {p!r}. "
            "(p=1 is cityblock, p=2 euclidean, p=inf chebyshev.)"
        )
    return value


def _check_base(base: Any) -> float:
    value = _real(base, "base for metric='jensenshannon'")
    if not (value > 0.0 and value != 1.0 and math.isfinite(value)):
        raise ValueError(
            f"base for metric='jensenshannon' must be a positive number other than 1 (the "
            f"logarithm's base: 2 gives bits, e the default nats); got {base!r}."
        )
    return math.log(value)


def _check_variances(V: Any, d: int) -> FloatArray:
    variances = _as_vector(V, "V", d, "seuclidean")
    if (variances <= 0).any():
        bad = int(np.flatnonzero(variances <= 0)[0])
        raise ValueError(
            f"Variances V must be positive; V[{bad}] = {float(variances[bad])}. A feature with "
            "zero variance carries no information: drop it."
        )
    return variances


def _check_inverse_covariance(VI: Any, d: int) -> FloatArray:
    matrix, _ = as_float_array(VI, "VI")
    if matrix.shape != (d, d):
        raise ValueError(
            f"VI for metric='mahalanobis' must be a ({d}, {d}) inverse covariance matrix, "
            f"one row and column per feature; got shape {matrix.shape}."
        )
    if not np.isfinite(matrix).all():
        raise ValueError("VI contains NaN or infinite values.")
    matrix = np.array(matrix, dtype=np.float64, order="C")
    eigenvalues = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))
    scale = max(float(np.abs(eigenvalues).max()), np.finfo(np.float64).tiny)
    if eigenvalues[0] < -1e-10 * scale:
        raise ValueError(
            "VI must be positive semi-definite (an inverse covariance matrix), otherwise "
            f"some distances are square roots of negative numbers; its smallest eigenvalue "
            f"is {eigenvalues[0]:.3g}."
        )
    return matrix


def _constant_columns(X: FloatArray) -> np.ndarray:
    return np.flatnonzero((X == X[:1]).all(axis=0))


def _check_moment_scale(X: FloatArray, metric: str) -> None:
    """Refuse values whose squares, summed over the rows, would overflow in np.var / np.cov."""
    from ._validation import column_spans, log10_norm, refuse_scale

    half, _ = column_spans(X, absolute=True)
    refuse_scale(
        X,
        log10_norm(half, 2.0) + math.log10(X.shape[0]),
        f"metric={metric!r}'s estimate of the feature (co)variances",
        absolute=True,
    )


def _default_variances(X: FloatArray) -> FloatArray:
    _check_moment_scale(X, "seuclidean")
    variances = np.var(X, axis=0, ddof=1)
    zero = np.flatnonzero(variances <= 0)
    if zero.size:
        raise ValueError(
            f"metric='seuclidean' divides by the variance of each feature, but feature "
            f"{int(zero[0])} is constant{f' (and {zero.size - 1} more)' if zero.size > 1 else ''}. "
            "Drop constant features or pass V= explicitly."
        )
    return np.ascontiguousarray(variances, dtype=np.float64)


def _default_inverse_covariance(X: FloatArray) -> FloatArray:
    m, d = X.shape
    if m <= d:
        raise ValueError(
            f"metric='mahalanobis' estimates the covariance of the {d} features from the "
            f"{m} observations, which needs at least {d + 1}; with fewer the covariance is "
            "singular. Pass VI= (an inverse covariance matrix) explicitly."
        )
    _check_moment_scale(X, "mahalanobis")
    covariance = np.atleast_2d(np.cov(X.T))
    rank = int(np.linalg.matrix_rank(covariance))
    if rank < d:
        constant = _constant_columns(X)
        why = (
            f"feature {int(constant[0])} is constant"
            if constant.size
            else "some features are linear combinations of others"
        )
        raise ValueError(
            f"metric='mahalanobis': the covariance matrix of the features is singular "
            f"(rank {rank} < {d}): {why}. Drop redundant features, or pass VI= explicitly "
            "(e.g. VI=numpy.linalg.pinv(numpy.cov(X.T)))."
        )
    return np.ascontiguousarray(np.linalg.inv(covariance).T, dtype=np.float64)


def _prepare_metric(
    resolved: _table.ResolvedMetric,
    kwargs: Mapping[str, Any],
    d: int,
    data: Callable[[], FloatArray],
    needed: bool,
) -> _Metric:
    """Validate the metric's keyword arguments; estimate V / VI from ``data()`` when needed."""
    name = resolved.info.name
    _check_kwargs(name, kwargs)
    empty1 = np.zeros(0)
    empty2 = np.zeros((0, 0))
    w = np.ones(d)
    weighted = kwargs.get("w") is not None
    if weighted:
        w = _check_weights(kwargs["w"], d, name)
    code = resolved.info.code
    p = 2.0
    V, VI = empty1, empty2
    if name == "jensenshannon":
        p = _check_base(kwargs["base"]) if kwargs.get("base") is not None else 1.0
    elif name == "minkowski":
        p = _check_p(kwargs["p"]) if kwargs.get("p") is not None else 2.0
        # like scipy: the special cases run the dedicated loops
        if p == 1.0:
            code = _kd.CITYBLOCK
        elif p == 2.0:
            code = _kd.EUCLIDEAN
        elif math.isinf(p):
            code = _kd.CHEBYSHEV
    elif name == "seuclidean":
        if kwargs.get("V") is not None:
            V = _check_variances(kwargs["V"], d)
        elif needed:
            V = _default_variances(data())
    elif name == "mahalanobis":
        if kwargs.get("VI") is not None:
            VI = _check_inverse_covariance(kwargs["VI"], d)
        elif needed:
            VI = _default_inverse_covariance(data())
    elif name == "dice" and weighted:
        code = _kd.WEIGHTED_DICE  # scipy's weighted loop compares values (same on 0/1 data)
    elif name in ("cosine", "correlation") and weighted:
        code = _kd.WEIGHTED_COSINE
        with np.errstate(invalid="ignore"):  # all-zero weights: NaN distances, as scipy
            w = w / w.sum()  # scipy normalizes the weights of cosine and correlation
    return _Metric(
        name=name,
        code=code,
        w=w,
        weighted=weighted,
        p=p,
        V=V,
        VI=VI,
        as_booleans=resolved.as_booleans,
    )


def _transposed(X: FloatArray, metric: _Metric) -> FloatArray:
    """Observations as columns (a fresh, writable C array): 0/1 for the boolean metrics,
    centred for correlation."""
    if metric.as_booleans:
        return np.array((X != 0).T, dtype=np.float64, order="C")
    if metric.name == "correlation":
        if metric.weighted:
            X = X - (X @ metric.w)[:, None]
        else:
            X = X - X.mean(axis=1, keepdims=True)  # the same centring as scipy
    return np.array(X.T, dtype=np.float64, order="C", copy=True)


def _norms(XT: FloatArray, metric: _Metric) -> FloatArray:
    if metric.code == _kd.COSINE:
        return np.asarray(_kd.row_norms(XT))
    if metric.code == _kd.WEIGHTED_COSINE:
        return np.asarray(_kd.weighted_squared_norms(XT, metric.w))
    if metric.code == _kd.JENSENSHANNON:
        return np.asarray(_kd.probability_scales(XT))
    return np.zeros(0)


# ---------------------------------------------------------------------------
# blocks and outputs


def _row_bounds(offsets: np.ndarray, r0: int, r1: int, pieces: int) -> np.ndarray:
    """Row boundaries splitting rows r0..r1-1 into ``pieces`` runs of about equal pair counts.

    ``offsets[i]`` is the number of pairs in rows before i (non-decreasing, length n + 1).
    """
    targets = np.linspace(offsets[r0], offsets[r1], pieces + 1)
    cuts = np.searchsorted(offsets, targets, side="left")
    bounds = np.unique(np.clip(np.concatenate(([r0], cuts, [r1])), r0, r1))
    return bounds.astype(np.int64)


def _check_progress(progress: Any) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress must be a function progress(done, total) or None; got {progress!r}."
        )


def _prepare_out(
    out: Any, shape: tuple[int, ...], inputs: tuple[np.ndarray, ...], what: str, n_bytes: float
) -> FloatArray:
    if out is None:
        if n_bytes >= _MEMORY_CHECK_MIN_BYTES:
            check_memory(n_bytes, what, _MEMORY_ALTERNATIVES)
        return np.empty(shape)
    if not isinstance(out, np.ndarray):
        raise TypeError(
            f"out must be a numpy array of shape {shape} and dtype float64; got {type(out).__name__}."
        )
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, but the result has shape {shape}.")
    if out.dtype != np.float64:
        raise ValueError(f"out must have dtype float64; got {out.dtype}.")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous.")
    if not out.flags.writeable:
        raise ValueError("out is read-only.")
    for array in inputs:
        if np.shares_memory(out, array):
            raise ValueError(
                "out shares memory with the input observations; pass a separate buffer."
            )
    return out


def _run(
    AT: FloatArray,
    BT: FloatArray,
    triangular: bool,
    out: FloatArray,
    metric: _Metric,
    norms_a: FloatArray,
    norms_b: FloatArray,
    n_jobs: int | None,
    progress: ProgressCallback | None,
) -> None:
    d, na = AT.shape
    nb = BT.shape[1]
    rows = np.arange(na + 1, dtype=np.int64)
    if triangular:
        offsets = rows * (na - 1) - (rows * (rows - 1)) // 2
    else:
        offsets = rows * nb
    total = int(offsets[-1])
    work = d * d + d if metric.code == _kd.MAHALANOBIS else d
    flat = out.reshape(-1)
    # summed in feature order, as scipy's loops accumulate it pair by pair
    wsum = float(sum(metric.w.tolist()))
    # NaN results (cosine of a zero row, ...) are scipy's convention, not an error; the
    # errstate matters only when the kernels run as Python (NUMBA_DISABLE_JIT=1)
    with numba_threads(n_jobs) as threads, np.errstate(divide="ignore", invalid="ignore"):
        # blocks of rows sized to a few milliseconds, each on all threads or on one,
        # whichever is faster now (a busy machine can make the threads lose)
        chooser = ParallelChooser(
            "pdist" if triangular else "cdist",
            threads,
            enabled=total * work >= _PARALLEL_MIN_WORK,
            first_work=_WORK_PER_BLOCK / 4,
        )
        r0 = 0
        while r0 < na:
            parallel, guess = chooser.next()
            target = offsets[r0] + max(1.0, min(guess, _WORK_PER_BLOCK) / work)
            r1 = int(min(na, max(r0 + 1, np.searchsorted(offsets, target, side="left"))))
            # several chunks per thread even out the threads' speeds
            pieces = 4 * threads if parallel else 1
            bounds = (
                _row_bounds(offsets, r0, r1, pieces) if parallel else np.array([r0, r1], np.int64)
            )
            kernel = _kd.distance_rows_parallel if parallel else _kd.distance_rows_serial
            start = time.perf_counter()
            kernel(
                metric.code,
                AT,
                BT,
                bounds,
                triangular,
                flat,
                metric.w,
                metric.p,
                metric.V,
                metric.VI,
                norms_a,
                norms_b,
                wsum,
            )
            chooser.record(parallel, float(offsets[r1] - offsets[r0]) * work, time.perf_counter() - start)
            r0 = r1
            if progress is not None:
                progress(int(offsets[r1]), total)


def preload_kernels() -> None:
    """Compile (or load from the cache) both distance twins on a tiny input, so that a
    large run does not do that work while its matrix is allocated."""
    XT = np.ascontiguousarray(np.arange(8.0).reshape(2, 4))
    out = np.empty(6)
    bounds = np.array([0, 2, 4], dtype=np.int64)
    for kernel in (_kd.distance_rows_serial, _kd.distance_rows_parallel):
        kernel(_kd.EUCLIDEAN, XT, XT, bounds, True, out, np.ones(2), 2.0, np.zeros(0),
               np.zeros((0, 0)), np.zeros(0), np.zeros(0), 2.0)


def _objects_or_numbers(X: Any, name: str) -> np.ndarray:
    """Observations for a user's metric function: numbers are validated as usual; an
    array of other objects (strings, records) is passed on unchanged, as scipy does."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "OSUV":
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(
                f"{name} must be a 2-D observation matrix (n_samples, n_features) with at least "
                f"one observation and one feature; got shape {X.shape}."
            )
        return X
    return as_observations(X, name, min_samples=1)


def _call_metric(
    func: Callable[..., Any],
    u: FloatArray,
    v: FloatArray,
    kwargs: Mapping[str, Any],
    i: int,
    j: int,
) -> float:
    value = func(u, v, **kwargs)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"The metric function returned {value!r} for observations {i} and {j}; it must return a number."
        ) from None


# ---------------------------------------------------------------------------
# public functions


def pdist(
    X: Any,
    metric: str | Callable[..., Any] = "euclidean",
    *,
    out: FloatArray | None = None,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
    **kwargs: Any,
) -> FloatArray:
    """Pairwise distances between observations, as scipy's condensed distance vector.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Observations: numbers only (float32, integers and booleans are converted to
        float64), no NaN or infinite values.
    metric : str or callable, default="euclidean"
        One of :data:`METRICS` (every metric of scipy's ``pdist``), any alias scipy
        accepts (``"cos"``, ``"cb"``, ``"chebychev"``, ``"euclid"``, ``"matching"``,
        ``"sqe"``, ...; any case) or scikit-learn's ``"manhattan"``, ``"l1"``, ``"l2"``;
        or a function ``f(u, v, **kwargs) -> float`` called for every pair (slow: a
        Python call per pair; it receives the rows as given, numbers or other objects).
        scipy's own functions such as ``scipy.spatial.distance.cosine``, and scipy's
        ``"test_<name>"`` names for them, run natively.
    out : ndarray of shape (n_samples * (n_samples - 1) // 2,), optional
        A C-contiguous, writable float64 buffer for the result (for instance a
        ``numpy.memmap``); it is returned. Without it, the memory is checked before
        allocating.
    n_jobs : int, optional
        Threads to use; None uses all numba threads, negative values count from the
        total (-1: all). The result does not depend on it.
    progress : callable, optional
        ``progress(done, total)``, counted in pairs, called after each block of rows.
    **kwargs
        The metric's parameters, as in scipy:

        - ``w`` : non-negative feature weights, for every metric but seuclidean,
          mahalanobis and jensenshannon (all zero: the distances scipy gives, mostly
          NaN);
        - ``p`` : the Minkowski exponent, > 0 (default 2; ``numpy.inf`` gives chebyshev);
        - ``V`` : feature variances for seuclidean (default: the sample variance of each
          feature, ``ddof=1``);
        - ``VI`` : the inverse covariance matrix for mahalanobis (default: the inverse
          of the sample covariance of X);
        - ``base`` : the logarithm's base for jensenshannon (default e), as in
          ``scipy.spatial.distance.jensenshannon``.

    Returns
    -------
    ndarray of shape (n_samples * (n_samples - 1) // 2,)
        Distances of the pairs (0, 1), (0, 2), ..., (0, n-1), (1, 2), ..., in scipy's
        order; ``scipy.spatial.distance.squareform`` turns it into a square matrix.

    Raises
    ------
    ValueError
        Unknown metric; NaN or infinite values (the message names the first); a wrong
        parameter (``w``, ``V`` of the wrong length, negative weights, ``p <= 0``, a
        constant feature for seuclidean, a singular covariance for mahalanobis); a
        wrong ``out``.
    TypeError
        Non-numeric data, or a parameter the metric does not take (``p`` for cosine).
    hclust._validation.InsufficientMemoryError
        The result would not fit in the available memory.

    See Also
    --------
    cdist : distances between two sets of observations.
    hclust.linkage : hierarchical clustering of observations or distances.

    Notes
    -----
    Each distance is computed from its own pair of rows, summing over the features in
    order, with scipy's formulas (Euclidean is the square root of the sum of squared
    differences, never the dot-product expansion, which loses precision). The
    results agree with scipy's to rounding (relative differences of a few units in
    the last place); for euclidean, sqeuclidean, cityblock, chebyshev, minkowski,
    canberra, braycurtis, hamming, jaccard, dice, rogerstanimoto, russellrao,
    sokalsneath, yule and jensenshannon they are identical, bit for bit.

    Conventions, all as in scipy: cosine and correlation distances are NaN for a
    pair involving an all-zero row (cosine) or a constant row (correlation), since
    the angle is undefined -- drop such rows before clustering (``hclust.linkage``
    refuses NaN distances); braycurtis is NaN for two all-zero rows; canberra skips
    features where both values are 0. hamming compares the values themselves: it is
    the (weighted) fraction of features whose values differ (so 1 and 2 differ).
    jaccard reads numbers as booleans (non-zero is True, as scipy does since 1.15):
    it is the fraction of features where exactly one row is non-zero among those where
    at least one is, and 0 when both rows are all zero. rogerstanimoto, russellrao,
    sokalsneath and yule read numbers as booleans too; sokalsneath (and dice) are NaN
    for two all-false rows, yule is 0 when no feature is true in exactly one row. dice
    on numbers that are not 0/1 follows scipy's pdist, which is not self-consistent
    there: without weights it counts from the values themselves (as scipy's
    ``dice(u, v)``, so it can even be negative), with weights it compares the values
    (mismatches, and features non-zero in both); given as scipy's function or as
    ``"test_dice"``, the rows are read as booleans first, as scipy does. On boolean
    data all of these agree. jensenshannon treats each row as a distribution (scaled
    to sum 1) and is infinite for a row with a negative entry or a zero sum. Which
    metrics can give NaN or infinity for finite rows is recorded in
    :data:`hclust._metrics.METRIC_TABLE` (``nan_possible``). A single observation
    gives an empty vector, as in scipy (no default ``V``/``VI`` is estimated then).

    Departures from scipy, to fail early rather than return NaN: a constant feature
    with the default ``V`` of seuclidean, a singular covariance for mahalanobis, an
    ``VI`` that is not positive semi-definite, and a jensenshannon ``base`` that is 1
    or not positive raise ValueError.

    The work, O(n^2 d), is split into blocks of rows with equal numbers of pairs (row
    i has n - i - 1), run in parallel; ``progress`` is called and Ctrl-C honoured
    between blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.metrics import pdist
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    >>> pdist(X)
    array([ 5., 10.,  5.])
    >>> pdist(X, "cityblock")
    array([ 7., 14.,  7.])
    >>> pdist(X, "minkowski", p=1.5).round(4)
    array([ 5.5843, 11.1685,  5.5843])

    The condensed vector lists the pairs (0, 1), (0, 2), (1, 2):

    >>> from scipy.spatial.distance import squareform
    >>> squareform(pdist(X))
    array([[ 0.,  5., 10.],
           [ 5.,  0.,  5.],
           [10.,  5.,  0.]])
    """
    _check_progress(progress)
    check_n_jobs(n_jobs)
    resolved = _resolve_metric(metric)
    native = isinstance(resolved, _table.ResolvedMetric)
    data = as_observations(X, "X", min_samples=1) if native else _objects_or_numbers(X, "X")
    n, d = data.shape
    m = n * (n - 1) // 2
    result = _prepare_out(
        out, (m,), (data,), f"The condensed distance matrix of {n:,} observations", 8.0 * m
    )
    if not isinstance(resolved, _table.ResolvedMetric):
        return _pdist_callable(data, resolved, result, progress, kwargs)
    prepared = _prepare_metric(resolved, kwargs, d, lambda: data, needed=m > 0)
    if m == 0:
        return result
    XT = _transposed(data, prepared)
    norms = _norms(XT, prepared)
    _run(XT, XT, True, result, prepared, norms, norms, n_jobs, progress)
    return result


def _pdist_callable(
    X: np.ndarray,
    func: Callable[..., Any],
    out: FloatArray,
    progress: ProgressCallback | None,
    kwargs: Mapping[str, Any],
) -> FloatArray:
    n = X.shape[0]
    total = out.shape[0]
    k = 0
    for i in range(n - 1):
        for j in range(i + 1, n):
            out[k] = _call_metric(func, X[i], X[j], kwargs, i, j)
            k += 1
        if progress is not None:
            progress(k, total)
    return out


def cdist(
    XA: Any,
    XB: Any,
    metric: str | Callable[..., Any] = "euclidean",
    *,
    out: FloatArray | None = None,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
    **kwargs: Any,
) -> FloatArray:
    """Distances between each observation of ``XA`` and each of ``XB``, like scipy's ``cdist``.

    Parameters
    ----------
    XA : array-like or DataFrame of shape (n_a, n_features)
        First observations (at least one).
    XB : array-like or DataFrame of shape (n_b, n_features)
        Second observations, with the same features.
    metric : str or callable, default="euclidean"
        As in :func:`pdist`.
    out : ndarray of shape (n_a, n_b), optional
        A C-contiguous, writable float64 buffer for the result; it is returned.
    n_jobs : int, optional
        Threads to use (None: all); the result does not depend on it.
    progress : callable, optional
        ``progress(done, total)``, counted in pairs, called after each block of rows.
    **kwargs
        The metric's parameters (``w``, ``p``, ``V``, ``VI``, ``base``) as in :func:`pdist`;
        the default ``V`` and ``VI`` are estimated from the rows of ``XA`` and ``XB``
        together, as scipy does.

    Returns
    -------
    ndarray of shape (n_a, n_b)
        ``D[i, j]`` is the distance between ``XA[i]`` and ``XB[j]``.

    Raises
    ------
    ValueError
        As in :func:`pdist`; also when ``XA`` and ``XB`` have different numbers of
        features.
    TypeError
        Non-numeric data, or a parameter the metric does not take.
    hclust._validation.InsufficientMemoryError
        The result would not fit in the available memory.

    See Also
    --------
    pdist : distances between all pairs of one set of observations.

    Notes
    -----
    The same kernels, formulas and conventions as :func:`pdist`, so
    ``cdist(X, X)`` holds the values of ``pdist(X)`` (and zeros on the diagonal).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.metrics import cdist
    >>> centres = np.array([[0.0, 0.0], [10.0, 10.0]])
    >>> points = np.array([[3.0, 4.0], [9.0, 10.0], [0.0, 1.0]])
    >>> cdist(points, centres)
    array([[ 5.        ,  9.21954446],
           [13.45362405,  1.        ],
           [ 1.        , 13.45362405]])
    >>> cdist(points, centres).argmin(axis=1)  # nearest centre of each point
    array([0, 1, 0])
    """
    _check_progress(progress)
    check_n_jobs(n_jobs)
    resolved = _resolve_metric(metric)
    native = isinstance(resolved, _table.ResolvedMetric)
    A = as_observations(XA, "XA", min_samples=1) if native else _objects_or_numbers(XA, "XA")
    B = as_observations(XB, "XB", min_samples=1) if native else _objects_or_numbers(XB, "XB")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"XA and XB must have the same number of features; XA has {A.shape[1]} and XB has {B.shape[1]}."
        )
    na, d = A.shape
    nb = B.shape[0]
    result = _prepare_out(
        out, (na, nb), (A, B), f"The {na:,} x {nb:,} distance matrix", 8.0 * na * nb
    )
    if not isinstance(resolved, _table.ResolvedMetric):
        for i in range(na):
            for j in range(nb):
                result[i, j] = _call_metric(resolved, A[i], B[j], kwargs, i, j)
            if progress is not None:
                progress((i + 1) * nb, na * nb)
        return result
    prepared = _prepare_metric(resolved, kwargs, d, lambda: np.vstack((A, B)), needed=True)
    AT = _transposed(A, prepared)
    BT = _transposed(B, prepared)
    _run(
        AT,
        BT,
        False,
        result,
        prepared,
        _norms(AT, prepared),
        _norms(BT, prepared),
        n_jobs,
        progress,
    )
    return result
