"""Every number a segmentation report shows, computed once: :class:`SegmentationSummary`.

The analysis behind the HTML report and the static charts lives here, in the segment
layer: the cuts of the tree for each number of segments offered, their profiles and
names, the heatmap of standardised differences, the PCA projection, the hover profiles
of the top merges and the choose-k criteria. :mod:`hclust.report` only renders a
summary; :class:`~hclust.segment.SegmentationModel` makes one and saves it with the
model, and :func:`segmentation_summary` makes one from a linkage matrix, its features
and the customer table.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .._typing import FloatArray, IntArray
from .._validation import as_observations, is_integer
from ..select import Evaluation, evaluate
from ..tree import _cut_order, check_linkage, cut
from ._profile import SegmentProfile, category_differences, profile, standardized_difference
from .schema import infer_schema

__all__ = [
    "CutSummary",
    "Projection",
    "SegmentationSummary",
    "TopFeature",
    "segmentation_summary",
]

#: Name and version of the serialised form (see :meth:`SegmentationSummary.to_dict`).
SUMMARY_FORMAT = "hclust.SegmentationSummary"
SUMMARY_FORMAT_VERSION = 1
#: Points of the PCA projection at most (a seeded sample above this).
SCATTER_MAX = 5_000
#: Seed of the projection's sample.
SCATTER_SEED = 0
#: Most numbers of segments a summary offers (each gets a profile).
MAX_KS = 40
#: Categories per categorical column in the heatmap (the most frequent overall).
HEATMAP_CATEGORIES = 5
#: Internal nodes (the last merges) that get their own hover profile.
NODE_PROFILES = 600
#: Features listed per node profile and per segment (top distinguishing features).
TOP_FEATURES = 3
#: Rows used for the silhouette when the summary computes the choose-k criteria itself.
SILHOUETTE_SAMPLE = 4_000
#: Criteria computed when no evaluation is given (no gap: it re-clusters n rows 10 times).
CHEAP_CRITERIA = ("wss", "silhouette", "calinski_harabasz", "davies_bouldin", "height_jump")

_DETAIL_LISTS = ("clustering_features", "preparation", "choice_of_k", "assignment")
_DETAIL_KEYS = (*_DETAIL_LISTS, "distance", "stability", "stability_note")


class TopFeature(NamedTuple):
    """One of the features that set a segment apart (a row of the profile's ``distinguishing``)."""

    description: str
    std_diff: float
    lift: float
    share: float
    share_rest: float


@dataclass(frozen=True, eq=False)
class CutSummary:
    """The segments of one cut of the tree.

    Attributes
    ----------
    n_clusters : int
    roots : list of int
        The node of the tree heading each segment, by label (a leaf ``i < n`` or merge
        node ``n + row``); the segment is everything below it.
    cut_height : float
        A height that cuts the tree into these segments (see :func:`hclust.dendrogram_layout`).
    names : list of str
        Segment names, by label (the user's names for the chosen cut).
    sizes : list of int
        Rows per segment.
    shares : list of float
        Share of all rows per segment.
    top_features : list of list of TopFeature
        Per segment, the strongest distinguishing features (at most three).
    heatmap : ndarray of shape (n_clusters, n_heatmap_columns)
        Standardised differences (segment against the rest, see
        :func:`hclust.segment.standardized_difference`) of each heatmap column;
        NaN where undefined.
    """

    n_clusters: int
    roots: list[int]
    cut_height: float | None
    names: list[str]
    sizes: list[int]
    shares: list[float]
    top_features: list[list[TopFeature]]
    heatmap: FloatArray

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (NaN as None)."""
        return {
            "n_clusters": self.n_clusters,
            "roots": list(self.roots),
            "cut_height": self.cut_height,
            "names": list(self.names),
            "sizes": list(self.sizes),
            "shares": list(self.shares),
            "top_features": [[[f.description, *map(_json_float, f[1:])] for f in seg] for seg in self.top_features],
            "heatmap": [[_json_float(v) for v in row] for row in self.heatmap.tolist()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], n_columns: int) -> "CutSummary":
        """Rebuild from :meth:`to_dict`, checking the lengths against ``n_clusters``."""
        k = _whole(data["n_clusters"], "n_clusters", 1)
        heatmap = np.array([[_float(v) for v in row] for row in data["heatmap"]], dtype=np.float64).reshape(-1, n_columns)
        top = [[TopFeature(str(f[0]), *(_float(v) for v in f[1:5])) for f in seg] for seg in data["top_features"]]
        lists = {"roots": data["roots"], "names": data["names"], "sizes": data["sizes"], "shares": data["shares"]}
        for name, values in (*lists.items(), ("top_features", top), ("heatmap", heatmap)):
            if len(values) != k:
                raise ValueError(f"the cut into {k} segments has {len(values)} {name}.")
        height = data["cut_height"]
        return cls(
            n_clusters=k,
            roots=[_whole(v, "roots", 0) for v in data["roots"]],
            cut_height=None if height is None else float(height),
            names=[str(v) for v in data["names"]],
            sizes=[_whole(v, "sizes", 0) for v in data["sizes"]],
            shares=[float(v) for v in data["shares"]],
            top_features=top,
            heatmap=heatmap,
        )


@dataclass(frozen=True, eq=False)
class Projection:
    """Rows projected on the first two principal axes of the features (a seeded sample).

    Attributes
    ----------
    index : ndarray of int64
        The rows shown, ascending (all rows up to 5,000, else a seeded random sample).
    xy : ndarray of shape (len(index), 2)
        Their coordinates on the axes (the second is 0 for one feature).
    explained : list of float
        Share of the variance along each axis.
    seed : int
        Seed of the sample.
    """

    index: IntArray
    xy: FloatArray
    explained: list[float]
    seed: int = SCATTER_SEED

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index.tolist(), "xy": self.xy.tolist(), "explained": list(self.explained), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Projection":
        index = np.array(data["index"], dtype=np.int64).reshape(-1)
        xy = np.array(data["xy"], dtype=np.float64).reshape(-1, 2)
        if xy.shape[0] != index.shape[0]:
            raise ValueError(f"the projection has {index.shape[0]} rows but {xy.shape[0]} coordinates.")
        return cls(index=index, xy=xy, explained=[float(v) for v in data["explained"]], seed=_whole(data["seed"], "seed", 0))


@dataclass(frozen=True, eq=False)
class SegmentationSummary:
    """Every number a segmentation report shows, computed once (renderers add none).

    Made by :func:`segmentation_summary` or :meth:`SegmentationModel.segmentation_summary
    <hclust.segment.SegmentationModel.segmentation_summary>`; rendered by
    :func:`hclust.write_report`, :func:`hclust.build_report_html` and
    :func:`hclust.write_static`. Saved with a model (:meth:`to_dict` / :meth:`from_dict`,
    plain JSON). Not to be confused with :meth:`SegmentationModel.summary`, the model
    described in words.

    Attributes
    ----------
    Z : ndarray of shape (n-1, 4)
        The linkage matrix (the dendrogram).
    n_clusters : int
        The chosen number of segments.
    ks : list of int
        Numbers of segments offered, ascending; holds ``n_clusters``.
    cuts : dict
        Number of segments -> :class:`CutSummary`, for every ``ks``.
    feature_names : list of str
        The numeric features of the pictures (projection, node profiles).
    profiled_columns : list of str
        The columns the segment profiles describe.
    frame_given : bool
        False when the profiles describe the features (no customer table was given).
    heatmap_columns : list of str
        Numeric columns, then ``column=category`` for the most frequent categories.
    projection : Projection
    node_profiles : dict
        Merge node -> its top distinguishing features ``(feature, standardised difference)``
        against the rest of the rows, for the last 600 merges.
    evaluation : Evaluation
        The choose-k criteria for ``ks``.
    params : dict
        Data, method and parameter values to list (text, numbers, booleans).
    details : dict
        What a model says about itself: ``clustering_features``, ``distance``,
        ``preparation``, ``choice_of_k``, ``stability`` (per segment of ``n_clusters``),
        ``stability_note``, ``assignment``; each optional.
    ids : list or None
        The identifier of each row (for a labels download); None: row positions.
    id_name : str
        Header of the identifiers.

    Examples
    --------
    >>> import numpy as np
    >>> from hclust import linkage, segmentation_summary
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> summary = segmentation_summary(linkage(X, "ward"), X, n_clusters=3, ks=[2, 3, 4])
    >>> summary.ks, summary.cuts[3].sizes
    ([2, 3, 4], [20, 15, 5])
    >>> summary.heatmap_columns, summary.cuts[3].heatmap.shape
    (['x0', 'x1'], (3, 2))
    >>> type(summary).from_dict(summary.to_dict()).to_dict() == summary.to_dict()  # exact JSON
    True
    """

    Z: FloatArray
    n_clusters: int
    ks: list[int]
    cuts: dict[int, CutSummary]
    feature_names: list[str]
    profiled_columns: list[str]
    frame_given: bool
    heatmap_columns: list[str]
    projection: Projection
    node_profiles: dict[int, list[tuple[str, float]]]
    evaluation: Evaluation
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    ids: list[Any] | None = None
    id_name: str = "row"

    @property
    def n(self) -> int:
        """Number of rows (leaves of the tree)."""
        return int(self.Z.shape[0] + 1)

    @property
    def chosen(self) -> CutSummary:
        """The cut into :attr:`n_clusters` segments."""
        return self.cuts[self.n_clusters]

    def labels(self, n_clusters: int | None = None) -> IntArray:
        """Segment of every row for one of the cuts offered (default: the chosen one)."""
        k = self.n_clusters if n_clusters is None else n_clusters
        if k not in self.cuts:
            raise ValueError(f"n_clusters={k!r} is not offered; the summary has {self.ks}.")
        return cut(self.Z, n_clusters=k)

    def rename(self, names: Mapping[int, str]) -> "SegmentationSummary":
        """A copy with the chosen segments' names replaced (all of them: label -> name)."""
        chosen = self.chosen
        new = [str(names.get(s, chosen.names[s])) for s in range(chosen.n_clusters)]
        cuts = {**self.cuts, self.n_clusters: dataclasses.replace(chosen, names=new)}
        return dataclasses.replace(self, cuts=cuts)

    def to_dict(self, *, linkage: bool = True) -> dict[str, Any]:
        """Plain JSON types (``json.dumps(..., allow_nan=False)`` works), exact.

        Parameters
        ----------
        linkage : bool, default=True
            Include ``Z`` (a model leaves it out: it saves ``Z`` among its arrays and
            passes it to :meth:`from_dict`).
        """
        return {
            "format": SUMMARY_FORMAT,
            "format_version": SUMMARY_FORMAT_VERSION,
            "n_rows": self.n,
            **({"linkage": self.Z.tolist()} if linkage else {}),
            "n_clusters": self.n_clusters,
            "ks": list(self.ks),
            "cuts": [self.cuts[k].to_dict() for k in self.ks],
            "feature_names": list(self.feature_names),
            "profiled_columns": list(self.profiled_columns),
            "frame_given": self.frame_given,
            "heatmap_columns": list(self.heatmap_columns),
            "projection": self.projection.to_dict(),
            "node_profiles": [[node, [[name, _json_float(d)] for name, d in top]]
                              for node, top in sorted(self.node_profiles.items())],
            "evaluation": self.evaluation.to_dict(),
            "params": dict(self.params),
            "details": dict(self.details),
            "ids": None if self.ids is None else list(self.ids),
            "id_name": self.id_name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, Z: Any = None) -> "SegmentationSummary":
        """Rebuild a summary from :meth:`to_dict`, checking that its parts agree.

        Parameters
        ----------
        data : mapping
        Z : array-like, optional
            The linkage matrix, when ``data`` was written with ``linkage=False``.

        Raises
        ------
        ValueError
            Another format or a newer version, missing or inconsistent parts.
        """
        if data.get("format") != SUMMARY_FORMAT:
            raise ValueError(f"not a {SUMMARY_FORMAT} (format {data.get('format')!r}).")
        version = data.get("format_version", 0)
        if not is_integer(version) or not 1 <= int(version) <= SUMMARY_FORMAT_VERSION:
            raise ValueError(f"summary format version {version!r}; this hclust reads 1 to {SUMMARY_FORMAT_VERSION}.")
        if Z is None:
            if "linkage" not in data:
                raise ValueError("the summary holds no linkage matrix; pass Z.")
            Z = data["linkage"]
        Z = check_linkage(np.asarray(Z, dtype=np.float64))
        n = Z.shape[0] + 1
        if data["n_rows"] != n:
            raise ValueError(f"the summary is of {data['n_rows']} rows but Z has {n} leaves.")
        columns = [str(c) for c in data["heatmap_columns"]]
        cuts = {}
        for item in data["cuts"]:
            one = CutSummary.from_dict(item, len(columns))
            cuts[one.n_clusters] = one
        ks = [_whole(k, "ks", 1) for k in data["ks"]]
        k = _whole(data["n_clusters"], "n_clusters", 1)
        if sorted(cuts) != ks or k not in cuts:
            raise ValueError(f"the summary offers ks={ks} with cuts for {sorted(cuts)} and n_clusters={k}.")
        ids = data["ids"]
        if ids is not None and len(ids) != n:
            raise ValueError(f"the summary has {len(ids)} ids for {n} rows.")
        projection = Projection.from_dict(data["projection"])
        if projection.index.size and not (0 <= projection.index.min() and projection.index.max() < n):
            raise ValueError(f"the projection names rows outside 0..{n - 1}.")
        return cls(
            Z=Z,
            n_clusters=k,
            ks=ks,
            cuts=cuts,
            feature_names=[str(v) for v in data["feature_names"]],
            profiled_columns=[str(v) for v in data["profiled_columns"]],
            frame_given=bool(data["frame_given"]),
            heatmap_columns=columns,
            projection=projection,
            node_profiles={_whole(node, "node_profiles", n): [(str(name), _float(d)) for name, d in top]
                           for node, top in data["node_profiles"]},
            evaluation=Evaluation.from_dict(data["evaluation"]),
            params=dict(data["params"]),
            details=_check_details(data["details"], k),
            ids=None if ids is None else list(ids),
            id_name=str(data["id_name"]),
        )


# --------------------------------------------------------------------------- JSON numbers


def _json_float(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _whole(value: Any, what: str, low: int) -> int:
    if not is_integer(value) or value < low:
        raise ValueError(f"{what} must hold whole numbers >= {low}; got {value!r}.")
    return int(value)


# --------------------------------------------------------------------------- validation


def _check_ks(ks: Any, k: int, n: int) -> list[int]:
    top = min(12, n)
    if ks is None:
        values = list(range(2, top + 1))
    else:
        if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
            raise ValueError(f"ks must be a sequence of integers between 2 and {n}; got {ks!r}.")
        values = list(ks)
        if not values:
            raise ValueError(f"ks is empty; pass the numbers of segments to offer, e.g. range(2, {top + 1}).")
        bad = [v for v in values if not is_integer(v) or not 2 <= int(v) <= n]
        if bad:
            raise ValueError(f"ks must hold integers between 2 and {n} (the number of rows); got {bad[:5]!r}.")
    out = sorted({int(v) for v in values} | {k})
    if len(out) > MAX_KS:
        raise ValueError(f"ks offers {len(out)} values; at most {MAX_KS} are supported (each gets a profile).")
    return out


def _check_ids(ids: Any, n: int) -> list[Any] | None:
    """Row identifiers as plain JSON values (text for anything but numbers and text)."""
    if ids is None:
        return None
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise TypeError(f"ids must be a sequence of {n} row identifiers; got {type(ids).__name__}.")
    values = list(ids.tolist() if hasattr(ids, "tolist") else ids)
    if len(values) != n:
        raise ValueError(f"ids has {len(values)} entries but Z has {n} leaves; pass one identifier per row.")
    out: list[Any] = []
    for value in values:
        if isinstance(value, (bool, np.bool_)):
            out.append(str(value))
        elif isinstance(value, numbers.Integral):
            out.append(int(value))
        elif isinstance(value, numbers.Real):
            out.append(float(value) if math.isfinite(float(value)) else None)
        elif value is None:
            out.append(None)
        else:
            out.append(str(value))
    return out


def _check_names(names: Any) -> dict[int, str] | None:
    if names is None:
        return None
    if not isinstance(names, Mapping):
        raise TypeError(f"names must be a mapping of segment -> name; got {type(names).__name__}.")
    return {int(key) if is_integer(key) else key: value for key, value in names.items()}


def _check_details(details: Mapping[str, Any] | None, k: int) -> dict[str, Any]:
    """Plain JSON: lists of text, the distance, per-segment stability of the ``k`` segments."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise TypeError(f"details must be a mapping; got {type(details).__name__}.")
    unknown = sorted(set(details) - set(_DETAIL_KEYS))
    if unknown:
        raise ValueError(f"details has unknown keys {unknown}.")
    out: dict[str, Any] = {}
    for key in _DETAIL_LISTS:
        if details.get(key) is not None:
            out[key] = [str(v) for v in details[key]]
    for key in ("distance", "stability_note"):
        if details.get(key) is not None:
            out[key] = str(details[key])
    if details.get("stability") is not None:
        values = [None if v is None or not math.isfinite(float(v)) else round(float(v), 4) for v in details["stability"]]
        if len(values) != k:
            raise ValueError(f"details['stability'] has {len(values)} values for {k} segments.")
        out["stability"] = values
    return out


def _param(value: Any) -> Any:
    """A parameter as JSON: numbers, text, booleans, None and lists of them as they are."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, str, bool)) for v in value):
        return list(value)
    return str(value)


# --------------------------------------------------------------------------- computation


def _heatmap(
    frame: pd.DataFrame, prof: SegmentProfile, labels: IntArray, k: int
) -> tuple[list[str], FloatArray]:
    """The profile's standardised differences of each numeric column, and those of the
    indicators of each categorical column's most frequent categories (segments x columns)."""
    columns: list[str] = []
    blocks: list[FloatArray] = []
    segments = list(range(k))
    numeric: dict[Any, FloatArray] = {}
    for seg, col, d in zip(prof.numeric["segment"].tolist(), prof.numeric["column"].tolist(),
                           prof.numeric["std_diff"].tolist()):
        numeric.setdefault(col, np.full((k, 1), math.nan))[seg, 0] = d
    for col, kind in prof.kinds.items():
        if kind == "numeric":
            blocks.append(numeric.get(col, np.full((k, 1), math.nan)))
            columns.append(str(col))
        else:
            cats, matrix = category_differences(frame[col], labels, segments, HEATMAP_CATEGORIES)
            blocks.append(matrix)
            columns += [f"{col}={cat}" for cat in cats]
    matrix = np.concatenate(blocks, axis=1) if blocks else np.empty((k, 0))
    return columns, matrix


def _projection(features: FloatArray) -> Projection:
    """A seeded sample of at most SCATTER_MAX rows on the first two principal axes of all rows."""
    n, d = features.shape
    centered = features - features.mean(axis=0)
    # Principal axes from the d x d covariance: O(n d^2), fine for any n.
    cov = centered.T @ centered / max(n - 1, 1)
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[order], eigvec[:, order]
    axes = eigvec[:, :2]
    # Fix the sign of each axis (largest loading positive) so the picture is deterministic.
    for j in range(axes.shape[1]):
        if axes[np.argmax(np.abs(axes[:, j])), j] < 0:
            axes[:, j] = -axes[:, j]
    total = float(eigval.clip(min=0).sum())
    explained = [float(v) / total if total > 0 else 0.0 for v in eigval[:2].clip(min=0)]
    if n > SCATTER_MAX:
        index = np.sort(np.random.default_rng(SCATTER_SEED).choice(n, SCATTER_MAX, replace=False))
    else:
        index = np.arange(n)
    xy = centered[index] @ axes
    if xy.shape[1] < 2:  # one feature: a strip
        xy = np.column_stack([xy[:, 0], np.zeros(len(index))])
        explained.append(0.0)
    return Projection(index=index.astype(np.int64), xy=np.ascontiguousarray(xy), explained=explained)


def _node_profiles(Z: FloatArray, X: FloatArray, names: list[str]) -> dict[int, list[tuple[str, float]]]:
    """Top distinguishing features (the node's rows against the rest) of the last merges."""
    n, d = X.shape
    first = n - 1 - min(n - 1, NODE_PROFILES)
    # Sums of every node, bottom-up (children come before parents).
    sums = np.zeros((n - 1, d))
    counts = Z[:, 3]
    for i, pair in enumerate(_cut_order(Z).children.tolist()):
        for c in pair:
            sums[i] += X[c] if c < n else sums[c - n]
    total = X.sum(axis=0)
    spread = X.std(axis=0)  # of all rows, as the profiles use (an all-or-nothing feature is not lost)
    out: dict[int, list[tuple[str, float]]] = {}
    for i in range(first, n - 1):
        n_s = counts[i]
        n_r = n - n_s
        if n_r < 1:
            continue
        diff = standardized_difference(sums[i] / n_s, n_s, (total - sums[i]) / n_r, n_r, spread)
        top = np.argsort(-np.abs(diff), kind="mergesort")[:TOP_FEATURES]
        out[n + i] = [(names[j], float(diff[j])) for j in top if abs(diff[j]) > 1e-9]
    return out


def _top_features(prof: SegmentProfile, k: int) -> list[list[TopFeature]]:
    """The strongest distinguishing features of each segment (the table is sorted by segment,
    strongest first within one)."""
    out: list[list[TopFeature]] = [[] for _ in range(k)]
    dist = prof.distinguishing
    for seg, *values in zip(dist["segment"].tolist(), dist["description"].tolist(), dist["std_diff"].tolist(),
                            dist["lift"].tolist(), dist["share"].tolist(), dist["share_rest"].tolist()):
        if 0 <= seg < k and len(out[seg]) < TOP_FEATURES:
            out[seg].append(TopFeature(str(values[0]), *(_float(v) for v in values[1:])))
    return out


def segmentation_summary(
    Z: Any,
    features: Any,
    frame: pd.DataFrame | None = None,
    *,
    n_clusters: int,
    ks: Sequence[int] | None = None,
    feature_names: Sequence[Any] | None = None,
    names: Mapping[int, str] | None = None,
    evaluation: Evaluation | None = None,
    params: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    ids: Sequence[Any] | None = None,
    id_name: str | None = None,
) -> SegmentationSummary:
    """Compute every number a segmentation report shows, once.

    Parameters
    ----------
    Z : array-like of shape (n-1, 4)
        Linkage matrix of the n rows.
    features : array-like or DataFrame of shape (n, d)
        The numeric matrix ``Z`` was built from (for the PCA projection, the choose-k
        criteria and the hover profiles of the top merges).
    frame : DataFrame of n rows, optional
        The customer table, profiled in its own units. Default: the features.
    n_clusters : int
        The chosen number of segments (2..n).
    ks : sequence of int, optional
        Numbers of segments offered (each gets a profile; at most 40). Default
        ``2..min(12, n)``; ``n_clusters`` is always added.
    feature_names : sequence of str, optional
        Names of the feature columns (default: the DataFrame's columns, else x0, x1, ...).
    names : mapping, optional
        Segment label -> name for the chosen segments.
    evaluation : Evaluation, optional
        The choose-k criteria; by default :func:`hclust.evaluate` on ``ks`` without the
        gap statistic (silhouette on at most 4,000 rows).
    params : mapping, optional
        Data, method and parameter values to list (values kept as text, numbers, booleans).
    details : mapping, optional
        What a model says about itself (see :class:`SegmentationSummary`);
        :class:`~hclust.segment.SegmentationModel` passes it.
    ids : sequence of n values, optional
        The identifier of each row (e.g. the customer ID column).
    id_name : str, optional
        Header of the identifiers (default ``"row"``).

    Returns
    -------
    SegmentationSummary

    Raises
    ------
    ValueError
        ``features`` or ``frame`` rows differ from the leaves of ``Z``; ``n_clusters``
        outside 2..n; bad ``ks``; ``feature_names`` of the wrong length; names that are
        not segment labels; unknown ``details``.
    TypeError
        An argument of the wrong type.

    Notes
    -----
    The standardised differences of the heatmap are the profiles' ones
    (:func:`hclust.profile`): numeric columns as in the profile's ``numeric`` table,
    a category's 0/1 indicator as its ``distinguishing`` rows. The projection is
    deterministic (axes' signs fixed, a seeded sample above 5,000 rows).

    Examples
    --------
    >>> import numpy as np
    >>> from hclust import linkage, segmentation_summary
    >>> X = np.r_[np.zeros((5, 2)), np.full((5, 2), 4.0)] + np.arange(10)[:, None] * 0.01
    >>> summary = segmentation_summary(linkage(X, "ward"), X, n_clusters=2, ks=[2, 3])
    >>> summary.chosen.names, summary.chosen.sizes
    (['Low x0, Low x1', 'High x0, High x1'], [5, 5])
    >>> summary.chosen.heatmap.round(2).tolist()
    [[-2.0, -2.0], [2.0, 2.0]]
    """
    return _summarize(
        Z, features, frame, n_clusters=n_clusters, ks=ks, feature_names=feature_names, names=names,
        evaluation=evaluation, params=params, details=details, ids=ids, id_name=id_name,
    )


def _summarize(
    Z: Any,
    features: Any,
    frame: pd.DataFrame | None,
    *,
    n_clusters: Any,
    ks: Any,
    feature_names: Sequence[Any] | None,
    names: Mapping[int, str] | None,
    evaluation: Evaluation | None,
    params: Mapping[str, Any] | None,
    details: Mapping[str, Any] | None,
    ids: Sequence[Any] | None,
    id_name: str | None,
    k_name: str = "n_clusters",
) -> SegmentationSummary:
    """:func:`segmentation_summary`; ``k_name`` names the number of segments in messages."""
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    columns = [str(c) for c in features.columns] if isinstance(features, pd.DataFrame) else None
    X = as_observations(features, "features", min_samples=2)
    if X.shape[0] != n:
        raise ValueError(f"features has {X.shape[0]} rows but Z has {n} leaves; pass the matrix Z was built from.")
    d = X.shape[1]
    if feature_names is None:
        names_list = columns if columns is not None else [f"x{j}" for j in range(d)]
    else:
        names_list = [str(v) for v in feature_names]
        if len(names_list) != d:
            raise ValueError(f"feature_names has {len(names_list)} entries but features has {d} columns.")
    if frame is not None:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"frame must be a pandas DataFrame (the customer table); got {type(frame).__name__}.")
        if len(frame) != n:
            raise ValueError(f"frame has {len(frame)} rows but Z has {n} leaves; pass the table that was clustered.")
    if not is_integer(n_clusters) or not 2 <= int(n_clusters) <= n:
        raise ValueError(f"{k_name} must be an integer between 2 and {n} (the number of rows); got {n_clusters!r}.")
    k = int(n_clusters)
    ks_list = _check_ks(ks, k, n)
    user_names = _check_names(names)
    if evaluation is not None and not isinstance(evaluation, Evaluation):
        raise TypeError(f"evaluation must be an hclust.select.Evaluation; got {type(evaluation).__name__}.")
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of name -> value; got {type(params).__name__}.")
    details_dict = _check_details(details, k)
    id_values = _check_ids(ids, n)
    if id_name is not None and not isinstance(id_name, str):
        raise TypeError(f"id_name must be a string; got {type(id_name).__name__}.")

    table = frame.reset_index(drop=True) if frame is not None else pd.DataFrame(X, columns=names_list)
    schema = infer_schema(table)  # once for every cut (its notes are given once)
    order = _cut_order(Z)
    cuts: dict[int, CutSummary] = {}
    heatmap_columns: list[str] = []
    profiled: list[str] = []
    for kk in ks_list:
        labels, _ = order.labels(kk)
        prof = profile(table, labels, schema=schema, names=user_names if kk == k else None)
        heatmap_columns, heatmap = _heatmap(table, prof, labels, kk)
        sizes = prof.sizes[prof.sizes["segment"] >= 0].set_index("segment")
        cuts[kk] = CutSummary(
            n_clusters=kk,
            roots=order.roots(kk),
            cut_height=order.height_between(kk),
            names=[prof.names[s] for s in range(kk)],
            sizes=[int(sizes.loc[s, "size"]) for s in range(kk)],
            shares=[float(sizes.loc[s, "share"]) for s in range(kk)],
            top_features=_top_features(prof, kk),
            heatmap=heatmap,
        )
        if kk == k:
            profiled = [str(c) for c in prof.kinds]
    if evaluation is None:
        evaluation = evaluate(Z, X, ks=ks_list, criteria=CHEAP_CRITERIA, sample_size=min(n, SILHOUETTE_SAMPLE))
    return SegmentationSummary(
        Z=Z,
        n_clusters=k,
        ks=ks_list,
        cuts=cuts,
        feature_names=names_list,
        profiled_columns=profiled,
        frame_given=frame is not None,
        heatmap_columns=heatmap_columns,
        projection=_projection(X),
        node_profiles=_node_profiles(Z, X, names_list),
        evaluation=evaluation,
        params={str(key): _param(value) for key, value in (params or {}).items()},
        details=details_dict,
        ids=id_values,
        id_name=id_name if id_name else "row",
    )
