"""Age handling as in WHO anthro (R package ``anthro``, ``R/utils.R`` and ``R/z-score*.R``).

- Age in days is kept exact (fractional when it comes from months); the table row is the
  age rounded half up to whole days (``round_up``), e.g. 24 months = 730.5 d -> day 731.
- Position rules (0.7 cm adjustment, length vs height table) use the rounded day.
- The 60-month limit and the 9-month position check use the unrounded age in months
  (days / 30.4375).

On the last day: DOMAIN.md says "no z-scores from 60 months (1826 days) on", but WHO
anthro scores a child while ``age_in_months < 60``; day 1826 is 59.99 months, so WHO
scores it (the tables end at 1826 for exactly that reason) and only 1827 d and older are
excluded. We follow WHO's software, so results match WHO anthro and the WHO tables.
"""

import math
from datetime import date

import numpy as np

DAYS_PER_MONTH = 30.4375
MAX_AGE_MONTHS = 60.0
# Below 24 months (731 d) length is measured lying, from 731 d height standing.
HEIGHT_FROM_DAY = 731
# A standing measurement under 9 months is implausible (WHO anthro: c9mo_flag).
STANDING_FROM_MONTHS = 9.0


def age_days_from_dates(birth_date: date, visit_date: date) -> int:
    """Completed days between birth and visit (negative if the visit is before birth)."""
    return (visit_date - birth_date).days


def age_days_from_months(age_months: float) -> float:
    """Exact age in days for an age given in months (not rounded: lookup rounds)."""
    return age_months * DAYS_PER_MONTH


def age_months(age_days: float) -> float:
    return age_days / DAYS_PER_MONTH


def lookup_day(age_days: float) -> int:
    """Table row for an age: rounded half up, as WHO anthro's ``round_up``."""
    whole = math.floor(age_days)
    return whole + 1 if age_days - whole >= 0.5 else whole


def lookup_days(age_days: np.ndarray) -> np.ndarray:
    """Vectorised :func:`lookup_day`; NaN ages give -1."""
    with np.errstate(invalid="ignore"):
        whole = np.floor(age_days)
        rounded = whole + ((age_days - whole) >= 0.5)
    return np.where(np.isfinite(rounded), rounded, -1).astype(np.int64)


def is_scored_age(age_days: float) -> bool:
    """Whether WHO computes z-scores at this age: 0 <= age and age in months < 60."""
    return age_days >= 0 and age_months(age_days) < MAX_AGE_MONTHS
