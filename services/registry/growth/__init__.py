"""WHO 2006 Child Growth Standards z-scores (0–59 months), as WHO anthro computes them.

Single row: :func:`compute_zscores`. Columns: :func:`compute_zscores_bulk`. Tables of
cells (API rows, CSV files): :mod:`services.registry.growth.csv_io`.
"""

from services.registry.growth.age import (
    age_days_from_dates,
    age_days_from_months,
    is_scored_age,
    lookup_day,
)
from services.registry.growth.bulk import BulkResult, compute_bulk, compute_zscores_bulk
from services.registry.growth.classify import Classification, classify
from services.registry.growth.csv_io import (
    CsvFormatError,
    CsvSummary,
    compute_rows,
    convert_csv,
    convert_stream,
)
from services.registry.growth.issues import Issue, decode_errors, decode_warnings
from services.registry.growth.models import GrowthResult, MeasurementInput
from services.registry.growth.zscores import compute_zscores

# Stored with every result; bump it when a rule or table change alters any z-score.
ENGINE_VERSION = "who2006-anthro-1"

__all__ = [
    "ENGINE_VERSION",
    "BulkResult",
    "Classification",
    "CsvFormatError",
    "CsvSummary",
    "GrowthResult",
    "Issue",
    "MeasurementInput",
    "age_days_from_dates",
    "age_days_from_months",
    "classify",
    "compute_bulk",
    "compute_rows",
    "compute_zscores",
    "compute_zscores_bulk",
    "convert_csv",
    "convert_stream",
    "decode_errors",
    "decode_warnings",
    "is_scored_age",
    "lookup_day",
]
