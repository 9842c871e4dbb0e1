"""Union-find over linkage nodes, and the relabel step every engine ends with."""

import numpy as np
from numba import njit

from .._config import NUMBA_CACHE


@njit(cache=NUMBA_CACHE)
def uf_find(parent, x):
    """Root of ``x`` in the forest ``parent`` (int64[m]), halving paths on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=NUMBA_CACHE)
def merges_to_linkage(a, b, heights, sizes):
    """scipy ``Z`` from merges given by representative observations, in merge order.

    a, b : int64[n-1], any observation of each merged cluster; heights : float64[n-1];
    sizes : float64[n], the weight of each observation. Returns Z : float64[n-1, 4]
    with node ``n + i`` for merge ``i`` and the smaller node id first.
    """
    n = sizes.shape[0]
    parent = np.arange(2 * n - 1)
    node_size = np.empty(2 * n - 1)
    node_size[:n] = sizes
    Z = np.empty((n - 1, 4))
    for i in range(n - 1):
        x = uf_find(parent, a[i])
        y = uf_find(parent, b[i])
        if x > y:
            x, y = y, x
        node = n + i
        parent[x] = node
        parent[y] = node
        node_size[node] = node_size[x] + node_size[y]
        Z[i, 0] = x
        Z[i, 1] = y
        Z[i, 2] = heights[i]
        Z[i, 3] = node_size[node]
    return Z
