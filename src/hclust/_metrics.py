"""The registry of distance metrics: one row per metric, read by every layer.

:func:`hclust.pdist`, :func:`hclust.cdist`, :func:`hclust.linkage`, the estimator
and the command line all take their metric names, aliases, parameters and
properties from :data:`METRIC_TABLE`; nothing else lists metrics. Names and
aliases are scipy's (``scipy.spatial.distance``), plus scikit-learn's
``"manhattan"``, ``"l1"`` and ``"l2"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ._kernels import distances as _kd

__all__ = ["LINKAGE_ONLY", "METRICS", "METRIC_TABLE", "MetricInfo", "ResolvedMetric", "lookup", "normalize", "resolve"]


@dataclass(frozen=True)
class MetricInfo:
    """One distance metric.

    Attributes
    ----------
    name : str
        Canonical name (scipy's).
    aliases : tuple of str
        Other names accepted for it: scipy's short names, then scikit-learn's.
    code : int
        Kernel code in :mod:`hclust._kernels.distances` (minkowski with p = 1, 2
        or inf and weighted cosine/correlation switch to another code).
    params : tuple of str
        Keyword arguments the metric takes, as in scipy: ``w`` (feature weights),
        ``p``, ``V``, ``VI``, ``base``.
    nan_possible : bool
        Finite observations can give NaN or infinity with valid parameters (scipy's
        0/0 conventions, all-zero weights, rounding under a square root), so a
        computed matrix must be checked before it is clustered.
    euclidean : bool
        The distances are Euclidean (ward, centroid and median are defined on them).
    boolean : bool
        Defined for boolean vectors (scipy's boolean dissimilarities).
    reads_booleans : bool
        The kernel reads each value as a boolean (non-zero is True). dice is boolean
        but, like scipy's ``dice(u, v)``, computes its counts from the values
        themselves (the same on 0/1 data).
    summary : str
        One line for help texts.
    """

    name: str
    aliases: tuple[str, ...]
    code: int
    params: tuple[str, ...]
    nan_possible: bool
    summary: str
    euclidean: bool = False
    boolean: bool = False
    reads_booleans: bool = False


#: Every metric of ``scipy.spatial.distance.pdist``, sorted by name.
METRIC_TABLE: tuple[MetricInfo, ...] = (
    MetricInfo("braycurtis", (), _kd.BRAYCURTIS, ("w",), True,
               "sum |u - v| / sum |u + v| (NaN for two all-zero rows)"),
    MetricInfo("canberra", (), _kd.CANBERRA, ("w",), False,
               "sum |u - v| / (|u| + |v|), features where both are 0 skipped"),
    MetricInfo("chebyshev", ("chebychev", "cheby", "cheb", "ch"), _kd.CHEBYSHEV, ("w",), False,
               "max |u - v| (over features of positive weight)"),
    MetricInfo("cityblock", ("cblock", "cb", "c", "manhattan", "l1"), _kd.CITYBLOCK, ("w",), False,
               "sum |u - v|"),
    MetricInfo("correlation", ("co",), _kd.COSINE, ("w",), True,
               "1 - Pearson correlation of the two rows (NaN for a constant row)"),
    MetricInfo("cosine", ("cos",), _kd.COSINE, ("w",), True,
               "1 - cosine of the angle (NaN for an all-zero row)"),
    MetricInfo("dice", (), _kd.DICE, ("w",), True,
               "(ntf + nft) / (2 ntt + ntf + nft) on boolean rows (NaN for two all-false rows)",
               boolean=True),
    MetricInfo("euclidean", ("euclid", "eu", "e", "l2"), _kd.EUCLIDEAN, ("w",), False,
               "sqrt(sum (u - v)^2)", euclidean=True),
    MetricInfo("hamming", ("matching", "hamm", "ha", "h"), _kd.HAMMING, ("w",), True,
               "fraction of features whose values differ"),
    MetricInfo("jaccard", ("jacc", "ja", "j"), _kd.JACCARD, ("w",), False,
               "fraction of disagreeing features among those non-zero in either row (0 if none)",
               boolean=True, reads_booleans=True),
    MetricInfo("jensenshannon", ("js",), _kd.JENSENSHANNON, ("base",), True,
               "square root of the Jensen-Shannon divergence of the rows as distributions "
               "(infinite for a negative entry or an all-zero row)"),
    MetricInfo("mahalanobis", ("mahal", "mah"), _kd.MAHALANOBIS, ("VI",), True,
               "sqrt((u - v)' VI (u - v)), VI the inverse covariance"),
    MetricInfo("minkowski", ("mi", "m", "pnorm"), _kd.MINKOWSKI, ("p", "w"), False,
               "(sum |u - v|^p)^(1/p)"),
    MetricInfo("rogerstanimoto", (), _kd.ROGERSTANIMOTO, ("w",), True,
               "2 (ntf + nft) / (ntt + nff + 2 (ntf + nft)) on boolean rows",
               boolean=True, reads_booleans=True),
    MetricInfo("russellrao", (), _kd.RUSSELLRAO, ("w",), True,
               "(n - ntt) / n on boolean rows", boolean=True, reads_booleans=True),
    MetricInfo("seuclidean", ("se", "s"), _kd.SEUCLIDEAN, ("V",), False,
               "sqrt(sum (u - v)^2 / V), V the feature variances"),
    MetricInfo("sokalsneath", (), _kd.SOKALSNEATH, ("w",), True,
               "2 (ntf + nft) / (ntt + 2 (ntf + nft)) on boolean rows (NaN for two all-false rows)",
               boolean=True, reads_booleans=True),
    MetricInfo("sqeuclidean", ("sqe", "sqeuclid"), _kd.SQEUCLIDEAN, ("w",), False,
               "sum (u - v)^2"),
    MetricInfo("yule", (), _kd.YULE, ("w",), False,
               "2 ntf nft / (ntt nff + ntf nft) on boolean rows (0 if ntf nft = 0)",
               boolean=True, reads_booleans=True),
)

#: Canonical metric names, sorted.
METRICS: tuple[str, ...] = tuple(info.name for info in METRIC_TABLE)

#: Names that :func:`hclust.linkage` (and the command line) accept besides the metrics.
LINKAGE_ONLY: tuple[str, ...] = ("gower", "precomputed")

_BY_NAME: dict[str, MetricInfo] = {}
for _info in METRIC_TABLE:
    for _key in (_info.name, *_info.aliases):
        assert _key not in _BY_NAME, f"metric name {_key!r} listed twice"
        _BY_NAME[_key] = _info
del _info, _key

#: scipy's prefix for its reference (pure Python) implementations, e.g. "test_euclidean".
_TEST_PREFIX = "test_"


@dataclass(frozen=True)
class ResolvedMetric:
    """A metric found by :func:`resolve`.

    ``as_booleans``: convert the observations to booleans before computing, as scipy
    does when the metric is given as its Python function (``scipy.spatial.distance.dice``)
    or its ``"test_"`` name; only dice differs (on data that is not 0/1).
    """

    info: MetricInfo
    as_booleans: bool


def _unknown(metric: str) -> ValueError:
    return ValueError(
        f"Unknown metric {metric!r}; valid metrics are: {', '.join(METRICS)} (scipy's "
        "aliases such as 'cos', 'cb', 'euclid' and scikit-learn's 'manhattan', 'l1', 'l2' "
        "are accepted too), or pass a Python function f(u, v) -> float."
    )


def lookup(metric: str) -> MetricInfo:
    """The metric called ``metric`` (a name or alias, any case).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.

    Examples
    --------
    >>> from hclust._metrics import lookup
    >>> info = lookup("Manhattan")
    >>> info.name, info.params, info.nan_possible
    ('cityblock', ('w',), False)
    """
    info = _BY_NAME.get(metric.lower())
    if info is None:
        raise _unknown(metric)
    return info


def resolve(metric: Any) -> ResolvedMetric | Callable[..., Any]:
    """A metric given as a name, an alias, a scipy ``"test_"`` name or a function.

    scipy's own distance functions (``scipy.spatial.distance.cosine``, ...) and
    scipy's ``"test_<name>"`` names resolve to the native metric; any other callable
    is returned unchanged.

    Raises
    ------
    ValueError
        Unknown name.
    TypeError
        Neither a string nor a callable.

    Examples
    --------
    >>> import scipy.spatial.distance as ssd
    >>> from hclust._metrics import resolve
    >>> found = resolve(ssd.dice)
    >>> found.info.name, found.as_booleans
    ('dice', True)
    >>> resolve("cos").info.name
    'cosine'
    """
    if isinstance(metric, str):
        key = metric.lower()
        if key in _BY_NAME:
            return ResolvedMetric(_BY_NAME[key], _BY_NAME[key].reads_booleans)
        if key.startswith(_TEST_PREFIX) and key[len(_TEST_PREFIX) :] in METRICS:
            info = _BY_NAME[key[len(_TEST_PREFIX) :]]
            return ResolvedMetric(info, info.boolean)
        raise _unknown(metric)
    if callable(metric):
        name = getattr(metric, "__name__", None)
        if getattr(metric, "__module__", None) == "scipy.spatial.distance" and name in METRICS:
            info = _BY_NAME[name]
            return ResolvedMetric(info, info.boolean)
        return metric
    raise TypeError(
        f"metric must be a metric name (one of {', '.join(METRICS)}) or a function "
        f"f(u, v) -> float; got {type(metric).__name__}."
    )


def normalize(metric: Any, extra: tuple[str, ...] = LINKAGE_ONLY, strict: bool = True) -> Any:
    """The canonical name of a metric name or alias; ``extra`` names and callables unchanged.

    What :func:`hclust.linkage` and the command line call first, so that the rest
    of the code compares canonical names only. With ``strict=False`` an unknown name
    is returned unchanged, for the caller to judge (``linkage`` ignores the metric of
    a condensed distance vector, as scipy does).

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones), when ``strict``.

    Examples
    --------
    >>> from hclust._metrics import normalize
    >>> normalize("l2"), normalize("Gower"), normalize("test_yule")
    ('euclidean', 'gower', 'yule')
    """
    if not isinstance(metric, str):
        return metric
    if metric.lower() in extra:
        return metric.lower()
    if not strict and metric.lower() not in _BY_NAME and not metric.lower().startswith(_TEST_PREFIX):
        return metric
    found = resolve(metric)
    assert isinstance(found, ResolvedMetric)
    return found.info.name
