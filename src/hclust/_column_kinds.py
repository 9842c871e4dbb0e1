"""How a column looks: the kind rules shared by :func:`hclust.segment.infer_schema` and
:class:`hclust.Gower` (which drops the columns these rules call identifiers)."""

from __future__ import annotations

import re
import warnings
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

_ID_NAME = re.compile(r"(^|[^a-z])(id|key|uuid|guid)([^a-z]|$)|(_|^)(no|number|code)$|^(customer|client|user|account)", re.I)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _python_types(values: Iterable[Any]) -> set[str]:
    kinds = set()
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(v, (int, float, np.number)):
            kinds.add("number")
        elif isinstance(v, str):
            kinds.add("text")
        else:
            kinds.add(type(v).__name__)
    return kinds


def _parses_as_dates(values: pd.Series) -> bool:
    if values.empty:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values.astype(str), errors="coerce", format="ISO8601")
        except (ValueError, TypeError):
            return False
    return bool(parsed.notna().all())


def _infer_one(name: Any, series: pd.Series, n: int) -> tuple[str, str, list[Any] | None, str | None]:
    """(kind, reason, ordinal levels, warning or None) for one column."""
    present = series.dropna()
    if present.empty:
        return "constant", "all values are missing", None, f"column {name!r} is entirely missing; excluded."
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        levels = [_plain(v) for v in dtype.categories]
        if present.nunique() <= 1:
            return "constant", "one value only", None, f"column {name!r} has a single value; excluded."
        return "ordinal", "ordered categorical", levels, None
    n_unique = int(present.nunique())
    if n_unique == 1:
        return "constant", f"one value only ({_plain(present.iloc[0])!r})", None, (
            f"column {name!r} has a single value ({_plain(present.iloc[0])!r}); excluded as constant."
        )
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date", "datetime values", None, None
    if n_unique == 2:
        return "binary", "two distinct values", None, None
    if pd.api.types.is_bool_dtype(dtype):
        return "binary", "boolean", None, None
    unique_per_row = n_unique == len(present) == n and n >= 3
    if pd.api.types.is_numeric_dtype(dtype):
        values = present.to_numpy(dtype=np.float64)
        integral = bool(np.all(np.mod(values, 1.0) == 0.0))
        if unique_per_row and integral:
            ordered = np.sort(values)
            consecutive = bool(np.all(np.diff(ordered) == 1.0))
            if _ID_NAME.search(str(name)) or consecutive:
                why = "name looks like an identifier" if _ID_NAME.search(str(name)) else "consecutive integers"
                return "id", f"unique integer per row ({why})", None, None
        return "numeric", "numbers", None, None
    # object / string / unordered categorical columns
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", "unordered categorical", None, None
    kinds = _python_types(present.unique()[:10_000])
    if kinds == {"text"} and _parses_as_dates(present):
        return "date", "text in ISO 8601 date format", None, None
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        if unique_per_row and _ID_NAME.search(str(name)):
            return "id", "unique value per row (name looks like an identifier)", None, None
        return "numeric", "numbers stored as text", None, None
    if numbers.notna().any() or len(kinds) > 1:
        examples_num = list(present[numbers.notna()].unique()[:2])
        examples_txt = list(present[numbers.isna()].unique()[:2])
        warning = (
            f"column {name!r} mixes numbers and text (e.g. {examples_num} and {examples_txt}); treated as "
            f"categorical with values compared as text. Override it to 'numeric' to turn the text into "
            "missing values."
        )
        return "categorical", "mixed numbers and text, compared as text", None, warning
    if unique_per_row:
        return "id", "unique value per row", None, None
    return "categorical", "text", None, None
