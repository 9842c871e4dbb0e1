"""Gower (Kaufman-Rousseeuw) mixed-type dissimilarity kernels.

Every column arrives already encoded as float64 by ``hclust.gower``:

* kind 0 (interval / ordinal): the value scaled to ``(v - min) / range``;
  the term is ``|x_ik - x_jk|``.
* kind 1 (nominal / symmetric binary / constant numeric): a category code;
  the term is 0 when the codes are equal, else 1.
* kind 2 (asymmetric binary): 0 or 1; a 0-0 pair is skipped (no weight).

NaN marks a missing value: a pair skips every variable missing in either row.
A pair with no usable variable gets NaN and is counted.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins


@njit(cache=NUMBA_CACHE)
def gower_pair(a, b, kinds, weights):
    """Gower dissimilarity of two encoded rows a, b : float64[p]; NaN if no variable is usable."""
    num = 0.0
    den = 0.0
    for k in range(a.shape[0]):
        x = a[k]
        y = b[k]
        if np.isnan(x) or np.isnan(y):
            continue
        kind = kinds[k]
        if kind == 0:
            num += weights[k] * abs(x - y)
            den += weights[k]
        elif kind == 1:
            if x != y:
                num += weights[k]
            den += weights[k]
        else:
            if x == 0.0 and y == 0.0:
                continue
            if x != y:
                num += weights[k]
            den += weights[k]
    if den > 0.0:
        return num / den
    return np.nan


def _gower_condensed(X, kinds, weights, out, empty):
    """Condensed Gower matrix of X : float64[n, p] into out : float64[n(n-1)/2].

    empty : int64[n] receives, per row i, the number of pairs (i, j > i) with no
    usable variable. Rows i and n-1-i share one parallel iteration so that the
    triangular work is balanced across threads.
    """
    n = X.shape[0]
    half = (n + 1) // 2
    for t in prange(half):
        for side in range(2):
            i = t + side * (n - 1 - 2 * t)  # row t, then row n - 1 - t (integer: parfor typing)
            if side == 1 and i == t:
                break
            start = i * n - (i * (i + 1)) // 2 - i - 1
            count = 0
            for j in range(i + 1, n):
                d = gower_pair(X[i], X[j], kinds, weights)
                if np.isnan(d):
                    count += 1
                out[start + j] = d
            empty[i] = count


def _gower_cross(A, B, kinds, weights, out, empty):
    """Gower distances from rows of A : float64[m, p] to rows of B : float64[r, p] into out : float64[m, r].

    empty : int64[m] receives, per row of A, the number of NaN results.
    """
    m = A.shape[0]
    r = B.shape[0]
    for i in prange(m):
        count = 0
        for j in range(r):
            d = gower_pair(A[i], B[j], kinds, weights)
            if np.isnan(d):
                count += 1
            out[i, j] = d
        empty[i] = count


def _gower_square(X, kinds, weights, out, empty):
    """Square symmetric Gower matrix of X : float64[n, p] into out : float64[n, n] (zero diagonal, as squareform).

    empty : int64[n] counts, per row i, the pairs (i, j > i) with no usable variable.
    """
    n = X.shape[0]
    half = (n + 1) // 2
    for t in prange(half):
        for side in range(2):
            i = t + side * (n - 1 - 2 * t)  # row t, then row n - 1 - t (integer: parfor typing)
            if side == 1 and i == t:
                break
            out[i, i] = 0.0
            count = 0
            for j in range(i + 1, n):
                d = gower_pair(X[i], X[j], kinds, weights)
                if np.isnan(d):
                    count += 1
                out[i, j] = d
                out[j, i] = d
            empty[i] = count


gower_condensed_serial, gower_condensed_parallel = twins(_gower_condensed)
gower_cross_serial, gower_cross_parallel = twins(_gower_cross)
gower_square_serial, gower_square_parallel = twins(_gower_square)
