"""The page's JSON, made from a :class:`~hclust.segment.SegmentationSummary` (no statistics here).

The numbers come from the segment layer (:mod:`hclust.segment._summary`); this module only
lays them out for ``assets/report.js``: the tree as gzip-compressed base64 typed arrays,
rounded values, text keys. It also turns the keyword arguments of hclust 0.1's report
functions into a summary, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import warnings
from typing import Any, Mapping

import numpy as np

from .._version import __version__
from ..layout import PALETTE_10, PALETTE_20, segment_colors
from ..segment._summary import SCATTER_MAX, SCATTER_SEED, CutSummary, SegmentationSummary, _summarize

__all__ = [
    "LEGACY_KEYWORDS", "PALETTE_10", "PALETTE_20", "SCATTER_MAX", "SCATTER_SEED", "as_summary", "report_payload",
    "segment_colors",
]

#: The keyword arguments of the 0.1 report functions that described the data (now a summary's).
LEGACY_KEYWORDS = ("Z", "features", "frame", "k", "ks", "feature_names", "names", "evaluation", "params", "details",
                   "ids", "id_name")


def as_summary(function: str, summary: Any, legacy: Mapping[str, Any], accepted: tuple[str, ...]) -> SegmentationSummary:
    """The summary a report function renders: ``summary``, or one made from the deprecated
    keywords (``Z=, features=, k=, ...``) with a DeprecationWarning pointing at the caller."""
    unknown = sorted(set(legacy) - set(accepted))
    if unknown:
        raise TypeError(f"{function}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}.")
    if summary is not None:
        if legacy:
            raise TypeError(
                f"{function}() takes a summary or the deprecated keywords ({', '.join(sorted(legacy))}), not both."
            )
        if not isinstance(summary, SegmentationSummary):
            raise TypeError(
                f"{function}() renders a hclust.SegmentationSummary (from hclust.segmentation_summary(Z, features, "
                f"frame, n_clusters=...) or model.segmentation_summary()); got {type(summary).__name__}."
            )
        return summary
    if not legacy:
        raise TypeError(
            f"{function}() needs a hclust.SegmentationSummary: hclust.segmentation_summary(Z, features, frame, "
            "n_clusters=...) or model.segmentation_summary()."
        )
    missing = [name for name in ("Z", "features", "k") if name not in legacy]
    if missing:
        raise TypeError(f"{function}() is missing the keyword argument(s) {', '.join(map(repr, missing))}.")
    warnings.warn(
        f"{function}(Z=..., features=..., k=..., ...) is deprecated and will be removed in hclust 0.3: pass a "
        "summary instead, hclust.segmentation_summary(Z, features, frame, n_clusters=k, ...) (the other keywords "
        "keep their names), or model.segmentation_summary().",
        DeprecationWarning,
        stacklevel=3,
    )
    return _summarize(
        legacy["Z"], legacy["features"], legacy.get("frame"), n_clusters=legacy["k"], ks=legacy.get("ks"),
        feature_names=legacy.get("feature_names"), names=legacy.get("names"), evaluation=legacy.get("evaluation"),
        params=legacy.get("params"), details=legacy.get("details"), ids=legacy.get("ids"),
        id_name=legacy.get("id_name"), k_name="k",
    )


def _b64(array: np.ndarray) -> str:
    """Little-endian bytes, gzip-compressed (fixed mtime: deterministic), base64."""
    raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return base64.b64encode(gzip.compress(raw, 6, mtime=0)).decode("ascii")


def _b64_json(values: Any) -> str:
    """A JSON value, gzip-compressed (fixed mtime: deterministic), base64."""
    raw = json.dumps(values, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, 6, mtime=0)).decode("ascii")


def _num(value: Any) -> float | None:
    number = float(value)
    return None if not math.isfinite(number) else round(number, 6)


def _segments_payload(one: CutSummary) -> dict[str, Any]:
    return {
        "k": one.n_clusters,
        "roots": list(one.roots),
        "cut_height": one.cut_height,
        "names": list(one.names),
        "sizes": list(one.sizes),
        "shares": [round(v, 6) for v in one.shares],
        "top": [[[f.description, _num(f.std_diff), _num(f.lift), _num(f.share), _num(f.share_rest)] for f in seg]
                for seg in one.top_features],
        "heatmap": [[_num(v) for v in row] for row in one.heatmap.tolist()],
    }


def report_payload(summary: SegmentationSummary, *, title: str) -> dict[str, Any]:
    """The JSON the page reads: tree arrays (gzip+base64), segments per k, charts, summary."""
    Z = summary.Z
    n = summary.n
    evaluation = summary.evaluation.to_dict()  # NaN and infinities are None there
    projection = summary.projection
    return {
        "version": __version__,
        "title": title,
        "n": n,
        "d": len(summary.feature_names),
        "feature_names": list(summary.feature_names),
        "profiled_columns": list(summary.profiled_columns),
        "frame_given": summary.frame_given,
        "children": _b64(Z[:, :2].astype(np.int32)),  # the page's typed array: int32, not the kernels' int64
        "heights": _b64(Z[:, 2].astype(np.float64)),
        "k": summary.n_clusters,
        "ks": list(summary.ks),
        "palette10": list(PALETTE_10),
        "palette20": list(PALETTE_20),
        "segments": {str(k): _segments_payload(summary.cuts[k]) for k in summary.ks},
        "heatmap_columns": list(summary.heatmap_columns),
        "scatter": {
            "index": _b64(projection.index.astype(np.int32)),
            "xy": _b64(projection.xy.astype(np.float32)),
            "count": int(len(projection.index)),
            "sampled": bool(len(projection.index) < n),
            "seed": projection.seed,
            "explained": [round(v, 4) for v in projection.explained],
        },
        "ids": None if summary.ids is None else _b64_json(summary.ids),
        "id_name": summary.id_name,
        "node_profiles": {str(node): [[name, round(d, 3)] for name, d in top]
                          for node, top in summary.node_profiles.items()},
        "evaluation": evaluation,
        "params": dict(summary.params),
        "details": dict(summary.details),
    }

