"""Quality checks of the gold tables of one load (blocking checks and warnings)."""

from pipeline.quality.checks import (
    check_engagement_matches_daily,
    check_gold,
    check_media_references,
    check_quarantine,
    check_references,
    check_unknown_fields,
    table_checks,
)
from pipeline.quality.drift import unknown_fields
from pipeline.quality.report import CheckResult, QualityCheckFailed, QualityReport

__all__ = [
    "CheckResult",
    "QualityCheckFailed",
    "QualityReport",
    "check_engagement_matches_daily",
    "check_gold",
    "check_media_references",
    "check_quarantine",
    "check_references",
    "check_unknown_fields",
    "table_checks",
    "unknown_fields",
]
