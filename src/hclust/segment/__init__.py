"""Customer workflow: column kinds, preparation, RFM from transactions, segment profiles, models.

The implementation modules whose names are also functions are private (``_profile``,
``_rfm``): ``hclust.segment.profile`` and ``hclust.segment.rfm`` are the functions.
"""

from __future__ import annotations

from .prepare import PreparationRecord, Preparer, PreparerWarning
from .model import ModelSummary, SegmentationModel
from ._profile import UNASSIGNED, SegmentProfile, profile, standardized_difference
from ._summary import CutSummary, Projection, SegmentationSummary, TopFeature, segmentation_summary
from ._rfm import RFM_POLICY, RFMReport, rfm
from .schema import Schema, SchemaWarning, infer_schema

__all__ = [
    "RFM_POLICY",
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
    "standardized_difference",
]
