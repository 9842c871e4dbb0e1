"""Customer workflow: what the columns are, how to prepare them, RFM from transactions."""

from __future__ import annotations

from .prepare import Preparer, PreparerWarning
from .rfm import RFMReport, rfm
from .schema import Schema, SchemaWarning, infer_schema

__all__ = [
    "Preparer",
    "PreparerWarning",
    "RFMReport",
    "Schema",
    "SchemaWarning",
    "infer_schema",
    "rfm",
]
