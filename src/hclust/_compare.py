"""Side-by-side comparison of clustering methods on one feature matrix.

:func:`compare` runs scikit-learn's K-Means, Gaussian mixture, BIRCH and DBSCAN
and hclust's linkages on the same rows, asks each for ``k`` clusters (DBSCAN
finds its own number), and scores every labelling with the same indices, so an
analyst can see whether the segments are a property of the data or of the
method that found them.
"""

from __future__ import annotations

import importlib
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ._typing import FloatArray, IntArray, ProgressCallback
from ._deprecation import renamed_keywords
from ._validation import as_observations, check_squares, is_integer
from ._linkage import METHODS, linkage
from .tree import cut

__all__ = ["Comparison", "DEFAULT_METHODS", "SKLEARN_METHODS", "compare"]

#: The scikit-learn methods :func:`compare` knows.
SKLEARN_METHODS: tuple[str, ...] = ("kmeans", "gmm", "birch", "dbscan")

#: The methods compared when ``methods`` is not given, in this order.
DEFAULT_METHODS: tuple[str, ...] = SKLEARN_METHODS + ("ward", "average", "complete", "single")

#: DBSCAN's ``eps`` is this quantile of the distances to the ``min_samples``-th neighbour.
DBSCAN_QUANTILE = 0.9

#: BIRCH's threshold for data whose features have unit variance (scikit-learn's default).
BIRCH_THRESHOLD = 0.5

_VALID_METHODS: tuple[str, ...] = SKLEARN_METHODS + tuple(METHODS)

_FLOAT_COLUMNS = (
    "seconds",
    "smallest_share",
    "largest_share",
    "noise_share",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
)


@dataclass
class Comparison:
    """The results of :func:`compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per method (the index, named ``"method"``), in the order asked
        for. Columns: ``family`` (``"scikit-learn"`` or ``"hclust"``),
        ``status`` (``"ok"``, ``"memory"`` when the method would not fit in
        memory, ``"failed"`` when it raised), ``seconds`` (wall time of the
        fit, including DBSCAN's choice of ``eps``), ``n_clusters`` (clusters
        found, noise excluded), ``smallest_share`` and ``largest_share`` (of
        all rows), ``noise_share`` (DBSCAN's noise points; 0 for the others),
        ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``, and, when
        true labels were given, ``ari`` and ``ami``. NaN where a quantity is
        undefined or the method did not run.
    agreement : pandas.DataFrame
        Adjusted Rand index between the labellings of each pair of methods;
        symmetric, 1 on the diagonal, NaN for methods that did not run.
    labels : dict of str to ndarray of int64
        Each method that ran -> its labels, numbered ``0..k-1`` in order of
        first appearance; -1 marks DBSCAN's noise points.
    notes : list of str
        How the numbers were obtained (samples, DBSCAN's ``eps``, BIRCH's
        threshold) and what went wrong (warnings, failures), one sentence each.
    n_clusters : int
        The ``k`` asked for.
    n_samples : int
        Number of rows compared.
    """

    table: pd.DataFrame
    agreement: pd.DataFrame
    labels: dict[str, IntArray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    n_clusters: int = 0
    n_samples: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable data (NaN -> None).

        Returns
        -------
        dict
            ``{"n_clusters", "n_samples", "table": [row dicts with "method"],
            "agreement": {"methods": [...], "ari": [[...]]},
            "labels": {method: [int, ...]}, "notes": [...]}``.
        """
        rows = []
        for method, row in self.table.iterrows():
            record: dict[str, Any] = {"method": str(method)}
            for column, value in row.items():
                record[str(column)] = _plain(value)
            rows.append(record)
        return {
            "n_clusters": int(self.n_clusters),
            "n_samples": int(self.n_samples),
            "table": rows,
            "agreement": {
                "methods": [str(m) for m in self.agreement.index],
                "ari": [[_plain(v) for v in row] for row in self.agreement.to_numpy()],
            },
            "labels": {str(m): [int(v) for v in labels] for m, labels in self.labels.items()},
            "notes": [str(note) for note in self.notes],
        }

    def to_string(self) -> str:
        """The table, the agreement matrix and the notes as readable text."""
        shown = self.table.copy()
        if "n_clusters" in shown:
            shown["n_clusters"] = shown["n_clusters"].astype(np.float64)
        lines = [
            f"Comparison of {len(self.table)} clustering methods, k={self.n_clusters}, "
            f"{self.n_samples:,} rows",
            "",
            shown.to_string(float_format=_format_float, na_rep="-"),
            "",
            "Agreement (adjusted Rand index between methods):",
            self.agreement.to_string(float_format=lambda v: f"{v:.2f}", na_rep="-"),
        ]
        if self.notes:
            lines += ["", "Notes:"] + [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()


def _plain(value: Any) -> Any:
    """A JSON type for one table cell: NaN -> None, numpy scalars -> Python."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    return str(value)


def _format_float(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


@renamed_keywords(k="n_clusters")
def compare(
    X: Any,
    n_clusters: int,
    *,
    methods: Sequence[str] | str | None = None,
    labels_true: Any = None,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    silhouette_sample_size: int | None = 10_000,
    progress: ProgressCallback | None = None,
    dbscan_eps: float | None = None,
) -> Comparison:
    """Cluster the same rows with several methods and score them side by side.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, d)
        Numeric features, already prepared (scaled, encoded): every method
        sees them as they are, with Euclidean distances.
        :class:`hclust.segment.Preparer` prepares a customer table.
    n_clusters : int
        Number of clusters asked of every method but DBSCAN, ``1 <= n_clusters <= n``.
        (``k=``, its old name, works until hclust 0.3 with a FutureWarning.)
    methods : sequence of str, optional
        Which methods to run, in this order: ``"kmeans"``, ``"gmm"``,
        ``"birch"``, ``"dbscan"`` (scikit-learn), and any linkage of
        :func:`hclust.linkage` (``"ward"``, ``"average"``, ``"complete"``,
        ``"single"``, ...). Default :data:`DEFAULT_METHODS`: the four
        scikit-learn methods, then ward, average, complete and single.
    labels_true : array-like of shape (n,), optional
        Known segments; adds the adjusted Rand index (``ari``) and adjusted
        mutual information (``ami``) of each method against them.
    random_state : int or None, default=0
        Seed of K-Means, the Gaussian mixture and the silhouette sample.
    n_jobs : int, optional
        Threads for DBSCAN's neighbour searches (scikit-learn's meaning:
        None is 1, -1 all) and for :func:`hclust.linkage` (None is all).
    silhouette_sample_size : int or None, default=10_000
        Above this many rows the silhouette is the mean over a random sample
        of this many rows (drawn once with ``random_state``, the same rows for
        every method); None always uses every row (O(n²) time).
    progress : callable, optional
        ``progress(done, total)`` after each method, counting methods.
    dbscan_eps : float, optional
        DBSCAN's neighbourhood radius; by default chosen by the rule in Notes.

    Returns
    -------
    Comparison
        The table of scores, the agreement matrix, each method's labels and
        notes on how the numbers were obtained.

    Raises
    ------
    ValueError
        NaN or infinite values, fewer than 2 rows, ``k`` outside ``1..n``,
        an unknown method (the message lists the valid ones), ``labels_true``
        of the wrong length, a bad ``silhouette_sample_size`` or ``dbscan_eps``.
    TypeError
        Non-numeric data, a non-integer ``k``, a non-callable ``progress``.

    See Also
    --------
    hclust.evaluate : scores of every cut of one tree, to choose ``k``.
    sklearn.metrics.adjusted_rand_score : the agreement measure.

    Notes
    -----
    Settings. K-Means runs with ``n_init=10``; the Gaussian mixture with full
    covariances; BIRCH with ``n_clusters=k`` and a threshold of
    ``0.5 * sqrt(mean feature variance)`` (scikit-learn's default of 0.5 for
    standardised data, scaled with the data so that unscaled features neither
    collapse into one subcluster nor leave one subcluster per row); hclust's
    linkages are :func:`hclust.linkage` followed by
    ``hclust.tree.cut(Z, n_clusters=k)``.

    DBSCAN's rule (Ester et al. 1996; Sander et al. 1998): ``min_samples =
    2 d`` (at least 2, at most n), counting the point itself as scikit-learn
    does, and ``eps`` is the 90th percentile (:data:`DBSCAN_QUANTILE`) of the
    distances from each row to its ``min_samples``-th nearest row (itself
    first), so that about 90 % of the rows are core points. Rows in no
    cluster are noise (label -1): they are left out of the silhouette,
    Calinski-Harabasz and Davies-Bouldin indices and counted as one group of
    their own in the adjusted Rand index and mutual information.

    Failures. A method whose memory need is refused before allocating
    (:class:`hclust.InsufficientMemoryError`: average, complete and the other
    matrix linkages need ``4 n²`` bytes) or that runs out of memory or raises
    ``ValueError`` gets a row of NaN with ``status`` ``"memory"`` or
    ``"failed"`` and a note; the other methods still run. Warnings the
    methods raise (for example BIRCH finding fewer than ``k`` subclusters)
    become notes instead of warnings.

    Indices. Silhouette (higher is better, -1..1), Calinski-Harabasz (higher
    is better) and Davies-Bouldin (lower is better) from
    :mod:`sklearn.metrics` on the Euclidean geometry of ``X``; they are NaN
    when a labelling has fewer than 2 clusters or as many clusters as rows.
    Times include :func:`hclust.linkage`'s just-in-time compilation the first
    time a kernel runs in a process when numba's cache is cold.

    References
    ----------
    .. [1] M. Ester, H.-P. Kriegel, J. Sander and X. Xu, "A density-based
       algorithm for discovering clusters in large spatial databases with
       noise", KDD-96 (1996).
    .. [2] L. Hubert and P. Arabie, "Comparing partitions",
       :doi:`10.1007/BF01908075` (1985).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust import compare
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 0.3, size=(50, 2)) for c in (0.0, 5.0, 10.0)])
    >>> truth = np.repeat([0, 1, 2], 50)
    >>> result = compare(X, 3, methods=["kmeans", "ward"], labels_true=truth)
    >>> result.table["ari"].round(2).tolist()
    [1.0, 1.0]
    >>> float(result.agreement.loc["kmeans", "ward"])
    1.0
    """
    data = as_observations(X, "X", min_samples=2)
    check_squares(data, "the methods' sums of squares (k-means, GMM, ward)")
    n, d = data.shape
    n_clusters = _check_k(n_clusters, n)
    names = _check_methods(methods)
    truth = _check_labels_true(labels_true, n)
    _check_random_state(random_state)
    sample_size = _check_sample_size(silhouette_sample_size)
    if dbscan_eps is not None:
        dbscan_eps = _check_eps(dbscan_eps)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable progress(done, total) or None.")

    # Import the scikit-learn modules now, so that no method's time includes an import.
    for module in ("sklearn.cluster", "sklearn.metrics", "sklearn.mixture", "sklearn.neighbors"):
        importlib.import_module(module)

    notes: list[str] = []
    sample = _silhouette_sample(n, sample_size, random_state, notes)
    rows: list[dict[str, Any]] = []
    labels: dict[str, IntArray] = {}
    for done, name in enumerate(names, start=1):
        row: dict[str, Any] = {
            "family": "scikit-learn" if name in SKLEARN_METHODS else "hclust",
            "status": "ok",
        }
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                raw = _run(name, data, n_clusters, random_state, n_jobs, dbscan_eps, notes)
            except MemoryError as exc:
                row["status"] = "memory"
                notes.append(f"{name}: not run, it would not fit in memory: {_one_line(exc)}")
                raw = None
            except (ValueError, np.linalg.LinAlgError) as exc:
                row["status"] = "failed"
                notes.append(f"{name}: failed: {_one_line(exc)}")
                raw = None
        seconds = time.perf_counter() - start
        for warning in _unique_messages(caught):
            notes.append(f"{name}: warning: {warning}")
        if raw is not None:
            row["seconds"] = seconds
            labels[name] = _first_appearance(raw)
            row.update(_scores(data, labels[name], truth, notes, name))
        rows.append(row)
        if progress is not None:
            progress(done, len(names))
    silhouettes = _silhouettes_of(data, labels, sample)
    for name, row in zip(names, rows):
        if name in silhouettes:
            row["silhouette"] = silhouettes[name]

    if "dbscan" in labels:
        notes.append(
            "DBSCAN's noise points are left out of the silhouette, Calinski-Harabasz and "
            "Davies-Bouldin indices and count as one group in the adjusted Rand index and "
            "mutual information."
        )
    table = _table(names, rows, truth is not None)
    agreement = _agreement(names, labels)
    return Comparison(
        table=table,
        agreement=agreement,
        labels=labels,
        notes=notes,
        n_clusters=n_clusters,
        n_samples=n,
    )


def _check_k(n_clusters: Any, n: int) -> int:
    if not is_integer(n_clusters):
        raise TypeError(f"n_clusters must be an integer number of clusters; got {n_clusters!r}.")
    if not 1 <= int(n_clusters) <= n:
        raise ValueError(f"n_clusters={n_clusters} is out of range: with {n} rows, it must be between 1 and {n}.")
    return int(n_clusters)


def _check_methods(methods: Sequence[str] | str | None) -> list[str]:
    if methods is None:
        return list(DEFAULT_METHODS)
    if isinstance(methods, str):
        methods = [methods]
    names = list(methods)
    if not names:
        raise ValueError(f"methods is empty; choose from: {', '.join(_VALID_METHODS)}.")
    for name in names:
        if not isinstance(name, str) or name not in _VALID_METHODS:
            raise ValueError(
                f"Unknown method {name!r}; valid methods are: {', '.join(_VALID_METHODS)}."
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"methods lists {', '.join(map(repr, repeated))} more than once.")
    return names


def _check_labels_true(labels_true: Any, n: int) -> np.ndarray | None:
    if labels_true is None:
        return None
    if hasattr(labels_true, "to_numpy"):
        labels_true = labels_true.to_numpy()
    truth = np.asarray(labels_true)
    if truth.ndim != 1 or truth.shape[0] != n:
        raise ValueError(
            f"labels_true must have one label per row of X ({n}); got shape {truth.shape}."
        )
    if truth.dtype.kind == "f" and not np.isfinite(truth).all():
        raise ValueError("labels_true contains NaN or infinite values; give every row a label.")
    if truth.dtype.kind == "O" and pd.isna(truth).any():
        raise ValueError("labels_true contains missing values; give every row a label.")
    return truth


def _check_random_state(random_state: Any) -> None:
    if random_state is None:
        return
    if not is_integer(random_state):
        raise TypeError(f"random_state must be an integer seed or None; got {random_state!r}.")


def _check_sample_size(size: Any) -> int | None:
    if size is None:
        return None
    if not is_integer(size) or size < 2:
        raise ValueError(
            f"silhouette_sample_size must be an integer >= 2 or None (all rows); got {size!r}."
        )
    return int(size)


def _check_eps(eps: Any) -> float:
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise TypeError(f"dbscan_eps must be a number; got {eps!r}.") from None
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"dbscan_eps must be a positive finite number; got {eps!r}.")
    return value


def _silhouette_sample(
    n: int, size: int | None, random_state: int | None, notes: list[str]
) -> IntArray | None:
    """Rows for the silhouette (sorted), or None for all rows."""
    if size is None or n <= size:
        return None
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)
    notes.append(
        f"silhouette on a random sample of {size:,} of {n:,} rows (seed {random_state}), "
        "the same rows for every method."
    )
    return rows


def _ordinal(i: int) -> str:
    suffix = "th" if 10 <= i % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(i % 10, "th")
    return f"{i}{suffix}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _unique_messages(caught: list[warnings.WarningMessage]) -> list[str]:
    messages: list[str] = []
    for item in caught:
        text = f"{item.category.__name__}: {_one_line(Warning(item.message))}"
        if text not in messages:
            messages.append(text)
    return messages


def _first_appearance(raw: Any) -> IntArray:
    """Relabel to 0..k-1 in order of first appearance, keeping -1 (noise)."""
    values = np.asarray(raw).astype(np.int64, copy=False)
    out = np.full(values.shape[0], -1, dtype=np.int64)
    clustered = values >= 0
    _, first, inverse = np.unique(values[clustered], return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    out[clustered] = rank[inverse.ravel()]
    return out


def _run(
    name: str,
    X: FloatArray,
    k: int,
    random_state: int | None,
    n_jobs: int | None,
    dbscan_eps: float | None,
    notes: list[str],
) -> IntArray:
    """Labels of one method (noise -1)."""
    if name == "kmeans":
        from sklearn.cluster import KMeans

        model: Any = KMeans(n_clusters=k, n_init=10, random_state=random_state)
    elif name == "gmm":
        from sklearn.mixture import GaussianMixture

        model = GaussianMixture(n_components=k, random_state=random_state)
    elif name == "birch":
        from sklearn.cluster import Birch

        scale = math.sqrt(float(np.mean(np.var(X, axis=0))))
        threshold = BIRCH_THRESHOLD * scale if scale > 0.0 else BIRCH_THRESHOLD
        notes.append(
            f"BIRCH threshold={threshold:.3g} (0.5 x {scale:.3g}, the square root of the "
            f"mean feature variance), then n_clusters={k}."
        )
        model = Birch(threshold=threshold, n_clusters=k)
    elif name == "dbscan":
        return _dbscan(X, n_jobs, dbscan_eps, notes)
    else:
        return cut(linkage(X, name, n_jobs=n_jobs), n_clusters=k)
    return np.asarray(model.fit_predict(X), dtype=np.int64)


def _dbscan(X: FloatArray, n_jobs: int | None, eps: float | None, notes: list[str]) -> IntArray:
    from sklearn.cluster import DBSCAN

    n, d = X.shape
    min_samples = min(max(2, 2 * d), n)
    if eps is None:
        from sklearn.neighbors import NearestNeighbors

        # The first neighbour of each row is itself, as in DBSCAN's core-point count.
        search = NearestNeighbors(n_neighbors=min_samples, n_jobs=n_jobs).fit(X)
        distances, _ = search.kneighbors(X)
        kth = distances[:, -1]
        eps = float(np.quantile(kth, DBSCAN_QUANTILE))
        rule = (
            f"the {DBSCAN_QUANTILE:.0%} quantile of the distances to the {_ordinal(min_samples)} "
            f"nearest row (the row itself first)"
        )
        if not eps > 0.0:
            positive = kth[kth > 0.0]
            eps = float(positive.min()) if positive.size else 1.0
            rule += ", which is 0 (duplicated rows), raised to the smallest positive one"
        source = f"from {rule}"
    else:
        source = "as given"
    model = DBSCAN(eps=eps, min_samples=min_samples, n_jobs=n_jobs)
    labels = np.asarray(model.fit_predict(X), dtype=np.int64)
    noise = int((labels < 0).sum())
    notes.append(
        f"DBSCAN eps={eps:.4g} {source}, min_samples={min_samples} (2 x {d} features); "
        f"{noise:,} noise point{'s' if noise != 1 else ''} ({noise / n:.1%}) labelled -1."
    )
    return labels


def _scores(
    X: FloatArray,
    labels: IntArray,
    truth: np.ndarray | None,
    notes: list[str],
    name: str,
) -> dict[str, Any]:
    """Cluster sizes, Calinski-Harabasz, Davies-Bouldin, ARI and AMI of one labelling."""
    from sklearn.metrics import (
        adjusted_mutual_info_score,
        adjusted_rand_score,
        calinski_harabasz_score,
        davies_bouldin_score,
    )

    n = labels.shape[0]
    clustered = labels >= 0
    sizes = np.bincount(labels[clustered]) if clustered.any() else np.zeros(0, dtype=np.int64)
    row: dict[str, Any] = {
        "n_clusters": int(sizes.shape[0]),
        "smallest_share": float(sizes.min() / n) if sizes.size else math.nan,
        "largest_share": float(sizes.max() / n) if sizes.size else math.nan,
        "noise_share": float((~clustered).sum() / n),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row["calinski_harabasz"] = _defined(calinski_harabasz_score, X[clustered], labels[clustered])
        row["davies_bouldin"] = _defined(davies_bouldin_score, X[clustered], labels[clustered])
        if truth is not None:
            row["ari"] = float(adjusted_rand_score(truth, labels))
            row["ami"] = float(adjusted_mutual_info_score(truth, labels))
    for warning in _unique_messages(caught):
        notes.append(f"{name}: warning while scoring: {warning}")
    return row


def _silhouettes_of(
    X: FloatArray, labels: dict[str, IntArray], sample: IntArray | None
) -> dict[str, float]:
    """Mean silhouette of each labelling on the sample rows, noise left out (NaN if undefined).

    The labellings without noise share one pass over the sample's distances
    (:func:`hclust.select._silhouettes`); a labelling with noise is scored on
    its own clustered rows.
    """
    from .select import _silhouettes

    rows = np.arange(X.shape[0], dtype=np.int64) if sample is None else sample
    result: dict[str, float] = {}
    batch: list[tuple[str, IntArray, int]] = []
    for name, values in labels.items():
        part = values[rows]
        kept = part >= 0
        present = np.unique(part[kept])
        if not 2 <= present.shape[0] <= int(kept.sum()) - 1:
            result[name] = math.nan
            continue
        codes = np.searchsorted(present, part[kept]).astype(np.int64)
        if kept.all():
            batch.append((name, codes, int(present.shape[0])))
        else:
            subset = np.ascontiguousarray(X[rows[kept]])
            result[name] = float(_silhouettes(subset, codes[:, None], [present.shape[0]])[0])
    # Bound the one-hot indicator matrix (rows x total clusters) to about 256 MB per pass.
    budget = max(1, 2**25 // max(1, rows.shape[0]))
    subset = np.ascontiguousarray(X[rows])
    while batch:
        group = [batch.pop(0)]
        while batch and sum(k for _, _, k in group) + batch[0][2] <= budget:
            group.append(batch.pop(0))
        columns = np.stack([codes for _, codes, _ in group], axis=1)
        scores = _silhouettes(subset, columns, [k for _, _, k in group])
        for (name, _, _), value in zip(group, scores):
            result[name] = float(value)
    return result


def _defined(score: Callable[[Any, Any], float], X: FloatArray, labels: IntArray) -> float:
    """The index, or NaN where it is undefined (fewer than 2 clusters, or one per row)."""
    m = labels.shape[0]
    k = np.unique(labels).shape[0]
    if not 2 <= k <= m - 1:
        return math.nan
    return float(score(X, labels))


def _table(names: list[str], rows: list[dict[str, Any]], with_truth: bool) -> pd.DataFrame:
    columns = ["family", "status", "seconds", "n_clusters", *_FLOAT_COLUMNS[1:]]
    if with_truth:
        columns += ["ari", "ami"]
    table = pd.DataFrame(rows, index=pd.Index(names, name="method"))
    table = table.reindex(columns=columns)
    for column in columns[2:]:
        table[column] = table[column].astype(np.float64)
    # A count, NaN where the method did not run.
    table["n_clusters"] = table["n_clusters"].astype("Int64")
    return table


def _agreement(names: list[str], labels: dict[str, IntArray]) -> pd.DataFrame:
    from sklearn.metrics import adjusted_rand_score

    m = len(names)
    matrix = np.full((m, m), math.nan)
    for i, a in enumerate(names):
        if a not in labels:
            continue
        matrix[i, i] = 1.0
        for j in range(i + 1, m):
            b = names[j]
            if b in labels:
                matrix[i, j] = matrix[j, i] = float(adjusted_rand_score(labels[a], labels[b]))
    index = pd.Index(names, name="method")
    return pd.DataFrame(matrix, index=index, columns=pd.Index(names))
