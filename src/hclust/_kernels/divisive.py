"""DIANA (divisive analysis) on a condensed distance matrix.

Kaufman and Rousseeuw (1990), *Finding Groups in Data*, ch. 6. The
observations live in one permutation array ``ner`` (R's ``order``); every
cluster is a contiguous block of it, kept in increasing observation order, as
in R's ``cluster::diana``: a split leaves the group holding the smallest
observation first, so ties meet the objects in the same order as there.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE)
def _condensed_index(n, i, j):
    """Index of the pair (i, j), i != j, in a condensed matrix of n points."""
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + j - i - 1


@njit(cache=NUMBA_CACHE)
def block_diameter(D, n, ner, start, stop):
    """Largest distance among observations ner[start:stop] (0.0 for one)."""
    best = 0.0
    for p in range(start, stop):
        a = ner[p]
        for q in range(p + 1, stop):
            value = D[_condensed_index(n, a, ner[q])]
            if value > best:
                best = value
    return best


@njit(cache=NUMBA_CACHE)
def _move_to(ner, source, target):
    """Move ner[source] to position target >= source, shifting the ones between left."""
    value = ner[source]
    for p in range(source, target):
        ner[p] = ner[p + 1]
    ner[target] = value


@njit(cache=NUMBA_CACHE)
def _split_block(D, n, ner, ja, jb, sum_rest, sum_splinter):
    """Split block ner[ja:jb+1] (>= 3 observations); return the splinter start jmb.

    The block is in increasing order; on return ner[ja:jmb] is the remaining
    group and ner[jmb:jb+1] the splinter group, both in increasing order.
    sum_rest, sum_splinter : float64[n] scratch, indexed by observation.
    """
    # Sum of distances of every object to the others of the block.
    for p in range(ja, jb + 1):
        sum_rest[ner[p]] = 0.0
        sum_splinter[ner[p]] = 0.0
    for p in range(ja, jb + 1):
        a = ner[p]
        for q in range(p + 1, jb + 1):
            b = ner[q]
            value = D[_condensed_index(n, a, b)]
            sum_rest[a] += value
            sum_rest[b] += value
    # The splinter group starts from the object with the largest average
    # dissimilarity to the others (the first such in block order).
    best = -1.0
    first = ja
    for p in range(ja, jb + 1):
        if best < sum_rest[ner[p]]:
            best = sum_rest[ner[p]]
            first = p
    _move_to(ner, first, jb)
    jma = jb - 1
    moved = ner[jb]
    splinter_size = 1
    for p in range(ja, jma + 1):
        a = ner[p]
        value = D[_condensed_index(n, a, moved)]
        sum_rest[a] -= value
        sum_splinter[a] += value
    while jma != ja:
        rest = jma - ja  # others in the remaining group, for each of its objects
        best = -1.0
        away = -1
        for p in range(ja, jma + 1):
            a = ner[p]
            diff = sum_rest[a] / rest - sum_splinter[a] / splinter_size
            if best < diff:
                best = diff
                away = p
        if best <= 0.0:
            break
        _move_to(ner, away, jma)
        moved = ner[jma]
        # Keep the splinter group in increasing order (as R does).
        p = jma
        while p < jb and ner[p] > ner[p + 1]:
            ner[p], ner[p + 1] = ner[p + 1], ner[p]
            p += 1
        jma -= 1
        splinter_size += 1
        for p in range(ja, jma + 1):
            a = ner[p]
            value = D[_condensed_index(n, a, moved)]
            sum_rest[a] -= value
            sum_splinter[a] += value
    return jma + 1


@njit(cache=NUMBA_CACHE)
def _swap_blocks(ner, ja, jmb, jb, scratch):
    """Rotate ner[ja:jb+1] so that block ner[jmb:jb+1] comes first."""
    m = jb - ja + 1
    k = jb - jmb + 1
    for p in range(k):
        scratch[p] = ner[jmb + p]
    for p in range(jmb - ja):
        scratch[k + p] = ner[ja + p]
    for p in range(m):
        ner[ja + p] = scratch[p]
    return ja + k


@njit(cache=NUMBA_CACHE)
def diana_splits(D, n):
    """All DIANA splits of n observations with condensed distances D (float64).

    Returns (ner, start, middle, stop, height, depth): the final permutation
    (R's ``order``, 0-based) and, for each of the n-1 splits in the order they
    were made (depth first), the block ner[start:stop] split into
    ner[start:middle] and ner[middle:stop], its diameter and its depth.
    """
    ner = np.arange(n)
    sum_rest = np.empty(n)
    sum_splinter = np.empty(n)
    scratch = np.empty(n, dtype=np.int64)
    start = np.empty(n - 1, dtype=np.int64)
    middle = np.empty(n - 1, dtype=np.int64)
    stop = np.empty(n - 1, dtype=np.int64)
    height = np.empty(n - 1)
    depth = np.empty(n - 1, dtype=np.int64)
    # Explicit stack of blocks still to split: start, stop, depth, diameter.
    stack_start = np.empty(n, dtype=np.int64)
    stack_stop = np.empty(n, dtype=np.int64)
    stack_depth = np.empty(n, dtype=np.int64)
    stack_diameter = np.empty(n)
    top = 0
    diameter = 0.0
    for k in range(D.shape[0]):
        if D[k] > diameter:
            diameter = D[k]
    stack_start[0] = 0
    stack_stop[0] = n
    stack_depth[0] = 0
    stack_diameter[0] = diameter
    top = 1
    count = 0
    while top > 0:
        top -= 1
        ja = stack_start[top]
        stop_ = stack_stop[top]
        level = stack_depth[top]
        diameter = stack_diameter[top]
        jb = stop_ - 1
        if stop_ - ja == 2:
            jmb = jb
        else:
            jmb = _split_block(D, n, ner, ja, jb, sum_rest, sum_splinter)
        # The group holding the smallest observation comes first, so every
        # block stays in increasing order.
        if ner[jmb] < ner[ja]:
            jmb = _swap_blocks(ner, ja, jmb, jb, scratch)
        start[count] = ja
        middle[count] = jmb
        stop[count] = stop_
        height[count] = diameter
        depth[count] = level
        count += 1
        if stop_ - jmb >= 2:
            stack_start[top] = jmb
            stack_stop[top] = stop_
            stack_depth[top] = level + 1
            stack_diameter[top] = block_diameter(D, n, ner, jmb, stop_)
            top += 1
        if jmb - ja >= 2:
            stack_start[top] = ja
            stack_stop[top] = jmb
            stack_depth[top] = level + 1
            stack_diameter[top] = block_diameter(D, n, ner, ja, jmb)
            top += 1
    return ner, start, middle, stop, height, depth
