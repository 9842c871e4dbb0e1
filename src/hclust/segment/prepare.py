"""Fitted, serialisable preparation of a customer table into numeric features."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._deprecation import keyword_only
from .._validation import check_feature_weights, check_option
from .._column_kinds import _plain
from .schema import Schema, infer_schema

__all__ = ["PreparationRecord", "Preparer", "PreparerWarning"]

_IMPUTE = ("median", "mean", "most_frequent", "drop")
_SCALE = ("standard", "robust", "minmax")
#: "auto" log1p: a non-negative numeric column whose sample skewness exceeds this.
AUTO_LOG1P_SKEW = 1.0
_FORMAT_VERSION = 1


class PreparerWarning(UserWarning):
    """Something in the data was changed or left out while preparing it (the message says what)."""


_SCALE_TEXT = {
    "standard": "standardised ((x - mean) / standard deviation)",
    "robust": "robust-scaled ((x - median) / interquartile range)",
    "minmax": "min-max scaled to [0, 1]",
}
_IMPUTE_TEXT = {"median": "median", "mean": "mean", "most_frequent": "most frequent value"}


def _names(values: Sequence[Any], limit: int = 12) -> str:
    """``a, b, c`` (at most ``limit`` names, then how many more)."""
    shown = [str(v) for v in list(values)[:limit]]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _counts(counts: Mapping[Any, int], limit: int = 12) -> str:
    items = [f"{c} {n:,}" for c, n in list(counts.items())[:limit]]
    more = len(counts) - len(items)
    return ", ".join(items) + (f" and {more} more columns" if more > 0 else "")


@dataclass(frozen=True)
class PreparationRecord:
    """What preparing a customer table did, column by column: plain data for summaries and reports.

    Built by :meth:`Preparer.record` (and by :class:`hclust.SegmentationModel`,
    which adds the columns it left out itself and describes the Gower path).

    Attributes
    ----------
    rows_in : int or None
        Rows of the table given (None: unknown, for a Preparer saved before records existed).
    rows_used : int
        Rows that became customers to segment.
    used : list of str
        Columns that became features.
    excluded : dict
        Column -> why it was left out (an identifier, constant, excluded by the user, ...).
    impute : str or None
        How missing values were handled: ``"median"``, ``"mean"``, ``"most_frequent"``,
        ``"drop"`` (rows dropped), None (refused), or ``"gower"`` (kept: Gower skips a
        variable missing in either row of a pair).
    imputed : dict
        Column -> values filled in (only columns with some).
    dropped : dict
        Column -> rows dropped because that column was missing (``impute="drop"``; a
        row missing several columns counts in each).
    log1p : list of str
        Columns transformed with ``log1p`` before scaling.
    scale : str or None
        ``"standard"``, ``"robust"``, ``"minmax"``, None, or ``"range"`` (Gower: each
        number divided by its range).
    features : list of str
        The features the distances are computed on (one per column for Gower).
    distance : str
        What the distances are, in words.
    notes : list of str
        Anything else worth saying (one-hot expansions, feature weights, Gower types).

    Examples
    --------
    >>> import pandas as pd
    >>> from hclust.segment import Preparer
    >>> df = pd.DataFrame({"id": ["a", "b", "c", "d"], "spend": [1.0, None, 3.0, 400.0],
    ...                    "plan": ["x", "y", "x", "x"]})
    >>> prep = Preparer(log1p=["spend"])
    >>> _ = prep.fit_transform(df)
    >>> print("\\n".join(prep.record().lines()))
    4 rows in, 4 used.
    Columns used (2): spend, plan; left out (1): id (identifier: unique value per row).
    Missing values filled with the median: spend 1.
    log1p before scaling (1 of 1 numeric columns): spend.
    Numbers standardised ((x - mean) / standard deviation).
    2 features: spend, plan=y.
    """

    rows_in: int | None
    rows_used: int
    used: list[str]
    excluded: dict[str, str]
    impute: str | None
    imputed: dict[str, int]
    dropped: dict[str, int]
    log1p: list[str]
    scale: str | None
    features: list[str]
    distance: str = "Euclidean distances of the prepared features"
    notes: list[str] = field(default_factory=list)
    n_numeric: int = 0

    def lines(self) -> list[str]:
        """The record in sentences, one per line (what the CLI, summaries and reports print)."""
        out = []
        dropped_rows = None if self.rows_in is None else self.rows_in - self.rows_used
        if self.rows_in is None:
            out.append(f"{self.rows_used:,} rows used.")
        elif dropped_rows:
            out.append(
                f"{self.rows_in:,} rows in, {self.rows_used:,} used: {dropped_rows:,} dropped for missing values "
                f"({_counts(self.dropped)})."
            )
        else:
            out.append(f"{self.rows_in:,} rows in, {self.rows_used:,} used.")
        text = f"Columns used ({len(self.used)}): {_names(self.used)}"
        if self.excluded:
            reasons = [f"{c} ({why})" for c, why in self.excluded.items()]
            text += f"; left out ({len(self.excluded)}): {_names(reasons, 8)}"
        out.append(text + ".")
        if self.impute == "gower":
            out.append(
                "Missing values kept: Gower compares a pair of rows on the columns present in both."
                + (f" Missing: {_counts(self.imputed)}." if self.imputed else "")
            )
        elif self.imputed:
            how = _IMPUTE_TEXT.get(str(self.impute), str(self.impute))
            out.append(f"Missing values filled with the {how}: {_counts(self.imputed)}.")
        elif self.impute != "drop" or not dropped_rows:
            out.append("No missing values.")
        if self.scale == "range":
            out.append("Numbers divided by their range (Gower); categories compared as equal or not.")
        else:
            if self.n_numeric:
                if self.log1p:
                    out.append(
                        f"log1p before scaling ({len(self.log1p)} of {self.n_numeric} numeric columns): "
                        f"{_names(self.log1p)}."
                    )
                else:
                    out.append("No log1p transform.")
            out.append(f"Numbers {_SCALE_TEXT[self.scale]}." if self.scale else "Numbers not scaled.")
        out.extend(self.notes)
        out.append(f"{len(self.features)} features: {_names(self.features)}.")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (see :meth:`from_dict`)."""
        return {
            "rows_in": self.rows_in,
            "rows_used": int(self.rows_used),
            "used": [str(c) for c in self.used],
            "excluded": [[str(c), why] for c, why in self.excluded.items()],
            "impute": self.impute,
            "imputed": [[str(c), int(n)] for c, n in self.imputed.items()],
            "dropped": [[str(c), int(n)] for c, n in self.dropped.items()],
            "log1p": [str(c) for c in self.log1p],
            "scale": self.scale,
            "features": [str(f) for f in self.features],
            "distance": self.distance,
            "notes": list(self.notes),
            "n_numeric": int(self.n_numeric),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PreparationRecord":
        """Rebuild a record written by :meth:`to_dict`."""
        return cls(
            rows_in=data["rows_in"],
            rows_used=int(data["rows_used"]),
            used=list(data["used"]),
            excluded={c: why for c, why in data["excluded"]},
            impute=data["impute"],
            imputed={c: int(n) for c, n in data["imputed"]},
            dropped={c: int(n) for c, n in data["dropped"]},
            log1p=list(data["log1p"]),
            scale=data["scale"],
            features=list(data["features"]),
            distance=data.get("distance", "Euclidean distances of the prepared features"),
            notes=list(data.get("notes", [])),
            n_numeric=int(data.get("n_numeric", 0)),
        )


def _python_kinds(values: Sequence[Any]) -> set[type]:
    return {float if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else type(v) for v in values}


def _lookup(series: pd.Series, levels: list[Any], as_text: bool) -> np.ndarray:
    """Codes of ``series`` in ``levels`` (-1: missing or unseen)."""
    values = series.astype(object)
    if as_text:
        values = values.where(values.isna(), values.astype(str))
    index = pd.Index(levels, dtype=object)
    codes = index.get_indexer(pd.Index(values.to_numpy(dtype=object), dtype=object))
    codes = np.asarray(codes, dtype=np.int64)
    codes[np.asarray(series.isna())] = -1
    return codes


class Preparer:
    """Turn a customer table into numeric features for clustering, and new rows the same way.

    Parameters
    ----------
    schema : Schema or dict, optional
        Column kinds (see :func:`hclust.segment.infer_schema`); inferred from
        the table given to ``fit`` when omitted.
    impute : {"median", "mean", "most_frequent", "drop"} or None, default="median"
        Missing numeric, date and ordinal values get the fitted median / mean /
        most frequent value; missing binary and categorical values the most
        frequent level. ``"drop"`` drops rows with a missing value in a used
        column (with a :class:`PreparerWarning` that counts them per column);
        ``None`` refuses missing values.
    log1p : "auto", list of columns or None, default="auto"
        ``log1p`` of skewed non-negative amounts before scaling. ``"auto"``
        picks numeric columns that are non-negative in fit with skewness above
        :data:`AUTO_LOG1P_SKEW`.
    scale : {"standard", "robust", "minmax"} or None, default="standard"
        Scaling of numeric, date and ordinal features (binary and one-hot
        features stay 0/1): (x - mean) / std, (x - median) / IQR,
        (x - min) / (max - min). A zero spread scales by 1.
    one_hot : bool, default=True
        One 0/1 feature per level of each categorical column. ``False`` gives
        one integer-code feature per categorical column instead (the code of
        the sorted level, -1 for an unseen one; not scaled; only meaningful
        for a categorical-aware metric).
    feature_weights : mapping, optional
        Multiplies features after scaling: keys are columns (all of their
        features) or feature names (e.g. ``"region=north"``).

    Attributes
    ----------
    schema_ : Schema
    feature_names_out_ : list of str
    specs_ : list of dict
        Per used column, everything ``transform`` needs (plain JSON types).
    missing_counts_ : dict
        Missing values per used column in the fitted table.
    dropped_rows_ : list
        Index labels of the rows dropped in fit (``impute="drop"``).
    n_rows_in_, n_rows_used_ : int
        Rows of the fitted table, and rows left after dropping.

    See Also
    --------
    Preparer.record : what the fit did, column by column, in words.

    Notes
    -----
    Dates become "days before the latest date seen in fit"; binary columns one
    0/1 feature named ``"col=<second level>"``; ordinal columns their rank
    (0 = lowest level), scaled like numbers. In ``transform``, unseen
    categorical levels give all-zero one-hot features, unseen binary or
    ordinal values are treated as missing; both are reported in one
    :class:`PreparerWarning`. New negative values in a log1p column are
    clipped to 0 (reported).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"spend": [10.0, 20.0, None, 40.0], "region": ["n", "s", "n", "e"]})
    >>> prep = Preparer(log1p=None, scale="minmax")
    >>> prep.fit_transform(df).round(2)
       spend  region=e  region=n  region=s
    0   0.00       0.0       1.0       0.0
    1   0.33       0.0       0.0       1.0
    2   0.33       0.0       1.0       0.0
    3   1.00       1.0       0.0       0.0
    >>> prep.inverse_transform_numeric([[0.5, 0, 1, 0]])
       spend
    0   25.0
    """

    @keyword_only(2)  # self and schema
    def __init__(
        self,
        schema: Schema | Mapping[str, Any] | None = None,
        *,
        impute: str | None = "median",
        log1p: str | Sequence[Any] | None = "auto",
        scale: str | None = "standard",
        one_hot: bool = True,
        feature_weights: Mapping[Any, float] | None = None,
    ) -> None:
        self.schema = schema
        self.impute = impute
        self.log1p = log1p
        self.scale = scale
        self.one_hot = one_hot
        self.feature_weights = feature_weights

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame, y: Any = None) -> "Preparer":
        """Learn the encoding from ``df``; see :meth:`fit_transform`."""
        self.fit_transform(df)
        return self

    def fit_transform(self, df: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        """Learn the encoding from ``df`` and return its features.

        Returns
        -------
        DataFrame
            Columns ``feature_names_out_``, the index of ``df`` (less dropped rows).
        """
        if self.impute is not None:
            check_option(self.impute, "impute", _IMPUTE)
        if self.scale is not None:
            check_option(self.scale, "scale", _SCALE)
        frame = self._check_frame(df, "df")
        schema = self._schema_for(frame)
        for col in schema.kinds:
            if col not in frame.columns:
                raise ValueError(
                    f"the schema names column {col!r}, which is not in the table; its columns are "
                    f"{list(frame.columns)}."
                )
        extra = [c for c in frame.columns if c not in schema.kinds]
        if extra:
            warnings.warn(f"columns {extra} are not in the schema and were ignored.", PreparerWarning, stacklevel=2)
        used = schema.used
        if not used:
            raise ValueError(
                f"no usable columns: every column is excluded ({schema.kinds}). Override the schema "
                "(infer_schema(df, overrides={...})) to keep some."
            )
        log1p_cols = self._check_log1p(schema)

        specs: list[dict[str, Any]] = []
        raw: dict[Any, np.ndarray] = {}
        missing_counts: dict[Any, int] = {}
        for col in used:
            kind = schema.kinds[col]
            spec: dict[str, Any] = {"name": _plain(col), "kind": kind}
            values, spec_extra = self._learn_column(frame[col], col, kind, schema)
            spec.update(spec_extra)
            n_missing = int(np.isnan(values).sum()) if values.dtype.kind == "f" else int((values < 0).sum())
            if n_missing == len(frame):
                raise ValueError(
                    f"column {col!r} is entirely missing, so it cannot be prepared; exclude it "
                    f"(infer_schema(df, overrides={{{col!r}: 'constant'}}) or drop it from the table."
                )
            missing_counts[col] = n_missing
            raw[col] = values
            specs.append(spec)

        if missing_counts and any(missing_counts.values()):
            if self.impute is None:
                bad = {c: k for c, k in missing_counts.items() if k}
                raise ValueError(
                    f"the table has missing values {bad} (column: count) and impute=None; choose "
                    "impute='median', 'mean', 'most_frequent' or 'drop'."
                )
        keep = np.ones(len(frame), dtype=bool)
        if self.impute == "drop":
            for values in raw.values():
                keep &= ~(np.isnan(values) if values.dtype.kind == "f" else values < 0)
            if not keep.any():
                raise ValueError(
                    f"impute='drop' would drop every row (missing per column: {missing_counts}); "
                    "impute instead, or exclude the emptiest columns."
                )
            if not keep.all():
                report = {c: k for c, k in missing_counts.items() if k}
                warnings.warn(
                    f"impute='drop' dropped {int((~keep).sum())} of {len(frame)} rows with missing values "
                    f"(missing per column: {report}); see dropped_rows_.",
                    PreparerWarning,
                    stacklevel=2,
                )
        for spec in specs:
            col = spec["name"]
            values = raw[col][keep]
            self._learn_fill(spec, values)
            if spec["kind"] in ("numeric", "date", "ordinal"):
                filled = np.where(np.isnan(values), spec["fill"], values)
                spec["log1p"] = col in log1p_cols or (
                    self.log1p == "auto" and spec["kind"] == "numeric" and self._skewed(filled)
                )
                if spec["log1p"]:
                    filled = np.log1p(filled)
                spec["center"], spec["scale"] = self._learn_scale(filled)
        self.schema_ = schema
        self.specs_ = specs
        self.missing_counts_ = {k: v for k, v in missing_counts.items()}
        self.dropped_rows_ = [_plain(v) for v in frame.index[~keep]]
        self.n_rows_in_: int | None = int(len(frame))  # None in Preparers saved before issue 19
        self.n_rows_used_ = int(keep.sum())
        self.feature_names_out_ = self._feature_names(specs)
        self._set_weights()
        return self._encode(frame.loc[keep] if not keep.all() else frame, raw, keep)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Features of new rows with the fitted encoding.

        Raises
        ------
        ValueError
            When a fitted column is missing from ``df``.

        Warns
        -----
        PreparerWarning
            For unseen levels, text in numeric columns, clipped log1p values,
            dropped rows, and columns that were not in the fitted table.
        """
        self._check_fitted()
        frame = self._check_frame(df, "df")
        names = [spec["name"] for spec in self.specs_]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ValueError(
                f"the new rows lack the fitted columns {missing}; they need all of {names} "
                "(extra columns are ignored)."
            )
        unknown = [c for c in frame.columns if c not in self.schema_.kinds]
        if unknown:
            warnings.warn(
                f"columns {unknown} were not in the fitted table and were ignored.", PreparerWarning, stacklevel=2
            )
        raw: dict[Any, np.ndarray] = {}
        unseen: dict[Any, list[Any]] = {}
        for spec in self.specs_:
            raw[spec["name"]], new_values = self._apply_column(frame[spec["name"]], spec)
            if new_values:
                unseen[spec["name"]] = new_values
        if unseen:
            warnings.warn(
                f"values not seen in fit: {unseen}. Categorical ones get all-zero one-hot features; binary "
                "and ordinal ones are treated as missing.",
                PreparerWarning,
                stacklevel=2,
            )
        keep = np.ones(len(frame), dtype=bool)
        if self.impute == "drop" or self.impute is None:
            for spec in self.specs_:
                values = raw[spec["name"]]
                if spec["kind"] == "categorical":
                    keep &= ~np.asarray(frame[spec["name"]].isna())
                else:
                    keep &= ~np.isnan(values)
            if not keep.all():
                if self.impute is None:
                    raise ValueError(
                        f"{int((~keep).sum())} new rows have missing values and impute=None; impute or drop them."
                    )
                warnings.warn(
                    f"impute='drop' dropped {int((~keep).sum())} of {len(frame)} new rows with missing values.",
                    PreparerWarning,
                    stacklevel=2,
                )
        return self._encode(frame.loc[keep] if not keep.all() else frame, raw, keep)

    def inverse_transform_numeric(self, centroids: Any) -> pd.DataFrame:
        """Map feature-space points (e.g. segment centroids) back to original units.

        Parameters
        ----------
        centroids : array-like of shape (k, n_features_out) or DataFrame with ``feature_names_out_``

        Returns
        -------
        DataFrame
            One column per numeric column (in its units; log1p undone) and per
            date column (``"<col>_days_ago"``: days before the latest fitted
            date). A feature with weight 0 cannot be undone and gives NaN.
        """
        self._check_fitted()
        if isinstance(centroids, pd.DataFrame):
            missing = [f for f in self.feature_names_out_ if f not in centroids.columns]
            if missing:
                raise ValueError(f"centroids lack the features {missing}.")
            values = centroids[self.feature_names_out_].to_numpy(dtype=np.float64)
            index = centroids.index
        else:
            values = np.atleast_2d(np.asarray(centroids, dtype=np.float64))
            index = pd.RangeIndex(values.shape[0])
        if values.ndim != 2 or values.shape[1] != len(self.feature_names_out_):
            raise ValueError(
                f"centroids must have shape (k, {len(self.feature_names_out_)}) to match feature_names_out_; "
                f"got {values.shape}."
            )
        out: dict[str, np.ndarray] = {}
        position = {name: i for i, name in enumerate(self.feature_names_out_)}
        for spec in self.specs_:
            if spec["kind"] not in ("numeric", "date"):
                continue
            feature = spec["features"][0]
            weight = spec["weights"][0]
            column = values[:, position[feature]]
            with np.errstate(divide="ignore", invalid="ignore"):
                unweighted = column / weight if weight != 0 else np.full_like(column, np.nan)
            original = unweighted * spec["scale"] + spec["center"]
            if spec["log1p"]:
                original = np.expm1(original)
            out[feature] = original
        if not out:
            raise ValueError("the fitted table has no numeric or date columns to map back.")
        return pd.DataFrame(out, index=index)

    def record(self, excluded: Mapping[Any, str] | None = None) -> PreparationRecord:
        """What the fit did to the table: rows dropped, values imputed, columns transformed or left out.

        Parameters
        ----------
        excluded : mapping, optional
            Columns the caller left out before preparing, -> why (listed first).

        Returns
        -------
        PreparationRecord
        """
        self._check_fitted()
        left_out: dict[str, str] = {str(c): why for c, why in (excluded or {}).items()}
        for col in self.schema_.excluded:
            kind = self.schema_.kinds[col]
            reason = self.schema_.reasons.get(col) or ""
            label = "identifier" if kind == "id" else kind
            left_out[str(col)] = f"{label}: {reason}" if reason else label
        missing = {str(c): int(n) for c, n in self.missing_counts_.items() if n}
        numeric = [spec for spec in self.specs_ if spec["kind"] == "numeric"]
        notes = []
        one_hot = [
            f"{spec['name']} ({len(spec['levels'])} levels)"
            for spec in self.specs_
            if spec["kind"] == "categorical" and self.one_hot
        ]
        if one_hot:
            notes.append(f"One 0/1 feature per level of: {_names(one_hot)}.")
        weighted = {
            name: weight
            for spec in self.specs_
            for name, weight in zip(spec["features"], spec["weights"])
            if weight != 1.0
        }
        if weighted:
            notes.append("Feature weights: " + _names([f"{k} x {v:.3g}" for k, v in weighted.items()]) + ".")
        rows_in = getattr(self, "n_rows_in_", None)
        return PreparationRecord(
            rows_in=rows_in,
            rows_used=(rows_in - len(self.dropped_rows_)) if rows_in is not None else int(self.n_rows_used_),
            used=[str(spec["name"]) for spec in self.specs_],
            excluded=left_out,
            impute=self.impute,
            imputed={} if self.impute == "drop" else missing,
            dropped=missing if self.impute == "drop" else {},
            log1p=[str(spec["name"]) for spec in self.specs_ if spec.get("log1p")],
            scale=self.scale,
            features=list(self.feature_names_out_),
            notes=notes,
            n_numeric=len(numeric),
        )

    # -------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Parameters and fitted state as plain JSON types (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "format": "hclust.Preparer",
            "version": _FORMAT_VERSION,
            "params": {
                "impute": self.impute,
                "log1p": self.log1p if self.log1p in (None, "auto") else [_plain(c) for c in self.log1p],
                "scale": self.scale,
                "one_hot": bool(self.one_hot),
                "feature_weights": (
                    None
                    if self.feature_weights is None
                    else [[_plain(k), float(v)] for k, v in self.feature_weights.items()]
                ),
            },
            "schema": self.schema_.to_dict(),
            "specs": self.specs_,
            "feature_names_out": list(self.feature_names_out_),
            "missing_counts": [[_plain(k), int(v)] for k, v in self.missing_counts_.items()],
            "dropped_rows": list(self.dropped_rows_),
            "n_rows_in": self.n_rows_in_,
            "n_rows_used": self.n_rows_used_,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Preparer":
        """Rebuild a fitted Preparer written by :meth:`to_dict`."""
        if not isinstance(data, Mapping) or data.get("format") != "hclust.Preparer":
            raise ValueError("not a Preparer dictionary (expected format='hclust.Preparer' from Preparer.to_dict()).")
        if data.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"Preparer format version {data.get('version')!r} is not supported (this hclust reads "
                f"version {_FORMAT_VERSION})."
            )
        params = dict(data["params"])
        weights = params.pop("feature_weights")
        schema = Schema.from_dict(data["schema"])
        prep = cls(
            schema=schema,
            feature_weights=None if weights is None else {k: v for k, v in weights},
            **params,
        )
        prep.schema_ = schema
        prep.specs_ = [dict(spec) for spec in data["specs"]]
        prep.feature_names_out_ = list(data["feature_names_out"])
        prep.missing_counts_ = {k: v for k, v in data["missing_counts"]}
        prep.dropped_rows_ = list(data["dropped_rows"])
        # absent from Preparers saved before the preparation record (hclust issue 19)
        prep.n_rows_in_ = data.get("n_rows_in")
        prep.n_rows_used_ = data.get("n_rows_used", schema.n_rows - len(prep.dropped_rows_))
        return prep

    # ------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "specs_"):
            raise RuntimeError("This Preparer is not fitted yet; call fit(df) or fit_transform(df) first.")

    @staticmethod
    def _check_frame(df: Any, name: str) -> pd.DataFrame:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame; got {type(df).__name__}.")
        if len(df) == 0:
            raise ValueError(f"{name} has no rows.")
        if not df.columns.is_unique:
            dup = list(df.columns[df.columns.duplicated()].unique())
            raise ValueError(f"{name} has duplicated column names {dup}; rename them first.")
        return df

    def _schema_for(self, frame: pd.DataFrame) -> Schema:
        if self.schema is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                schema = infer_schema(frame)
            for w in caught:  # re-issue, so the caller sees what infer_schema decided
                warnings.warn(str(w.message), w.category, stacklevel=4)
            return schema
        if isinstance(self.schema, Schema):
            return self.schema
        if isinstance(self.schema, Mapping):
            return Schema.from_dict(self.schema)
        raise TypeError(f"schema must be a Schema or a dict from Schema.to_dict(); got {type(self.schema).__name__}.")

    def _check_log1p(self, schema: Schema) -> set[Any]:
        if self.log1p is None or (isinstance(self.log1p, str) and self.log1p == "auto"):
            return set()
        if isinstance(self.log1p, str):
            raise ValueError(f"log1p must be 'auto', a list of column names or None; got {self.log1p!r}.")
        cols = list(self.log1p)
        unknown = [c for c in cols if c not in schema.kinds]
        if unknown:
            raise ValueError(f"log1p names columns {unknown} that are not in the table.")
        not_numeric = [c for c in cols if schema.kinds[c] != "numeric"]
        if not_numeric:
            raise ValueError(f"log1p applies to numeric columns only; {not_numeric} are not numeric in the schema.")
        return set(cols)

    @staticmethod
    def _numeric(series: pd.Series, col: Any) -> tuple[np.ndarray, list[Any]]:
        """float64 values (NaN: missing) and examples of text that was not a number."""
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.astype(np.float64).to_numpy(), []
        if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            numbers = pd.to_numeric(series.astype(object), errors="coerce")
            bad = series[numbers.isna() & series.notna()]
            values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
            if len(bad):
                return np.where(np.isinf(values), np.nan, values), [_plain(v) for v in bad.unique()[:5]]
        if np.isinf(values).any():
            raise ValueError(f"column {col!r} holds infinite values; replace them (e.g. by NaN = missing).")
        return values, []

    def _learn_column(
        self, series: pd.Series, col: Any, kind: str, schema: Schema
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Raw values (float, NaN = missing; codes for binary/categorical, -1 = missing) and the spec."""
        if kind == "numeric":
            values, bad = self._numeric(series, col)
            if bad:
                warnings.warn(
                    f"column {col!r} is numeric but holds text that is not a number (e.g. {bad}); "
                    f"{int(np.isnan(values).sum() - series.isna().sum())} such values were treated as missing.",
                    PreparerWarning,
                    stacklevel=4,
                )
            return values, {}
        if kind == "date":
            dates = self._dates(series, col)
            reference = dates.max()
            if pd.isna(reference):
                return np.full(len(series), np.nan), {"reference": None}
            return self._days_before(dates, reference), {"reference": reference.isoformat()}
        if kind == "ordinal":
            if col in schema.levels:
                levels = list(schema.levels[col])
            elif isinstance(series.dtype, pd.CategoricalDtype):
                levels = [_plain(v) for v in series.dtype.categories]
            else:
                raise ValueError(f"column {col!r} is ordinal but the schema gives no levels; set Schema.levels.")
            codes = _lookup(series, levels, as_text=False)
            unseen = series[(codes < 0) & np.asarray(series.notna())]
            if len(unseen):
                raise ValueError(
                    f"column {col!r} has values {list(unseen.unique()[:5])} that are not among its ordinal "
                    f"levels {levels}."
                )
            return np.where(codes >= 0, codes.astype(np.float64), np.nan), {"levels": levels}
        present = series.dropna()
        uniques = [_plain(v) for v in present.unique()]
        as_text = len(_python_kinds(uniques)) > 1
        if as_text:
            uniques = sorted({str(v) for v in uniques})
        if isinstance(series.dtype, pd.CategoricalDtype) and not as_text:
            seen = set(uniques)
            levels = [_plain(v) for v in series.dtype.categories if _plain(v) in seen]
        else:
            try:
                levels = sorted(uniques)
            except TypeError:
                levels = list(uniques)
        if kind == "binary":
            if pd.api.types.is_bool_dtype(series.dtype) or set(levels) <= {0, 1}:
                levels = [False, True] if pd.api.types.is_bool_dtype(series.dtype) else [0, 1]
            if len(levels) > 2:
                raise ValueError(
                    f"column {col!r} is binary in the schema but has {len(levels)} distinct values "
                    f"({levels[:5]}); make it 'categorical'."
                )
        codes = _lookup(series, levels, as_text)
        if kind == "binary":
            return np.where(codes >= 0, codes.astype(np.float64), np.nan), {"levels": levels, "as_text": as_text}
        return codes, {"levels": levels, "as_text": as_text}

    @staticmethod
    def _dates(series: pd.Series, col: Any) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            dates = series
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dates = pd.to_datetime(series, errors="coerce", format="mixed")
            bad = series[dates.isna() & series.notna()]
            if len(bad):
                warnings.warn(
                    f"column {col!r} has {len(bad)} values that are not dates (e.g. {list(bad.unique()[:3])}); "
                    "treated as missing.",
                    PreparerWarning,
                    stacklevel=5,
                )
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
        return dates

    @staticmethod
    def _days_before(dates: pd.Series, reference: pd.Timestamp) -> np.ndarray:
        delta = (pd.Timestamp(reference) - dates).dt.total_seconds() / 86_400.0
        return delta.to_numpy(dtype=np.float64, na_value=np.nan)

    def _learn_fill(self, spec: dict[str, Any], values: np.ndarray) -> None:
        if spec["kind"] in ("numeric", "date", "ordinal"):
            observed = values[~np.isnan(values)]
            if self.impute == "mean":
                fill = float(observed.mean())
            elif self.impute == "most_frequent":
                uniq, counts = np.unique(observed, return_counts=True)
                fill = float(uniq[np.argmax(counts)])  # ties to the smallest value
            elif spec["kind"] == "ordinal":
                fill = float(np.floor(np.median(observed)))  # a level, not between two
            else:
                fill = float(np.median(observed))
            spec["fill"] = fill
        else:
            observed = values[values >= 0] if values.dtype.kind == "i" else values[~np.isnan(values)]
            counts = np.bincount(observed.astype(np.int64), minlength=len(spec["levels"]))
            spec["fill"] = int(np.argmax(counts))  # the most frequent level; ties to the first

    @staticmethod
    def _skewed(values: np.ndarray) -> bool:
        if values.size < 3 or values.min() < 0:
            return False
        mean, std = _moments(values)
        if std == 0:
            return False
        skew = float(np.mean(((values - mean) / std) ** 3))
        return skew > AUTO_LOG1P_SKEW

    def _learn_scale(self, values: np.ndarray) -> tuple[float, float]:
        if self.scale is None:
            return 0.0, 1.0
        if self.scale == "standard":
            center, spread = _moments(values)
        elif self.scale == "robust":
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            center, spread = float(median), float(q3 - q1)
        else:
            center, spread = float(values.min()), float(values.max() - values.min())
        return center, (spread if spread > 0 and math.isfinite(spread) else 1.0)

    def _feature_names(self, specs: list[dict[str, Any]]) -> list[str]:
        names: list[str] = []
        for spec in specs:
            col, kind = spec["name"], spec["kind"]
            if kind in ("numeric", "ordinal"):
                spec["features"] = [str(col)]
            elif kind == "date":
                spec["features"] = [f"{col}_days_ago"]
            elif kind == "binary":
                spec["features"] = [f"{col}={spec['levels'][-1]}"]
            elif self.one_hot:
                spec["features"] = [f"{col}={level}" for level in spec["levels"]]
            else:
                spec["features"] = [str(col)]
            names.extend(spec["features"])
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"feature names collide: {dup}; rename the columns or levels involved.")
        return names

    def _set_weights(self) -> None:
        weights = dict(self.feature_weights or {})
        by_column = {spec["name"]: spec for spec in self.specs_}
        features = set(self.feature_names_out_)
        unknown = [k for k in weights if k not in by_column and k not in features]
        if unknown:
            raise ValueError(
                f"feature_weights names {unknown}, which are neither used columns ({list(by_column)}) nor "
                f"features ({self.feature_names_out_})."
            )
        weights = dict(zip(weights, check_feature_weights(weights.items(), "feature_weights")))
        for spec in self.specs_:
            base = float(weights.get(spec["name"], 1.0))
            spec["weights"] = [float(weights.get(f, base)) for f in spec["features"]]

    def _apply_column(self, series: pd.Series, spec: dict[str, Any]) -> tuple[np.ndarray, list[Any]]:
        """Raw values of a new batch (as in fit) and the unseen values."""
        col, kind = spec["name"], spec["kind"]
        if kind == "numeric":
            values, bad = self._numeric(series, col)
            if bad:
                warnings.warn(
                    f"column {col!r} holds text that is not a number (e.g. {bad}); treated as missing.",
                    PreparerWarning,
                    stacklevel=4,
                )
            return values, []
        if kind == "date":
            dates = self._dates(series, col)
            return self._days_before(dates, pd.Timestamp(spec["reference"])), []
        codes = _lookup(series, spec["levels"], spec.get("as_text", False))
        unseen_mask = (codes < 0) & np.asarray(series.notna())
        unseen = [_plain(v) for v in pd.unique(series[unseen_mask].to_numpy(dtype=object))][:20]
        if kind == "ordinal":
            return np.where(codes >= 0, codes.astype(np.float64), np.nan), unseen
        if kind == "binary":
            return np.where(codes >= 0, codes.astype(np.float64), np.nan), unseen
        return codes, unseen

    def _encode(self, frame: pd.DataFrame, raw: dict[Any, np.ndarray], keep: np.ndarray) -> pd.DataFrame:
        n = int(keep.sum())
        out = np.zeros((n, len(self.feature_names_out_)), dtype=np.float64)
        position = 0
        clipped: dict[Any, int] = {}
        for spec in self.specs_:
            values = raw[spec["name"]][keep]
            weights = spec["weights"]
            kind = spec["kind"]
            if kind in ("numeric", "date", "ordinal"):
                values = np.where(np.isnan(values), spec["fill"], values)
                if spec["log1p"]:
                    negative = values < 0
                    if negative.any():
                        clipped[spec["name"]] = int(negative.sum())
                        values = np.where(negative, 0.0, values)
                    values = np.log1p(values)
                out[:, position] = (values - spec["center"]) / spec["scale"] * weights[0]
                position += 1
            elif kind == "binary":
                values = np.where(np.isnan(values), spec["fill"], values)
                out[:, position] = values * weights[0]
                position += 1
            elif self.one_hot:
                codes = values.copy()
                is_missing = codes < 0
                if is_missing.any():
                    # missing -> the fitted most frequent level; unseen -> no level (all zero)
                    missing_in_input = np.asarray(frame[spec["name"]].isna())
                    codes[is_missing & missing_in_input] = spec["fill"]
                rows = np.flatnonzero(codes >= 0)
                block = np.zeros((n, len(spec["levels"])))
                block[rows, codes[rows]] = 1.0
                out[:, position : position + len(spec["levels"])] = block * np.asarray(weights)
                position += len(spec["levels"])
            else:
                codes = values.astype(np.float64)
                missing_in_input = np.asarray(frame[spec["name"]].isna())
                codes[(codes < 0) & missing_in_input] = spec["fill"]
                codes[codes < 0] = -1.0  # unseen level: code -1
                out[:, position] = codes * weights[0]
                position += 1
        if clipped:
            warnings.warn(
                f"negative values in log1p columns were clipped to 0 before log1p: {clipped} (column: count).",
                PreparerWarning,
                stacklevel=3,
            )
        return pd.DataFrame(out, index=frame.index, columns=self.feature_names_out_)


def _moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation computed on ``values / max |values|``, so that
    squares of large values (1e200) cannot overflow."""
    top = float(np.abs(values).max()) if values.size else 0.0
    if top == 0.0:
        return 0.0, 0.0
    if top < 1e150:  # squares fit: numpy's own (exact as before)
        return float(values.mean()), float(values.std())
    scaled = values / top
    return float(scaled.mean()) * top, float(scaled.std()) * top
