"""A fitted Gower metric for mixed-type customer tables.

``Gower`` learns, from a DataFrame, how to compare each column (numeric,
ordinal, nominal, symmetric or asymmetric binary), the numeric ranges and the
category levels; it then produces condensed, square or rectangular distance
matrices, always with the *fitted* ranges and levels, so that new customers are
measured on the same scale as the reference rows.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ._column_kinds import _infer_one
from ._kernels.gower import (
    gower_condensed_parallel,
    gower_condensed_serial,
    gower_cross_parallel,
    gower_cross_serial,
    gower_square_parallel,
    gower_square_serial,
)
from ._threads import numba_threads
from ._typing import FloatArray
from ._validation import check_feature_weights, check_memory, check_n_jobs, condensed_to_pair

__all__ = ["Gower", "GowerWarning", "GOWER_TYPES"]

#: Column types understood by :class:`Gower` (``types={"col": ...}``).
GOWER_TYPES: tuple[str, ...] = ("numeric", "ordinal", "nominal", "symm", "asymm", "ignore")

# kernel kinds (see hclust._kernels.gower)
_KIND_INTERVAL = 0
_KIND_MISMATCH = 1
_KIND_ASYMM = 2

# below this many pairs the thread start-up costs more than it saves
_PARALLEL_MIN_PAIRS = 20_000


class GowerWarning(UserWarning):
    """Some pairs of rows had no variable in common, so their distance is NaN."""


def _is_missing(series: pd.Series) -> np.ndarray:
    return np.asarray(series.isna(), dtype=bool)


def _sorted_levels(values: Sequence[Any]) -> list[Any]:
    """Sorted when the values are mutually comparable, else in order of first appearance."""
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def _to_plain(value: Any) -> Any:
    """Numpy scalars to Python scalars, for readable fitted attributes and messages."""
    return value.item() if isinstance(value, np.generic) else value


class Gower:
    """Gower's mixed-type dissimilarity, fitted on a table of customers.

    Parameters
    ----------
    weights : mapping or sequence of float, optional
        Per-column weights, by column name (missing names get 1) or one per
        column of the fitted frame. Weight 0 leaves a column out.
    types : mapping of str to str, optional
        Overrides the inferred type of columns: ``"numeric"``, ``"ordinal"``,
        ``"nominal"``, ``"symm"`` (symmetric binary), ``"asymm"`` (asymmetric
        binary) or ``"ignore"``. A column named here is never left out as an
        identifier (see Notes).
    n_jobs : int, optional
        Threads for the kernels (None: all numba threads; 1: serial).

    Attributes
    ----------
    feature_names_in_ : list
        All columns of the fitted frame.
    columns_ : list
        The columns used, in order (``"ignore"`` and identifier columns removed).
    excluded_ : dict
        Columns left out because they look like identifiers -> why (see Notes).
    feature_types_ : dict
        Column -> type, as used.
    ranges_ : dict
        Numeric and ordinal columns -> ``(min, max)`` seen in fit (for
        ordinals, of the level codes 1..L).
    levels_ : dict
        Ordinal, nominal and binary columns -> their levels (binary: the first
        level is coded 0, i.e. "absent" for asymmetric binaries).
    weights_ : ndarray
        Weight of each column in ``columns_``.
    kinds_ : ndarray of int64
        Kernel kind per column: 0 scaled difference, 1 match/mismatch,
        2 asymmetric binary.
    encoded_ : ndarray of shape (n_samples, n_columns)
        The fitted rows, encoded for the kernel (see :meth:`transform`).
    n_samples_ : int

    Notes
    -----
    The dissimilarity of rows i and j is

    .. math:: d_{ij} = \\sum_k w_k \\delta_{ijk} d_{ijk} / \\sum_k w_k \\delta_{ijk}

    with :math:`d_{ijk} = |x_{ik} - x_{jk}| / R_k` for numeric columns
    (:math:`R_k` the fitted range), the same on the level codes for ordinal
    columns (ordered categoricals are scored by their rank, scaled by the range
    of the codes seen in fit, exactly as R's ``cluster::daisy``), and 0/1 for a
    match/mismatch of nominal and binary columns. :math:`\\delta_{ijk}` is 0
    when the value is missing in either row, and, for asymmetric binary
    columns, when both rows are 0 (absent); otherwise 1.

    Type inference: bool columns are symmetric binary (R's daisy makes logicals
    asymmetric; pass ``types={"col": "asymm"}`` for that), ordered categoricals
    ordinal, other numbers and datetimes (in days) numeric, everything else
    nominal. A column that :func:`hclust.segment.infer_schema` calls an
    identifier (a value unique to every row: text, or integers with an id-like
    name such as ``CUST_ID`` or consecutive integers) is left out with a
    :class:`GowerWarning`, as the segmentation workflow leaves it out: as a
    nominal variable it would add a full mismatch to every pair. Name it in
    ``types`` to keep it. A numeric column that is constant in fit counts as a category
    (equal: 0, different: 1), so distances stay in [0, 1].

    New rows (``cdist``, ``condensed(df)``) use the fitted ranges and levels.
    Numeric values outside the fitted range are *not clipped*: a term can then
    exceed 1, which keeps far-away customers far. Nominal values unseen in fit
    differ from every fitted level (and equal themselves); unseen ordinal or
    binary values raise ``ValueError``.

    A pair with no usable variable (all missing in one row or the other, or
    only 0-0 asymmetric pairs) gets ``NaN`` and a :class:`GowerWarning` that
    counts them and names the first pair, as daisy returns ``NA``.

    Cost: O(n^2 p) time; the condensed result takes n(n-1)/2 float64, checked
    against available memory before allocation.

    References
    ----------
    Gower, J. C. (1971). A general coefficient of similarity and some of its
    properties. Biometrics 27, 857-871. :doi:`10.2307/2528823`

    Kaufman, L. and Rousseeuw, P. J. (1990). Finding Groups in Data, ch. 1.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [20, 40, 60], "plan": ["a", "b", "a"]})
    >>> g = Gower().fit(df)
    >>> g.condensed().round(3).tolist()
    [0.75, 0.5, 0.75]
    >>> g.cdist(pd.DataFrame({"age": [30], "plan": ["a"]})).round(3).tolist()
    [[0.125, 0.625, 0.375]]
    """

    def __init__(
        self,
        weights: Mapping[Any, float] | Sequence[float] | None = None,
        types: Mapping[Any, str] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> None:
        self.weights = weights
        self.types = types
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(self, df: Any, y: Any = None) -> "Gower":
        """Learn column types, ranges and levels from ``df`` and encode its rows.

        Parameters
        ----------
        df : DataFrame or 2-D array-like
            One row per customer.
        y : ignored

        Returns
        -------
        self : Gower
        """
        frame = self._as_frame(df, "df")
        if frame.shape[1] == 0:
            raise ValueError("df has no columns; Gower needs at least one column to compare rows.")
        names = list(frame.columns)
        overrides = dict(self.types or {})
        unknown = [c for c in overrides if c not in names]
        if unknown:
            raise ValueError(
                f"types names columns {unknown} that are not in df; its columns are {names}."
            )
        for col, kind in overrides.items():
            if kind not in GOWER_TYPES:
                raise ValueError(
                    f"types[{col!r}] = {kind!r} is not a Gower column type; valid types are: "
                    f"{', '.join(GOWER_TYPES)}."
                )
        all_weights = self._check_weights(names)
        excluded: dict[Any, str] = {}
        for col in names:
            if col not in overrides:
                kind, reason, _, _ = _infer_one(col, frame[col], frame.shape[0])
                if kind == "id":
                    excluded[col] = f"identifier: {reason}"
        if excluded and len(excluded) == len(names):
            raise ValueError(
                f"every column of df looks like an identifier ({excluded}); name the ones to compare in "
                "types, e.g. types={col: 'nominal'}."
            )
        if excluded:
            warnings.warn(
                f"column(s) {list(excluded)} look like identifiers (a value unique to every row) and were left "
                f"out; pass types={{{next(iter(excluded))!r}: 'nominal'}} (or 'numeric') to keep one.",
                GowerWarning,
                stacklevel=2,
            )

        feature_types: dict[Any, str] = {}
        ranges: dict[Any, tuple[float, float]] = {}
        levels: dict[Any, list[Any]] = {}
        columns: list[Any] = []
        weights: list[float] = []
        for col in names:
            kind = overrides.get(col) or self._infer_type(frame[col])
            if kind == "ignore" or col in excluded:
                continue
            series = frame[col]
            if kind == "numeric":
                values = self._numeric_values(series, col)
                observed = values[~np.isnan(values)]
                ranges[col] = (
                    (float(observed.min()), float(observed.max())) if observed.size else (np.nan, np.nan)
                )
                lo, hi = ranges[col]
                if observed.size and not np.isfinite(hi / 2.0 - lo / 2.0) or (hi / 2.0 - lo / 2.0) > 8e307:
                    raise ValueError(
                        f"column {col!r} ranges from {lo:.3g} to {hi:.3g}: Gower divides by the range "
                        "(max - min), which is beyond float64's range here. Rescale the column."
                    )
            elif kind == "ordinal":
                levels[col] = self._ordinal_levels(series, col)
                codes = self._level_codes(series, levels[col], col, allow_unseen=False)
                observed = codes[codes >= 0] + 1.0
                ranges[col] = (
                    (float(observed.min()), float(observed.max())) if observed.size else (np.nan, np.nan)
                )
            elif kind == "nominal":
                levels[col] = self._nominal_levels(series)
            else:
                levels[col] = self._binary_levels(series, col, kind)
            feature_types[col] = kind
            columns.append(col)
            weights.append(all_weights[names.index(col)])
        if not columns:
            raise ValueError("every column of df is ignored; Gower needs at least one column to compare rows.")
        self.feature_names_in_ = names
        self.n_features_in_ = len(names)
        self.columns_ = columns
        self.excluded_ = excluded
        self.feature_types_ = feature_types
        self.ranges_ = ranges
        self.levels_ = levels
        self.weights_ = np.asarray(weights, dtype=np.float64)
        self.kinds_ = self._kernel_kinds()
        self.encoded_ = self.transform(frame)
        self.n_samples_ = int(self.encoded_.shape[0])
        return self

    def transform(self, df: Any) -> FloatArray:
        """Encode ``df`` with the fitted types, ranges and levels (for the kernels).

        Returns
        -------
        ndarray of shape ``(n_rows, len(columns_))``, float64
            Numeric/ordinal columns scaled to ``(v - min) / range``; category
            codes for nominal columns (unseen values get new codes above the
            fitted ones); 0/1 for binary columns; NaN where missing.
        """
        self._check_fitted()
        frame = self._as_frame(df, "df")
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise ValueError(
                f"df lacks the fitted columns {missing}; it must have the columns Gower was fitted on "
                f"({self.columns_})."
            )
        out = np.empty((frame.shape[0], len(self.columns_)), dtype=np.float64)
        for k, col in enumerate(self.columns_):
            series = frame[col]
            kind = self.feature_types_[col]
            if kind == "numeric":
                lo, hi = self.ranges_[col]
                values = self._numeric_values(series, col)
                if hi > lo:
                    out[:, k] = (values - lo) / (hi - lo)
                else:
                    out[:, k] = values  # constant in fit: compared as a category
            elif kind == "ordinal":
                lo, hi = self.ranges_[col]
                codes = self._level_codes(series, self.levels_[col], col, allow_unseen=False)
                values = np.where(codes >= 0, codes + 1.0, np.nan)
                out[:, k] = (values - lo) / (hi - lo) if hi > lo else values
            elif kind == "nominal":
                codes = self._level_codes(series, self.levels_[col], col, allow_unseen=True)
                out[:, k] = np.where(codes >= 0, codes, np.nan)
            else:
                codes = self._level_codes(series, self.levels_[col], col, allow_unseen=False)
                out[:, k] = np.where(codes >= 0, codes, np.nan)
        return out

    # ------------------------------------------------------------ distances
    def condensed(self, df: Any = None) -> FloatArray:
        """Condensed distance vector (scipy's ``pdist`` order) of the fitted rows, or of ``df``.

        Parameters
        ----------
        df : DataFrame, optional
            Rows to compare with each other, encoded with the fitted ranges and
            levels. Default: the rows given to ``fit``.

        Returns
        -------
        ndarray of shape (n * (n - 1) / 2,), float64

        Raises
        ------
        InsufficientMemoryError
            When the n(n-1)/2 float64 would not fit in available memory.
        """
        X = self._rows(df)
        n = X.shape[0]
        m = n * (n - 1) // 2
        check_memory(
            8.0 * m,
            f"The condensed Gower matrix of {n} rows",
            "Cluster a sample or micro-clusters (hclust.summary), or compute cdist in batches.",
        )
        out = np.empty(m, dtype=np.float64)
        empty = np.zeros(n, dtype=np.int64)
        parallel, threads = self._parallel(m)
        with numba_threads(threads):
            kernel = gower_condensed_parallel if parallel else gower_condensed_serial
            kernel(X, self.kinds_, self.weights_, out, empty)
        if empty.any():
            first = condensed_to_pair(int(np.flatnonzero(np.isnan(out))[0]), n)
            self._warn_empty(int(empty.sum()), f"rows {first[0]} and {first[1]}")
        return out

    def pairwise(self, df: Any = None) -> FloatArray:
        """Square symmetric distance matrix (zero diagonal) of the fitted rows, or of ``df``.

        Returns
        -------
        ndarray of shape (n, n), float64
        """
        X = self._rows(df)
        n = X.shape[0]
        check_memory(
            8.0 * n * n,
            f"The square Gower matrix of {n} rows",
            "Use condensed() (half the memory), cluster a sample, or compute cdist in batches.",
        )
        out = np.empty((n, n), dtype=np.float64)
        empty = np.zeros(n, dtype=np.int64)
        parallel, threads = self._parallel(n * (n - 1) // 2)
        with numba_threads(threads):
            kernel = gower_square_parallel if parallel else gower_square_serial
            kernel(X, self.kinds_, self.weights_, out, empty)
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            j = i + 1 + int(np.flatnonzero(np.isnan(out[i, i + 1 :]))[0])
            self._warn_empty(int(empty.sum()), f"rows {i} and {j}")
        return out

    def cdist(self, new_df: Any, ref_df: Any = None) -> FloatArray:
        """Distances from the rows of ``new_df`` to reference rows, on the fitted scale.

        Parameters
        ----------
        new_df : DataFrame
            New customers (must have the fitted columns; extra ones are ignored).
        ref_df : DataFrame, optional
            Reference rows; default the fitted rows. Not refitted: ranges and
            levels are those learned in ``fit``.

        Returns
        -------
        ndarray of shape (len(new_df), n_ref), float64
        """
        A = self.transform(new_df)
        B = self._rows(ref_df)
        if ref_df is not None:
            A, B = self._joint_unseen_codes(new_df, ref_df, A, B)
        m, r = A.shape[0], B.shape[0]
        check_memory(
            8.0 * m * r,
            f"The {m} x {r} Gower distance matrix",
            "Compute it in batches of new rows.",
        )
        out = np.empty((m, r), dtype=np.float64)
        empty = np.zeros(m, dtype=np.int64)
        parallel, threads = self._parallel(m * r)
        with numba_threads(threads):
            kernel = gower_cross_parallel if parallel else gower_cross_serial
            kernel(A, B, self.kinds_, self.weights_, out, empty)
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            j = int(np.flatnonzero(np.isnan(out[i]))[0])
            self._warn_empty(int(empty.sum()), f"new row {i} and reference row {j}")
        return out

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """Fitted state as plain JSON types, without the encoded rows (see :meth:`from_dict`).

        Column names and levels must be JSON scalars (str, int, float, bool);
        the fitted rows :attr:`encoded_` are kept separately by the caller.
        """
        self._check_fitted()
        for value in [*self.feature_names_in_, *(v for levels in self.levels_.values() for v in levels)]:
            if not isinstance(_to_plain(value), (str, int, float, bool)):
                raise ValueError(
                    f"Gower state holds {value!r} ({type(value).__name__}); only str, int, float and "
                    "bool column names and levels can be saved."
                )
        return {
            "format": "hclust.Gower",
            "version": 1,
            "feature_names_in": [_to_plain(c) for c in self.feature_names_in_],
            "columns": [_to_plain(c) for c in self.columns_],
            "feature_types": [[_to_plain(c), t] for c, t in self.feature_types_.items()],
            "ranges": [[_to_plain(c), [float(lo), float(hi)]] for c, (lo, hi) in self.ranges_.items()],
            "levels": [[_to_plain(c), [_to_plain(v) for v in v_list]] for c, v_list in self.levels_.items()],
            "weights": [float(w) for w in self.weights_],
            "excluded": [[_to_plain(c), why] for c, why in self.excluded_.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], encoded: Any) -> "Gower":
        """Rebuild a fitted Gower metric from :meth:`to_dict` and its ``encoded_`` rows."""
        if not isinstance(data, Mapping) or data.get("format") != "hclust.Gower" or data.get("version") != 1:
            raise ValueError("not a Gower state written by Gower.to_dict() (format 'hclust.Gower', version 1).")
        metric = cls()
        metric.feature_names_in_ = list(data["feature_names_in"])
        metric.n_features_in_ = len(metric.feature_names_in_)
        metric.columns_ = list(data["columns"])
        metric.feature_types_ = {c: t for c, t in data["feature_types"]}
        metric.ranges_ = {c: (float(lo), float(hi)) for c, (lo, hi) in data["ranges"]}
        metric.levels_ = {c: list(v) for c, v in data["levels"]}
        metric.weights_ = np.asarray(data["weights"], dtype=np.float64)
        metric.excluded_ = {c: why for c, why in data.get("excluded", [])}  # absent before hclust 0.1.0's issue 19
        metric.kinds_ = metric._kernel_kinds()
        rows = np.ascontiguousarray(encoded, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(metric.columns_):
            raise ValueError(
                f"encoded rows of shape {rows.shape} do not match the {len(metric.columns_)} Gower columns."
            )
        metric.encoded_ = rows
        metric.n_samples_ = int(rows.shape[0])
        return metric

    # ------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise RuntimeError("This Gower metric is not fitted yet; call fit(df) first.")

    def _rows(self, df: Any) -> FloatArray:
        self._check_fitted()
        return self.encoded_ if df is None else self.transform(df)

    @staticmethod
    def _as_frame(df: Any, name: str) -> pd.DataFrame:
        if isinstance(df, pd.DataFrame):
            return df
        if isinstance(df, pd.Series):
            return df.to_frame()
        array = np.asarray(df)
        if array.ndim != 2:
            raise ValueError(f"{name} must be a DataFrame or a 2-D array; got shape {array.shape}.")
        return pd.DataFrame(array)

    def _check_weights(self, names: list[Any]) -> list[float]:
        if self.weights is None:
            return [1.0] * len(names)
        if isinstance(self.weights, Mapping):
            unknown = [c for c in self.weights if c not in names]
            if unknown:
                raise ValueError(f"weights names columns {unknown} that are not in df; its columns are {names}.")
            values = [float(self.weights.get(c, 1.0)) for c in names]
        else:
            values = [float(w) for w in np.asarray(self.weights, dtype=np.float64).ravel()]
            if len(values) != len(names):
                raise ValueError(
                    f"weights has {len(values)} entries but df has {len(names)} columns; give one weight "
                    "per column or a dict {column: weight}."
                )
        return check_feature_weights(zip(names, values), "weights")

    @staticmethod
    def _infer_type(series: pd.Series) -> str:
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return "symm"
        if isinstance(dtype, pd.CategoricalDtype):
            return "ordinal" if dtype.ordered else "nominal"
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            return "numeric"
        if pd.api.types.is_timedelta64_dtype(dtype):
            return "numeric"
        return "nominal"

    @staticmethod
    def _numeric_values(series: pd.Series, col: Any) -> FloatArray:
        dtype = series.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            values = series.to_numpy(dtype="datetime64[ns]")
            days = values.astype(np.int64).astype(np.float64) / 86_400e9
            days[np.isnat(values)] = np.nan
            return days
        if pd.api.types.is_timedelta64_dtype(dtype):
            values = series.to_numpy(dtype="timedelta64[ns]")
            days = values.astype(np.int64).astype(np.float64) / 86_400e9
            days[np.isnat(values)] = np.nan
            return days
        if isinstance(dtype, pd.CategoricalDtype):
            series = series.astype(object)
        try:
            numeric = pd.to_numeric(series, errors="raise")
        except (TypeError, ValueError):
            bad = series[pd.to_numeric(series, errors="coerce").isna() & series.notna()]
            raise ValueError(
                f"column {col!r} is numeric for Gower but holds values that are not numbers "
                f"(e.g. {list(bad.unique()[:3])}); set types={{{col!r}: 'nominal'}} or clean the column."
            ) from None
        result = np.asarray(numeric.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        if np.isinf(result).any():
            raise ValueError(f"column {col!r} holds infinite values; replace them (e.g. by NaN = missing).")
        return result

    @staticmethod
    def _ordinal_levels(series: pd.Series, col: Any) -> list[Any]:
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return [_to_plain(v) for v in dtype.categories]
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            # like daisy's ordratio: ranks of the distinct values
            return [_to_plain(v) for v in np.sort(series.dropna().unique())]
        raise ValueError(
            f"column {col!r} is ordinal but is neither an ordered categorical nor numeric, so its order is "
            f"unknown; convert it with pd.Categorical(values, categories=[...in order...], ordered=True)."
        )

    @staticmethod
    def _nominal_levels(series: pd.Series) -> list[Any]:
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return [_to_plain(v) for v in dtype.categories]
        return _sorted_levels([_to_plain(v) for v in series.dropna().unique()])

    @staticmethod
    def _binary_levels(series: pd.Series, col: Any, kind: str) -> list[Any]:
        dtype = series.dtype
        observed = [_to_plain(v) for v in series.dropna().unique()]
        if pd.api.types.is_bool_dtype(dtype):
            return [False, True]
        if pd.api.types.is_numeric_dtype(dtype) and set(observed) <= {0, 1}:
            return [0, 1]
        if isinstance(dtype, pd.CategoricalDtype):
            cats = [_to_plain(v) for v in dtype.categories]
            levels = cats if len(cats) <= 2 else [c for c in cats if c in set(observed)]
        else:
            levels = _sorted_levels(observed)
        if len(levels) > 2:
            raise ValueError(
                f"column {col!r} is set to {kind!r} (binary) but has {len(levels)} distinct values "
                f"({levels[:5]}); binary columns have at most 2. Use 'nominal' instead."
            )
        return levels

    @staticmethod
    def _level_codes(series: pd.Series, levels: list[Any], col: Any, allow_unseen: bool) -> np.ndarray:
        """Codes 0..L-1 of the fitted levels, -1 for missing; unseen values get L, L+1, ...."""
        missing = _is_missing(series)
        values = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
        lookup = pd.Index(levels, dtype=object) if levels else pd.Index([], dtype=object)
        codes = np.asarray(lookup.get_indexer(pd.Index(values.to_numpy(dtype=object), dtype=object)))
        codes = codes.astype(np.int64)
        unseen = (codes < 0) & ~missing
        if unseen.any():
            new_values = pd.unique(values[unseen].to_numpy(dtype=object))
            if not allow_unseen:
                raise ValueError(
                    f"column {col!r} has values not seen in fit: {list(new_values[:5])}; its fitted levels "
                    f"are {levels}. Ordinal and binary columns cannot place unseen values."
                )
            extra = pd.Index(new_values, dtype=object)
            codes[unseen] = len(levels) + extra.get_indexer(
                pd.Index(values[unseen].to_numpy(dtype=object), dtype=object)
            )
        codes[missing] = -1
        return codes

    def _joint_unseen_codes(
        self, new_df: Any, ref_df: Any, A: FloatArray, B: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Recode unseen nominal values so that equal unseen values in both frames share a code."""
        new_frame = self._as_frame(new_df, "new_df")
        ref_frame = self._as_frame(ref_df, "ref_df")
        for k, col in enumerate(self.columns_):
            if self.feature_types_[col] != "nominal":
                continue
            n_levels = len(self.levels_[col])
            if not ((A[:, k] >= n_levels).any() or (B[:, k] >= n_levels).any()):
                continue
            both = pd.concat([new_frame[col], ref_frame[col]], ignore_index=True)
            codes = self._level_codes(both, self.levels_[col], col, allow_unseen=True)
            values = np.where(codes >= 0, codes, np.nan)
            A = A.copy()
            B = B.copy()
            A[:, k] = values[: A.shape[0]]
            B[:, k] = values[A.shape[0] :]
        return A, B

    def _kernel_kinds(self) -> np.ndarray:
        kinds = np.empty(len(self.columns_), dtype=np.int64)
        for k, col in enumerate(self.columns_):
            kind = self.feature_types_[col]
            if kind in ("numeric", "ordinal"):
                lo, hi = self.ranges_[col]
                kinds[k] = _KIND_INTERVAL if hi > lo else _KIND_MISMATCH
            elif kind == "asymm":
                kinds[k] = _KIND_ASYMM
            else:
                kinds[k] = _KIND_MISMATCH
        return kinds

    def _parallel(self, n_pairs: int) -> tuple[bool, int]:
        threads = check_n_jobs(self.n_jobs)
        return (threads > 1 and n_pairs >= _PARALLEL_MIN_PAIRS), threads

    @staticmethod
    def _warn_empty(count: int, first: str) -> None:
        warnings.warn(
            f"{count} pair(s) of rows have no variable usable in both rows (first: {first}): every column "
            "is missing in one of them, or only 0-0 asymmetric binaries are left. Their Gower distance is "
            "NaN; impute or drop such rows before clustering.",
            GowerWarning,
            stacklevel=3,
        )
