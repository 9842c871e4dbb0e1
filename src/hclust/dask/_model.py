"""SegmentationModel.fit on a Dask DataFrame: the preparation fitted from statistics the
workers compute, the prepared rows summarised into micro-clusters, the model built on them."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from .._typing import FloatArray, IntArray
from ._common import CONNECT_TIMEOUT, gather_tracked, partition_lengths, resolve_client

if TYPE_CHECKING:  # pragma: no cover
    from ..segment.model import SegmentationModel
    from ..segment.prepare import Preparer

#: Rows of the table (a seeded uniform sample above this) on which the column kinds are
#: inferred and the segments are profiled in the table's own units.
SAMPLE_ROWS = 100_000
#: Points of each partition's quantile sketch (medians, quartiles): every 0.1 percentile.
QUANTILE_POINTS = 1001
_GRID = np.linspace(0.0, 100.0, QUANTILE_POINTS)
_NUMERIC_KINDS = ("numeric", "date", "ordinal")


class _Stages:
    """One progress bar over the fit's passes: ``progress(done, total)`` with a growing ``done``."""

    def __init__(self, progress: Callable[[int, int], None] | None, n_parts: int, n_passes: int) -> None:
        self.progress = progress
        self.done = 0
        self.total = n_parts * n_passes

    def run(self, client: Any, tasks: list[Any]) -> list[Any]:
        self.total = max(self.total, self.done + len(tasks))
        out = gather_tracked(client, tasks, self.progress, self.done, self.total)
        self.done += len(tasks)
        return out

    def tick(self, done: int, total: int) -> None:  # summarize's own callback, on this bar
        if self.progress is not None:
            self.progress(min(self.total, self.done + done), self.total)

    def finish(self, n: int) -> None:
        self.done += n


# ----------------------------------------------------------------------------- the fit


def fit_dask(model: SegmentationModel, frame: Any, *, client: Any, progress: Any, method: str,
             timeout: float = CONNECT_TIMEOUT) -> SegmentationModel:
    """SegmentationModel.fit of a dask DataFrame (see there): the summary tier."""
    from dask.delayed import delayed

    from ..segment.model import _check_k, _no_k_message, _preparer_params
    from ..segment.prepare import Preparer
    from ..segment._profile import profile
    from ..summary import SUMMARY_METHODS
    from ..tree import cut
    from ._summary import summarize

    if method not in SUMMARY_METHODS:
        raise ValueError(
            f"method={method!r} is not available for a dask DataFrame (the summary tier); choose one of "
            f"{', '.join(SUMMARY_METHODS)}."
        )
    if model.metric != "euclidean":
        raise ValueError(
            f"metric={model.metric!r} is not available for a dask DataFrame: the summary tier clusters "
            "micro-clusters of prepared features with Euclidean distances."
        )
    if model.weight_column is not None:
        raise ValueError("weight_column is not available for a dask DataFrame (the summary tier counts rows).")
    n_micro = getattr(model, "n_micro", None)
    if n_micro is not None and (isinstance(n_micro, bool) or not isinstance(n_micro, (int, np.integer))
                                or n_micro < 1):
        raise ValueError(f"n_micro must be a positive integer; got {n_micro!r}.")
    used, left_out = _select(model, frame)
    base = model.preparer if model.preparer is not None else Preparer()
    if not isinstance(base, Preparer):
        raise TypeError(f"preparer must be a hclust.segment.Preparer; got {type(base).__name__}.")
    client, owned = resolve_client(client, timeout)
    try:
        used = used.optimize()  # the partitions every later task sees
        parts = list(used.to_delayed())
        stages = _Stages(progress, len(parts), 9)  # 7 passes of tasks, and summarize (2)
        lengths = stages.run(client, [delayed(len)(p) for p in parts])
        n = int(sum(lengths))
        if n < 2:
            raise ValueError(f"need at least 2 customers to segment; the table has {n}.")
        rate = min(1.0, SAMPLE_ROWS / n)
        sample = pd.concat(stages.run(client, [delayed(_sample)(p, rate, i) for i, p in enumerate(parts)]))
        prep = Preparer(**_preparer_params(base))
        if base.schema is not None:
            prep.schema = base.schema
        fit_preparer(prep, parts, sample, n, client, stages)
        kept = [int(k) for k in stages.run(client, [delayed(_kept_rows)(p, prep) for p in parts])]
        features = _prepared_array(parts, prep, kept)
        summary = summarize(features, n_micro=None if n_micro is None else int(n_micro), method=method,
                            client=client, progress=stages.tick)
        stages.finish(len(parts) * 2)
        m = summary.n_micro
        if m < 2:
            raise ValueError(f"the summary has {m} micro-cluster; at least 2 are needed to segment (raise n_micro).")

        record = prep.record(excluded=left_out)
        d = len(prep.feature_names_out_)
        record = dataclasses.replace(
            record,
            rows_used=int(sum(kept)),
            distance=(f"Euclidean distances of the {d} prepared feature{'s' if d != 1 else ''} between "
                      f"{m:,} micro-clusters"),
            notes=[*record.notes, _summary_note(summary, int(sum(kept)))],
        )
        model.gower_ = None
        model.preparer_ = prep
        model.preparation_ = record
        model.feature_names_ = list(prep.feature_names_out_)
        model.row_index_ = pd.RangeIndex(m)
        model.n_micro_ = int(m)
        model.columns_ = list(used.columns)
        model.features_ = np.ascontiguousarray(summary.means, dtype=np.float64)
        model.weights_ = np.ascontiguousarray(summary.counts, dtype=np.float64)
        model.within_ss_ = np.ascontiguousarray(summary.ssd, dtype=np.float64)
        model.linkage_matrix_ = summary.Z
        model.evaluation_ = None
        if model.n_clusters is not None:
            labels = cut(summary.Z, n_clusters=_check_k(model.n_clusters, m))
        elif model.height is not None:
            labels = cut(summary.Z, height=model.height)
        else:
            model.evaluation_ = model._evaluate(model.ks)
            k = model.evaluation_.recommended_k
            if k is None:
                raise ValueError(_no_k_message(model.evaluation_, method, record.distance, float(sum(kept))))
            labels = cut(summary.Z, n_clusters=k)
        model._set_estimator(method, "euclidean", model.features_, labels)
        segments = np.asarray(model.labels_, dtype=np.int64)

        # every row's segment, lazily (-1: a row the preparation dropped), and a sample to profile
        lazy: Any = summary.labels_  # a dask array here
        micro = lazy.to_delayed().ravel().tolist()
        pieces = [delayed(_row_segments)(p, prep, b, segments) for p, b in zip(parts, micro)]
        import dask.array

        da: Any = dask.array  # (untyped)

        model.row_labels_ = da.concatenate(
            [da.from_delayed(piece, shape=(int(rows),), dtype=np.int64) for piece, rows in zip(pieces, lengths)]
        ).rechunk((tuple(lengths),))
        model.summary_ = summary
        rows = stages.run(client, [delayed(_sample_segments)(p, prep, b, segments, rate, i)
                                   for i, (p, b) in enumerate(zip(parts, micro))])
        table = pd.concat([r[0] for r in rows])
        profile_labels = np.concatenate([r[1] for r in rows])
        prof = profile(table, profile_labels, schema=prep.schema_, names=model.names)
        model.profile_ = _exact_sizes(prof, segments, model.weights_)
        model.names_ = dict(model.profile_.names)
        model._training = None
        model._training_ids = None
        model.id_column_ = None
        model._reset_caches()
        model.stability_ = model._stability(method, model.features_, None) if model.n_boot else None
        model.assign_check_ = None
        model._summary = None  # the report's numbers: computed when asked for (segmentation_summary)
        return model
    finally:
        if owned:
            client.close()


def _select(model: SegmentationModel, frame: Any) -> tuple[Any, dict[str, str]]:
    """The dask frame's columns to segment on and the columns left out -> why (as ``_select``)."""
    available = list(frame.columns)
    for name, group in (("columns", model.columns), ("exclude", model.exclude)):
        if group is None:
            continue
        if isinstance(group, (str, bytes)):
            raise TypeError(f"{name} must be a list of column names, not a string; got {group!r}.")
        unknown = [c for c in group if c not in available]
        if unknown:
            raise ValueError(f"{name} names unknown column(s) {unknown}; the table has {available}.")
    chosen = list(model.columns) if model.columns is not None else available
    skip = set(model.exclude or ())
    left_out = {str(c): "excluded by you" if c in skip else "not in columns" for c in available
                if c in skip or c not in chosen}
    chosen = [c for c in chosen if c not in skip]
    if not chosen:
        raise ValueError("no columns left to segment on after columns/exclude.")
    return frame[chosen], left_out


def _summary_note(summary: Any, rows: int) -> str:
    q = summary.quality
    return (f"Built from {summary.n_micro:,} micro-clusters summarising {rows:,} customers (the summary tier, "
            f"hclust.dask.summarize): {q.within_share:.1%} of the variance is within micro-clusters; the tree, "
            "k and the stability are computed on the micro-clusters weighted by their customers.")


def _prepared_array(parts: list[Any], prep: Preparer, kept: list[int]) -> Any:
    """The prepared features as a dask array, one block per partition (rows the preparation keeps)."""
    import dask.array
    from dask.delayed import delayed

    da: Any = dask.array  # (untyped)

    d = len(prep.feature_names_out_)
    return da.concatenate([da.from_delayed(delayed(_features)(p, prep), shape=(k, d), dtype=np.float64)
                           for p, k in zip(parts, kept)]).rechunk((tuple(kept), d))


def _exact_sizes(prof: Any, segments: IntArray, counts: FloatArray) -> Any:
    """The profile with the segments' exact sizes and shares (the micro-clusters' counts)."""
    sizes = np.bincount(segments, weights=counts, minlength=int(segments.max()) + 1)
    table = prof.sizes.copy()
    keep = table["segment"] >= 0
    table.loc[keep, "size"] = [int(round(sizes[s])) for s in table.loc[keep, "segment"]]
    table["share"] = table["size"] / float(sizes.sum())
    return dataclasses.replace(prof, sizes=table.reset_index(drop=True))


# ----------------------------------------------------------------------------- the preparation


def fit_preparer(prep: Preparer, parts: list[Any], sample: pd.DataFrame, n: int, client: Any,
                 stages: _Stages) -> Preparer:
    """Fit ``prep`` (unfitted) on the partitions ``parts`` of a dask DataFrame.

    Every statistic is computed by the workers: column kinds inferred on
    ``sample`` (all rows up to :data:`SAMPLE_ROWS`), categorical levels and
    date references over every row, missing counts, means, standard
    deviations, skewness, minima and maxima exactly (up to summation
    order); medians and quartiles from per-partition quantile sketches
    (:func:`merged_quantiles`: exact with one partition, approximate
    otherwise).
    """
    from dask.delayed import delayed

    from ..segment.prepare import PreparerWarning
    from .._column_kinds import _plain

    if prep.impute is not None:
        from .._validation import check_option
        from ..segment.prepare import _IMPUTE

        check_option(prep.impute, "impute", _IMPUTE)
    if prep.scale is not None:
        from .._validation import check_option
        from ..segment.prepare import _SCALE

        check_option(prep.scale, "scale", _SCALE)
    schema = prep._schema_for(sample)
    used = schema.used
    if not used:
        raise ValueError(
            f"no usable columns: every column is excluded ({schema.kinds}). Override the schema "
            "(infer_schema(df, overrides={...})) to keep some."
        )
    log1p_cols = prep._check_log1p(schema)
    plan = [(col, schema.kinds[col], list(schema.levels.get(col, [])) or None) for col in used]

    # 1. levels, date references, text in numeric columns
    found = stages.run(client, [delayed(_levels)(p, plan) for p in parts])
    specs: list[dict[str, Any]] = []
    for j, (col, kind, given) in enumerate(plan):
        spec: dict[str, Any] = {"name": _plain(col), "kind": kind}
        pieces = [f[j] for f in found]
        if kind == "numeric":
            junk = sum(p["junk"] for p in pieces)
            if junk:
                examples = [e for p in pieces for e in p["examples"]][:5]
                warnings.warn(
                    f"column {col!r} is numeric but holds text that is not a number (e.g. {examples}); "
                    f"{junk} such values were treated as missing.", PreparerWarning, stacklevel=4)
        elif kind == "date":
            junk = sum(p["junk"] for p in pieces)
            if junk:
                warnings.warn(f"column {col!r} has {junk} values that are not dates; treated as missing.",
                              PreparerWarning, stacklevel=4)
            tops = [p["max"] for p in pieces if p["max"] is not None]
            spec["reference"] = max(tops).isoformat() if tops else None
        elif kind == "ordinal":
            unseen = [v for p in pieces for v in p["unseen"]]
            if unseen:
                raise ValueError(f"column {col!r} has values {unseen[:5]} that are not among its ordinal "
                                 f"levels {pieces[0]['levels']}.")
            spec["levels"] = pieces[0]["levels"]
        else:
            spec.update(_merge_levels(col, kind, pieces))
        specs.append(spec)

    # 2. missing values, rows kept, fill statistics
    stats = stages.run(client, [delayed(_fill_stats)(p, specs, prep.impute) for p in parts])
    missing_counts = {spec["name"]: int(sum(s["missing"][j] for s in stats)) for j, spec in enumerate(specs)}
    for spec in specs:
        if missing_counts[spec["name"]] == n or (spec["kind"] == "date" and spec["reference"] is None):
            raise ValueError(
                f"column {spec['name']!r} is entirely missing, so it cannot be prepared; exclude it "
                f"(infer_schema(df, overrides={{{spec['name']!r}: 'constant'}}) or drop it from the table."
            )
    if any(missing_counts.values()) and prep.impute is None:
        bad = {c: k for c, k in missing_counts.items() if k}
        raise ValueError(
            f"the table has missing values {bad} (column: count) and impute=None; choose "
            "impute='median', 'mean', 'most_frequent' or 'drop'."
        )
    n_kept = int(sum(s["kept"] for s in stats))
    if n_kept == 0:
        raise ValueError(
            f"impute='drop' would drop every row (missing per column: {missing_counts}); "
            "impute instead, or exclude the emptiest columns."
        )
    if n_kept < n:
        report = {c: k for c, k in missing_counts.items() if k}
        warnings.warn(
            f"impute='drop' dropped {n - n_kept} of {n} rows with missing values "
            f"(missing per column: {report}).", PreparerWarning, stacklevel=4)
    missing_kept: dict[Any, int] = {}
    for j, spec in enumerate(specs):
        _merge_fill(prep, spec, [s["columns"][j] for s in stats])
        missing_kept[spec["name"]] = int(sum(s["columns"][j]["missing"] for s in stats))

    # 3. skewness (log1p="auto") and the scale, on the filled values of the rows kept
    centres = {}
    for j, spec in enumerate(specs):
        if spec["kind"] in _NUMERIC_KINDS:
            obs = [s["columns"][j] for s in stats]
            total = sum(o["sum"] for o in obs) + missing_kept[spec["name"]] * spec["fill"]
            centres[spec["name"]] = total / n_kept
    moments = stages.run(client, [delayed(_moments)(p, specs, prep.impute, centres, prep.scale == "robust")
                                  for p in parts])
    for j, spec in enumerate(specs):
        if spec["kind"] not in _NUMERIC_KINDS:
            continue
        col = spec["name"]
        obs = [s["columns"][j] for s in stats]
        low = min([o["min"] for o in obs if o["count"]] + ([spec["fill"]] if missing_kept[col] else []))
        high = max([o["max"] for o in obs if o["count"]] + ([spec["fill"]] if missing_kept[col] else []))
        mom = [mo[j] for mo in moments]
        mean = centres[col]
        var = sum(x["s2"] for x in mom) / n_kept
        std = math.sqrt(max(var, 0.0))
        skewed = False
        if prep.log1p == "auto" and spec["kind"] == "numeric" and n_kept >= 3 and low >= 0 and std > 0:
            skewed = (sum(x["s3"] for x in mom) / n_kept) / std**3 > _auto_skew()
        spec["log1p"] = col in log1p_cols or skewed
        if prep.scale is None:
            spec["center"], spread = 0.0, 1.0
        elif prep.scale == "standard":
            if spec["log1p"]:
                shift = math.log1p(mean) if mean > -1 else 0.0
                first = sum(x["l1"] for x in mom) / n_kept
                second = sum(x["l2"] for x in mom) / n_kept
                spec["center"], spread = shift + first, math.sqrt(max(second - first * first, 0.0))
            else:
                spec["center"], spread = mean, std
        elif prep.scale == "robust":
            key = "lq" if spec["log1p"] else "q"
            q1, median, q3 = merged_quantiles([x[key] for x in mom], [x["n"] for x in mom], [25.0, 50.0, 75.0])
            spec["center"], spread = float(median), float(q3 - q1)
        else:
            lo, hi = (math.log1p(max(low, 0.0)), math.log1p(max(high, 0.0))) if spec["log1p"] else (low, high)
            spec["center"], spread = float(lo), float(hi - lo)
        spec["scale"] = spread if spread > 0 and math.isfinite(spread) else 1.0
    prep.schema_ = schema
    prep.specs_ = specs
    prep.missing_counts_ = missing_counts
    prep.dropped_rows_ = []  # the labels of dropped rows stay on the cluster; their count is in the record
    prep.n_rows_in_ = int(n)
    prep.n_rows_used_ = n_kept
    prep.feature_names_out_ = prep._feature_names(specs)
    prep._set_weights()
    return prep


def _auto_skew() -> float:
    from ..segment.prepare import AUTO_LOG1P_SKEW

    return float(AUTO_LOG1P_SKEW)


def _merge_levels(col: Any, kind: str, pieces: list[dict[str, Any]]) -> dict[str, Any]:
    """Levels of a binary or categorical column from every partition's, as Preparer.fit orders them."""
    from ..segment.prepare import _python_kinds

    uniques: list[Any] = []
    seen: set[Any] = set()
    for p in pieces:
        for v in p["uniques"]:
            key = (type(v), v)
            if key not in seen:
                seen.add(key)
                uniques.append(v)
    as_text = len(_python_kinds(uniques)) > 1
    if as_text:
        uniques = sorted({str(v) for v in uniques})
    categories = pieces[0]["categories"]
    if categories is not None and not as_text:
        present = set(uniques)
        levels = [v for v in categories if v in present]
    else:
        try:
            levels = sorted(uniques)
        except TypeError:
            levels = list(uniques)
    if kind == "binary":
        boolean = pieces[0]["boolean"]
        if boolean or set(levels) <= {0, 1}:
            levels = [False, True] if boolean else [0, 1]
        if len(levels) > 2:
            raise ValueError(
                f"column {col!r} is binary in the schema but has {len(levels)} distinct values "
                f"({levels[:5]}); make it 'categorical'."
            )
    return {"levels": levels, "as_text": as_text}


def _merge_fill(prep: Preparer, spec: dict[str, Any], pieces: list[dict[str, Any]]) -> None:
    """spec["fill"] from every partition's statistics of the kept, observed values (as _learn_fill)."""
    if spec["kind"] in _NUMERIC_KINDS:
        count = sum(p["count"] for p in pieces)
        if count == 0:
            spec["fill"] = math.nan
            return
        if prep.impute == "mean":
            fill = sum(p["sum"] for p in pieces) / count
        elif prep.impute == "most_frequent":
            counts: dict[float, int] = {}
            for p in pieces:
                for v, c in p["values"].items():
                    counts[v] = counts.get(v, 0) + c
            top = max(counts.values())
            fill = min(v for v, c in counts.items() if c == top)  # ties to the smallest value
        else:
            (median,) = merged_quantiles([p["q"] for p in pieces], [p["count"] for p in pieces], [50.0])
            fill = math.floor(median) if spec["kind"] == "ordinal" else median
        spec["fill"] = float(fill)
    else:
        total = np.sum([p["codes"] for p in pieces], axis=0)
        spec["fill"] = int(np.argmax(total))  # the most frequent level; ties to the first


def merged_quantiles(sketches: list[FloatArray | None], counts: list[int], q: list[float]) -> list[float]:
    """Quantiles (percent) of the union of partitions, from each one's :data:`QUANTILE_POINTS` percentiles.

    The union's distribution function is the count-weighted mixture of the
    partitions' piecewise-linear ones (numpy's linear percentiles); it is
    inverted by linear interpolation. With one partition this is numpy's own
    percentile at grid points (the median, the quartiles) exactly; with
    several, each partition's rank error is at most 0.1 percentile.
    """
    live = [(s, c) for s, c in zip(sketches, counts) if c and s is not None]
    if not live:
        return [math.nan] * len(q)
    if len(live) == 1:
        return [float(np.interp(v, _GRID, live[0][0])) for v in q]
    xs = np.unique(np.concatenate([s for s, _ in live]))
    total = float(sum(c for _, c in live))
    cdf = np.zeros(xs.shape[0])
    for s, c in live:
        # the partition's distribution function at xs (flat parts of the sketch: its upper end)
        cdf += c / total * _cdf(xs, s)
    cdf = np.maximum.accumulate(cdf) * 100.0
    return [float(np.interp(v, cdf, xs)) for v in q]


def _cdf(xs: FloatArray, sketch: FloatArray) -> FloatArray:
    return np.interp(xs, sketch, _GRID / 100.0, left=0.0, right=1.0)


# ----------------------------------------------------------------------------- worker tasks


def _sample(part: pd.DataFrame, rate: float, seed: int) -> pd.DataFrame:
    """Worker task: a seeded uniform sample of the partition's rows (all when ``rate`` is 1)."""
    if rate >= 1.0:
        return part
    rng = np.random.default_rng([seed, 20_231_123])
    return part.iloc[np.flatnonzero(rng.random(len(part)) < rate)]


def _levels(part: pd.DataFrame, plan: list[tuple[Any, str, Any]]) -> list[dict[str, Any]]:
    """Worker task: per column, what levels need (distinct values, dtype facts, date maximum, junk)."""
    from .._column_kinds import _plain
    from ..segment.prepare import Preparer, _lookup

    out: list[dict[str, Any]] = []
    for col, kind, given in plan:
        series = part[col]
        if kind == "numeric":
            values, bad = Preparer._numeric(series, col)
            junk = int(np.isnan(values).sum() - series.isna().sum()) if bad else 0
            out.append({"junk": junk, "examples": bad})
        elif kind == "date":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dates = Preparer._dates(series, col)
            top = dates.max()
            out.append({"max": None if pd.isna(top) else top, "junk": int((dates.isna() & series.notna()).sum())})
        elif kind == "ordinal":
            if given is not None:
                levels = list(given)
            elif isinstance(series.dtype, pd.CategoricalDtype):
                levels = [_plain(v) for v in series.dtype.categories]
            else:
                raise ValueError(f"column {col!r} is ordinal but the schema gives no levels; set Schema.levels.")
            codes = _lookup(series, levels, as_text=False)
            unseen = series[(codes < 0) & np.asarray(series.notna())]
            out.append({"levels": levels, "unseen": [_plain(v) for v in unseen.unique()[:5]]})
        else:
            categories = ([_plain(v) for v in series.dtype.categories]
                          if isinstance(series.dtype, pd.CategoricalDtype) else None)
            out.append({"uniques": [_plain(v) for v in series.dropna().unique()], "categories": categories,
                        "boolean": bool(pd.api.types.is_bool_dtype(series.dtype))})
    return out


def _raw(part: pd.DataFrame, specs: list[dict[str, Any]]) -> list[np.ndarray]:
    """The partition's raw values per column, as Preparer.transform reads them (NaN / -1: missing)."""
    from ..segment.prepare import Preparer

    reader = Preparer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # counted and reported once, on the client
        return [reader._apply_column(part[spec["name"]], spec)[0] for spec in specs]


def _missing(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if values.dtype.kind == "f" else values < 0


def _keep(raw: list[np.ndarray], n: int, impute: str | None) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    if impute == "drop":
        for values in raw:
            keep &= ~_missing(values)
    return keep


def _fill_stats(part: pd.DataFrame, specs: list[dict[str, Any]], impute: str | None) -> dict[str, Any]:
    """Worker task: missing counts, rows kept, and the statistics fills need, per column."""
    raw = _raw(part, specs)
    keep = _keep(raw, len(part), impute)
    columns = []
    for spec, values in zip(specs, raw):
        kept = values[keep]
        if spec["kind"] in _NUMERIC_KINDS:
            observed = kept[~np.isnan(kept)]
            entry: dict[str, Any] = {
                "missing": int(np.isnan(kept).sum()), "count": int(observed.size),
                "sum": float(observed.sum()) if observed.size else 0.0,
                "min": float(observed.min()) if observed.size else math.nan,
                "max": float(observed.max()) if observed.size else math.nan,
                "q": np.percentile(observed, _GRID) if observed.size else None,
            }
            if impute == "most_frequent":
                uniq, counts = np.unique(observed, return_counts=True)
                entry["values"] = dict(zip(uniq.tolist(), counts.tolist()))
            columns.append(entry)
        else:
            observed = kept[kept >= 0] if kept.dtype.kind == "i" else kept[~np.isnan(kept)]
            columns.append({"missing": int(_missing(kept).sum()),
                            "codes": np.bincount(observed.astype(np.int64), minlength=len(spec["levels"]))})
    return {"missing": [int(_missing(v).sum()) for v in raw], "kept": int(keep.sum()), "columns": columns}


def _moments(part: pd.DataFrame, specs: list[dict[str, Any]], impute: str | None, centres: dict[Any, float],
             sketch: bool) -> list[dict[str, Any] | None]:
    """Worker task: per numeric column, central sums of the filled values (and of their log1p)."""
    raw = _raw(part, specs)
    keep = _keep(raw, len(part), impute)
    out: list[dict[str, Any] | None] = []
    for spec, values in zip(specs, raw):
        if spec["kind"] not in _NUMERIC_KINDS:
            out.append(None)
            continue
        x = values[keep]
        x = np.where(np.isnan(x), spec["fill"], x)
        c = centres[spec["name"]]
        dev = x - c
        entry: dict[str, Any] = {"n": int(x.size), "s2": float(np.sum(dev * dev)), "s3": float(np.sum(dev**3))}
        if spec["kind"] == "numeric":
            with np.errstate(invalid="ignore", divide="ignore"):
                logs = np.log1p(np.maximum(x, 0.0))
            shift = math.log1p(c) if c > -1 else 0.0
            entry["l1"] = float(np.sum(logs - shift))
            entry["l2"] = float(np.sum((logs - shift) ** 2))
            if sketch:
                entry["lq"] = np.percentile(logs, _GRID) if x.size else None
        if sketch:
            entry["q"] = np.percentile(x, _GRID) if x.size else None
        out.append(entry)
    return out


def _kept_rows(part: pd.DataFrame, prep: Preparer) -> int:
    """Worker task: rows of the partition the fitted preparation keeps."""
    return int(_keep(_raw(part, prep.specs_), len(part), prep.impute).sum())


def _features(part: pd.DataFrame, prep: Preparer) -> FloatArray:
    """Worker task: the partition's prepared features (rows the preparation keeps)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the fit reported already (clipped log1p, dropped rows)
        keep = _keep(_raw(part, prep.specs_), len(part), prep.impute)
        frame = part.iloc[np.flatnonzero(keep)] if not keep.all() else part
        return np.ascontiguousarray(prep.transform(frame).to_numpy(dtype=np.float64))


def _row_segments(part: pd.DataFrame, prep: Preparer, micro: IntArray, segments: IntArray) -> IntArray:
    """Worker task: the segment of each row of the partition (-1: dropped by the preparation)."""
    keep = _keep(_raw(part, prep.specs_), len(part), prep.impute)
    out = np.full(len(part), -1, dtype=np.int64)
    out[keep] = segments[np.asarray(micro, dtype=np.int64)]
    return out


def _sample_segments(part: pd.DataFrame, prep: Preparer, micro: IntArray, segments: IntArray, rate: float,
                     seed: int) -> tuple[pd.DataFrame, IntArray]:
    """Worker task: a seeded sample of the kept rows and their segments (for the profile)."""
    keep = np.flatnonzero(_keep(_raw(part, prep.specs_), len(part), prep.impute))
    labels = segments[np.asarray(micro, dtype=np.int64)]
    if rate < 1.0:
        rng = np.random.default_rng([seed, 20_231_124])
        chosen = np.flatnonzero(rng.random(keep.size) < rate)
        keep, labels = keep[chosen], labels[chosen]
    return part.iloc[keep], labels
