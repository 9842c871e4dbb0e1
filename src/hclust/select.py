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
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from ._kernels import tree as _k
from ._typing import FloatArray, IntArray
from ._validation import as_observations, check_memory, check_option
from .linkage import METHODS, linkage
from .tree import check_linkage, cut, cut_tree

__all__ = ["Evaluation", "METRICS", "evaluate", "stability"]

#: Criteria :func:`evaluate` can compute.
METRICS: tuple[str, ...] = (
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
    recommended_k : int
        The number of clusters most criteria pick (ties to the smaller k).
    reasons : list of str
        Each voting criterion's pick in words, then the verdict.
    picks : dict
        Criterion name -> its pick (an int, or None where it could not pick).
    silhouette_rows : int or None
        Number of rows the silhouette was computed on (n when exact), None when the
        silhouette was not requested.
    """

    table: pd.DataFrame
    recommended_k: int
    reasons: list[str] = field(default_factory=list)
    picks: dict[str, int | None] = field(default_factory=dict)
    silhouette_rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable data: the table as a list of rows (NaN and infinities -> None).

        Examples
        --------
        >>> import numpy as np, json
        >>> from hclust import linkage
        >>> from hclust.select import evaluate
        >>> X = np.r_[np.zeros((5, 2)), np.full((5, 2), 9.0)] + np.arange(10)[:, None] * 0.01
        >>> result = evaluate(linkage(X, "ward"), X, ks=[2, 3], metrics=("wss", "calinski_harabasz"))
        >>> json.dumps(result.to_dict())[:20]
        '{"recommended_k": 2,'
        """
        rows = []
        for k, row in self.table.iterrows():
            entry: dict[str, Any] = {"k": int(k)}
            for column, value in row.items():
                number = float(value)
                entry[str(column)] = number if math.isfinite(number) else None
            rows.append(entry)
        return {
            "recommended_k": int(self.recommended_k),
            "reasons": list(self.reasons),
            "picks": {name: (None if pick is None else int(pick)) for name, pick in self.picks.items()},
            "silhouette_rows": self.silhouette_rows,
            "table": rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Evaluation":
        """Rebuild an evaluation from :meth:`to_dict`."""
        table = pd.DataFrame.from_records(data["table"]).set_index("k").astype(float)
        return cls(
            table=table,
            recommended_k=int(data["recommended_k"]),
            reasons=list(data["reasons"]),
            picks=dict(data["picks"]),
            silhouette_rows=data["silhouette_rows"],
        )


# --------------------------------------------------------------------------- validation


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_ks(ks: Any, n: int) -> list[int]:
    if _is_integer(ks):
        ks = [ks]
    try:
        values = list(ks)
    except TypeError:
        raise TypeError(f"ks must be an integer or a sequence of integers between 1 and {n}; got {ks!r}.") from None
    if not values:
        raise ValueError("ks is empty; pass the numbers of clusters to evaluate, e.g. range(2, 16).")
    for value in values:
        if not _is_integer(value):
            raise TypeError(f"ks must hold integers between 1 and {n}; got {value!r}.")
        if not 1 <= int(value) <= n:
            raise ValueError(
                f"ks contains {int(value)}, which is out of range: {n} observations can be cut into "
                f"1 to {n} clusters. Pass e.g. ks=range(2, {min(16, n + 1)})."
            )
    return sorted({int(value) for value in values})


def _check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if not _is_integer(value) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _check_metrics(metrics: Any) -> list[str]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    chosen = [check_option(name, "metric", METRICS) for name in metrics]
    if not chosen:
        raise ValueError(f"metrics is empty; choose from: {', '.join(METRICS)}.")
    return list(dict.fromkeys(chosen))


# --------------------------------------------------------------------------- per-cut quantities


def _cluster_moments(X: FloatArray, labels: IntArray, k: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sizes (k,), means (k, d) and within sums of squares (k,) of labels 0..k-1."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.empty((k, X.shape[1]))
    for j in range(X.shape[1]):
        sums[:, j] = np.bincount(labels, weights=X[:, j], minlength=k)
    means = sums / np.maximum(counts, 1.0)[:, None]
    # Two passes (means, then squared deviations): no cancellation, unlike sum(x^2) - n mean^2.
    deviations = X - means[labels]
    sse = np.bincount(labels, weights=np.einsum("ij,ij->i", deviations, deviations), minlength=k)
    return counts, means, np.asarray(sse, dtype=np.float64)


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


def _silhouettes(X: FloatArray, columns: IntArray, ks: Sequence[int]) -> list[float]:
    """Mean silhouette of each labelling column of ``columns`` (m, len(ks)), one distance pass.

    Euclidean distances are computed once per block of rows (exactly, by
    ``scipy.spatial.distance.cdist``) and the per-cluster distance sums for every
    labelling are one matrix product with the stacked one-hot indicators.
    """
    m = X.shape[0]
    offsets = np.concatenate(([0], np.cumsum(ks)))
    indicator = np.zeros((m, int(offsets[-1])))
    rows = np.arange(m)
    sizes = np.zeros(int(offsets[-1]))
    for j in range(len(ks)):
        indicator[rows, offsets[j] + columns[:, j]] = 1.0
        sizes[offsets[j] : offsets[j + 1]] = np.bincount(columns[:, j], minlength=ks[j])
    totals = np.zeros(len(ks))
    block = max(1, min(m, _BLOCK_BYTES // (8 * m)))
    for start in range(0, m, block):
        stop = min(m, start + block)
        sums = cdist(X[start:stop], X) @ indicator
        for j, k in enumerate(ks):
            part = sums[:, offsets[j] : offsets[j + 1]]
            own = columns[start:stop, j]
            size = sizes[offsets[j] : offsets[j + 1]]
            own_size = size[own]
            with np.errstate(divide="ignore", invalid="ignore"):
                mean_to = part / size
                a = part[np.arange(stop - start), own] / (own_size - 1.0)
            mean_to[np.arange(stop - start), own] = np.inf
            mean_to[:, size == 0] = np.inf
            b = mean_to.min(axis=1)
            denominator = np.maximum(a, b)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = (b - a) / denominator
            # Singletons score 0 (Rousseeuw 1987), as do identical points (0 / 0).
            s[(own_size <= 1) | (denominator == 0)] = 0.0
            totals[j] += s.sum()
    return list(totals / m)


def _height_keys(Z: FloatArray, n: int) -> FloatArray:
    """Cut keys in undo order: entry r is the key of the merge undone for r + 2 clusters."""
    children = np.ascontiguousarray(Z[:, :2], dtype=np.int64)
    rank, maxdist = _k.cut_removal_rank(children, np.ascontiguousarray(Z[:, 2]), n)
    keys = np.empty(n - 1)
    keys[rank] = maxdist
    return keys


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
    mean_ref = log_ref.mean(axis=0)
    # sd_k with the 1/B of the paper, inflated by sqrt(1 + 1/B) for the simulation error;
    # undefined (NaN, silently) where a reference W*_k is 0 (k = n: log 0 = -inf).
    with np.errstate(invalid="ignore"):
        s_k = np.sqrt(((log_ref - mean_ref) ** 2).mean(axis=0)) * math.sqrt(1.0 + 1.0 / n_refs)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = mean_ref - np.log(wss)
    gap[~np.isfinite(gap)] = math.nan
    return gap, s_k, mean_ref


# --------------------------------------------------------------------------- picks


def _argbest(table: pd.DataFrame, column: str, largest: bool) -> int | None:
    values = table[column].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    best = values[finite].max() if largest else values[finite].min()
    return int(table.index[np.flatnonzero(finite & (values == best))[0]])


def _gap_pick(table: pd.DataFrame) -> int | None:
    ks = list(table.index)
    gap, s_k = table["gap"].to_numpy(), table["gap_sk"].to_numpy()
    for i in range(len(ks) - 1):
        if ks[i + 1] == ks[i] + 1 and np.isfinite(gap[i]) and np.isfinite(gap[i + 1]):
            if gap[i] >= gap[i + 1] - s_k[i + 1]:
                return int(ks[i])
    return None


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _recommend(
    table: pd.DataFrame, metrics: list[str], silhouette_rows: int | None, n: int
) -> tuple[int, list[str], dict[str, int | None]]:
    picks: dict[str, int | None] = {}
    reasons: list[str] = []
    for name in VOTING:
        if name not in metrics:
            continue
        if name == "silhouette":
            pick = _argbest(table, "silhouette", largest=True)
            sampled = (
                f" (on a random sample of {silhouette_rows} of {n} rows)"
                if silhouette_rows is not None and silhouette_rows < n
                else ""
            )
            text = (
                f"silhouette{sampled} is highest at k={pick} ({_fmt(table.at[pick, 'silhouette'])})"
                if pick is not None
                else f"silhouette{sampled} is undefined for every k evaluated (it needs 2 <= k < n)"
            )
        elif name == "calinski_harabasz":
            pick = _argbest(table, "calinski_harabasz", largest=True)
            text = (
                f"Calinski-Harabasz (pseudo-F) is highest at k={pick} ({_fmt(table.at[pick, 'calinski_harabasz'])})"
                if pick is not None
                else "Calinski-Harabasz is undefined for every k evaluated (it needs 2 <= k < n)"
            )
        elif name == "davies_bouldin":
            pick = _argbest(table, "davies_bouldin", largest=False)
            text = (
                f"Davies-Bouldin is lowest at k={pick} ({_fmt(table.at[pick, 'davies_bouldin'])})"
                if pick is not None
                else "Davies-Bouldin is undefined for every k evaluated (it needs 2 <= k < n)"
            )
        elif name == "gap":
            pick = _gap_pick(table)
            text = (
                f"gap statistic: k={pick} is the smallest k with gap(k) >= gap(k+1) - s(k+1) "
                f"({_fmt(table.at[pick, 'gap'])} >= {_fmt(table.at[pick + 1, 'gap'])} - "
                f"{_fmt(table.at[pick + 1, 'gap_sk'])})"
                if pick is not None
                else "gap statistic: no k satisfies gap(k) >= gap(k+1) - s(k+1) among consecutive ks evaluated"
            )
        else:
            pick = _argbest(table, "height_jump", largest=True)
            text = (
                f"the tree's largest height jump is at k={pick}: exactly {pick} clusters exist from "
                f"height {_fmt(table.at[pick, 'height_low'])} to {_fmt(table.at[pick, 'height_high'])}"
                if pick is not None
                else "height jump is undefined for every k evaluated (k=1 has no upper height)"
            )
        picks[name] = pick
        reasons.append(text + ".")
    votes = [pick for pick in picks.values() if pick is not None]
    if not votes:
        recommended = int(table.index[0])
        reasons.append(f"No criterion could pick a k; falling back to the smallest k evaluated, {recommended}.")
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


def evaluate(
    Z: Any,
    X: Any,
    ks: Iterable[int] = range(2, 16),
    *,
    metrics: Sequence[str] = METRICS,
    method: str = "ward",
    sample_size: int | None = None,
    random_state: int | np.random.Generator | None = 0,
    n_refs: int = 10,
    gap_sample_size: int | None = None,
) -> Evaluation:
    """Score the cuts of a tree into k clusters and recommend a k.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix built from ``X`` (any method; monotone or not).
    X : array-like of shape (n, d)
        The observations ``Z`` was built from (Euclidean geometry is assumed by every
        index; scale the features first).
    ks : iterable of int, default=range(2, 16)
        Numbers of clusters to evaluate, each in 1..n (duplicates dropped, sorted).
        k=1 is allowed: WSS, gap and pseudo-t² are defined there (pseudo-t² needs
        k >= 2, so it is NaN at k=1), silhouette, Calinski-Harabasz and
        Davies-Bouldin are not (NaN), nor is the height jump (NaN; one cluster exists
        up to infinity).
    metrics : sequence of str, default=all of :data:`METRICS`
        Which quantities to compute. ``"gap"`` is by far the most expensive
        (``n_refs`` clusterings of n rows); ``"silhouette"`` is O(m² d) for m rows.
    method : str, default="ward"
        Linkage method ``Z`` came from; the gap statistic clusters its reference sets
        with it (Euclidean metric).
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

    Returns
    -------
    Evaluation
        ``table`` indexed by ``k`` with the columns below (those of the requested
        metrics), ``recommended_k``, ``reasons``, ``picks``, ``silhouette_rows``.

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

    Raises
    ------
    ValueError
        ``X`` has a different number of rows than ``Z`` has leaves; a k outside 1..n;
        NaN or infinite values; unknown metrics; bad ``sample_size``, ``n_refs`` or
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

    **Recommendation.** Each of silhouette (max), Calinski-Harabasz (max),
    Davies-Bouldin (min), the gap rule and the largest height jump that was requested
    votes for one k (ties within a criterion to the smaller k); the k with most votes
    wins, ties to the smaller k. If no criterion can vote the smallest k evaluated is
    returned and the reasons say so. WSS and pseudo-t² are reported, not voted.

    References
    ----------
    Rousseeuw, P. J. (1987). Silhouettes. :doi:`10.1016/0377-0427(87)90125-7`.
    Calinski, T. and Harabasz, J. (1974). :doi:`10.1080/03610927408827101`.
    Davies, D. L. and Bouldin, D. W. (1979). :doi:`10.1109/TPAMI.1979.4766909`.
    Duda, R. O. and Hart, P. E. (1973). Pattern Classification and Scene Analysis.
    Tibshirani, R., Walther, G. and Hastie, T. (2001). :doi:`10.1111/1467-9868.00293`.

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
    X = as_observations(X, "X", min_samples=2)
    if X.shape[0] != n:
        raise ValueError(
            f"Z has {n} leaves but X has {X.shape[0]} rows; pass the observations Z was built from."
        )
    k_list = _check_ks(ks, n)
    chosen = _check_metrics(metrics)
    check_option(method, "method", METHODS)
    limit = SILHOUETTE_EXACT_MAX if sample_size is None else _check_positive_int(sample_size, "sample_size", 2)
    n_refs = _check_positive_int(n_refs, "n_refs")
    if gap_sample_size is not None:
        gap_sample_size = _check_positive_int(gap_sample_size, "gap_sample_size", 2)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)

    need_coarser = "pseudo_t2" in chosen
    cut_ks = sorted(set(k_list) | ({k - 1 for k in k_list if k >= 2} if need_coarser else set()))
    check_memory(8.0 * n * len(cut_ks), f"the labels of {len(cut_ks)} cuts of {n} rows", "Evaluate fewer ks.")
    all_labels = cut_tree(Z, n_clusters=cut_ks)
    column_of = {k: j for j, k in enumerate(cut_ks)}

    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    table = pd.DataFrame(index=pd.Index(k_list, name="k"))
    moments = {k: _cluster_moments(X, all_labels[:, column_of[k]], k) for k in k_list}
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
            scores = _silhouettes(X[rows], stacked, [c for _, c in relabelled])
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
                    ch[j] = calinski_harabasz_score(X, labels)
                if "davies_bouldin" in chosen:
                    db[j] = davies_bouldin_score(X, labels)
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

    if "height_jump" in chosen:
        keys = _height_keys(Z, n)
        low = np.array([keys[k - 1] if k <= n - 1 else 0.0 for k in k_list])
        high = np.array([keys[k - 2] if k >= 2 else math.nan for k in k_list])
        table["height_low"] = low
        table["height_high"] = high
        table["height_jump"] = high - low
        with np.errstate(divide="ignore", invalid="ignore"):
            table["height_ratio"] = high / low

    recommended, reasons, picks = _recommend(table, chosen, silhouette_rows, n)
    return Evaluation(
        table=table, recommended_k=recommended, reasons=reasons, picks=picks, silhouette_rows=silhouette_rows
    )


def stability(
    X: Any,
    method: str = "ward",
    *,
    k: int,
    n_boot: int = 50,
    random_state: int | np.random.Generator | None = 0,
    sample_fraction: float = 0.8,
) -> pd.DataFrame:
    """Clusterwise stability of the k-cluster cut under re-clustering of subsamples.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Observations.
    method : str, default="ward"
        Linkage method (Euclidean metric), used for the data and for every subsample.
    k : int
        Number of clusters, 1..n (and at most the subsample size).
    n_boot : int, default=50
        Number of subsamples.
    random_state : int, Generator or None, default=0
        Seed; equal seeds give equal results.
    sample_fraction : float, default=0.8
        Each subsample holds ``round(sample_fraction * n)`` distinct rows, 0 < f <= 1.

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
    >>> table = stability(X, "ward", k=2, n_boot=10)
    >>> bool((table["jaccard_mean"] > 0.9).all())
    True
    """
    from sklearn.metrics import adjusted_rand_score

    X = as_observations(X, "X", min_samples=2)
    n = X.shape[0]
    check_option(method, "method", METHODS)
    n_boot = _check_positive_int(n_boot, "n_boot")
    if isinstance(sample_fraction, bool) or not isinstance(sample_fraction, numbers.Real) or not (
        0.0 < float(sample_fraction) <= 1.0
    ):
        raise ValueError(f"sample_fraction must be a number in (0, 1]; got {sample_fraction!r}.")
    m = int(round(float(sample_fraction) * n))
    if m < 2:
        raise ValueError(
            f"sample_fraction={sample_fraction!r} leaves {m} of {n} rows per subsample; at least 2 are needed."
        )
    if not _is_integer(k):
        raise TypeError(f"k must be an integer between 1 and {n}; got {k!r}.")
    if not 1 <= int(k) <= min(n, m):
        raise ValueError(
            f"k={int(k)} is out of range: each subsample has {m} of {n} rows, so k must be in 1..{min(n, m)}."
        )
    k = int(k)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)

    original = cut(linkage(X, method), n_clusters=k)
    sizes = np.bincount(original, minlength=k)
    best = np.full((n_boot, k), math.nan)
    ari = np.empty(n_boot)
    for b in range(n_boot):
        rows = np.sort(rng.choice(n, size=m, replace=False))
        labels = cut(linkage(X[rows], method), n_clusters=k)
        mine = original[rows]
        contingency = np.zeros((k, k))
        np.add.at(contingency, (mine, labels), 1.0)
        union = contingency.sum(axis=1)[:, None] + contingency.sum(axis=0)[None, :] - contingency
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard = contingency / union
        present = contingency.sum(axis=1) > 0
        best[b, present] = jaccard[present].max(axis=1)
        ari[b] = adjusted_rand_score(mine, labels) if k > 1 else 1.0
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
        }
    )
    return table
