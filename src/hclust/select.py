"""Choosing the number of clusters along a tree: validity indices and stability.

:func:`evaluate` scores every cut of a linkage matrix ``Z`` in a range of cluster
counts with the usual indices (within-cluster sum of squares for an elbow plot,
silhouette, Calinski-Harabasz, Davies-Bouldin, SAS's pseudo-t², the gap statistic,
the height jumps of the tree) and recommends a number of clusters by a vote of the
criteria, explaining each criterion's pick in words. :func:`stability` measures how
well each segment of a cut survives re-clustering of random subsamples (Hennig's
clusterwise Jaccard stability).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist, squareform

from ._deprecation import renamed_keywords
from ._typing import FloatArray, IntArray
from ._validation import (
    as_observations,
    check_count,
    check_memory,
    check_option,
    check_squares,
    check_weights,
    is_integer,
)
from ._linkage import METHODS, linkage
from .tree import _cut_order, check_linkage, cut, cut_tree

__all__ = ["CRITERIA", "Evaluation", "MIN_SEGMENT_SIZE", "evaluate", "min_segment_count", "stability"]

#: Criteria (validity indices) :func:`evaluate` can compute. (``METRICS``, its old name,
#: works until hclust 0.3 with a FutureWarning: a metric is a distance in hclust.)
CRITERIA: tuple[str, ...] = (
    "wss",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "pseudo_t2",
    "gap",
    "height_jump",
)

#: Criteria that vote for the recommended number of clusters, in the order of the reasons.
VOTING: tuple[str, ...] = ("silhouette", "calinski_harabasz", "davies_bouldin", "gap", "height_jump")

#: Default smallest segment a recommended k may have: a share of the customers and a count
#: (both must be met). See :func:`min_segment_count`.
MIN_SEGMENT_SIZE: tuple[float, int] = (0.02, 5)

_TITLES = {
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "gap": "gap statistic",
    "height_jump": "height jump",
}

#: Rows used for an exact silhouette; above this the silhouette is computed on a sample.
SILHOUETTE_EXACT_MAX = 10_000

# Bytes of one block of the silhouette distance matrix (rows x sample).
_BLOCK_BYTES = 32 * 2**20


@dataclass
class Evaluation:
    """Scores of the cuts of a tree and the recommended number of clusters.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per number of clusters ``k`` (the index, named ``"k"``), one column per
        computed quantity (see :func:`evaluate`); NaN where a criterion is undefined.
    recommended_k : int or None
        The number of clusters most criteria pick (ties to the smaller k), among the
        ks whose segments all meet the minimum segment size; None when no k does.
    reasons : list of str
        The minimum segment size and the ks it excludes, each voting criterion's pick
        (or why it was not computed) in words, then the verdict.
    picks : dict
        Criterion name -> its pick (an int, or None where it could not pick).
    silhouette_rows : int or None
        Number of rows the silhouette was computed on (n when exact), None when the
        silhouette was not requested.
    distance : str
        The distances the criteria were computed on, in words.
    min_segment_size : int
        Smallest segment (in customers) a recommended k may have; 0: no minimum.
    """

    table: pd.DataFrame
    recommended_k: int | None
    reasons: list[str] = field(default_factory=list)
    picks: dict[str, int | None] = field(default_factory=dict)
    silhouette_rows: int | None = None
    distance: str = "Euclidean distances"
    min_segment_size: int = 0

    @property
    def criteria(self) -> list[str]:
        """The voting criteria that were computed (their columns are in :attr:`table`)."""
        return [name for name in VOTING if name in self.table.columns]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable data: the table as a list of rows (NaN and infinities -> None).

        Examples
        --------
        >>> import numpy as np, json
        >>> from hclust import linkage
        >>> from hclust.select import evaluate
        >>> X = np.r_[np.zeros((5, 2)), np.full((5, 2), 9.0)] + np.arange(10)[:, None] * 0.01
        >>> result = evaluate(linkage(X, "ward"), X, ks=[2, 3], criteria=("wss", "calinski_harabasz"))
        >>> json.dumps(result.to_dict())[:20]
        '{"recommended_k": 2,'
        """
        rows = []
        for k, row in zip(self.table.index.tolist(), self.table.to_dict("records")):
            entry: dict[str, Any] = {"k": int(k)}
            for column, value in row.items():
                number = float(value)
                entry[str(column)] = number if math.isfinite(number) else None
            rows.append(entry)
        return {
            "recommended_k": None if self.recommended_k is None else int(self.recommended_k),
            "reasons": list(self.reasons),
            "picks": {name: (None if pick is None else int(pick)) for name, pick in self.picks.items()},
            "silhouette_rows": self.silhouette_rows,
            "distance": self.distance,
            "min_segment_size": int(self.min_segment_size),
            "table": rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Evaluation":
        """Rebuild an evaluation from :meth:`to_dict`."""
        table = pd.DataFrame.from_records(data["table"]).set_index("k").astype(float)
        recommended = data["recommended_k"]
        return cls(
            table=table,
            recommended_k=None if recommended is None else int(recommended),
            reasons=list(data["reasons"]),
            picks=dict(data["picks"]),
            silhouette_rows=data["silhouette_rows"],
            # absent from evaluations saved before hclust issue 19: Euclidean, no minimum
            distance=data.get("distance", "Euclidean distances"),
            min_segment_size=int(data.get("min_segment_size", 0)),
        )


# --------------------------------------------------------------------------- validation


def _check_ks(ks: Any, n: int) -> list[int]:
    if is_integer(ks):
        ks = [ks]
    try:
        values = list(ks)
    except TypeError:
        raise TypeError(f"ks must be an integer or a sequence of integers between 1 and {n}; got {ks!r}.") from None
    if not values:
        raise ValueError("ks is empty; pass the numbers of clusters to evaluate, e.g. range(2, 16).")
    for value in values:
        if not is_integer(value):
            raise TypeError(f"ks must hold integers between 1 and {n}; got {value!r}.")
        if not 1 <= int(value) <= n:
            raise ValueError(
                f"ks contains {int(value)}, which is out of range: {n} observations can be cut into "
                f"1 to {n} clusters. Pass e.g. ks=range(2, {min(16, n + 1)})."
            )
    return sorted({int(value) for value in values})


def _check_criteria(criteria: Any) -> list[str]:
    if isinstance(criteria, str):
        criteria = (criteria,)
    chosen = [check_option(name, "criterion", CRITERIA) for name in criteria]
    if not chosen:
        raise ValueError(f"criteria is empty; choose from: {', '.join(CRITERIA)}.")
    return list(dict.fromkeys(chosen))


def min_segment_count(spec: Any, total: float) -> tuple[int, str]:
    """The smallest segment size a candidate k may have, and that rule in words.

    Parameters
    ----------
    spec : None, int, float or (float, int)
        ``None`` or 0: no minimum. An integer >= 1: that many customers. A float in
        (0, 1): that share of the customers. A pair ``(share, count)``: both, i.e.
        ``max(ceil(share * total), count)``.
    total : float
        Number of customers (the sum of the weights when rows are weighted).

    Returns
    -------
    count : int
        0 when there is no minimum.
    text : str
        E.g. ``"90 customers (2% of 4,521, and at least 5)"``.

    Raises
    ------
    ValueError
        A spec of another form, a negative count, or a share outside [0, 1).

    Examples
    --------
    >>> min_segment_count((0.02, 5), 4521)
    (91, '91 customers (2% of 4,521, and at least 5)')
    >>> min_segment_count(10, 200)[0], min_segment_count(None, 200)[0]
    (10, 0)
    """
    if spec is None:
        return 0, "none"
    share: float | None = None
    count: int | None = None
    if isinstance(spec, tuple) and len(spec) == 2:
        share_part, count_part = spec
        if not (isinstance(share_part, numbers.Real) and not isinstance(share_part, bool) and 0 <= float(share_part) < 1):
            raise ValueError(f"min_segment_size's share must be a number in [0, 1); got {share_part!r}.")
        if not (is_integer(count_part) and int(count_part) >= 0):
            raise ValueError(f"min_segment_size's count must be an integer >= 0; got {count_part!r}.")
        share, count = float(share_part), int(count_part)
    elif is_integer(spec):
        if int(spec) < 0:
            raise ValueError(f"min_segment_size must be >= 0; got {spec!r}.")
        count = int(spec)
    elif isinstance(spec, numbers.Real) and not isinstance(spec, bool) and 0 <= float(spec) < 1:
        share = float(spec)
    else:
        raise ValueError(
            "min_segment_size must be None, a count (int >= 0), a share (float in [0, 1)) or a pair "
            f"(share, count); got {spec!r}."
        )
    by_share = math.ceil(share * total - 1e-9) if share else 0
    needed = max(by_share, count or 0)
    if needed <= 0:
        return 0, "none"
    customers = f"{needed:,} customer" + ("s" if needed != 1 else "")
    if share and count:
        return needed, f"{customers} ({share:.0%} of {total:,.0f}, and at least {count:,})"
    if share:
        return needed, f"{customers} ({share:.0%} of {total:,.0f})"
    return needed, customers


# --------------------------------------------------------------------------- per-cut quantities


def _cluster_moments(
    X: FloatArray, labels: IntArray, k: int, summaries: tuple[FloatArray, FloatArray] | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sizes (k,), means (k, d) and within sums of squares (k,) of labels 0..k-1.

    ``summaries``: (counts, within sums of squares) when the rows of ``X`` are
    summaries of that many rows each: the moments of the rows summarised.
    """
    w = None if summaries is None else summaries[0]
    counts = np.bincount(labels, weights=w, minlength=k).astype(np.float64)
    sums = np.empty((k, X.shape[1]))
    for j in range(X.shape[1]):
        sums[:, j] = np.bincount(labels, weights=X[:, j] if w is None else w * X[:, j], minlength=k)
    means = sums / np.where(counts > 0, counts, 1.0)[:, None]
    # Two passes (means, then squared deviations): no cancellation, unlike sum(x^2) - n mean^2.
    deviations = X - means[labels]
    squares = np.einsum("ij,ij->i", deviations, deviations)
    sse = np.bincount(labels, weights=squares if w is None else w * squares, minlength=k)
    if summaries is not None:
        sse = sse + np.bincount(labels, weights=summaries[1], minlength=k)
    return counts, means, np.asarray(sse, dtype=np.float64)


def _calinski_harabasz_of_summaries(
    X: FloatArray, summaries: tuple[FloatArray, FloatArray], sse: FloatArray, k: int
) -> float:
    """Calinski-Harabasz of the rows that summaries (means ``X``, counts, within sums of squares) stand for."""
    w, within = summaries
    n = float(w.sum())
    centre = (w[:, None] * X).sum(axis=0) / n
    deviations = X - centre
    total = float(w @ np.einsum("ij,ij->i", deviations, deviations) + within.sum())
    inside = float(sse.sum())
    if inside == 0.0:
        return 1.0  # as scikit-learn's
    return (total - inside) * (n - k) / (inside * (k - 1.0))


def _pseudo_t2(
    counts: FloatArray, means: FloatArray, sse: FloatArray, labels: IntArray, coarser: IntArray
) -> float:
    """SAS pseudo-t² of the merge that joins two clusters of ``labels`` into one of ``coarser``."""
    k = counts.shape[0]
    representative = np.full(k, -1, dtype=np.int64)
    # First row of each fine cluster; labels are numbered by first appearance.
    first = np.unique(labels, return_index=True)[1]
    representative[: first.shape[0]] = first
    parents = coarser[representative]
    values, seen = np.unique(parents, return_counts=True)
    pair = np.flatnonzero(parents == values[np.argmax(seen)])
    a, b = int(pair[0]), int(pair[1])
    n_a, n_b = counts[a], counts[b]
    within = sse[a] + sse[b]
    if n_a + n_b <= 2 or within <= 0.0:
        return math.nan
    diff = means[a] - means[b]
    between = n_a * n_b / (n_a + n_b) * float(diff @ diff)  # = W_union - W_a - W_b
    return float(between / (within / (n_a + n_b - 2.0)))


def _distance_pass(
    block_distances: Callable[[int, int], FloatArray],
    m: int,
    columns: IntArray,
    ks: Sequence[int],
    with_squares: bool = False,
    counts: FloatArray | None = None,
) -> tuple[list[float], FloatArray, list[FloatArray]]:
    """One pass over the m x m distances, block of rows by block, for every labelling at once.

    ``block_distances(start, stop)`` returns the distances of rows start..stop-1 to all m
    rows; ``columns`` (m, len(ks)) holds the labellings, 0..ks[j]-1. Returns the mean
    silhouette of each labelling, each row's summed distance to its own cluster (m,
    len(ks)), and, with ``with_squares``, each labelling's (k, k) matrix of summed
    squared distances between (and within) clusters.

    ``counts`` (m,): each row stands for that many points at its place (integers >= 1):
    the silhouette is then that of those points (the rows repeated by their counts),
    and the returned sums are count-weighted too.

    The per-cluster sums for every labelling are one matrix product of the distance
    block with the stacked one-hot indicators of the labellings.
    """
    offsets = np.concatenate(([0], np.cumsum(ks))).astype(np.int64)
    indicator = np.zeros((m, int(offsets[-1])))
    rows = np.arange(m)
    sizes = np.zeros(int(offsets[-1]))
    for j in range(len(ks)):
        indicator[rows, offsets[j] + columns[:, j]] = 1.0 if counts is None else counts
        sizes[offsets[j] : offsets[j + 1]] = np.bincount(columns[:, j], weights=counts, minlength=ks[j])
    totals = np.zeros(len(ks))
    own_sums = np.zeros((m, len(ks)))
    squares = [np.zeros((k, k)) for k in ks]
    block = max(1, min(m, _BLOCK_BYTES // (8 * m)))
    for start in range(0, m, block):
        stop = min(m, start + block)
        distances = block_distances(start, stop)
        sums = distances @ indicator
        if with_squares:
            squared_sums = (distances * distances) @ indicator
        span = np.arange(stop - start)
        for j in range(len(ks)):
            part = sums[:, offsets[j] : offsets[j + 1]]
            own = columns[start:stop, j]
            size = sizes[offsets[j] : offsets[j + 1]]
            own_size = size[own]
            own_sums[start:stop, j] = part[span, own]
            with np.errstate(divide="ignore", invalid="ignore"):
                mean_to = part / size
                a = part[span, own] / (own_size - 1.0)
            mean_to[span, own] = np.inf
            mean_to[:, size == 0] = np.inf
            b = mean_to.min(axis=1)
            denominator = np.maximum(a, b)
            with np.errstate(divide="ignore", invalid="ignore"):
                silhouette = (b - a) / denominator
            # Singletons score 0 (Rousseeuw 1987), as do identical points (0 / 0).
            silhouette[(own_size <= 1) | (denominator == 0)] = 0.0
            totals[j] += silhouette.sum() if counts is None else silhouette @ counts[start:stop]
            if with_squares:
                # rows of this block summed by their own cluster: (k, k) between-cluster sums
                np.add.at(squares[j], own, squared_sums[:, offsets[j] : offsets[j + 1]])
    return list(totals / (m if counts is None else float(counts.sum()))), own_sums, squares


def _silhouettes(
    X: FloatArray, columns: IntArray, ks: Sequence[int], counts: FloatArray | None = None
) -> list[float]:
    """Mean silhouette of each labelling column of ``columns`` (m, len(ks)), one Euclidean pass.

    Euclidean distances are computed once per block of rows (exactly, by
    ``scipy.spatial.distance.cdist``). counts: see ``_distance_pass``.
    """
    scores, _, _ = _distance_pass(
        lambda start, stop: cdist(X[start:stop], X), X.shape[0], columns, ks, counts=counts
    )
    return scores


def _davies_bouldin_of_summaries(
    X: FloatArray, counts: FloatArray, labels: IntArray, sizes: FloatArray, centroids: FloatArray
) -> float:
    """scikit-learn's Davies-Bouldin of the rows of ``X`` repeated by their ``counts``.

    ``sizes`` and ``centroids``: the clusters' summed counts and count-weighted means
    (``_cluster_moments`` with the summaries: the exact means of the customers they
    stand for); a cluster's scatter is the count-weighted mean distance of its rows
    to its centroid (each customer counted at its summary's mean).
    """
    k = sizes.shape[0]
    reach = np.linalg.norm(X - centroids[labels], axis=1)
    scatter = np.bincount(labels, weights=counts * reach, minlength=k) / sizes
    gaps = cdist(centroids, centroids)
    # scikit-learn's conventions: 0 for no scatter or one place; equal centroids never count
    if np.allclose(scatter, 0) or np.allclose(gaps, 0):
        return 0.0
    gaps[gaps == 0] = np.inf
    return float(np.max((scatter[:, None] + scatter[None, :]) / gaps, axis=1).mean())


def _distance_criteria(
    D: FloatArray, rows: IntArray, labels: IntArray, ks: Sequence[int]
) -> tuple[dict[str, FloatArray], list[FloatArray], IntArray]:
    """Silhouette, WSS, Calinski-Harabasz and Davies-Bouldin (medoids) from distances.

    ``D`` is the square (n, n) distance matrix, ``rows`` the rows to use (all, or a
    sample), ``labels`` (n, len(ks)) the cuts. Also returns, per cut, the (k, k) sums of
    squared distances between its clusters and the cut's labels of ``rows`` renumbered
    0..k-1 (for the pseudo-t²). See :func:`evaluate`'s Notes.
    """
    m = rows.shape[0]
    everything = m == D.shape[0]
    relabelled = []
    counts = []
    for j in range(len(ks)):
        present, dense = np.unique(labels[rows, j], return_inverse=True)
        relabelled.append(dense.astype(np.int64))
        counts.append(int(present.shape[0]))
    stacked = np.column_stack(relabelled)

    def block(start: int, stop: int) -> FloatArray:
        if everything:
            return D[start:stop]
        return D[np.ix_(rows[start:stop], rows)]

    scores, own_sums, squares = _distance_pass(block, m, stacked, counts, with_squares=True)
    out = {name: np.full(len(ks), math.nan) for name in ("silhouette", "wss", "calinski_harabasz", "davies_bouldin")}
    for j, k in enumerate(counts):
        size = np.bincount(stacked[:, j], minlength=k).astype(np.float64)
        within_each = np.diag(squares[j]) / (2.0 * size)
        within = float(within_each.sum())
        total = float(squares[j].sum()) / (2.0 * m)
        out["wss"][j] = within
        # medoid: the member with the smallest summed distance to its cluster (ties: first row)
        order = np.lexsort((own_sums[:, j], stacked[:, j]))
        first = np.searchsorted(stacked[order, j], np.arange(k))
        medoid = order[first]
        if 2 <= k <= m - 1:
            out["silhouette"][j] = scores[j]
            between = max(total - within, 0.0)
            out["calinski_harabasz"][j] = 1.0 if within == 0.0 else between * (m - k) / (within * (k - 1.0))
            spread = own_sums[medoid, j] / size  # mean distance of the members to their medoid
            centre = D[np.ix_(rows[medoid], rows[medoid])]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = (spread[:, None] + spread[None, :]) / centre
            ratio[(centre == 0) & (spread[:, None] + spread[None, :] == 0)] = 0.0
            np.fill_diagonal(ratio, -np.inf)
            out["davies_bouldin"][j] = float(ratio.max(axis=1).mean())
    return out, squares, stacked


def _wss_for_labels(X: FloatArray, labels: IntArray, ks: Sequence[int]) -> FloatArray:
    return np.array([_cluster_moments(X, labels[:, j], k)[2].sum() for j, k in enumerate(ks)])


def _gap(
    X: FloatArray, ks: list[int], wss: FloatArray, method: str, n_refs: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gap statistic: (gap, s_k, mean log W*_k) per k (Tibshirani et al. 2001)."""
    n, d = X.shape
    low, high = X.min(axis=0), X.max(axis=0)
    log_ref = np.empty((n_refs, len(ks)))
    for b in range(n_refs):
        reference = low + (high - low) * rng.random((n, d))
        labels = cut_tree(linkage(reference, method), n_clusters=ks)
        with np.errstate(divide="ignore"):
            log_ref[b] = np.log(_wss_for_labels(reference, labels, ks))
    # k = n clusters: every W*_k is 0, log -inf, and the spread NaN (the gap is NaN there too)
    with np.errstate(invalid="ignore"):
        mean_ref = log_ref.mean(axis=0)
        # sd_k with the 1/B of the paper, inflated by sqrt(1 + 1/B) for the simulation error.
        s_k = np.sqrt(((log_ref - mean_ref) ** 2).mean(axis=0)) * math.sqrt(1.0 + 1.0 / n_refs)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = mean_ref - np.log(wss)
    gap[~np.isfinite(gap)] = math.nan
    return gap, s_k, mean_ref


# --------------------------------------------------------------------------- picks


def _argbest(table: pd.DataFrame, column: str, largest: bool, eligible: np.ndarray) -> int | None:
    values = table[column].to_numpy(dtype=np.float64)
    finite = np.isfinite(values) & eligible
    if not finite.any():
        return None
    best = values[finite].max() if largest else values[finite].min()
    return int(table.index[np.flatnonzero(finite & (values == best))[0]])


def _gap_pick(table: pd.DataFrame, eligible: np.ndarray) -> int | None:
    ks = list(table.index)
    gap, s_k = table["gap"].to_numpy(), table["gap_sk"].to_numpy()
    for i in range(len(ks) - 1):
        if not eligible[i]:
            continue
        if ks[i + 1] == ks[i] + 1 and np.isfinite(gap[i]) and np.isfinite(gap[i + 1]):
            if gap[i] >= gap[i + 1] - s_k[i + 1]:
                return int(ks[i])
    return None


def _fmt(value: Any) -> str:
    return f"{float(value):.4g}"


def _k_list(ks: Sequence[int]) -> str:
    """``2, 3, 5..9``: runs of consecutive ks shortened."""
    parts: list[str] = []
    start: int | None = None
    prev = 0
    for k in [*ks, None]:
        if start is not None and (k is None or k != prev + 1):
            parts.append(str(start) if start == prev else f"{start}, {prev}" if prev == start + 1 else f"{start}..{prev}")
            start = None
        if k is not None:
            if start is None:
                start = k
            prev = k
    return ", ".join(parts)


def _recommend(
    table: pd.DataFrame,
    criteria: list[str],
    silhouette_rows: int | None,
    n: int,
    *,
    distance: str = "Euclidean distances",
    min_count: int = 0,
    min_text: str = "none",
    skipped: Mapping[str, str] | None = None,
    medoids: bool = False,
) -> tuple[int | None, list[str], dict[str, int | None]]:
    picks: dict[str, int | None] = {}
    reasons: list[str] = []
    skipped = dict(skipped or {})
    ks = [int(k) for k in table.index]
    smallest = table["smallest_segment"].to_numpy(dtype=np.float64)
    eligible = smallest >= min_count
    excluded = [k for k, ok in zip(ks, eligible) if not ok]
    computed = [_TITLES[name] for name in VOTING if name in criteria and name not in skipped]
    reasons.append(f"Criteria on {distance}: {', '.join(computed) if computed else 'none'}.")
    if min_count <= 0:
        reasons.append("No minimum segment size: every k evaluated is a candidate.")
    elif not excluded:
        reasons.append(f"Minimum segment size {min_text}: every k evaluated meets it.")
    else:
        sizes = ", ".join(f"{int(smallest[ks.index(k)]):,}" for k in excluded[:8]) + (
            ", ..." if len(excluded) > 8 else ""
        )
        reasons.append(
            f"Minimum segment size {min_text}: k={_k_list(excluded)} excluded (smallest segment: {sizes})."
        )
    among = " among the candidate ks" if excluded and len(excluded) < len(ks) else ""
    on = (
        f" (on a random sample of {silhouette_rows:,} of {n:,} rows)"
        if silhouette_rows is not None and silhouette_rows < n
        else ""
    )
    for name in VOTING:
        title = _TITLES[name]
        if name in skipped:
            picks[name] = None
            reasons.append(f"{title}: not computed ({skipped[name]}).")
            continue
        if name not in criteria:
            reasons.append(f"{title}: not computed (not among the criteria requested).")
            continue
        if not eligible.any():
            pick = None
            text = f"{title}: no candidate k (none meets the minimum segment size)"
        elif name == "silhouette":
            pick = _argbest(table, "silhouette", True, eligible)
            text = (
                f"silhouette{on} is highest at k={pick} ({_fmt(table.at[pick, 'silhouette'])}){among}"
                if pick is not None
                else f"silhouette{on} is undefined for every candidate k (it needs 2 <= k < n)"
            )
        elif name == "calinski_harabasz":
            pick = _argbest(table, "calinski_harabasz", True, eligible)
            text = (
                f"Calinski-Harabasz (pseudo-F){on if medoids else ''} is highest at k={pick} "
                f"({_fmt(table.at[pick, 'calinski_harabasz'])}){among}"
                if pick is not None
                else "Calinski-Harabasz is undefined for every candidate k (it needs 2 <= k < n)"
            )
        elif name == "davies_bouldin":
            pick = _argbest(table, "davies_bouldin", False, eligible)
            variant = " (medoid variant)" if medoids else ""
            text = (
                f"Davies-Bouldin{variant}{on if medoids else ''} is lowest at k={pick} "
                f"({_fmt(table.at[pick, 'davies_bouldin'])}){among}"
                if pick is not None
                else "Davies-Bouldin is undefined for every candidate k (it needs 2 <= k < n)"
            )
        elif name == "gap":
            pick = _gap_pick(table, eligible)
            text = (
                f"gap statistic: k={pick} is the smallest candidate k with gap(k) >= gap(k+1) - s(k+1) "
                f"({_fmt(table.at[pick, 'gap'])} >= {_fmt(table.at[pick + 1, 'gap'])} - "
                f"{_fmt(table.at[pick + 1, 'gap_sk'])})"
                if pick is not None
                else "gap statistic: no candidate k satisfies gap(k) >= gap(k+1) - s(k+1) among consecutive ks"
            )
        else:
            pick = _argbest(table, "height_jump", True, eligible)
            text = (
                f"the tree's largest height jump{among} is at k={pick}: exactly "
                f"{pick} clusters exist from height {_fmt(table.at[pick, 'height_low'])} to "
                f"{_fmt(table.at[pick, 'height_high'])}"
                if pick is not None
                else "height jump is undefined for every candidate k (k=1 has no upper height)"
            )
        picks[name] = pick
        reasons.append(text + ".")
    votes = [pick for pick in picks.values() if pick is not None]
    if not eligible.any():
        best = int(np.nanmax(smallest)) if np.isfinite(smallest).any() else 0
        reasons.append(
            f"No recommendation: no k in {_k_list(ks)} gives segments of at least {min_count:,} customers (the "
            f"largest smallest segment has {best:,}). The tree splits off small groups first; try another linkage "
            "(ward, or complete), more ks, a smaller min_segment_size, or choose k yourself."
        )
        return None, reasons, picks
    if not votes:
        recommended = int(table.index[np.flatnonzero(eligible)[0]])
        reasons.append(f"No criterion could pick a k; falling back to the smallest candidate k, {recommended}.")
        return recommended, reasons, picks
    counts: dict[int, int] = {}
    for pick in votes:
        counts[pick] = counts.get(pick, 0) + 1
    top = max(counts.values())
    recommended = min(k for k, c in counts.items() if c == top)
    tied = sorted(k for k, c in counts.items() if c == top)
    tie_text = f" (tied with k={', '.join(map(str, tied[1:]))}; ties go to the smaller k)" if len(tied) > 1 else ""
    reasons.append(
        f"Recommended k={recommended}: chosen by {top} of {len(votes)} criteria{tie_text}."
    )
    return recommended, reasons, picks


# --------------------------------------------------------------------------- public API


@renamed_keywords(metrics="criteria")
def evaluate(
    Z: Any,
    X: Any,
    ks: Iterable[int] = range(2, 16),
    *,
    criteria: Sequence[str] = CRITERIA,
    method: str = "ward",
    metric: str = "euclidean",
    sample_size: int | None = None,
    random_state: int | np.random.Generator | None = 0,
    n_refs: int = 10,
    gap_sample_size: int | None = None,
    min_segment_size: Any = MIN_SEGMENT_SIZE,
    weights: Any = None,
    distance_name: str | None = None,
    within_ss: Any = None,
) -> Evaluation:
    """Score the cuts of a tree into k clusters and recommend a k.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix built from ``X`` (any method; monotone or not).
    X : array-like of shape (n, d), or distances
        The observations ``Z`` was built from (scale the features first), or with
        ``metric="precomputed"`` their square (n, n) or condensed distance matrix.
    ks : iterable of int, default=range(2, 16)
        Numbers of clusters to evaluate, each in 1..n (duplicates dropped, sorted).
        k=1 is allowed: WSS, gap and pseudo-t² are defined there (pseudo-t² needs
        k >= 2, so it is NaN at k=1), silhouette, Calinski-Harabasz and
        Davies-Bouldin are not (NaN), nor is the height jump (NaN; one cluster exists
        up to infinity).
    criteria : sequence of str, default=all of :data:`CRITERIA`
        Which validity indices to compute (``metrics=``, the old name, works until
        hclust 0.3 with a FutureWarning; ``metric`` is the distance). ``"gap"`` is by far the most expensive
        (``n_refs`` clusterings of n rows); ``"silhouette"`` is O(m² d) for m rows.
    method : str, default="ward"
        Linkage method ``Z`` came from; the gap statistic clusters its reference sets
        with it (Euclidean metric).
    metric : str, default="euclidean"
        The distance ``Z`` was built on, so that the criteria measure the same
        geometry: ``"euclidean"`` (the indices below on the features),
        ``"precomputed"`` (``X`` holds the distances, e.g. Gower's) or any metric of
        :func:`hclust.pdist` (the distances are computed, O(n²) memory). With a
        distance other than Euclidean the criteria come from the distances (see
        Notes) and the gap statistic is not computed (it needs features).
    sample_size : int, optional
        The silhouette is exact (all rows) when n <= ``sample_size``, else computed on
        ``sample_size`` rows drawn without replacement (the same rows for every k).
        Default 10 000.
    random_state : int, Generator or None, default=0
        Seed for the silhouette sample and the gap reference sets.
    n_refs : int, default=10
        Number of reference data sets for the gap statistic (the paper's B).
    gap_sample_size : int, optional
        When given and smaller than n, the gap statistic is computed on that many
        rows drawn without replacement (seeded): the sample is clustered afresh with
        ``method`` and the reference sets have the sample's size. Default: all rows
        (exact, but ``n_refs`` clusterings of n rows; 35-70 s for 20 000 x 8 with
        ward on 2 cores).
    min_segment_size : None, int, float or (float, int), default=(0.02, 5)
        The smallest segment a recommended k may have (see
        :func:`min_segment_count`): by default 2% of the customers and at least 5.
        Ks whose smallest segment is smaller are scored but get no vote; when no k
        qualifies, ``recommended_k`` is None and the reasons say why. None: no minimum.
    weights : array-like of shape (n,), optional
        Customers per row (counts), for the segment sizes that ``min_segment_size``
        checks; the indices themselves are unweighted, unless ``within_ss`` says
        that the rows are summaries.
    distance_name : str, optional
        How the reasons name the distances (default: from ``metric``, e.g.
        ``"Euclidean distances"``, ``"precomputed distances"``).
    within_ss : array-like of shape (n,), optional
        Euclidean features only, with ``weights``: the rows of ``X`` are summaries
        (micro-cluster means, ``weights`` their counts, ``within_ss`` the sum of
        squared deviations of their members from the mean, as
        :class:`hclust.Summary`'s ``ssd``). Then ``wss``, ``calinski_harabasz`` and
        ``pseudo_t2`` are those of the customers summarised, exactly (the sums of
        squares add up: ``W = sum ssd + sum_i w_i |mean_i - centre|^2``); the
        silhouette and Davies-Bouldin are those of the customers as if each sat at
        its summary's mean (scikit-learn's on the means repeated by their counts:
        a micro-cluster of 5 000 customers weighs 5 000 times one of one); the gap
        statistic is computed on the means.

    Returns
    -------
    Evaluation
        ``table`` indexed by ``k`` with the columns below (those of the requested
        criteria), ``recommended_k``, ``reasons``, ``picks``, ``silhouette_rows``.

        * ``wss``: within-cluster sum of squared Euclidean distances to the cluster
          means (plot against k for the elbow).
        * ``silhouette`` and ``silhouette_rows`` (rows it was computed on; fewer than n
          means it was sampled).
        * ``calinski_harabasz`` (SAS's pseudo-F), ``davies_bouldin``: scikit-learn's.
        * ``pseudo_t2``: see Notes.
        * ``gap``, ``gap_sk``, ``log_wk``, ``log_wk_ref``: the gap statistic, and
          ``gap_rows`` (rows it was computed on; see ``gap_sample_size``).
        * ``height_low``, ``height_high``, ``height_jump``, ``height_ratio``: the range
          of cut heights over which exactly k clusters exist, its length and
          ``height_high / height_low``.
        * ``smallest_segment`` (customers in the smallest segment of the cut) and
          ``meets_min_size`` (1 when it is at least ``min_segment_size``, else 0).

    Raises
    ------
    ValueError
        ``X`` has a different number of rows than ``Z`` has leaves; a k outside 1..n;
        NaN or infinite values; unknown criteria; bad ``sample_size``, ``n_refs`` or
        ``gap_sample_size``.

    See Also
    --------
    stability : how well each segment survives re-clustering of subsamples.
    hclust.tree.cut_tree : the labels of all the cuts.

    Notes
    -----
    All cuts come from one :func:`hclust.tree.cut_tree` call (k clusters = the k-1
    top merges undone); each index then costs O(n d) per k, except the silhouette.

    **Silhouette.** Mean over rows of ``(b - a) / max(a, b)`` with Euclidean
    distances (Rousseeuw 1987; 0 for rows in singleton clusters), equal to
    :func:`sklearn.metrics.silhouette_score`. The distances are computed once for
    all ks, in blocks, so the cost is O(m² d + m² K) for m rows and K the sum of the
    ks; above ``sample_size`` rows it is computed on a seeded sample of rows, whose
    silhouettes use the sampled rows only (as scikit-learn's ``sample_size`` does).

    **Pseudo-t²** at k (SAS PROC CLUSTER's PST2, which SAS prints on the row with
    k - 1 clusters) concerns the merge that joins two of the k clusters, A and B,
    into the one cluster of the (k-1)-cut::

        pseudo_t2(k) = (W_AuB - W_A - W_B) / ((W_A + W_B) / (n_A + n_B - 2))

    with W the sum of squared distances to the cluster mean; the numerator is
    computed as ``n_A n_B / (n_A + n_B) ||mean_A - mean_B||²``, which equals it
    exactly in real arithmetic and is never negative. A large value at k means that
    merging down to k - 1 clusters joins two well-separated clusters, so k is a
    candidate. NaN at k=1, when A and B are two singletons, or when W_A + W_B = 0.

    **Gap statistic** (Tibshirani, Walther and Hastie 2001). ``W_k`` is the pooled
    within-cluster dispersion ``sum_r D_r / (2 n_r)`` with D_r the sum of squared
    Euclidean distances between all pairs of cluster r, which equals the WSS above.
    ``n_refs`` reference sets of n rows are drawn uniformly in the bounding box of
    ``X`` (the paper's first option, aligned with the features), clustered with
    ``method`` and cut at each k. ``gap(k) = mean_b log W*_kb - log W_k``,
    ``s_k = sd_k sqrt(1 + 1/B)`` with sd_k the standard deviation (1/B) of the
    ``log W*_kb``. The pick is the smallest k with ``gap(k) >= gap(k+1) - s_{k+1}``,
    checked only where k + 1 is also evaluated; with none the gap does not vote.

    **Height jump.** Cut keys are the heights of the merges (for trees with
    inversions, the largest height in each merge's subtree, as in
    :func:`hclust.tree.cut`). Exactly k clusters exist for cut heights from the key of
    the merge undone to reach k (``height_low``; 0 for k = n) up to the key of the
    merge undone to reach k - 1 (``height_high``; for a monotone tree in merge order
    these are rows n-k-1 and n-k of ``Z``). ``height_jump = height_high -
    height_low``, ``height_ratio = height_high / height_low`` (NaN when 0 / 0, inf
    when only the low height is 0). Both are NaN at k = 1.

    **Other distances** (``metric`` not Euclidean, e.g. Gower). Every index is
    computed from the distance matrix in one blocked pass (O(m² K) for m rows):
    the silhouette as above; ``wss`` as ``sum_c sum_{i<j in c} d_ij² / n_c``, which
    equals the Euclidean WSS when the distances are Euclidean; Calinski-Harabasz as
    the distance-based pseudo-F (Anderson 2001's PERMANOVA statistic), ``(T - W) /
    (k - 1)`` over ``W / (m - k)`` with ``T`` the same sum over all pairs divided by
    m: equal to scikit-learn's index for Euclidean distances and to the index on the
    principal-coordinates embedding of any distance; Davies-Bouldin with medoids
    for centroids (the member with the smallest summed distance to its cluster;
    spread = the mean distance of the members to it); pseudo-t² with the same
    ``W``. Above ``sample_size`` rows they all use the seeded sample.

    **Minimum segment size.** A k whose smallest segment holds fewer customers than
    ``min_segment_size`` is not a candidate: such a split separates a few outliers
    from everyone else, which is rarely a segmentation (Gower with average linkage
    typically does this). Its scores stay in the table.

    **Recommendation.** Among the candidate ks, each of silhouette (max),
    Calinski-Harabasz (max), Davies-Bouldin (min), the gap rule and the largest height
    jump that was computed votes for one k (ties within a criterion to the smaller k);
    the k with most votes wins, ties to the smaller k. If no criterion can vote the
    smallest candidate k is returned, if there is no candidate None; the reasons say
    so, and say for every criterion what it picked or why it was not computed. WSS
    and pseudo-t² are reported, not voted.

    References
    ----------
    Rousseeuw, P. J. (1987). Silhouettes. :doi:`10.1016/0377-0427(87)90125-7`.
    Calinski, T. and Harabasz, J. (1974). :doi:`10.1080/03610927408827101`.
    Davies, D. L. and Bouldin, D. W. (1979). :doi:`10.1109/TPAMI.1979.4766909`.
    Duda, R. O. and Hart, P. E. (1973). Pattern Classification and Scene Analysis.
    Tibshirani, R., Walther, G. and Hastie, T. (2001). :doi:`10.1111/1467-9868.00293`.
    Anderson, M. J. (2001). A new method for non-parametric multivariate analysis of
    variance. :doi:`10.1111/j.1442-9993.2001.01070.pp.x`.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust import linkage
    >>> from hclust.select import evaluate
    >>> rng = np.random.default_rng(0)
    >>> centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    >>> X = np.repeat(centers, 30, axis=0) + rng.normal(size=(90, 2))
    >>> result = evaluate(linkage(X, "ward"), X, ks=range(1, 7), n_refs=5)
    >>> result.recommended_k
    3
    >>> bool(result.table.loc[3, "silhouette"] > 0.7)
    True
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string; got {type(metric).__name__}.")
    euclidean = metric == "euclidean"
    D: FloatArray | None = None
    if metric == "precomputed":
        D = _square_distances(X, n)
    else:
        X = as_observations(X, "X", min_samples=2)
        check_squares(X, "the criteria's sums of squares")
        if X.shape[0] != n:
            raise ValueError(
                f"Z has {n} leaves but X has {X.shape[0]} rows; pass the observations Z was built from."
            )
    k_list = _check_ks(ks, n)
    chosen = _check_criteria(criteria)
    check_option(method, "method", METHODS)
    limit = SILHOUETTE_EXACT_MAX if sample_size is None else check_count(sample_size, "sample_size", 2)
    n_refs = check_count(n_refs, "n_refs")
    if gap_sample_size is not None:
        gap_sample_size = check_count(gap_sample_size, "gap_sample_size", 2)
    w = None if weights is None else check_weights(weights, n)
    within: FloatArray | None = None
    if within_ss is not None:
        if w is None or not euclidean:
            raise ValueError("within_ss describes summaries: it needs weights= (their counts) and Euclidean features.")
        within = np.asarray(within_ss, dtype=np.float64)
        if within.shape != (n,) or not np.isfinite(within).all() or (within < 0).any():
            raise ValueError(f"within_ss must hold {n} finite sums of squares >= 0 (one per row of X).")
    min_count, min_text = min_segment_count(min_segment_size, float(n if w is None else w.sum()))
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    if distance_name is None:
        distance_name = "Euclidean distances" if euclidean else f"{metric} distances"

    need_coarser = "pseudo_t2" in chosen
    cut_ks = sorted(set(k_list) | ({k - 1 for k in k_list if k >= 2} if need_coarser else set()))
    check_memory(8.0 * n * len(cut_ks), f"the labels of {len(cut_ks)} cuts of {n} rows", "Evaluate fewer ks.")
    all_labels = cut_tree(Z, n_clusters=cut_ks)
    column_of = {k: j for j, k in enumerate(cut_ks)}

    table = pd.DataFrame(index=pd.Index(k_list, name="k"))
    skipped: dict[str, str] = {}
    silhouette_rows: int | None = None
    if not euclidean:
        skipped["gap"] = "it needs Euclidean features"
        # every criterion on the same rows: all, or a seeded sample above the silhouette limit
        rows = np.arange(n) if n <= limit else np.sort(rng.choice(n, size=limit, replace=False))
        labels = all_labels
        if D is None:
            # only the rows used: m x m distances, with the parameters the whole data set gives the tree
            m = rows.shape[0]
            check_memory(16.0 * m * m, f"the {metric} distances of {m} rows", "Pass a smaller sample_size.")
            D = squareform(_pdist_like_tree(X, rows, metric))
            labels, rows = all_labels[rows], np.arange(m)
        silhouette_rows = _distance_indices(table, D, labels, rows, column_of, k_list, chosen)
    else:
        silhouette_rows = _euclidean_indices(
            table, X, all_labels, column_of, k_list, chosen, limit, rng, method, n_refs, gap_sample_size,
            None if within is None or w is None else (w, within),
        )

    if "height_jump" in chosen:
        keys = _cut_order(Z).keys_in_undo_order()
        low = np.array([keys[k - 1] if k <= n - 1 else 0.0 for k in k_list])
        high = np.array([keys[k - 2] if k >= 2 else math.nan for k in k_list])
        table["height_low"] = low
        table["height_high"] = high
        table["height_jump"] = high - low
        with np.errstate(divide="ignore", invalid="ignore"):
            table["height_ratio"] = high / low

    smallest = []
    for k in k_list:
        sizes = np.bincount(all_labels[:, column_of[k]], weights=w, minlength=k)
        smallest.append(float(sizes.min()))
    table["smallest_segment"] = smallest
    table["meets_min_size"] = (np.asarray(smallest) >= min_count).astype(np.float64)

    recommended, reasons, picks = _recommend(
        table, chosen, silhouette_rows, n, distance=distance_name, min_count=min_count, min_text=min_text,
        skipped=skipped, medoids=not euclidean,
    )
    return Evaluation(
        table=table, recommended_k=recommended, reasons=reasons, picks=picks, silhouette_rows=silhouette_rows,
        distance=distance_name, min_segment_size=min_count,
    )


def _square_distances(X: Any, n: int) -> FloatArray:
    """A square (n, n) distance matrix from a square or condensed one, checked."""
    D = np.asarray(X, dtype=np.float64)
    if D.ndim == 1:
        if D.shape[0] != n * (n - 1) // 2:
            raise ValueError(
                f"condensed distances of {n} rows have {n * (n - 1) // 2} entries; got {D.shape[0]}."
            )
        check_memory(8.0 * n * n, f"the square distance matrix of {n} rows", "Evaluate a sample of the rows.")
        D = squareform(D, checks=False)
    elif D.shape != (n, n):
        raise ValueError(
            f"Z has {n} leaves, so metric='precomputed' needs an ({n}, {n}) distance matrix (or its condensed "
            f"form); got shape {D.shape}."
        )
    bad = ~np.isfinite(D)
    if bad.any():
        i, j = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), D.shape)
        raise ValueError(f"the distances contain {D[i, j]} at row {i}, column {j}; they must be finite.")
    if (D < 0).any():
        raise ValueError("the distances contain negative values; they must be >= 0.")
    return D


def _euclidean_indices(
    table: pd.DataFrame,
    X: FloatArray,
    all_labels: IntArray,
    column_of: Mapping[int, int],
    k_list: list[int],
    chosen: list[str],
    limit: int,
    rng: np.random.Generator,
    method: str,
    n_refs: int,
    gap_sample_size: int | None,
    summaries: tuple[FloatArray, FloatArray] | None = None,
) -> int | None:
    """The indices on Euclidean features, written into ``table``; returns the silhouette rows.

    ``summaries``: (counts, within sums of squares) of rows that are summaries
    (see :func:`evaluate`'s ``within_ss``).
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    n = X.shape[0]
    moments = {k: _cluster_moments(X, all_labels[:, column_of[k]], k, summaries) for k in k_list}
    wss = np.array([moments[k][2].sum() for k in k_list])
    if "wss" in chosen:
        table["wss"] = wss

    silhouette_rows: int | None = None
    if "silhouette" in chosen:
        rows = np.arange(n) if n <= limit else np.sort(rng.choice(n, size=limit, replace=False))
        silhouette_rows = int(rows.shape[0])
        m = silhouette_rows
        values = np.full(len(k_list), math.nan)
        valid = []
        relabelled = []
        for j, k in enumerate(k_list):
            labels = all_labels[rows, column_of[k]]
            present, dense = np.unique(labels, return_inverse=True)
            if 2 <= present.shape[0] <= m - 1:
                valid.append(j)
                relabelled.append((dense.astype(np.int64), int(present.shape[0])))
        if valid:
            check_memory(
                8.0 * m * (sum(c for _, c in relabelled) + min(m, _BLOCK_BYTES // 8)),
                f"the silhouette of {m} rows",
                "Pass a smaller sample_size.",
            )
            stacked = np.column_stack([labels for labels, _ in relabelled])
            counts = None if summaries is None else summaries[0][rows]
            scores = _silhouettes(X[rows], stacked, [c for _, c in relabelled], counts)
            values[valid] = scores
        table["silhouette"] = values
        table["silhouette_rows"] = float(m)

    if "calinski_harabasz" in chosen or "davies_bouldin" in chosen:
        ch = np.full(len(k_list), math.nan)
        db = np.full(len(k_list), math.nan)
        for j, k in enumerate(k_list):
            if 2 <= k <= n - 1:
                labels = all_labels[:, column_of[k]]
                if "calinski_harabasz" in chosen:
                    ch[j] = (calinski_harabasz_score(X, labels) if summaries is None
                             else _calinski_harabasz_of_summaries(X, summaries, moments[k][2], k))
                if "davies_bouldin" in chosen:
                    db[j] = (davies_bouldin_score(X, labels) if summaries is None
                             else _davies_bouldin_of_summaries(X, summaries[0], labels, *moments[k][:2]))
        if "calinski_harabasz" in chosen:
            table["calinski_harabasz"] = ch
        if "davies_bouldin" in chosen:
            table["davies_bouldin"] = db

    if "pseudo_t2" in chosen:
        t2 = np.full(len(k_list), math.nan)
        for j, k in enumerate(k_list):
            if k >= 2:
                counts, means, sse = moments[k]
                t2[j] = _pseudo_t2(
                    counts, means, sse, all_labels[:, column_of[k]], all_labels[:, column_of[k - 1]]
                )
        table["pseudo_t2"] = t2

    if "gap" in chosen:
        gap_X, gap_wss = X, wss
        if summaries is not None:  # the reference sets are drawn like the means: compare means with means
            gap_wss = _wss_for_labels(X, all_labels[:, [column_of[k] for k in k_list]], k_list)
        if gap_sample_size is not None and gap_sample_size < n:
            if max(k_list) > gap_sample_size:
                raise ValueError(
                    f"gap_sample_size={gap_sample_size} is smaller than the largest k evaluated "
                    f"({max(k_list)}); pass a larger gap_sample_size."
                )
            gap_X = X[np.sort(rng.choice(n, size=gap_sample_size, replace=False))]
            gap_wss = _wss_for_labels(gap_X, cut_tree(linkage(gap_X, method), n_clusters=k_list), k_list)
        gap, s_k, log_ref = _gap(gap_X, k_list, gap_wss, method, n_refs, rng)
        table["gap"] = gap
        table["gap_sk"] = s_k
        with np.errstate(divide="ignore"):
            table["log_wk"] = np.log(gap_wss)
        table["gap_rows"] = float(gap_X.shape[0])
        table["log_wk_ref"] = log_ref
    return silhouette_rows


def _distance_indices(
    table: pd.DataFrame,
    D: FloatArray,
    all_labels: IntArray,
    rows: IntArray,
    column_of: Mapping[int, int],
    k_list: list[int],
    chosen: list[str],
) -> int | None:
    """The indices from a square distance matrix on ``rows``, written into ``table``; returns how many rows."""
    wanted = {"wss", "silhouette", "calinski_harabasz", "davies_bouldin", "pseudo_t2"} & set(chosen)
    if not wanted:
        return None
    m = int(rows.shape[0])
    cut_ks = sorted(column_of)
    check_memory(
        8.0 * m * (sum(cut_ks) + 2 * min(m, _BLOCK_BYTES // 8)) + (0 if m == D.shape[0] else 8.0 * m * m),
        f"the distance-based criteria of {m} rows",
        "Pass a smaller sample_size.",
    )
    labels = all_labels[:, [column_of[k] for k in cut_ks]]
    found, squares, dense = _distance_criteria(D, rows, labels, cut_ks)
    at = {k: j for j, k in enumerate(cut_ks)}
    pick = [at[k] for k in k_list]
    for name in ("wss", "silhouette", "calinski_harabasz", "davies_bouldin"):
        if name in chosen:
            table[name] = np.asarray(found[name])[pick]
    if "silhouette" in chosen:
        table["silhouette_rows"] = float(m)
    if "pseudo_t2" in chosen:
        t2 = np.full(len(k_list), math.nan)
        for j, k in enumerate(k_list):
            if k < 2:
                continue
            fine, coarse = dense[:, at[k]], dense[:, at[k - 1]]
            t2[j] = _pseudo_t2_from_distances(squares[at[k]], fine, coarse)
        table["pseudo_t2"] = t2
    return m


def _pdist_like_tree(X: FloatArray, rows: IntArray, metric: str) -> FloatArray:
    """Condensed ``metric`` distances of ``X[rows]``, with the parameters (``V``, ``VI``) that the
    whole of ``X`` gives, as the tree's distances had."""
    from .metrics import pdist

    kwargs: dict[str, Any] = {}
    if metric == "seuclidean":
        kwargs["V"] = np.var(X, axis=0, ddof=1)
    elif metric == "mahalanobis":
        kwargs["VI"] = np.linalg.inv(np.cov(X, rowvar=False))
    return pdist(X[rows], metric, **kwargs)


def _pseudo_t2_from_distances(squares: FloatArray, fine: IntArray, coarse: IntArray) -> float:
    """Pseudo-t² of the merge joining two clusters of ``fine`` into one of ``coarse``, from the
    (k, k) sums of squared distances between the clusters of ``fine``."""
    k = squares.shape[0]
    parent = np.full(k, -1, dtype=np.int64)
    parent[fine] = coarse
    values, seen = np.unique(parent, return_counts=True)
    if seen.max() < 2:
        return math.nan  # the merged pair is not both in the sample
    a, b = (int(c) for c in np.flatnonzero(parent == values[np.argmax(seen)])[:2])
    size = np.bincount(fine, minlength=k).astype(np.float64)
    n_a, n_b = size[a], size[b]
    w_a, w_b = squares[a, a] / (2.0 * n_a), squares[b, b] / (2.0 * n_b)
    w_ab = (squares[a, a] + squares[b, b] + 2.0 * squares[a, b]) / (2.0 * (n_a + n_b))
    within = w_a + w_b
    if n_a + n_b <= 2 or within <= 0.0:
        return math.nan
    return float(max(w_ab - within, 0.0) / (within / (n_a + n_b - 2.0)))


@renamed_keywords(k="n_clusters")
def stability(
    X: Any,
    method: str = "ward",
    *,
    n_clusters: int,
    n_boot: int = 50,
    random_state: int | np.random.Generator | None = 0,
    sample_fraction: float = 0.8,
    metric: str = "euclidean",
    labels: Any = None,
    weights: Any = None,
) -> pd.DataFrame:
    """Clusterwise stability of the k-cluster cut under re-clustering of subsamples.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Observations, or with ``metric="precomputed"`` their square (n, n) distances.
    method : str, default="ward"
        Linkage method, used for the data and for every subsample.
    n_clusters : int
        Number of clusters k, 1..n (and at most the subsample size). (``k=``, its old
        name, works until hclust 0.3 with a FutureWarning.)
    n_boot : int, default=50
        Number of subsamples.
    random_state : int, Generator or None, default=0
        Seed; equal seeds give equal results.
    sample_fraction : float, default=0.8
        Each subsample holds ``round(sample_fraction * n)`` distinct rows, 0 < f <= 1.
    metric : str, default="euclidean"
        Distance of :func:`hclust.linkage`, or ``"precomputed"`` (``X`` is then a
        square distance matrix and each subsample uses its rows and columns), so the
        subsamples are clustered exactly as the data were (e.g. with Gower).
    labels : array-like of int, shape (n,), optional
        The cut to assess (0..k-1), when it is already known (e.g. a fitted
        model's); default ``cut(linkage(X, method, metric), n_clusters=n_clusters)``.
    weights : array-like of shape (n,), optional
        Counts per row, passed to every linkage (see :func:`hclust.linkage`).

    Returns
    -------
    pandas.DataFrame
        One row per segment of ``cut(linkage(X, method), n_clusters=k)`` (index
        ``segment``, 0..k-1) with columns ``size``, ``jaccard_mean``, ``jaccard_std``,
        ``dissolved`` (fraction of subsamples with best Jaccard <= 0.5) and
        ``recovered`` (fraction >= 0.75) and ``n_present`` (subsamples that contain
        the segment). ``attrs`` holds ``ari_mean`` and ``ari_std`` (adjusted Rand
        index between the original cut restricted to the subsample and the
        subsample's own cut), ``n_boot``, ``sample_fraction``, ``method``.

    Raises
    ------
    ValueError
        NaN values, k outside 1..subsample size, a bad ``n_boot`` or ``sample_fraction``.

    Notes
    -----
    Hennig's (2007) subsetting scheme: each resample draws ``round(f n)`` rows
    *without* replacement (with replacement would duplicate rows, and duplicates
    create zero-distance ties that distort the linkage), clusters them with the same
    method and cuts into k clusters. For each original segment C, its members in the
    subsample are compared with every cluster D of the subsample by the Jaccard
    similarity ``|C ∩ D| / |C ∪ D|``; the best match is recorded. ``jaccard_mean``
    is the mean of the best matches over the subsamples that contain C (Hennig's
    rule of thumb: below 0.6 the segment is not stable, above 0.85 highly stable).
    Costs ``n_boot + 1`` linkages.

    References
    ----------
    Hennig, C. (2007). Cluster-wise assessment of cluster stability.
    :doi:`10.1016/j.csda.2006.11.025`.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust.select import stability
    >>> rng = np.random.default_rng(0)
    >>> X = np.repeat([[0.0, 0.0], [10.0, 10.0]], 20, axis=0) + rng.normal(size=(40, 2))
    >>> table = stability(X, "ward", n_clusters=2, n_boot=10)
    >>> bool((table["jaccard_mean"] > 0.9).all())
    True
    """
    from sklearn.metrics import adjusted_rand_score

    precomputed = metric == "precomputed"
    if precomputed:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != X.shape[1] or X.shape[0] < 2:
            raise ValueError(f"metric='precomputed' needs a square (n, n) distance matrix, n >= 2; got {X.shape}.")
        X = _square_distances(X, X.shape[0])
    else:
        X = as_observations(X, "X", min_samples=2)
        check_squares(X, "the criteria's sums of squares")
    n = X.shape[0]
    check_option(method, "method", METHODS)
    w = None if weights is None else check_weights(weights, n)
    n_boot = check_count(n_boot, "n_boot")
    if isinstance(sample_fraction, bool) or not isinstance(sample_fraction, numbers.Real) or not (
        0.0 < float(sample_fraction) <= 1.0
    ):
        raise ValueError(f"sample_fraction must be a number in (0, 1]; got {sample_fraction!r}.")
    m = int(round(float(sample_fraction) * n))
    if m < 2:
        raise ValueError(
            f"sample_fraction={sample_fraction!r} leaves {m} of {n} rows per subsample; at least 2 are needed."
        )
    if not is_integer(n_clusters):
        raise TypeError(f"n_clusters must be an integer between 1 and {n}; got {n_clusters!r}.")
    if not 1 <= int(n_clusters) <= min(n, m):
        raise ValueError(
            f"n_clusters={int(n_clusters)} is out of range: each subsample has {m} of {n} rows, so it must be in "
            f"1..{min(n, m)}."
        )
    k = int(n_clusters)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)

    def tree(rows: IntArray | None) -> FloatArray:
        if precomputed:  # the subsample's condensed distances (linkage reads condensed vectors directly)
            data = squareform(X if rows is None else X[np.ix_(rows, rows)], checks=False)
            return linkage(data, method, weights=None if w is None else (w if rows is None else w[rows]))
        data = X if rows is None else X[rows]
        return linkage(data, method, metric, weights=None if w is None else (w if rows is None else w[rows]))

    if labels is None:
        original = cut(tree(None), n_clusters=k)
    else:
        original = np.asarray(labels)
        if original.shape != (n,) or original.dtype.kind not in "iu" or original.min() < 0 or original.max() >= k:
            raise ValueError(f"labels must be {n} integers in 0..{k - 1} (the cut to assess); got {original!r:.80}.")
        original = original.astype(np.int64)
    sizes = np.bincount(original, minlength=k)
    best = np.full((n_boot, k), math.nan)
    ari = np.empty(n_boot)
    for b in range(n_boot):
        rows = np.sort(rng.choice(n, size=m, replace=False))
        again = cut(tree(rows), n_clusters=k)
        mine = original[rows]
        contingency = np.zeros((k, k))
        np.add.at(contingency, (mine, again), 1.0)
        union = contingency.sum(axis=1)[:, None] + contingency.sum(axis=0)[None, :] - contingency
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard = contingency / union
        present = contingency.sum(axis=1) > 0
        best[b, present] = jaccard[present].max(axis=1)
        ari[b] = adjusted_rand_score(mine, again) if k > 1 else 1.0
    n_present = np.isfinite(best).sum(axis=0)
    filled = np.where(np.isfinite(best), best, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = filled.sum(axis=0) / n_present
        variance = (np.where(np.isfinite(best), (best - mean) ** 2, 0.0)).sum(axis=0) / n_present
        dissolved = (np.isfinite(best) & (best <= 0.5)).sum(axis=0) / n_present
        recovered = (np.isfinite(best) & (best >= 0.75)).sum(axis=0) / n_present
    table = pd.DataFrame(
        {
            "size": sizes.astype(np.int64),
            "jaccard_mean": mean,
            "jaccard_std": np.sqrt(variance),
            "dissolved": dissolved,
            "recovered": recovered,
            "n_present": n_present.astype(np.int64),
        },
        index=pd.Index(np.arange(k), name="segment"),
    )
    table.attrs.update(
        {
            "ari_mean": float(ari.mean()),
            "ari_std": float(ari.std()),
            "n_boot": n_boot,
            "sample_fraction": float(sample_fraction),
            "method": method,
            "metric": metric,
        }
    )
    return table


def __getattr__(name: str) -> Any:
    if name == "METRICS":  # the old name of CRITERIA (a metric is a distance in hclust)
        import warnings

        warnings.warn(
            "hclust.select.METRICS is deprecated and will be removed in hclust 0.3; use hclust.select.CRITERIA.",
            FutureWarning,
            stacklevel=2,
        )
        return CRITERIA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
