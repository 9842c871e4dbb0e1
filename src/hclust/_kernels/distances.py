"""Distance kernels: rows of a condensed (pdist) or rectangular (cdist) distance matrix.

Every kernel sums over the features in their natural order, one pair at a time,
so each distance is computed with exactly the operations scipy's C loops use
(``sqrt`` of a sum of squared differences, never the dot-product expansion); the
results do not depend on the number of threads.

The row kernels work on transposed data (features x observations): the loop over
features is outside and the loop over a tile of partner observations inside, so the
inner loop runs over contiguous memory and vectorizes, while every pair still
accumulates its features in order 0, 1, ..., d-1.
"""

import math

import numpy as np
from numba import njit, prange

from .._config import NUMBA_CACHE
from ._twins import twins

# Metric codes understood by the row kernels; hclust._metrics maps names to them.
EUCLIDEAN = 0
SQEUCLIDEAN = 1
CITYBLOCK = 2
CHEBYSHEV = 3
MINKOWSKI = 4
COSINE = 5
WEIGHTED_COSINE = 6
HAMMING = 7
JACCARD = 8
CANBERRA = 9
BRAYCURTIS = 10
SEUCLIDEAN = 11
MAHALANOBIS = 12
DICE = 13
ROGERSTANIMOTO = 14
RUSSELLRAO = 15
SOKALSNEATH = 16
YULE = 17
JENSENSHANNON = 18
WEIGHTED_DICE = 19
# codes from DICE on run in _sum_counts_tile / _finish_counts_tile

#: Most partner observations per tile (a few kB of output stays in L1).
TILE = 512


@njit(cache=NUMBA_CACHE, error_model="numpy")
def row_norms(XT):
    """Euclidean norm of every observation, summed in feature order.

    XT : float64[d, n] (transposed observations). Returns float64[n].
    """
    d, n = XT.shape
    norms = np.zeros(n)
    for k in range(d):
        for j in range(n):
            norms[j] += XT[k, j] * XT[k, j]
    for j in range(n):
        norms[j] = math.sqrt(norms[j])
    return norms


@njit(cache=NUMBA_CACHE, error_model="numpy")
def weighted_squared_norms(XT, w):
    """``sum_k x_k * (x_k * w_k)`` for every observation (scipy's weighted ``u . u``).

    XT : float64[d, n]; w : float64[d]. Returns float64[n].
    """
    d, n = XT.shape
    out = np.zeros(n)
    for k in range(d):
        for j in range(n):
            out[j] += XT[k, j] * (XT[k, j] * w[k])
    return out


@njit(cache=NUMBA_CACHE, error_model="numpy")
def probability_scales(XT):
    """1 / (sum of every observation), summed in feature order; 0.0 where there is none.

    The normalisers of the Jensen-Shannon distance: scipy multiplies each value by
    the reciprocal of its row's sum, and a pair with a negative entry or a zero sum
    is infinitely far (marked 0.0 here). XT : float64[d, n]. Returns float64[n].
    """
    d, n = XT.shape
    sums = np.zeros(n)
    negative = np.zeros(n, dtype=np.bool_)
    for k in range(d):
        for j in range(n):
            x = XT[k, j]
            sums[j] += x
            if x < 0.0:
                negative[j] = True
    scales = np.zeros(n)
    for j in range(n):
        if not negative[j] and sums[j] != 0.0:
            scales[j] = 1.0 / sums[j]
    return scales


@njit(cache=NUMBA_CACHE, error_model="numpy")
def _sum_tile(code, AT, i, BT, j0, j1, acc, acc2, w, p, V):
    """Accumulate the per-feature terms of columns j0..j1-1 of BT into acc (and acc2).

    acc, acc2 : float64[j1 - j0] views; the loops index them from 0 so that numba
    needs no negative-index handling and LLVM vectorizes over the tile.
    """
    d = AT.shape[0]
    m = j1 - j0
    for q in range(m):
        acc[q] = 0.0
    if code == JACCARD or code == BRAYCURTIS:
        for q in range(m):
            acc2[q] = 0.0
    for k in range(d):
        a = AT[k, i]
        b = BT[k, j0:j1]
        wk = w[k]
        if code == EUCLIDEAN:
            for q in range(m):
                t = a - b[q]  # scipy squares |t|; t * t is the same number
                acc[q] += wk * (t * t)
        elif code == SQEUCLIDEAN:
            for q in range(m):
                t = a - b[q]
                acc[q] += wk * t * t
        elif code == CITYBLOCK:
            for q in range(m):
                acc[q] += wk * abs(a - b[q])
        elif code == CHEBYSHEV:
            if wk > 0.0:
                for q in range(m):
                    t = abs(a - b[q])
                    if t > acc[q]:
                        acc[q] = t
        elif code == MINKOWSKI:
            for q in range(m):
                acc[q] += wk * abs(a - b[q]) ** p
        elif code == COSINE:
            for q in range(m):
                acc[q] += a * b[q]
        elif code == WEIGHTED_COSINE:
            for q in range(m):
                acc[q] += a * (b[q] * wk)
        elif code == HAMMING:
            for q in range(m):
                acc[q] += wk * (a != b[q])
        elif code == JACCARD:
            # scipy >= 1.15: numbers count as booleans (non-zero is True)
            a_true = a != 0.0
            for q in range(m):
                y_true = b[q] != 0.0
                acc[q] += wk * (a_true != y_true)
                acc2[q] += wk * (a_true | y_true)
        elif code == CANBERRA:
            for q in range(m):
                y = b[q]
                den = abs(a) + abs(y)
                # den == 0 only when both are 0, and then the term is 0 / 1 = 0
                acc[q] += (wk * abs(a - y)) / (den + (den == 0.0))
        elif code == BRAYCURTIS:
            for q in range(m):
                y = b[q]
                acc[q] += wk * abs(a - y)
                acc2[q] += wk * abs(a + y)
        elif code == SEUCLIDEAN:
            vk = V[k]
            for q in range(m):
                t = a - b[q]
                acc[q] += (t * t) / vk


@njit(cache=NUMBA_CACHE, error_model="numpy")
def _finish_tile(code, i, j0, acc, acc2, p, norms_a, norms_b, wsum):
    """Turn the sums of one tile (acc, acc2 from ``_sum_tile``) into distances, in place."""
    m = acc.shape[0]
    if code == EUCLIDEAN or code == SEUCLIDEAN:
        for q in range(m):
            acc[q] = math.sqrt(acc[q])
    elif code == MINKOWSKI:
        inv_p = 1.0 / p
        for q in range(m):
            acc[q] = acc[q] ** inv_p
    elif code == COSINE:
        na = norms_a[i]
        nb = norms_b[j0 : j0 + m]
        for q in range(m):
            c = acc[q] / (na * nb[q])
            if abs(c) > 1.0:  # rounding can push |cos| past 1
                c = math.copysign(1.0, c)
            acc[q] = 1.0 - c
    elif code == WEIGHTED_COSINE:
        na = norms_a[i]
        nb = norms_b[j0 : j0 + m]
        for q in range(m):
            dist = 1.0 - acc[q] / math.sqrt(na * nb[q])
            if dist < 0.0:
                dist = 0.0
            elif dist > 2.0:
                dist = 2.0
            acc[q] = dist
    elif code == HAMMING:
        for q in range(m):
            acc[q] = acc[q] / wsum
    elif code == JACCARD:
        for q in range(m):
            den = acc2[q]
            acc[q] = 0.0 if den == 0.0 else acc[q] / den
    elif code == BRAYCURTIS:
        for q in range(m):
            acc[q] = acc[q] / acc2[q]


@njit(cache=NUMBA_CACHE, error_model="numpy")
def _sum_counts_tile(code, AT, i, BT, j0, j1, acc, acc2, acc3, acc4, w, norms_a, norms_b):
    """The boolean dissimilarities' sums (and jensenshannon's) for columns j0..j1-1 of BT.

    A separate kernel from ``_sum_tile``, so that the simple metrics' loops stay as
    small as they were (measured: folding these in slowed euclidean, cityblock and
    hamming at d = 8 by 30-60%). acc..acc4 : float64[j1 - j0] views. rogerstanimoto, russellrao,
    sokalsneath and yule receive 0/1 values; dice and jensenshannon the values.
    """
    d = AT.shape[0]
    m = j1 - j0
    for q in range(m):
        acc[q] = 0.0
        acc2[q] = 0.0
        acc3[q] = 0.0
        acc4[q] = 0.0
    if code == JENSENSHANNON:
        # norms: 1 / row sum, 0.0 for a row with a negative entry or a zero sum
        # (scipy: then the pair is infinitely far)
        sa = norms_a[i]
        sb = norms_b[j0:j1]
        if sa == 0.0:
            for q in range(m):
                acc[q] = math.inf
            return
        for k in range(d):
            pk = AT[k, i] * sa
            b = BT[k, j0:j1]
            for q in range(m):
                qk = b[q] * sb[q]
                mk = (pk + qk) / 2.0
                if pk > 0.0:
                    acc[q] += pk * math.log(pk / mk)
                if qk > 0.0:
                    acc[q] += qk * math.log(qk / mk)
        for q in range(m):
            if sb[q] == 0.0:
                acc[q] = math.inf
        return
    for k in range(d):
        a = AT[k, i]
        b = BT[k, j0:j1]
        wk = w[k]
        if code == DICE:
            # scipy's pdist without weights: counts from the values themselves
            # (ntt and ntf + nft, as its dice(u, v)); for 0/1 data these are counts
            for q in range(m):
                y = b[q]
                acc[q] += a * y
                acc2[q] += a * (1.0 - y) + (1.0 - a) * y
        elif code == WEIGHTED_DICE:
            # scipy's pdist with weights compares the values: mismatches and both non-zero
            a_true = a != 0.0
            for q in range(m):
                y = b[q]
                acc[q] += wk * (a_true & (y != 0.0))
                acc2[q] += wk * (a != y)
        elif code == ROGERSTANIMOTO:
            for q in range(m):
                acc[q] += wk * (a != b[q])
        elif code == RUSSELLRAO:
            for q in range(m):
                acc[q] += wk * (a * b[q])
        elif code == SOKALSNEATH:
            for q in range(m):
                y = b[q]
                acc[q] += wk * (a != y)
                acc2[q] += wk * (a * y)
        elif code == YULE:
            # 0/1 values: ntt, nff, ntf, nft
            for q in range(m):
                y = b[q]
                acc[q] += wk * (a * y)
                acc2[q] += wk * ((1.0 - a) * (1.0 - y))
                acc3[q] += wk * (a * (1.0 - y))
                acc4[q] += wk * ((1.0 - a) * y)


@njit(cache=NUMBA_CACHE, error_model="numpy")
def _finish_counts_tile(code, acc, acc2, acc3, acc4, p, wsum):
    """Turn the sums of ``_sum_counts_tile`` into distances, in place (0/0 is NaN, as scipy)."""
    m = acc.shape[0]
    if code == DICE or code == WEIGHTED_DICE:
        for q in range(m):
            mismatches = acc2[q]
            acc[q] = mismatches / (2.0 * acc[q] + mismatches)
    elif code == ROGERSTANIMOTO:
        for q in range(m):
            ndiff = acc[q]
            acc[q] = (2.0 * ndiff) / (wsum + ndiff)
    elif code == RUSSELLRAO:
        for q in range(m):
            acc[q] = (wsum - acc[q]) / wsum
    elif code == SOKALSNEATH:
        for q in range(m):
            ndiff = acc[q]
            acc[q] = (2.0 * ndiff) / (acc2[q] + 2.0 * ndiff)
    elif code == YULE:
        for q in range(m):
            half_r = acc3[q] * acc4[q]
            # scipy: 0 when ntf * nft == 0 (no discordant pair, also for identical rows)
            acc[q] = 0.0 if half_r == 0.0 else (2.0 * half_r) / (acc[q] * acc2[q] + half_r)
    elif code == JENSENSHANNON:
        for q in range(m):
            # p: log(base) for another base than e (1.0 otherwise: an exact no-op)
            acc[q] = math.sqrt((acc[q] / p) / 2.0)


@njit(cache=NUMBA_CACHE, error_model="numpy")
def _mahalanobis_pairs(AT, i, BT, j0, j1, out, o, VI, scratch):
    """sqrt((u - v)' VI (u - v)) for columns j0..j1-1 of BT, in scipy's order of operations."""
    d = AT.shape[0]
    diff = scratch[:d]
    prod = scratch[d : 2 * d]
    for j in range(j0, j1):
        for k in range(d):
            diff[k] = AT[k, i] - BT[k, j]
        for r in range(d):
            s = 0.0
            for c in range(d):
                s += diff[c] * VI[r, c]
            prod[r] = s
        s = 0.0
        for r in range(d):
            s += diff[r] * prod[r]
        out[o + j - j0] = math.sqrt(s)


@njit(cache=NUMBA_CACHE)
def tile_width(d):
    """Partner columns per tile for d features: the tile of BT (d x width) stays in L2."""
    return max(64, min(TILE, 8192 // d))


def _distance_rows(code, AT, BT, bounds, triangular, out, w, p, V, VI, norms_a, norms_b, wsum):
    """Fill the output rows of ``bounds[c]..bounds[c+1]-1`` for every chunk c.

    triangular: pdist (AT is BT; row i holds pairs (i, j > i) at their condensed
    offset) or cdist (row i holds all of BT at offset i * nb). bounds : int64[c+1],
    chunks of equal pair counts; the chunks run in parallel in the parallel twin.
    Within a chunk, the loop over tiles of BT is outside the loop over rows, so each
    tile is read from memory once per chunk rather than once per row.

    AT : float64[d, na], BT : float64[d, nb] (observations as columns; 0/1 values for
    the boolean metrics); out : float64, flat. Metric parameters, unused ones empty:
    w : float64[d] feature weights (ones when unweighted; multiplying by 1 is exact),
    p : float64 (the Minkowski exponent; log(base) for jensenshannon), V : float64[d],
    VI : float64[d, d], norms_a / norms_b : float64 per observation (row norms for
    cosine, weighted squared norms for weighted cosine, 1 / sums for jensenshannon),
    wsum : float64, the sum of w in feature order (hamming, rogerstanimoto, russellrao).
    """
    d = AT.shape[0]
    nb = BT.shape[1]
    width = tile_width(d)
    for c in prange(bounds.shape[0] - 1):
        r0 = bounds[c]
        r1 = bounds[c + 1]
        # three extra accumulators per tile (yule needs four counts), or mahalanobis' 2 d
        scratch = np.empty(max(3 * width, 2 * d))
        if code == MAHALANOBIS:  # d^2 work per pair: no tiling needed
            for i in range(r0, r1):
                start = i + 1 if triangular else 0
                offset = i * (nb - 1) - (i * (i - 1)) // 2 if triangular else i * nb
                _mahalanobis_pairs(AT, i, BT, start, nb, out, offset, VI, scratch)
            continue
        first = r0 + 1 if triangular else 0
        for j0 in range(first, nb, width):
            j1 = min(j0 + width, nb)
            for i in range(r0, r1):
                if triangular:
                    start = i + 1
                    # pairs before row i: (n-1) + (n-2) + ... + (n-i)
                    offset = i * (nb - 1) - (i * (i - 1)) // 2
                else:
                    start = 0
                    offset = i * nb
                lo = max(j0, start)
                if lo >= j1:
                    break  # later rows start later still
                o = offset + (lo - start)
                m = j1 - lo
                acc = out[o : o + m]
                acc2 = scratch[:m]
                if code >= DICE:  # the boolean dissimilarities and jensenshannon
                    acc3 = scratch[width : width + m]
                    acc4 = scratch[2 * width : 2 * width + m]
                    _sum_counts_tile(code, AT, i, BT, lo, j1, acc, acc2, acc3, acc4, w, norms_a, norms_b)
                    _finish_counts_tile(code, acc, acc2, acc3, acc4, p, wsum)
                else:
                    _sum_tile(code, AT, i, BT, lo, j1, acc, acc2, w, p, V)
                    _finish_tile(code, i, lo, acc, acc2, p, norms_a, norms_b, wsum)


distance_rows_serial, distance_rows_parallel = twins(_distance_rows, error_model="numpy")
