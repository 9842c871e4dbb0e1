"""Customer workflow: column kinds, preparation, RFM from transactions, segment profiles, models."""

from __future__ import annotations

from .prepare import PreparationRecord, Preparer, PreparerWarning
from .model import ModelSummary, SegmentationModel
from .profile import UNASSIGNED, SegmentProfile, profile
from ._summary import CutSummary, Projection, SegmentationSummary, TopFeature, segmentation_summary
from .rfm import RFMReport, rfm
from .schema import Schema, SchemaWarning, infer_schema

__all__ = [
    "UNASSIGNED",
    "CutSummary",
    "ModelSummary",
    "PreparationRecord",
    "Preparer",
    "PreparerWarning",
    "Projection",
    "RFMReport",
    "Schema",
    "SchemaWarning",
    "SegmentProfile",
    "SegmentationModel",
    "SegmentationSummary",
    "TopFeature",
    "infer_schema",
    "profile",
    "rfm",
    "segmentation_summary",
]
