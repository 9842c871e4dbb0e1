"""Nearest-neighbour chain on a condensed matrix (Muellner 2011, Fig. 5: NN-chain-linkage).

Exact for the reducible, order-independent methods: complete, average,
weighted and ward (not flexible with beta != 0: see hclust.linkage). The
matrix is updated in place; the merged cluster takes the slot of the larger
index. hclust.linkage hands a run over to it when the generic algorithm
exceeds its recomputation budget.
"""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE
from .lance_williams import nearest_active, remove_active, update_merged

#: The resumable cursor of a chain run (one record): chain length, live
#: (active) slots, merges done.
CHAIN_CURSOR = np.dtype(
    [("chain_len", np.int64), ("live", np.int64), ("merges", np.int64)], align=True
)


@njit(cache=NUMBA_CACHE)
def nn_chain_run(D, offsets, size, active, chain, state, a, b, h, method, beta, k_stop):
    """Run merges until ``state[0].merges == k_stop``; resumable.

    D : float64[n(n-1)/2], modified; offsets : int64[n]; size : float64[n]
    (0 for merged-away slots); active : int64[n], sorted active slots in
    ``active[:state[0].live]``; chain : int64[n], the chain in
    ``chain[:state[0].chain_len]``; state : CHAIN_CURSOR[1] (chain length,
    number active, merges done);
    a, b, h : int64/int64/float64[n-1] merge records (slot, slot, height).

    Ties: the nearest neighbour of the chain's top is the previous chain
    element when it is among the nearest (needed for termination), otherwise
    the smallest slot index. Returns -1 if the chain cannot end (only with
    non-finite distances, which the caller refuses: defence in depth).
    """
    cursor = state[0]
    chain_len = cursor.chain_len
    m = cursor.live
    k = cursor.merges
    while k < k_stop:
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            y, current = nearest_active(D, offsets, active, m, x)
            if chain_len > 1:
                previous = chain[chain_len - 2]
                if D[offsets[min(x, previous)] + max(x, previous)] <= current:
                    y = previous
                    break
            if chain_len >= m or y < 0:
                return -1  # a chain longer than the active slots: non-finite distances
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        a[k] = x
        b[k] = y
        h[k] = current
        update_merged(D, offsets, active, m, size, x, y, current, method, beta)
        size[y] = size[x] + size[y]
        size[x] = 0.0
        m = remove_active(active, m, x)
        k += 1
    cursor.chain_len = chain_len
    cursor.live = m
    cursor.merges = k
    return k
