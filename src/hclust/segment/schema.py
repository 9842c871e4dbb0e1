"""What each column of a customer table is: inferred, overridable, serialisable."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._column_kinds import _infer_one, _plain

__all__ = ["Schema", "SchemaWarning", "infer_schema", "COLUMN_KINDS"]

#: The kinds a column can have. ``id`` and ``constant`` columns are excluded from the features.
COLUMN_KINDS: tuple[str, ...] = ("numeric", "categorical", "binary", "ordinal", "date", "id", "constant")

_EXCLUDED = ("id", "constant")


class SchemaWarning(UserWarning):
    """A column was excluded or interpreted in a way the user may not expect."""


@dataclass
class Schema:
    """The kind of each column of a table, and why.

    Parameters
    ----------
    kinds : dict
        Column -> one of :data:`COLUMN_KINDS`, in the table's column order.
    reasons : dict
        Column -> a short sentence saying why it got its kind.
    levels : dict
        Ordinal columns -> their levels, lowest first.
    n_rows : int
        Rows of the table the schema was inferred from (0 when built by hand).

    Examples
    --------
    >>> s = Schema(kinds={"spend": "numeric", "id": "id"})
    >>> s.used, s.excluded
    (['spend'], ['id'])
    >>> Schema.from_dict(s.to_dict()) == s
    True
    """

    kinds: dict[Any, str]
    reasons: dict[Any, str] = field(default_factory=dict)
    levels: dict[Any, list[Any]] = field(default_factory=dict)
    n_rows: int = 0

    def __post_init__(self) -> None:
        bad = {c: k for c, k in self.kinds.items() if k not in COLUMN_KINDS}
        if bad:
            raise ValueError(f"Unknown column kinds {bad}; valid kinds are: {', '.join(COLUMN_KINDS)}.")
        unknown = [c for c in self.levels if c not in self.kinds]
        if unknown:
            raise ValueError(f"Schema.levels names columns {unknown} that are not in kinds.")
        self.reasons = {c: self.reasons.get(c, "") for c in self.kinds}

    def columns_of(self, kind: str) -> list[Any]:
        """Columns of one kind, in table order."""
        if kind not in COLUMN_KINDS:
            raise ValueError(f"Unknown column kind {kind!r}; valid kinds are: {', '.join(COLUMN_KINDS)}.")
        return [c for c, k in self.kinds.items() if k == kind]

    @property
    def used(self) -> list[Any]:
        """Columns that become features (everything but ``id`` and ``constant``)."""
        return [c for c, k in self.kinds.items() if k not in _EXCLUDED]

    @property
    def excluded(self) -> list[Any]:
        """Columns left out of the features (``id`` and ``constant``)."""
        return [c for c, k in self.kinds.items() if k in _EXCLUDED]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: ``{"n_rows": ..., "columns": [{"name", "kind", "reason", "levels"?}]}``."""
        columns = []
        for col, kind in self.kinds.items():
            entry: dict[str, Any] = {"name": _plain(col), "kind": kind, "reason": self.reasons.get(col, "")}
            if col in self.levels:
                entry["levels"] = [_plain(v) for v in self.levels[col]]
            columns.append(entry)
        return {"n_rows": int(self.n_rows), "columns": columns}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Schema":
        """Rebuild a schema written by :meth:`to_dict`."""
        try:
            entries = data["columns"]
            kinds = {e["name"]: e["kind"] for e in entries}
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"not a Schema dictionary (missing {exc}); expected {{'columns': [{{'name', 'kind', ...}}]}}."
            ) from None
        return cls(
            kinds=kinds,
            reasons={e["name"]: e.get("reason", "") for e in entries},
            levels={e["name"]: list(e["levels"]) for e in entries if "levels" in e},
            n_rows=int(data.get("n_rows", 0)),
        )


def infer_schema(df: pd.DataFrame, overrides: Mapping[Any, Any] | None = None) -> Schema:
    """Decide what each column of a customer table is.

    Parameters
    ----------
    df : DataFrame
        The customer table, one row per customer.
    overrides : mapping, optional
        Column -> kind (one of :data:`COLUMN_KINDS`), or column -> list of
        levels (lowest first) to make it ordinal with that order. Overridden
        columns get no warning.

    Returns
    -------
    Schema

    Raises
    ------
    ValueError
        ``overrides`` names a column that is not in ``df``, or a kind that does not exist.

    Warns
    -----
    SchemaWarning
        For columns excluded as constant or entirely missing, and for object
        columns that mix numbers and text.

    Notes
    -----
    Rules, in order: entirely missing or a single value -> ``constant``;
    ordered categorical -> ``ordinal``; datetime -> ``date``; two distinct
    values -> ``binary``; integers unique per row with an identifier-like name
    (``id``, ``customer...``, ``..._no``) or consecutive values -> ``id``;
    other numbers -> ``numeric``; ISO 8601 text -> ``date``; numbers stored as
    text -> ``numeric``; text mixed with numbers -> ``categorical`` (with a
    warning); text unique per row -> ``id``; other text -> ``categorical``.
    Integer codes such as a region numbered 1..3 look like numbers: override
    them to ``categorical``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"customer_id": [1, 2, 3, 4], "spend": [10.0, 25.5, 7.0, 12.0],
    ...                    "region": ["n", "s", "n", "e"], "member": ["y", "n", "n", "y"]})
    >>> infer_schema(df).kinds
    {'customer_id': 'id', 'spend': 'numeric', 'region': 'categorical', 'member': 'binary'}
    >>> infer_schema(df, overrides={"region": "id"}).kinds["region"]
    'id'
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"infer_schema needs a pandas DataFrame; got {type(df).__name__}.")
    if df.shape[1] == 0:
        raise ValueError("df has no columns.")
    overrides = dict(overrides or {})
    unknown = [c for c in overrides if c not in df.columns]
    if unknown:
        raise ValueError(
            f"overrides names columns {unknown} that are not in the table; its columns are {list(df.columns)}."
        )
    kinds: dict[Any, str] = {}
    reasons: dict[Any, str] = {}
    levels: dict[Any, list[Any]] = {}
    n = len(df)
    for col in df.columns:
        if col in overrides:
            value = overrides[col]
            if isinstance(value, (list, tuple)):
                kinds[col], reasons[col] = "ordinal", "set by override (levels given)"
                levels[col] = [_plain(v) for v in value]
                continue
            if value not in COLUMN_KINDS:
                raise ValueError(
                    f"overrides[{col!r}] = {value!r} is not a column kind; valid kinds are: "
                    f"{', '.join(COLUMN_KINDS)} (or a list of levels for an ordinal column)."
                )
            kinds[col], reasons[col] = value, "set by override"
            if value == "ordinal":
                inferred = _infer_one(col, df[col], n)
                if inferred[2] is not None:
                    levels[col] = inferred[2]
                elif pd.api.types.is_numeric_dtype(df[col].dtype):
                    levels[col] = [_plain(v) for v in np.sort(df[col].dropna().unique())]
                else:
                    raise ValueError(
                        f"column {col!r} is overridden to 'ordinal' but its order is unknown; give the levels "
                        f"lowest first, e.g. overrides={{{col!r}: ['low', 'mid', 'high']}}."
                    )
            continue
        kind, reason, col_levels, warning = _infer_one(col, df[col], n)
        kinds[col], reasons[col] = kind, reason
        if col_levels is not None:
            levels[col] = col_levels
        if warning:
            warnings.warn(warning, SchemaWarning, stacklevel=2)
    return Schema(kinds=kinds, reasons=reasons, levels=levels, n_rows=n)
