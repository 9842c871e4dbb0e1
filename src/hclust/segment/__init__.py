"""Customer workflow: column kinds, preparation, RFM from transactions, segment profiles, models."""

from __future__ import annotations

from .prepare import PreparationRecord, Preparer, PreparerWarning
from .model import ModelSummary, SegmentationModel
from .profile import UNASSIGNED, SegmentProfile, profile
from .rfm import RFMReport, rfm
from .schema import Schema, SchemaWarning, infer_schema

__all__ = [
    "UNASSIGNED",
    "ModelSummary",
    "PreparationRecord",
    "Preparer",
    "PreparerWarning",
    "RFMReport",
    "Schema",
    "SchemaWarning",
    "SegmentProfile",
    "SegmentationModel",
    "infer_schema",
    "profile",
    "rfm",
]
