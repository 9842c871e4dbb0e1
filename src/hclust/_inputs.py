"""Input checks shared by the engines that take observations or distances.

What ``hclust.linkage`` (and the connectivity-constrained engine, and DIANA)
do to the user's input before any kernel runs: classify it (observations or
distances), validate it, and refuse values whose distances or the engine's
sums of them would overflow (issue #17's one validation boundary).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ._methods import method_info, methods_where
from ._typing import FloatArray
from ._validation import (
    SAFE_MAGNITUDE,
    as_condensed,
    as_float_array,
    as_observations,
    check_option,
    check_weights,
    column_spans,
    log10_norm,
    refuse_scale,
    square_to_condensed,
)

#: Methods defined through Euclidean geometry (centroids, variances).
EUCLIDEAN_ONLY = methods_where(squared=True)

#: Methods for which observation weights change the tree.
WEIGHT_AWARE = methods_where(weights="change")


def prepare_input(X: Any, metric: Any, method: str) -> tuple[FloatArray, int, str, list[Any] | None]:
    """Classify and validate the input: (data, n, 'vectors' | 'condensed', column names)."""
    if isinstance(metric, str) and metric == "precomputed":
        y, n = square_to_condensed(X)
        return y, n, "condensed", None
    if isinstance(metric, str) and metric == "gower":
        return (*_gower_distances(X, method), None)
    array, columns = as_float_array(X)
    if array.ndim == 1:
        y, n = as_condensed(array)
        return y, n, "condensed", None
    if array.ndim != 2:
        raise ValueError(
            f"X must be a condensed distance vector (1-D) or an observation matrix (2-D); "
            f"got {array.ndim} dimensions with shape {array.shape}."
        )
    if isinstance(metric, str):
        from .metrics import METRICS

        valid = tuple(sorted(METRICS + ("gower", "precomputed")))
        check_option(metric, "metric", valid)
        if method in EUCLIDEAN_ONLY and metric != "euclidean":
            raise ValueError(
                f"method={method!r} needs metric='euclidean', not {metric!r}: its heights are "
                "distances between cluster centroids (or increases of within-cluster variance), "
                "which only Euclidean geometry defines. Use 'average' or 'complete' with "
                f"metric={metric!r}, or pass your own distances as a condensed vector."
            )
    elif method in EUCLIDEAN_ONLY:
        raise ValueError(f"method={method!r} needs metric='euclidean', not a callable.")
    X_checked = as_observations(X)
    n = X_checked.shape[0]
    _warn_if_distance_matrix(X_checked)
    return X_checked, n, "vectors", columns


def _gower_distances(X: Any, method: str) -> tuple[FloatArray, int, str]:
    """Condensed Gower distances of a (mixed-type) table, fitted on the table itself."""
    from .gower import Gower

    if method in EUCLIDEAN_ONLY:
        raise ValueError(
            f"method={method!r} needs Euclidean distances; Gower distances of mixed data are "
            "not Euclidean. Use 'average' (the usual choice with Gower), 'complete' or 'single', "
            "or encode and scale the data (hclust.segment.Preparer) for ward."
        )
    y = Gower().fit(X).condensed()
    n = int(round((1 + math.sqrt(1 + 8 * y.shape[0])) / 2))
    if n < 2:
        raise ValueError(f"X has {n} observation(s); at least 2 are needed.")
    missing = np.isnan(y)
    if missing.any():
        from ._validation import condensed_to_pair

        i, j = condensed_to_pair(int(np.flatnonzero(missing)[0]), n)
        raise ValueError(
            f"Gower distance undefined for {int(missing.sum())} pair(s), first rows {i} and {j}: "
            "they share no variable observed in both. Drop or impute those rows first."
        )
    return y, n, "condensed"


def _warn_if_distance_matrix(X: FloatArray) -> None:
    """scipy's ClusterWarning for observations that look like a square distance matrix
    (scipy's test: square, diagonal close to 0, non-negative, close to symmetric; 2 x 2 too)."""
    n, d = X.shape
    if (
        n == d
        and np.isclose(np.diagonal(X), 0).all()
        and (X >= 0).all()
        and np.isclose(X, X.T).all()
    ):
        from scipy.cluster.hierarchy import ClusterWarning

        warnings.warn(
            "X is square, symmetric, non-negative and zero on the diagonal: it looks like a "
            "distance matrix but is treated as observations. Pass metric='precomputed' if it "
            "holds distances.",
            ClusterWarning,
            stacklevel=4,
        )


def check_method_weights(weights: Any, n: int, method: str) -> FloatArray | None:
    if weights is None:
        return None
    if method_info(method).weights == "refused":
        raise ValueError(
            "weights have no meaning for method='flexible': its update does not reduce to "
            "duplicated observations. Use 'average', 'ward' or 'centroid' for weighted data."
        )
    return check_weights(weights, n)


#: log10 of the largest distance each metric can give for the column spans
#: of the data (the spans to the power, summed), so that observations whose
#: distances would overflow are refused before any work. Metrics not listed
#: are checked on the computed distances instead.
_SPAN_POWER = {"euclidean": 2.0, "sqeuclidean": 2.0, "cityblock": 1.0, "chebyshev": 0.0}


def _weight_total(w: FloatArray | None, n: int) -> float:
    return float(n) if w is None else float(np.sum(w))


def _log_factor(method: str, w: FloatArray | None, n: int) -> float:
    """log10 of the factor by which a method's update can multiply a distance."""
    if method in WEIGHT_AWARE:
        return math.log10(2.0 * _weight_total(w, n))  # (n_i + n_k) d_ki + ...
    return math.log10(2.0)  # sums of two distances (weighted, median, flexible)


def check_observation_scale(
    X: FloatArray, columns: list[Any] | None, method: str, metric: Any, engine: str, w: FloatArray | None
) -> None:
    """Refuse observations whose distances, or the engine's sums of them, would overflow."""
    n = X.shape[0]
    if not isinstance(metric, str) or metric not in _SPAN_POWER:
        return
    power = _SPAN_POWER[metric]
    half, _ = column_spans(X)
    log_metric = log10_norm(half, power)
    refuse_scale(X, log_metric, f"the {metric} distances' sums over the features", columns=columns)
    # the entries the engine updates: squared Euclidean for ward/centroid/median
    log_entry = log_metric / 2.0 if metric == "euclidean" and method not in EUCLIDEAN_ONLY else log_metric
    if engine in ("ward-vector", "centroid-vector"):
        log_entry = log_metric  # squared distances between centroids
        # weighted centroid sums on the raw values
        top = float(column_spans(X, absolute=True)[0].max())
        log_sum = math.log10(2.0 * _weight_total(w, n)) + (math.log10(top) if top > 0 else -math.inf)
        refuse_scale(X, log_sum, f"linkage(method={method!r})'s weighted centroid sums", columns=columns,
                     absolute=True)
    refuse_scale(
        X,
        _log_factor(method, w, n) + log_entry,
        f"linkage(method={method!r})'s weighted sums of {'squared ' if method in EUCLIDEAN_ONLY else ''}distances",
        columns=columns,
    )


def check_distance_scale(largest: float, method: str, w: FloatArray | None, n: int, what: str) -> None:
    """Refuse distances whose squares (ward, centroid, median) or weighted sums would overflow."""
    if largest <= 0.0:
        return
    log_entry = math.log10(largest) * (2.0 if method in EUCLIDEAN_ONLY else 1.0)
    log_value = _log_factor(method, w, n) + log_entry
    if log_value > math.log10(SAFE_MAGNITUDE):
        squares = "squares and " if method in EUCLIDEAN_ONLY else ""
        raise ValueError(
            f"{what} reach {largest:.3g}: linkage(method={method!r}) forms their {squares}weighted "
            f"sums, about 1e{int(log_value)}, beyond float64's range. Divide the distances by a "
            "common factor (the tree is the same; heights scale alike), or scale the data."
        )
