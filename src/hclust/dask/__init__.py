"""Hierarchical clustering of data partitioned over a Dask cluster (optional extra).

``pip install "hclust[dask]"`` installs what this subpackage needs
(``dask[distributed]``). :func:`linkage` computes, with many workers, the
same tree as :func:`hclust.linkage` on the gathered rows; :func:`summarize`
clusters micro-clusters built partition by partition and labels every row
lazily.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
    import distributed  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by simulating the missing module
    raise ImportError(
        "hclust.dask needs Dask and dask.distributed, which are not installed: "
        'pip install "hclust[dask]"'
    ) from error

from ._exact import RoundStats, linkage
from ._summary import DaskSummary, summarize

__all__ = ["DaskSummary", "RoundStats", "linkage", "summarize"]
