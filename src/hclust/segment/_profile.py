"""What makes each segment different: sizes, per-column statistics, lifts and automatic names."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._validation import is_integer
from .schema import Schema, infer_schema

__all__ = ["SegmentProfile", "profile", "standardized_difference", "UNASSIGNED"]

#: Name of the row of :attr:`SegmentProfile.sizes` that counts rows labelled -1.
UNASSIGNED = "unassigned"

_NUMERIC_KINDS = ("numeric",)
_CATEGORICAL_KINDS = ("categorical", "binary", "ordinal")

_SIZES_COLUMNS = ["segment", "name", "size", "share"]
_NUMERIC_COLUMNS = ["segment", "column", "n", "mean", "median", "mean_rest", "std_diff"]
_CATEGORICAL_COLUMNS = ["segment", "column", "rank", "category", "count", "share", "share_overall", "lift"]
_DISTINGUISHING_COLUMNS = [
    "segment", "rank", "feature", "kind", "category", "direction", "std_diff", "lift", "share", "share_rest",
    "description",
]
# |d| at or below this is rounding noise, not a difference worth naming a segment after
_NEGLIGIBLE = 1e-9
# A difference of means below this fraction of the column's largest |value| is rounding noise
# (the means of equal values summed in another order differ by a few ulps of that magnitude).
_RELATIVE_NOISE = 1e-12
# dtypes of the number columns, so that empty tables have the same columns and dtypes as full ones
_DTYPES = {
    "segment": "int64", "rank": "int64", "n": "int64", "count": "int64", "size": "int64",
    "mean": "float64", "median": "float64", "mean_rest": "float64", "std_diff": "float64",
    "share": "float64", "share_overall": "float64", "lift": "float64", "share_rest": "float64",
}


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value (NaN -> None, numpy scalars -> Python)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@dataclass(frozen=True)
class SegmentProfile:
    """Profiles of the segments of a table: what each segment is, and how it differs from the rest.

    Built by :func:`profile`; every table is a plain DataFrame in long form, sorted by
    segment label, so it can be shown, filtered or exported directly.

    Attributes
    ----------
    sizes : DataFrame
        ``segment, name, size, share``: one row per segment (by label), then one row
        with segment ``-1`` named ``"unassigned"`` when some rows are labelled -1.
        ``share`` is the fraction of all rows of the table.
    numeric : DataFrame
        ``segment, column, n, mean, median, mean_rest, std_diff`` for each segment and
        numeric column (``n``: non-missing values in the segment).
    categorical : DataFrame
        ``segment, column, rank, category, count, share, share_overall, lift``: the top
        categories of each segment and categorical/binary/ordinal column.
    distinguishing : DataFrame
        ``segment, rank, feature, kind, category, direction, std_diff, lift, share,
        share_rest, description``: the features that set each segment apart most,
        strongest first (``std_diff``: the difference in overall standard deviations, see
        :func:`profile`; ``share``/``share_rest``: a category's share in the segment and
        in the other segments, NaN for numeric features).
    names : dict
        Segment label -> display name (automatic, or set by the user).
    auto_names : dict
        Segment label -> the automatic name before disambiguation and overrides.
    overrides : dict
        Segment label -> name given by the user.
    kinds : dict
        Profiled column -> kind used (``"numeric"`` or ``"categorical"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from hclust.segment import profile
    >>> df = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 10.0, 11.0, 12.0],
    ...                    "plan": ["a", "a", "b", "b", "b", "b"]})
    >>> p = profile(df, [0, 0, 0, 1, 1, 1])
    >>> p.names
    {0: 'Low spend, Mostly plan=a', 1: 'High spend, All plan=b'}
    >>> p.rename({1: "Big spenders"}).names[1]
    'Big spenders'
    """

    sizes: pd.DataFrame
    numeric: pd.DataFrame
    categorical: pd.DataFrame
    distinguishing: pd.DataFrame
    names: dict[int, str]
    auto_names: dict[int, str] = field(default_factory=dict)
    overrides: dict[int, str] = field(default_factory=dict)
    kinds: dict[Any, str] = field(default_factory=dict)

    @property
    def segments(self) -> list[int]:
        """Segment labels, ascending (never -1)."""
        return sorted(self.names)

    def rename(self, names: Mapping[int, str]) -> "SegmentProfile":
        """A new profile with some segments renamed; the others keep their names.

        Parameters
        ----------
        names : mapping
            Segment label -> new name (a non-empty string).

        Returns
        -------
        SegmentProfile
            A copy; this profile is unchanged.

        Raises
        ------
        ValueError
            A label that is not a segment, an empty name, or two segments with the same name.

        Examples
        --------
        >>> import pandas as pd
        >>> from hclust.segment import profile
        >>> p = profile(pd.DataFrame({"x": [1.0, 2.0, 8.0, 9.0]}), [0, 0, 1, 1])
        >>> p.rename({0: "Small"}).names
        {0: 'Small', 1: 'High x'}
        """
        overrides = {**self.overrides, **_check_names(names, self.segments)}
        final = _resolve_names(self.auto_names, overrides)
        sizes = self.sizes.copy()
        sizes["name"] = [final.get(int(s), UNASSIGNED) for s in sizes["segment"]]
        return dataclasses.replace(self, names=final, overrides=overrides, sizes=sizes)

    def summary(self, n_features: int = 3) -> pd.DataFrame:
        """One row per segment, by label: ``segment, name, size, share, top_features``.

        ``top_features`` lists the ``n_features`` strongest distinguishing features as
        text, e.g. ``"High Fresh (+1.20); All smoker=yes (100% vs 0%)"``: for a numeric
        column the standardised difference (in overall standard deviations, see
        :func:`profile`), for a category its share in the segment against its share in
        the other segments. Unassigned rows are not a segment: see :attr:`sizes`.

        Examples
        --------
        >>> import pandas as pd
        >>> from hclust.segment import profile
        >>> p = profile(pd.DataFrame({"x": [1.0, 2.0, 8.0, 9.0]}), [0, 0, 1, 1])
        >>> p.summary()[["name", "size", "top_features"]].to_dict("records")[0]
        {'name': 'Low x', 'size': 2, 'top_features': 'Low x (-1.98)'}
        >>> q = profile(pd.DataFrame({"x": [1.0, 2.0, 3.5, 4.0], "smoker": ["no", "no", "yes", "yes"]}),
        ...             [0, 0, 1, 1])
        >>> q.summary()["top_features"][1]
        'All smoker=yes (100% vs 0%); High x (+1.89)'

        """
        if not is_integer(n_features) or n_features < 1:
            raise ValueError(f"n_features must be a positive integer; got {n_features!r}.")
        sizes = self.sizes[self.sizes["segment"] >= 0].set_index("segment")
        rows = []
        for seg in self.segments:
            top = self.distinguishing[self.distinguishing["segment"] == seg].head(int(n_features))
            text = "; ".join(_feature_text(row) for row in top.to_dict("records"))
            rows.append({
                "segment": seg,
                "name": self.names[seg],
                "size": int(sizes.loc[seg, "size"]),
                "share": float(sizes.loc[seg, "share"]),
                "top_features": text,
            })
        return pd.DataFrame(rows, columns=["segment", "name", "size", "share", "top_features"])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: every table as a list of records, names keyed by label as text.

        NaN becomes ``None``, so ``json.dumps(p.to_dict(), allow_nan=False)`` works.
        """
        return {
            "sizes": _records(self.sizes),
            "numeric": _records(self.numeric),
            "categorical": _records(self.categorical),
            "distinguishing": _records(self.distinguishing),
            "names": {str(k): v for k, v in sorted(self.names.items())},
            "auto_names": {str(k): v for k, v in sorted(self.auto_names.items())},
            "overrides": {str(k): v for k, v in sorted(self.overrides.items())},
            "kinds": {str(_plain(k)): v for k, v in self.kinds.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SegmentProfile":
        """Rebuild a profile from :meth:`to_dict` (column names come back as text)."""
        # profiles saved before share/share_rest existed load with NaN there
        columns = {
            "sizes": _SIZES_COLUMNS,
            "numeric": _NUMERIC_COLUMNS,
            "categorical": _CATEGORICAL_COLUMNS,
            "distinguishing": _DISTINGUISHING_COLUMNS,
        }
        tables = {
            name: pd.DataFrame.from_records(data[name], columns=cols) if data[name] else pd.DataFrame(columns=cols)
            for name, cols in columns.items()
        }
        for table in tables.values():
            for col in table.columns:
                if all(isinstance(v, (int, float)) or v is None for v in table[col]) and len(table):
                    table[col] = pd.to_numeric(table[col])
        return cls(
            names={int(k): v for k, v in data["names"].items()},
            auto_names={int(k): v for k, v in data["auto_names"].items()},
            overrides={int(k): v for k, v in data["overrides"].items()},
            kinds=dict(data["kinds"]),
            **tables,
        )


# --------------------------------------------------------------------------- validation


def _check_labels(labels: Any, n_rows: int) -> np.ndarray:
    if isinstance(labels, (pd.Series, pd.Index)):
        labels = labels.to_numpy()
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (one label per row); got shape {arr.shape}.")
    if arr.shape[0] != n_rows:
        raise ValueError(
            f"labels has {arr.shape[0]} entries but the table has {n_rows} rows; pass one label per row."
        )
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"labels must be integers (segment numbers, -1 for unassigned); got dtype {arr.dtype}. "
            "Convert them, e.g. labels.astype(int), or map names to numbers first."
        )
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < -1:
        raise ValueError(
            f"labels must be >= -1 (-1 marks unassigned rows); got {int(arr.min())}."
        )
    if not np.any(arr >= 0):
        raise ValueError("labels assign no row to a segment (all are -1); nothing to profile.")
    return arr


def _check_names(names: Mapping[Any, Any] | None, segments: list[int]) -> dict[int, str]:
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(f"names must be a mapping of segment label -> name; got {type(names).__name__}.")
    out: dict[int, str] = {}
    unknown = []
    for key, value in names.items():
        if not is_integer(key) or int(key) not in segments:
            unknown.append(key)
            continue
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"names[{key!r}] must be a non-empty string; got {value!r}.")
        out[int(key)] = value
    if unknown:
        raise ValueError(f"names has keys {unknown} that are not segment labels; the segments are {segments}.")
    values = list(out.values())
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise ValueError(f"names gives the same name to several segments: {dupes}; names must be unique.")
    if UNASSIGNED in values:
        raise ValueError(f"{UNASSIGNED!r} is reserved for rows labelled -1; choose another segment name.")
    return out


def _resolve_names(auto: Mapping[int, str], overrides: Mapping[int, str]) -> dict[int, str]:
    """User names win; automatic names that collide get their segment number appended."""
    final = {seg: overrides.get(seg, name) for seg, name in sorted(auto.items())}
    user_values = [overrides[s] for s in sorted(overrides)]
    if len(set(user_values)) != len(user_values):
        dupes = sorted({v for v in user_values if user_values.count(v) > 1})
        raise ValueError(f"the same name is given to several segments: {dupes}; names must be unique.")
    counts: dict[str, int] = {}
    for name in final.values():
        counts[name] = counts.get(name, 0) + 1
    for seg in final:
        if seg not in overrides and counts[final[seg]] > 1:
            final[seg] = f"{final[seg]} (segment {seg})"
    values = list(final.values())
    clash = sorted({v for v in values if values.count(v) > 1})
    if clash:
        raise ValueError(
            f"segment names {clash} are used twice after disambiguation; choose other names in `names`."
        )
    return final


# --------------------------------------------------------------------------- statistics


def standardized_difference(
    mean_in: Any, n_in: Any, mean_rest: Any, n_rest: Any, sd: Any, *, noise: float = 0.0
) -> np.ndarray:
    """The standardised difference of a group against the rest: ``(mean_in - mean_rest) / sd``.

    The one definition of the package: the profiles' ``std_diff`` (numeric columns and
    category indicators), the report's heatmap and its hover profiles of tree nodes all
    compute it here. Element-wise over arrays that broadcast together.

    Parameters
    ----------
    mean_in, n_in : array-like
        Mean and number of (non-missing) values inside the group.
    mean_rest, n_rest : array-like
        The same for the rest of the rows.
    sd : array-like
        The standard deviation of *all* rows (population form; see :func:`profile`'s Notes
        for why not the pooled within-group spread).
    noise : float, default=0.0
        Differences ``|mean_in - mean_rest| <= noise`` are rounding noise and give 0.

    Returns
    -------
    ndarray of float64
        0 where ``sd`` is 0 or the difference is noise, NaN where a side is empty.

    Examples
    --------
    >>> from hclust.segment import standardized_difference
    >>> standardized_difference([3.0, 1.0], [2, 2], [1.0, 3.0], [2, 2], 1.0)
    array([ 2., -2.])
    >>> standardized_difference(5.0, 0, 1.0, 4, 2.0)  # an empty group
    array(nan)
    """
    mean_in, n_in, mean_rest, n_rest, sd = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (mean_in, n_in, mean_rest, n_rest, sd))
    )
    diff = mean_in - mean_rest
    out = np.zeros(diff.shape)
    with np.errstate(invalid="ignore"):
        live = (sd != 0.0) & (np.abs(diff) > noise)
    np.divide(diff, sd, out=out, where=live)
    out[(n_in == 0) | (n_rest == 0)] = np.nan
    return out


def _means_and_rest(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each group, the mean of the other groups' values (weighted by their counts; NaN when
    they have none), as a sum of shares: no overflow for values near 1e308."""
    rest = np.full(values.shape[0], math.nan)
    for g in range(values.shape[0]):
        others = [o for o in range(values.shape[0]) if o != g and counts[o] > 0]
        n_r = sum(int(counts[o]) for o in others)
        if n_r:
            rest[g] = sum(counts[o] / n_r * values[o] for o in others)
    return rest


def _numeric_rows(col: Any, values: pd.Series, labels: np.ndarray, segments: list[int]) -> list[dict[str, Any]]:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    keep = ~np.isnan(x)
    present = x[keep]
    scale = float(np.abs(present).max()) if present.size else 0.0
    # d is computed on x / max|x|, so squares neither underflow (tiny values) nor overflow (huge ones)
    unit = x / scale if scale > 0 else x
    # the spread of the column over all segmented rows (population form, / n): see profile's Notes
    sd = float(unit[keep].std()) if present.size else 0.0
    count = np.zeros(len(segments), dtype=np.int64)
    mean, unit_mean, median = (np.full(len(segments), math.nan) for _ in range(3))
    for g, seg in enumerate(segments):
        inside = (labels == seg) & keep
        count[g] = int(inside.sum())
        if count[g]:
            mean[g], unit_mean[g], median[g] = x[inside].mean(), unit[inside].mean(), np.median(x[inside])
    mean_rest = _means_and_rest(mean, count)
    n_rest = count.sum() - count
    # means of x / max|x| lie in [-1, 1]: a difference below 1e-12 is rounding noise
    d = standardized_difference(unit_mean, count, _means_and_rest(unit_mean, count), n_rest, sd, noise=_RELATIVE_NOISE)
    return [
        {
            "segment": seg, "column": col, "n": int(count[g]), "mean": float(mean[g]), "median": float(median[g]),
            "mean_rest": float(mean_rest[g]), "std_diff": float(d[g]),
        }
        for g, seg in enumerate(segments)
    ]


def _category_order(values: pd.Series) -> list[Any]:
    """Categories by overall count (descending), ties by their text: a fixed, data-only order."""
    counts = values.value_counts(sort=False)
    return [c for c, _ in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))]


def _categorical_stats(
    values: pd.Series, labels: np.ndarray, segments: list[int]
) -> tuple[list[Any], dict[int, np.ndarray], dict[int, int], np.ndarray, int]:
    """Categories, per-segment counts, per-segment non-missing totals, overall counts and total."""
    keep = values.notna().to_numpy()
    present = values[keep]
    lab = labels[keep]
    cats = _category_order(present)
    codes = pd.Categorical(present, categories=cats).codes
    per_seg = {seg: np.bincount(codes[lab == seg], minlength=len(cats)) for seg in segments}
    totals = {seg: int(per_seg[seg].sum()) for seg in segments}
    overall = np.bincount(codes, minlength=len(cats))
    return cats, per_seg, totals, overall, int(overall.sum())


def _indicator_differences(
    counts_in: np.ndarray, n_in: int, counts_all: np.ndarray, total: int
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised difference of each category's 0/1 indicator, a segment against the rest
    (its sd over all rows is sqrt(p (1 - p))), and the category's share in the rest."""
    n_rest = total - n_in
    share_all = counts_all / total
    with np.errstate(invalid="ignore", divide="ignore"):
        share_in = counts_in / n_in
        share_rest = (counts_all - counts_in) / n_rest if n_rest else np.full(len(counts_all), math.nan)
    # shares are exact ratios: equal distributions give equal shares, no noise threshold
    d = standardized_difference(share_in, n_in, share_rest, n_rest, np.sqrt(share_all * (1.0 - share_all)))
    return d, share_rest


def category_differences(
    values: pd.Series, labels: Any, segments: list[int], top: int
) -> tuple[list[Any], np.ndarray]:
    """The ``top`` most frequent categories of a column (by count, ties by their text) and the
    standardised difference of each one's indicator for each segment (segments x categories),
    as :func:`profile` computes them; NaN for a segment without values in the column."""
    cats, per_seg, totals, overall, total = _categorical_stats(values, np.asarray(labels), segments)
    cats = cats[:top]
    out = np.full((len(segments), len(cats)), math.nan)
    if total:
        for g, seg in enumerate(segments):
            out[g] = _indicator_differences(per_seg[seg], totals[seg], overall, total)[0][: len(cats)]
    return cats, out


def _phrase_numeric(col: Any, d: float) -> tuple[str, str]:
    direction = "high" if d > 0 else "low"
    return direction, f"{direction.capitalize()} {col}"


def _phrase_category(col: Any, cat: Any, share: float) -> str:
    word = "All" if share >= 1.0 else "Mostly" if share >= 0.5 else "More"
    return f"{word} {col}={_plain(cat)}"


def _percent(share: float) -> str:
    """A share as a percentage that never rounds a non-zero share to 0% or a partial one to 100%."""
    text = f"{100.0 * share:.0f}%"
    if text == "0%" and share > 0:
        return "<1%"
    if text == "100%" and share < 1:
        return ">99%"
    return text


def _feature_text(row: Mapping[str, Any]) -> str:
    """One distinguishing feature in words: ``High x (+1.20)`` or ``All c=v (100% vs 0%)``."""
    if row["kind"] == "categorical" and row.get("share") is not None and math.isfinite(row["share"]) and (
        row.get("share_rest") is not None and math.isfinite(row["share_rest"])
    ):
        return f"{row['description']} ({_percent(row['share'])} vs {_percent(row['share_rest'])})"
    return f"{row['description']} ({row['std_diff']:+.2f})"


def _table(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Rows by segment label, keeping their order within a segment (stable sort); fixed dtypes."""
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({c: _DTYPES[c] for c in columns if c in _DTYPES})
    return frame.sort_values("segment", kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------- profile


def profile(
    df: pd.DataFrame,
    labels: Any,
    *,
    schema: Schema | None = None,
    top_categories: int = 3,
    names: Mapping[int, str] | None = None,
    top_features: int = 5,
) -> SegmentProfile:
    """Profile the segments of a table: sizes, statistics, what sets each apart, and names.

    Parameters
    ----------
    df : DataFrame
        The table that was segmented, one row per customer (original units, not the
        standardised features, so the profile speaks the analyst's language).
    labels : array-like of int, shape (n_rows,)
        Segment of each row, by position (a Series' index is ignored); -1 marks
        unassigned rows (e.g. outliers, or ``cut(..., min_cluster_size=...)``).
    schema : Schema, optional
        Column kinds; inferred with :func:`~hclust.segment.schema.infer_schema` when
        omitted (its warnings are passed on). ``numeric`` columns get means and
        standardised differences; ``categorical``, ``binary`` and ``ordinal`` columns get
        category shares and lifts; ``date``, ``id`` and ``constant`` columns are skipped.
    top_categories : int, default=3
        Categories listed per segment and column in :attr:`SegmentProfile.categorical`.
    names : mapping, optional
        Segment label -> name, replacing the automatic names of those segments.
    top_features : int, default=5
        Distinguishing features kept per segment.

    Returns
    -------
    SegmentProfile

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame; ``labels`` are not integers.
    ValueError
        ``labels`` does not have one entry per row, has values below -1 or no segment;
        ``df`` has no numeric or categorical column; ``names`` has keys that are not
        segment labels, empty or duplicate names; bad ``top_categories``/``top_features``.

    Notes
    -----
    Comparisons use the segmented rows only: rows labelled -1 are counted in
    :attr:`~SegmentProfile.sizes` (as ``"unassigned"``) and nowhere else, so "overall"
    and "the rest" mean all rows with a segment. Missing values (NaN/None) are
    skipped column by column: each statistic of a column uses the rows where that
    column is present.

    For a numeric column and segment ``s`` with mean ``m_s`` and the rest ``r`` of the
    segmented rows with mean ``m_r``, the standardised difference is

    ``d = (m_s - m_r) / sd``,

    with ``sd`` the standard deviation of the column over *all* segmented rows
    (population form, dividing by n). It is 0 when ``sd`` is 0 (a constant column) or
    when ``|m_s - m_r|`` is below 1e-12 of the column's largest absolute value (the
    rounding noise of means of equal values), NaN when ``s`` or ``r`` has no values
    (e.g. a single segment).

    Why the overall and not the pooled within-segment spread (Cohen's d): the pooled
    spread is 0 exactly when a segment is all-or-nothing (every member has the value,
    no one else does), so Cohen's d is undefined for the feature that defines the
    segment best. The overall spread is never 0 for a column that differs between
    segments, and since the overall variance is the within-segment variance plus the
    between part ``pi (1 - pi) (m_s - m_r)^2`` (``pi`` the segment's share of rows),

    ``|d| <= 1 / sqrt(pi (1 - pi))``,

    with equality exactly when the column is constant inside the segment and inside
    the rest. So a column that separates a segment perfectly gets the largest
    ``|d|`` any column can get for that segment and ranks first (ties by table
    column order), and a column with the same mean in every segment gets 0 and is
    never named.

    For a category ``c`` of a column, ``share`` is its fraction of the segment's
    non-missing values, ``share_overall`` its fraction over all segmented rows, and
    ``lift = share / share_overall``. To rank categories against numeric columns on
    one scale, a category gets the same ``d`` computed on its 0/1 indicator,
    ``d = (share - share_rest) / sqrt(p (1 - p))`` with ``p = share_overall``; each
    categorical column contributes its most over-represented category (largest
    positive ``d``), with ``share`` and ``share_rest`` (its share among the other
    segments) in :attr:`~SegmentProfile.distinguishing`. Features are ranked by
    ``|d|`` (ties: table column order) and only features with ``|d| > 1e-9`` are kept.

    Automatic names join the descriptions of the two strongest features:
    ``"High X"``/``"Low X"`` for numeric columns, ``"All C=v"`` (every member of the
    segment has it), ``"Mostly C=v"`` (share >= 0.5) or ``"More C=v"`` for categories;
    ``"Segment k"`` when no feature differs. When two automatic names are equal, each
    gets ``" (segment k)"`` appended. Every order is deterministic: segments by label,
    categories by overall count then text.

    Examples
    --------
    >>> import pandas as pd
    >>> from hclust.segment import profile
    >>> df = pd.DataFrame({"spend": [10.0, 12.0, 11.0, 50.0, 55.0, 60.0],
    ...                    "channel": ["web", "web", "shop", "shop", "shop", "shop"]})
    >>> p = profile(df, [0, 0, 0, 1, 1, -1], names={1: "Big spenders"})
    >>> p.sizes[["segment", "name", "size"]].to_dict("list")
    {'segment': [0, 1, -1], 'name': ['Low spend, Mostly channel=web', 'Big spenders', 'unassigned'], 'size': [3, 2, 1]}
    >>> p.numeric.loc[p.numeric["segment"] == 1, ["mean", "mean_rest"]].to_numpy().tolist()
    [[52.5, 11.0]]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"profile needs a pandas DataFrame; got {type(df).__name__}.")
    for arg, value in (("top_categories", top_categories), ("top_features", top_features)):
        if not is_integer(value) or value < 1:
            raise ValueError(f"{arg} must be a positive integer; got {value!r}.")
    lab = _check_labels(labels, len(df))
    if schema is None:
        schema = infer_schema(df)
    elif not isinstance(schema, Schema):
        raise TypeError(f"schema must be a Schema (see infer_schema); got {type(schema).__name__}.")
    missing = [c for c in schema.kinds if c not in df.columns]
    if missing:
        raise ValueError(f"schema names columns {missing} that are not in the table.")
    kinds: dict[Any, str] = {}
    for col in df.columns:
        kind = schema.kinds.get(col)
        if kind in _NUMERIC_KINDS:
            kinds[col] = "numeric"
        elif kind in _CATEGORICAL_KINDS:
            kinds[col] = "categorical"
    if not kinds:
        raise ValueError(
            "df has no column to profile: profiles need numeric, categorical, binary or ordinal columns, "
            f"and the schema says {dict(schema.kinds)}. Override kinds with infer_schema(df, overrides=...)."
        )

    segments = sorted(int(s) for s in np.unique(lab[lab >= 0]))
    overrides = _check_names(names, segments)
    assigned = lab >= 0
    lab_a = lab[assigned]
    data = df.iloc[np.flatnonzero(assigned)]

    n_rows = len(df)
    size_rows: list[dict[str, Any]] = [{"segment": s, "size": int(np.sum(lab == s))} for s in segments]
    n_unassigned = int(np.sum(lab == -1))
    if n_unassigned:
        size_rows.append({"segment": -1, "size": n_unassigned})
    for row in size_rows:
        row["share"] = row["size"] / n_rows

    numeric_rows: list[dict[str, Any]] = []
    categorical_rows: list[dict[str, Any]] = []
    candidates: dict[int, list[dict[str, Any]]] = {s: [] for s in segments}
    for position, (col, kind) in enumerate(kinds.items()):
        values = data[col]
        if kind == "numeric":
            rows = _numeric_rows(col, values, lab_a, segments)
            numeric_rows.extend(rows)
            for row in rows:
                d = row["std_diff"]
                if math.isfinite(d) and abs(d) > _NEGLIGIBLE:
                    direction, text = _phrase_numeric(col, d)
                    candidates[row["segment"]].append({
                        "feature": col, "kind": "numeric", "category": None, "direction": direction,
                        "std_diff": d, "lift": math.nan, "share": math.nan, "share_rest": math.nan,
                        "description": text, "_order": position,
                    })
            continue
        cats, per_seg, totals, overall, total = _categorical_stats(values, lab_a, segments)
        if total == 0:
            continue
        share_all = overall / total
        for seg in segments:
            n_s = totals[seg]
            if n_s == 0:
                continue
            share = per_seg[seg] / n_s
            lift = share / share_all
            # top categories by share in the segment; ties keep the fixed category order
            order = sorted(range(len(cats)), key=lambda i: -share[i])[: int(top_categories)]
            for rank, i in enumerate(order, start=1):
                categorical_rows.append({
                    "segment": seg, "column": col, "rank": rank, "category": _plain(cats[i]),
                    "count": int(per_seg[seg][i]), "share": float(share[i]),
                    "share_overall": float(share_all[i]), "lift": float(lift[i]),
                })
            d, share_rest = _indicator_differences(per_seg[seg], n_s, overall, total)
            best = int(np.argmax(np.where(np.isfinite(d), d, -np.inf))) if len(cats) else -1
            if best >= 0 and math.isfinite(d[best]) and d[best] > _NEGLIGIBLE:  # the first of equal ones
                j = best
                candidates[seg].append({
                    "feature": col, "kind": "categorical", "category": _plain(cats[j]), "direction": "over",
                    "std_diff": float(d[j]), "lift": float(lift[j]), "share": float(share[j]),
                    "share_rest": float(share_rest[j]),
                    "description": _phrase_category(col, cats[j], float(share[j])), "_order": position,
                })

    dist_rows = []
    auto: dict[int, str] = {}
    for seg in segments:
        ranked = sorted(candidates[seg], key=lambda c: (-abs(c["std_diff"]), c["_order"]))[: int(top_features)]
        for rank, cand in enumerate(ranked, start=1):
            row = {"segment": seg, "rank": rank}
            row.update({k: v for k, v in cand.items() if k != "_order"})
            dist_rows.append(row)
        auto[seg] = ", ".join(c["description"] for c in ranked[:2]) or f"Segment {seg}"
    final = _resolve_names(auto, overrides)

    sizes = pd.DataFrame(size_rows)
    sizes.insert(1, "name", [final.get(r["segment"], UNASSIGNED) for r in size_rows])
    return SegmentProfile(
        sizes=sizes[_SIZES_COLUMNS].reset_index(drop=True),
        numeric=_table(numeric_rows, _NUMERIC_COLUMNS),
        categorical=_table(categorical_rows, _CATEGORICAL_COLUMNS),
        distinguishing=_table(dist_rows, _DISTINGUISHING_COLUMNS),
        names=final,
        auto_names=auto,
        overrides=overrides,
        kinds=kinds,
    )
