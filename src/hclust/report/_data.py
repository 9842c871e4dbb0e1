"""The plain data a report shows: validated inputs, per-k profiles, projection, choose-k scores.

Everything here is computed once in Python and handed to the HTML page (as JSON) and to
the static matplotlib charts, so both show the same numbers and the same colours.
"""

from __future__ import annotations

import base64
import gzip
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from .._kernels import tree as _k
from .._validation import as_observations
from ..layout import PALETTE_10, PALETTE_20, segment_colors
from ..segment.profile import SegmentProfile, profile
from ..select import Evaluation, evaluate
from ..tree import _children, check_linkage

__all__ = ["ReportData", "prepare_report_data", "PALETTE_10", "PALETTE_20", "segment_colors"]

#: Points drawn in the PCA scatter at most (a seeded sample above this).
SCATTER_MAX = 5_000
#: Seed of the scatter sample.
SCATTER_SEED = 0
#: Most k values a report offers (each gets a precomputed profile).
MAX_KS = 40
#: Categories per categorical column shown in the heatmap (the most frequent overall).
HEATMAP_CATEGORIES = 5
#: Internal nodes (the last merges) that get their own hover profile.
NODE_PROFILES = 600
#: Rows used for the silhouette when the report computes the choose-k scores itself.
SILHOUETTE_SAMPLE = 4_000
#: Scores computed when no evaluation is passed (no gap: it re-clusters n rows 10 times).
CHEAP_METRICS = ("wss", "silhouette", "calinski_harabasz", "davies_bouldin", "height_jump")


@dataclass
class ReportData:
    """Validated report inputs and everything derived from them.

    Attributes
    ----------
    Z : ndarray (n-1, 4)
    features : ndarray (n, d)
    feature_names : list of str
    frame : DataFrame
        The table profiled (the original one, or ``features`` as a table).
    k : int
        Initially selected number of segments.
    ks : list of int
        Numbers of segments offered, ascending; contains ``k``.
    labels : dict
        k -> cut labels (n,).
    profiles : dict
        k -> :class:`~hclust.segment.profile.SegmentProfile`.
    evaluation : Evaluation
    params : dict
    title : str
    details : dict
        What a model says about itself beyond the tree (see :func:`prepare_report_data`).
    """

    Z: np.ndarray
    features: np.ndarray
    feature_names: list[str]
    frame: pd.DataFrame
    k: int
    ks: list[int]
    labels: dict[int, np.ndarray]
    roots: dict[int, list[int]]
    cut_heights: dict[int, float | None]
    profiles: dict[int, SegmentProfile]
    evaluation: Evaluation
    params: dict[str, Any]
    title: str
    frame_given: bool
    ids: list[Any] | None = None
    id_name: str = "row"
    heatmap_columns: list[str] = field(default_factory=list)
    heatmap: dict[int, np.ndarray] = field(default_factory=dict)
    scatter_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    scatter_xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    explained: list[float] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.Z.shape[0] + 1)


# --------------------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


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
        bad = [v for v in values if not _is_int(v) or not 2 <= int(v) <= n]
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
    return {int(key) if _is_int(key) else key: value for key, value in names.items()}


_DETAIL_LISTS = ("clustering_features", "preparation", "choice_of_k", "assignment")


def _check_details(details: Mapping[str, Any] | None, k: int) -> dict[str, Any]:
    """Plain JSON for the page: lists of text, the distance, per-segment stability of ``k``."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise TypeError(f"details must be a mapping; got {type(details).__name__}.")
    unknown = sorted(set(details) - {*_DETAIL_LISTS, "distance", "stability", "stability_note"})
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


def _cut_nodes(children: np.ndarray, rank: np.ndarray, n: int, k: int) -> tuple[np.ndarray, list[int]]:
    """Cut labels for k clusters and the node heading each segment (by label)."""
    removed = rank < k - 1
    labels, node_label = _k.labels_from_removed(children, removed, n)
    roots = [-1] * k
    for node in np.flatnonzero(node_label >= 0)[::-1].tolist():
        # Parents have larger ids than their children, so scanning ids downwards meets
        # each segment's top node first.
        label = int(node_label[node])
        if roots[label] < 0:
            roots[label] = int(node)
    return labels, roots


def _heatmap(frame: pd.DataFrame, kinds: Mapping[Any, str], labels_by_k: Mapping[int, np.ndarray]) -> tuple[list[str], dict[int, np.ndarray]]:
    """Standardised differences (segment mean - mean of the rest, over the standard deviation of
    all rows, as :func:`hclust.profile` computes them) of each numeric column and of indicators of
    the most frequent categories of each categorical column."""
    columns: list[str] = []
    values: list[np.ndarray] = []
    for col, kind in kinds.items():
        series = frame[col]
        if kind == "numeric":
            x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            columns.append(str(col))
            values.append(x)
        else:
            present = series.dropna()
            counts = present.astype(str).value_counts()
            order = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:HEATMAP_CATEGORIES]
            text = series.astype(str).to_numpy()
            missing = series.isna().to_numpy()
            for cat, _ in order:
                x = (text == cat).astype(np.float64)
                x[missing] = np.nan
                columns.append(f"{col}={cat}")
                values.append(x)
    out: dict[int, np.ndarray] = {}
    for k, labels in labels_by_k.items():
        matrix = np.full((k, len(values)), np.nan)
        for j, x in enumerate(values):
            keep = ~np.isnan(x)
            spread = float(x[keep].std()) if keep.any() else 0.0
            for s in range(k):
                inside = keep & (labels == s)
                rest = keep & (labels != s)
                n_s, n_r = int(inside.sum()), int(rest.sum())
                if n_s == 0 or n_r == 0:
                    continue
                ms, mr = float(x[inside].mean()), float(x[rest].mean())
                matrix[s, j] = 0.0 if spread == 0.0 else (ms - mr) / spread
        out[k] = matrix
    return columns, out


def _pca(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """A seeded sample of at most SCATTER_MAX rows, projected on the first two principal axes
    of all rows."""
    n, d = features.shape
    mean = features.mean(axis=0)
    centered = features - mean
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
    return index.astype(np.int64), xy, explained


def prepare_report_data(
    *,
    Z: Any,
    features: Any,
    frame: pd.DataFrame | None = None,
    k: Any,
    ks: Any = None,
    feature_names: Sequence[Any] | None = None,
    names: Mapping[int, str] | None = None,
    evaluation: Evaluation | None = None,
    params: Mapping[str, Any] | None = None,
    title: str = "Segmentation report",
    details: Mapping[str, Any] | None = None,
    ids: Sequence[Any] | None = None,
    id_name: str | None = None,
) -> ReportData:
    """Validate the report inputs and compute what the report shows.

    ``details`` (from :class:`hclust.SegmentationModel`) says what the model is beyond the
    tree: ``clustering_features`` (the features or Gower columns the distances use),
    ``distance``, ``preparation`` and ``choice_of_k`` (lines of text), ``stability``
    (per segment of ``k``), ``stability_note`` and ``assignment`` (lines). Every key is
    optional; the page shows what is given.

    Raises
    ------
    ValueError
        ``features`` rows differ from the leaves of ``Z``, ``frame`` rows likewise,
        ``k`` outside 2..n, bad ``ks``, ``feature_names`` of the wrong length.
    TypeError
        Wrong types (``frame`` not a DataFrame, ``evaluation`` not an Evaluation, ...).
    """
    Z = check_linkage(Z)
    n = Z.shape[0] + 1
    columns = [str(c) for c in features.columns] if isinstance(features, pd.DataFrame) else None
    X = as_observations(features, "features", min_samples=2)
    if X.shape[0] != n:
        raise ValueError(
            f"features has {X.shape[0]} rows but Z has {n} leaves; pass the matrix Z was built from."
        )
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
    if not _is_int(k) or not 2 <= int(k) <= n:
        raise ValueError(f"k must be an integer between 2 and {n} (the number of rows); got {k!r}.")
    k = int(k)
    ks_list = _check_ks(ks, k, n)
    user_names = _check_names(names)
    if evaluation is not None and not isinstance(evaluation, Evaluation):
        raise TypeError(f"evaluation must be an hclust.select.Evaluation; got {type(evaluation).__name__}.")
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of name -> value; got {type(params).__name__}.")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string; got {type(title).__name__}.")
    details_dict = _check_details(details, k)
    id_values = _check_ids(ids, n)
    if id_name is not None and not isinstance(id_name, str):
        raise TypeError(f"id_name must be a string; got {type(id_name).__name__}.")

    table = frame.reset_index(drop=True) if frame is not None else pd.DataFrame(X, columns=names_list)
    children = _children(Z)
    rank, maxdist = _k.cut_removal_rank(children, np.ascontiguousarray(Z[:, 2]), n)
    labels: dict[int, np.ndarray] = {}
    roots: dict[int, list[int]] = {}
    cut_heights: dict[int, float | None] = {}
    profiles: dict[int, SegmentProfile] = {}
    for kk in ks_list:
        labels[kk], roots[kk] = _cut_nodes(children, rank, n, kk)
        removed = rank < kk - 1
        kept = maxdist[~removed]
        cut_heights[kk] = 0.5 * (float(maxdist[removed].min()) + (float(kept.max()) if kept.size else 0.0))
        profiles[kk] = profile(table, labels[kk], names=user_names if kk == k else None)
    if evaluation is None:
        evaluation = evaluate(
            Z, X, ks=ks_list, metrics=CHEAP_METRICS, sample_size=min(n, SILHOUETTE_SAMPLE)
        )
    data = ReportData(
        Z=Z, features=X, feature_names=names_list, frame=table, k=k, ks=ks_list, labels=labels,
        roots=roots, cut_heights=cut_heights, profiles=profiles, evaluation=evaluation,
        params=dict(params or {}), title=title, frame_given=frame is not None, details=details_dict,
        ids=id_values, id_name=id_name if id_name else "row",
    )
    data.heatmap_columns, data.heatmap = _heatmap(table, profiles[k].kinds, labels)
    data.scatter_index, data.scatter_xy, data.explained = _pca(X)
    return data


# --------------------------------------------------------------------------- JSON payload


def _b64(array: np.ndarray) -> str:
    """Little-endian bytes, gzip-compressed (fixed mtime: deterministic), base64."""
    raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return base64.b64encode(gzip.compress(raw, 6, mtime=0)).decode("ascii")


def _b64_json(values: Any) -> str:
    """A JSON value, gzip-compressed (fixed mtime: deterministic), base64."""
    import json

    raw = json.dumps(values, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, 6, mtime=0)).decode("ascii")


def _num(value: Any) -> float | None:
    number = float(value)
    return None if not math.isfinite(number) else round(number, 6)


def _node_profiles(data: ReportData) -> dict[str, list[list[Any]]]:
    """Top distinguishing features (prepared features, node vs the rest) of the last merges."""
    Z, X = data.Z, data.features
    n, d = X.shape
    m = min(n - 1, NODE_PROFILES)
    first = n - 1 - m
    # Sums of every node, bottom-up (children come before parents).
    sums = np.zeros((n - 1, d))
    counts = Z[:, 3]
    children = _children(Z)
    for i in range(n - 1):
        for c in children[i]:
            if c < n:
                sums[i] += X[c]
            else:
                sums[i] += sums[c - n]
    total = X.sum(axis=0)
    spread = X.std(axis=0)
    out: dict[str, list[list[Any]]] = {}
    for i in range(first, n - 1):
        n_s = counts[i]
        n_r = n - n_s
        if n_r < 1:
            continue
        mean_s = sums[i] / n_s
        mean_r = (total - sums[i]) / n_r
        # the spread of all rows, as the profiles use (an all-or-nothing feature is not lost)
        diff = np.where(spread > 0, (mean_s - mean_r) / np.where(spread > 0, spread, 1.0), 0.0)
        top = np.argsort(-np.abs(diff), kind="mergesort")[:3]
        out[str(n + i)] = [[data.feature_names[j], round(float(diff[j]), 3)] for j in top if abs(diff[j]) > 1e-9]
    return out


def _segments_payload(data: ReportData, kk: int) -> dict[str, Any]:
    prof = data.profiles[kk]
    sizes = prof.sizes[prof.sizes["segment"] >= 0].set_index("segment")
    dist = prof.distinguishing
    top = []
    for seg in range(kk):
        rows = dist[dist["segment"] == seg].head(3)
        shares = rows["share"] if "share" in rows else [math.nan] * len(rows)
        rests = rows["share_rest"] if "share_rest" in rows else [math.nan] * len(rows)
        top.append([[str(desc), _num(s) if s == s else None, _num(l) if l == l else None,
                     _num(a) if a == a else None, _num(b) if b == b else None]
                    for desc, s, l, a, b in zip(rows["description"], rows["std_diff"], rows["lift"], shares, rests)])
    return {
        "k": kk,
        "roots": data.roots[kk],
        "cut_height": data.cut_heights[kk],
        "names": [prof.names[s] for s in range(kk)],
        "sizes": [int(sizes.loc[s, "size"]) for s in range(kk)],
        "shares": [round(float(sizes.loc[s, "share"]), 6) for s in range(kk)],
        "top": top,
        "heatmap": [[_num(v) for v in row] for row in data.heatmap[kk]],
    }


def _param(value: Any) -> Any:
    """A parameter as JSON: numbers, text, booleans, None and lists of them as they are."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, str, bool)) for v in value):
        return list(value)
    return str(value)


def report_payload(data: ReportData) -> dict[str, Any]:
    """The JSON the page reads: tree arrays (gzip+base64), segments per k, charts, summary."""
    Z = data.Z
    n = data.n
    evaluation = data.evaluation.to_dict()
    # to_dict turns NaN into None but keeps infinities (e.g. a height ratio over a zero height)
    evaluation["table"] = [
        {key: (None if isinstance(value, float) and not math.isfinite(value) else value) for key, value in row.items()}
        for row in evaluation["table"]
    ]
    params = {str(key): _param(value) for key, value in data.params.items()}
    return {
        "version": __version__,
        "title": data.title,
        "n": n,
        "d": int(data.features.shape[1]),
        "feature_names": data.feature_names,
        "profiled_columns": [str(c) for c in data.profiles[data.k].kinds],
        "frame_given": data.frame_given,
        "children": _b64(Z[:, :2].astype(np.int32)),
        "heights": _b64(Z[:, 2].astype(np.float64)),
        "k": data.k,
        "ks": data.ks,
        "palette10": list(PALETTE_10),
        "palette20": list(PALETTE_20),
        "segments": {str(kk): _segments_payload(data, kk) for kk in data.ks},
        "heatmap_columns": data.heatmap_columns,
        "scatter": {
            "index": _b64(data.scatter_index.astype(np.int32)),
            "xy": _b64(data.scatter_xy.astype(np.float32)),
            "count": int(len(data.scatter_index)),
            "sampled": bool(len(data.scatter_index) < n),
            "seed": SCATTER_SEED,
            "explained": [round(v, 4) for v in data.explained],
        },
        "ids": None if data.ids is None else _b64_json(data.ids),
        "id_name": data.id_name,
        "node_profiles": _node_profiles(data),
        "evaluation": evaluation,
        "params": params,
        "details": data.details,
    }
