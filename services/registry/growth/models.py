"""Inputs and results of the z-score engine."""

from dataclasses import dataclass, field
from typing import Literal

from services.registry.growth.classify import Classification
from services.registry.growth.issues import Issue

Measure = Literal["l", "h"]
INDICATORS = ("len", "wei", "wfl", "bmi", "hc", "ac")
CLASSIFIED_INDICATORS = ("len", "wei", "wfl", "bmi")


@dataclass(frozen=True)
class MeasurementInput:
    """One child's visit.

    ``age_days`` is the exact age (fractional when converted from months, see
    ``age.age_days_from_months``); resolve birth and visit dates with
    ``age.age_days_from_dates`` first. ``sex`` is 1 (male) or 2 (female); ``measure``
    "l" (lying) or "h" (standing), None when not recorded. The table spellings
    (M/F/L/P, PB/TB, y/n/ya/tidak) are accepted too; anything else is a row error.
    """

    sex: int | str | None
    age_days: float | None
    weight_kg: float | None = None
    height_cm: float | None = None
    measure: str | None = None
    oedema: bool | str = False
    head_cm: float | None = None
    muac_cm: float | None = None


@dataclass(frozen=True)
class GrowthResult:
    """z-scores (full precision; round to 2 decimals for display), flags, classes.

    A z-score is None where the indicator does not apply (measurement missing, age or
    length outside its table, oedema for weight-based ones) or the row has errors; its
    flag is then None too. ``flen`` … ``fac`` are WHO's implausible-value flags.
    """

    zlen: float | None = None
    zwei: float | None = None
    zwfl: float | None = None
    zbmi: float | None = None
    zhc: float | None = None
    zac: float | None = None
    flen: bool | None = None
    fwei: bool | None = None
    fwfl: bool | None = None
    fbmi: bool | None = None
    fhc: bool | None = None
    fac: bool | None = None
    class_len: Classification | None = None
    class_wei: Classification | None = None
    class_wfl: Classification | None = None
    class_bmi: Classification | None = None
    # Row of the age tables used: the age rounded half up to whole days.
    age_day: int | None = None
    # Length/height after the ±0.7 cm position adjustment, and the position it refers to.
    height_used_cm: float | None = None
    measure_used: Measure | None = None
    # True when a standing measurement under 9 months was treated as lying.
    position_implausible: bool = False
    bmi: float | None = None
    # "wfl" (weight-for-length, < 731 d) or "wfh" (weight-for-height, >= 731 d).
    wfl_table: Literal["wfl", "wfh"] | None = None
    errors: tuple[Issue, ...] = field(default_factory=tuple)
    warnings: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.errors
