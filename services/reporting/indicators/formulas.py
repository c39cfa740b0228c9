"""Indicator arithmetic from plain inputs: counts, ratios, rounding, change, medians, gaps.

The read models hand over rows already limited to the region and period asked for;
these functions decide who counts. Rounding is half away from zero on the exact value
(never on a binary float), to the unit's decimals: percent 1, days 1, counts 0.
"""

import math
import re
import statistics
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from services.reporting.indicators.catalogue import (
    KAMPUNG_KB_LEVELS,
    UNIT_DECIMALS,
    Direction,
    Lang,
    Unit,
)

# Class codes of the growth classification (Permenkes 2/2020, WHO 2006).
HAZ_CLASSES = frozenset({"severely_stunted", "stunted", "normal", "tall"})
WAZ_CLASSES = frozenset({"severely_underweight", "underweight", "normal", "risk_of_overweight"})
WHZ_CLASSES = frozenset(
    {"severely_wasted", "wasted", "normal", "possible_risk_of_overweight", "overweight", "obese"}
)
_STUNTED = frozenset({"severely_stunted", "stunted"})
_UNDERWEIGHT = frozenset({"severely_underweight", "underweight"})
_WASTED = frozenset({"severely_wasted", "wasted"})
_OVERWEIGHT = frozenset({"overweight", "obese"})

PERCENT_DECIMALS = UNIT_DECIMALS[Unit.PERCENT]
DAYS_DECIMALS = UNIT_DECIMALS[Unit.DAYS]


@dataclass(frozen=True)
class IndicatorValue:
    """One computed figure. ``value`` is None when it cannot be computed (no denominator).

    Counts have no denominator; a median has no numerator and its denominator is the
    number of cases it was taken over (which small-cell suppression looks at).
    """

    value: float | None
    numerator: int | None
    denominator: int | None


def round_half_up(value: Fraction | Decimal | int | float, decimals: int) -> float:
    """Round half away from zero on the exact value; floats are taken at face value."""
    if isinstance(value, float):
        value = Decimal(str(value))
    if isinstance(value, int | Fraction | Decimal) and isinstance(decimals, int) and decimals >= 0:
        return _rounded(*value.as_integer_ratio(), decimals)
    exact = Fraction(value)
    scaled = abs(exact) * 10**decimals
    rounded = Fraction(math.floor(scaled + Fraction(1, 2)), 10**decimals)
    return float(rounded if exact >= 0 else -rounded)


def _rounded(numerator: int, denominator: int, decimals: int) -> float:
    """``numerator / denominator`` (denominator > 0) rounded as round_half_up does, in
    integers: the same float (both end in one correctly rounded int / int division)
    without building Fractions, tens of thousands of times per answer."""
    scale = 10**decimals
    rounded = (2 * abs(numerator) * scale + denominator) // (2 * denominator)
    return (rounded if numerator >= 0 else -rounded) / scale


def ratio(numerator: int, denominator: int, decimals: int = PERCENT_DECIMALS) -> IndicatorValue:
    """A percentage ``100 × numerator / denominator``; None when the denominator is 0."""
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError(f"not a proportion: {numerator}/{denominator}")
    if not denominator:
        value = None
    elif isinstance(decimals, int) and decimals >= 0:
        value = _rounded(100 * numerator, denominator, decimals)  # no Fraction: see _rounded
    else:
        value = round_half_up(Fraction(100 * numerator, denominator), decimals)
    return IndicatorValue(value=value, numerator=numerator, denominator=denominator)


def count(n: int) -> IndicatorValue:
    return IndicatorValue(value=n, numerator=n, denominator=None)


# --- child growth --------------------------------------------------------------------


@dataclass(frozen=True)
class ChildMeasurement:
    """One measurement with its classification; ``sequence`` orders same-day entries."""

    child_id: str
    measured_on: date
    haz_class: str | None = None
    waz_class: str | None = None
    whz_class: str | None = None
    haz_flagged: bool = False
    waz_flagged: bool = False
    whz_flagged: bool = False
    oedema: bool = False
    sequence: int = 0

    def __post_init__(self) -> None:
        for value, allowed in (
            (self.haz_class, HAZ_CLASSES),
            (self.waz_class, WAZ_CLASSES),
            (self.whz_class, WHZ_CLASSES),
        ):
            if value is not None and value not in allowed:
                raise ValueError(f"unknown growth class {value!r}")


@dataclass(frozen=True)
class GrowthPrevalence:
    children_measured: IndicatorValue
    stunting: IndicatorValue
    severe_stunting: IndicatorValue
    wasting: IndicatorValue
    severe_wasting: IndicatorValue
    underweight: IndicatorValue
    overweight: IndicatorValue

    def by_code(self) -> dict[str, IndicatorValue]:
        """Keyed by catalogue code."""
        return {
            "children_measured": self.children_measured,
            "stunting_prevalence": self.stunting,
            "severe_stunting_prevalence": self.severe_stunting,
            "wasting_prevalence": self.wasting,
            "severe_wasting_prevalence": self.severe_wasting,
            "underweight_prevalence": self.underweight,
            "overweight_prevalence": self.overweight,
        }


def _latest_per_child(
    measurements: Iterable[ChildMeasurement], usable: Callable[[ChildMeasurement], bool]
) -> list[ChildMeasurement]:
    latest: dict[str, ChildMeasurement] = {}
    for m in measurements:
        if not usable(m):
            continue
        held = latest.get(m.child_id)
        if held is None or (m.measured_on, m.sequence) > (held.measured_on, held.sequence):
            latest[m.child_id] = m
    return list(latest.values())


def _has_haz(m: ChildMeasurement) -> bool:
    return m.haz_class is not None and not m.haz_flagged


def _has_whz(m: ChildMeasurement) -> bool:
    # Oedema has no weight-based z-score but always yields a wasting status.
    return m.oedema or (m.whz_class is not None and not m.whz_flagged)


def _has_waz(m: ChildMeasurement) -> bool:
    # Oedema weight is water, not growth: weight-for-age is left out rather than guessed.
    return not m.oedema and m.waz_class is not None and not m.waz_flagged


def _whz_class(m: ChildMeasurement) -> str | None:
    return "severely_wasted" if m.oedema else m.whz_class


def growth_prevalence(measurements: Iterable[ChildMeasurement]) -> GrowthPrevalence:
    """Prevalences among children measured in the period.

    Per index, each child counts once, with the latest measurement whose value for that
    index is valid: a flagged value is skipped and the child's previous valid value in
    the period, if any, counts instead.
    """
    rows = list(measurements)
    haz = [m.haz_class for m in _latest_per_child(rows, _has_haz)]
    whz = [_whz_class(m) for m in _latest_per_child(rows, _has_whz)]
    waz = [m.waz_class for m in _latest_per_child(rows, _has_waz)]

    def share(classes: list[str | None], wanted: frozenset[str]) -> IndicatorValue:
        return ratio(sum(1 for c in classes if c in wanted), len(classes))

    return GrowthPrevalence(
        children_measured=count(len({m.child_id for m in rows})),
        stunting=share(haz, _STUNTED),
        severe_stunting=share(haz, frozenset({"severely_stunted"})),
        wasting=share(whz, _WASTED),
        severe_wasting=share(whz, frozenset({"severely_wasted"})),
        underweight=share(waz, _UNDERWEIGHT),
        overweight=share(whz, _OVERWEIGHT),
    )


# --- coverage and convergence ---------------------------------------------------------


def coverage(targets: Collection[str], reached: Collection[str]) -> IndicatorValue:
    """Share of ``targets`` that are also in ``reached`` (measured, served, visited)."""
    target_set = set(targets)
    return ratio(len(target_set.intersection(reached)), len(target_set))


@dataclass(frozen=True)
class Eligibility:
    """A target eligible for an intervention in the period, and whether it received it."""

    subject_id: str
    intervention_code: str
    received: bool


def _received_by_subject(rows: Iterable[Eligibility]) -> dict[str, dict[str, bool]]:
    by_subject: dict[str, dict[str, bool]] = {}
    for row in rows:
        package = by_subject.setdefault(row.subject_id, {})
        package[row.intervention_code] = package.get(row.intervention_code, False) or row.received
    return by_subject


def coverage_by_intervention(rows: Iterable[Eligibility]) -> dict[str, IndicatorValue]:
    """``coverage:<code>`` for every intervention present in ``rows``, ordered by code."""
    tallies: dict[str, list[int]] = {}
    for package in _received_by_subject(rows).values():
        for code, received in package.items():
            tally = tallies.setdefault(code, [0, 0])
            tally[0] += received
            tally[1] += 1
    return {code: ratio(*tallies[code]) for code in sorted(tallies, key=_code_order)}


def _code_order(code: str) -> tuple[str, int, str]:
    """S2 before S11: letters, then the number, then anything after."""
    match = re.fullmatch(r"([A-Za-z]*)(\d*)(.*)", code)
    assert match is not None  # the pattern matches every string
    letters, digits, rest = match.groups()
    return letters, int(digits) if digits else -1, rest


def convergence(rows: Iterable[Eligibility]) -> IndicatorValue:
    """Share of targets that received every intervention they were eligible for."""
    packages = _received_by_subject(rows).values()
    return ratio(sum(all(p.values()) for p in packages), len(packages))


# --- family risk, sites, lokus ---------------------------------------------------------


@dataclass(frozen=True)
class KrsAssessment:
    family_id: str
    assessed_on: date
    is_target: bool
    is_krs: bool
    sequence: int = 0


@dataclass(frozen=True)
class KrsSummary:
    krs_households: IndicatorValue
    krs_share: IndicatorValue


def krs_summary(assessments: Iterable[KrsAssessment], as_of: date) -> KrsSummary:
    """KRS count and share from each family's latest assessment on or before ``as_of``."""
    latest: dict[str, KrsAssessment] = {}
    for a in assessments:
        if a.assessed_on > as_of:
            continue
        held = latest.get(a.family_id)
        if held is None or (a.assessed_on, a.sequence) > (held.assessed_on, held.sequence):
            latest[a.family_id] = a
    targets = [a for a in latest.values() if a.is_target]
    krs = sum(a.is_krs for a in targets)
    return KrsSummary(krs_households=count(krs), krs_share=ratio(krs, len(targets)))


@dataclass(frozen=True)
class SiteLevel:
    """A Kampung KB site reached ``level`` on ``effective_on`` (one row per change)."""

    site_id: str
    effective_on: date
    level: str


def sites_by_level(
    history: Iterable[SiteLevel],
    as_of: date,
    levels: Sequence[str] = KAMPUNG_KB_LEVELS,
) -> dict[str, IndicatorValue]:
    """Sites per maturity level on ``as_of``: every one of ``levels`` in that order, then
    any other level a site holds (a former grading, a new level), by code."""
    current: dict[str, SiteLevel] = {}
    for entry in history:
        if entry.effective_on > as_of:
            continue
        held = current.get(entry.site_id)
        if held is None or entry.effective_on > held.effective_on:
            current[entry.site_id] = entry
    tally = dict.fromkeys(levels, 0)
    for level in sorted(site.level for site in current.values()):
        tally[level] = tally.get(level, 0) + 1
    return {level: count(n) for level, n in tally.items()}


@dataclass(frozen=True)
class LokusDesignation:
    village_code: str
    year: int


def lokus_villages(designations: Iterable[LokusDesignation], year: int) -> IndicatorValue:
    return count(len({d.village_code for d in designations if d.year == year}))


# --- referrals ------------------------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    referral_id: str
    raised_on: date
    completed_on: date | None = None
    cancelled: bool = False

    def __post_init__(self) -> None:
        if self.completed_on is not None and self.completed_on < self.raised_on:
            raise ValueError(f"referral {self.referral_id} completed before it was raised")


def referral_completion(
    referrals: Iterable[Referral], start: date, end: date, as_of: date
) -> IndicatorValue:
    """Of referrals raised in ``start..end`` and not cancelled, the share completed by
    ``as_of`` (the data cut-off): a cohort rate, so a past period can still rise."""
    cohort = [r for r in referrals if start <= r.raised_on <= end and not r.cancelled]
    done = sum(1 for r in cohort if r.completed_on is not None and r.completed_on <= as_of)
    return ratio(done, len(cohort))


def median_days_to_completion(
    referrals: Iterable[Referral], start: date, end: date
) -> IndicatorValue:
    """Median days from raising to completion over referrals completed in ``start..end``."""
    days = [
        (r.completed_on - r.raised_on).days
        for r in referrals
        if r.completed_on is not None and start <= r.completed_on <= end and not r.cancelled
    ]
    value = round_half_up(Fraction(statistics.median(days)), DAYS_DECIMALS) if days else None
    return IndicatorValue(value=value, numerator=None, denominator=len(days))


# --- comparison -----------------------------------------------------------------------


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"


class Assessment(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    UNCHANGED = "unchanged"
    NOT_RATED = "not_rated"


@dataclass(frozen=True)
class Change:
    """``absolute`` is in the indicator's unit (percentage points for percentages);
    ``relative`` is percent of the previous value, None when that was 0."""

    absolute: float
    relative: float | None
    trend: Trend
    assessment: Assessment


def change(
    current: float | None, previous: float | None, *, direction: Direction, decimals: int
) -> Change | None:
    """The change between two published (already rounded) values; None if either is missing.

    Worked on the published values so that the printed difference is what a reader
    gets by subtracting the printed figures.
    """
    if current is None or previous is None:
        return None
    now, before = Decimal(str(current)), Decimal(str(previous))
    absolute = round_half_up(now - before, decimals)
    relative = round_half_up((now - before) / before * 100, 1) if before else None
    trend = Trend.UP if absolute > 0 else Trend.DOWN if absolute < 0 else Trend.FLAT
    if direction is Direction.NEUTRAL:
        assessment = Assessment.NOT_RATED
    elif trend is Trend.FLAT:
        assessment = Assessment.UNCHANGED
    elif (trend is Trend.DOWN) == (direction is Direction.LOWER_IS_BETTER):
        assessment = Assessment.BETTER
    else:
        assessment = Assessment.WORSE
    return Change(absolute=absolute, relative=relative, trend=trend, assessment=assessment)


@dataclass(frozen=True)
class Gap:
    key: str
    value: float
    gap: float


def largest_gaps(
    values: Mapping[str, float | None],
    reference: float,
    *,
    direction: Direction,
    decimals: int,
    limit: int = 3,
) -> list[Gap]:
    """The ``limit`` entries furthest short of ``reference`` (a target or benchmark),
    worst first; entries at or better than the reference, or without a value, are left
    out. Ties go to the lower key so the list is stable."""
    if direction is Direction.NEUTRAL:
        raise ValueError("a gap needs an indicator with a direction")
    sign = 1 if direction is Direction.HIGHER_IS_BETTER else -1
    gaps: list[Gap] = []
    for key, value in values.items():
        if value is not None:
            shortfall = sign * (Decimal(str(reference)) - Decimal(str(value)))
            gaps.append(Gap(key=key, value=value, gap=round_half_up(shortfall, decimals)))
    shortfalls = sorted((g for g in gaps if g.gap > 0), key=lambda g: (-g.gap, g.key))
    return shortfalls[:limit]


def format_number(value: float | None, decimals: int, lang: Lang) -> str:
    """``1.234,5`` in Indonesian, ``1,234.5`` in English; an en dash when missing."""
    if value is None:
        return "–"
    text = f"{round_half_up(value, decimals):,.{decimals}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "id" else text
