"""Indicator figures for every region of a tree, for one period.

Each family of indicators is tallied per village in SQL; a region's numerator and
denominator are the sums over its villages (every person, family, site and referral
sits in exactly one village for a period), so all levels agree with each other by
construction. Only the median is not a sum: it is taken per region in SQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.engine import repository as repo
from services.reporting.engine.coverage import CoverageAsk, coverage_counts
from services.reporting.engine.targets import TARGETS, TargetSpec, intervention_order
from services.reporting.indicators.catalogue import (
    IndicatorDefinition,
    ReportingError,
    Unit,
)
from services.reporting.indicators.formulas import ratio, round_half_up
from services.reporting.periods import Period, PeriodKind
from services.reporting.regions import RegionIndex

GROWTH_FIGURES: dict[str, tuple[str, str | None]] = {
    # code: (numerator column, denominator column) of growth_village_period
    "stunting_prevalence": ("stunted", "haz_n"),
    "severe_stunting_prevalence": ("severely_stunted", "haz_n"),
    "wasting_prevalence": ("wasted", "whz_n"),
    "severe_wasting_prevalence": ("severely_wasted", "whz_n"),
    "underweight_prevalence": ("underweight", "waz_n"),
    "overweight_prevalence": ("overweight", "whz_n"),
    "children_measured": ("measured", None),
}
# Figures about places, not people: never small cells.
NOT_PERSONAL = frozenset({"kampung_kb_sites", "lokus_villages"})


@dataclass(frozen=True)
class Figure:
    """One indicator for one region. ``basis`` is how many people or families the figure
    describes (what small-cell protection looks at); None for figures about places."""

    value: float | int | None
    numerator: int | None
    denominator: int | None
    basis: int | None


# Indicators counted by the pass over every person and household (engine/coverage.py).
POPULATION_PASS = frozenset(
    {"coverage", "convergence", "tpk_visit_coverage", "measurement_coverage"}
)


def needs_population_pass(definitions: Sequence[IndicatorDefinition]) -> bool:
    return any(d.base_code in POPULATION_PASS for d in definitions)


def growth_key(period: Period) -> tuple[str, date]:
    kind = {
        PeriodKind.MONTH: "M",
        PeriodKind.WEIGHING: "M",
        PeriodKind.QUARTER: "Q",
        PeriodKind.YEAR: "Y",
    }[period.kind]
    return kind, period.start_date


def target_spec(definition: IndicatorDefinition) -> TargetSpec:
    spec = TARGETS.get(definition.parameter or "")
    if spec is None:
        raise ReportingError(
            "coverage_target_unknown",
            {
                "id": f"Sasaran intervensi {definition.parameter} belum didefinisikan untuk "
                "pelaporan.",
                "en": f"No reporting target definition for intervention {definition.parameter}.",
            },
        )
    return spec


@dataclass
class _Tallies:
    """Per indicator code: village → (numerator, denominator)."""

    counts: dict[str, dict[str, tuple[int, int]]]
    medians: dict[str, dict[str, tuple[float, int]]]


async def _tally(
    session: AsyncSession,
    definitions: Sequence[IndicatorDefinition],
    period: Period,
    scope: str,
) -> _Tallies:
    window = repo.Window(period.start_date, period.end_date, scope)
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    medians: dict[str, dict[str, tuple[float, int]]] = {}
    bases = {d.base_code for d in definitions}
    kind, start = growth_key(period)

    if bases & GROWTH_FIGURES.keys():
        sums = await repo.growth_sums(session, kind, start, scope)
        for code, (num, den) in GROWTH_FIGURES.items():
            counts[code] = {
                v: (s[num], s[den] if den else s[num]) for v, s in sums.items() if s["measured"]
            }
    if bases & {"krs_households", "krs_share"}:
        krs = await repo.krs_counts(session, window)
        counts["krs_households"] = krs
        counts["krs_share"] = krs
    wanted_specs = [target_spec(d) for d in definitions if d.base_code == "coverage"]
    with_convergence = "convergence" in bases
    specs = sorted(
        {
            s.code: s for s in (list(TARGETS.values()) if with_convergence else wanted_specs)
        }.values(),
        key=lambda s: intervention_order(s.code),
    )
    tpk_groups = sorted(
        {d.parameter or "" for d in definitions if d.base_code == "tpk_visit_coverage"}
    )
    measured = (kind, start) if "measurement_coverage" in bases else None
    if specs or tpk_groups or measured:
        found = await coverage_counts(
            session, window, CoverageAsk(specs, with_convergence, tpk_groups, measured)
        )
        for spec in specs:
            counts[f"coverage:{spec.code}"] = found.by_code.get(spec.code, {})
        if specs:
            counts["convergence"] = found.convergence
        for group in tpk_groups:
            counts[f"tpk_visit_coverage:{group}"] = found.tpk[group]
        if measured:
            counts["measurement_coverage"] = found.measurement
    if "referral_completion_rate" in bases:
        counts["referral_completion_rate"] = await repo.referral_counts(session, window)
    if "referral_median_days" in bases:
        medians["referral_median_days"] = await repo.referral_medians(session, window)
    if "kampung_kb_sites" in bases:
        levels = await repo.site_levels(session, window)
        for d in definitions:
            if d.base_code == "kampung_kb_sites":
                counts[d.code] = {v: (n, n) for v, n in levels.get(d.parameter or "", {}).items()}
    if "lokus_villages" in bases:
        villages = await repo.lokus_villages(session, period.end_date.year, scope)
        counts["lokus_villages"] = {v: (1, 1) for v in villages}
    return _Tallies(counts, medians)


def _figure(definition: IndicatorDefinition, numerator: int, denominator: int) -> Figure:
    personal = definition.base_code not in NOT_PERSONAL
    if definition.unit is Unit.PERCENT:
        value = ratio(numerator, denominator, definition.decimals).value
        return Figure(value, numerator, denominator, denominator)
    # Counts: the KRS count is withheld along with the share it is part of.
    return Figure(numerator, numerator, None, denominator if personal else None)


@dataclass(frozen=True)
class RegionFigures:
    """Figures of one indicator for a tree of regions: those with data in ``by_region``,
    every other region of the tree has the ``empty`` figure."""

    definition: IndicatorDefinition
    by_region: dict[str, Figure]
    empty: Figure

    def get(self, code: str) -> Figure:
        return self.by_region.get(code, self.empty)


def _within(code: str, root: str) -> bool:
    return code == root or code.startswith(root + ".")


def _code_for(definition: IndicatorDefinition) -> str:
    if definition.base_code in GROWTH_FIGURES or definition.base_code in {
        "measurement_coverage",
        "krs_households",
        "krs_share",
        "convergence",
        "referral_completion_rate",
        "referral_median_days",
        "lokus_villages",
    }:
        return definition.base_code
    return definition.code


async def compute_tree(
    session: AsyncSession,
    regions: RegionIndex,
    definitions: Sequence[IndicatorDefinition],
    period: Period,
    root: str,
) -> list[RegionFigures]:
    """Every indicator for ``root`` and all regions under it, in the order given."""
    tallies = await _tally(session, definitions, period, root)
    results = []
    for definition in definitions:
        code = _code_for(definition)
        if definition.unit is Unit.DAYS:
            found = tallies.medians.get(code, {})
            by_region = {
                region: _median_figure(definition, median)
                for region, median in found.items()
                if _within(region, root)
            }
            empty = _median_figure(definition, None)
        else:
            sums = _roll_up(tallies.counts.get(code, {}), root)
            by_region = {region: _figure(definition, *pair) for region, pair in sums.items()}
            empty = _figure(definition, 0, 0)
        results.append(RegionFigures(definition, by_region, empty))
    return results


def _median_figure(definition: IndicatorDefinition, found: tuple[float, int] | None) -> Figure:
    if found is None:
        return Figure(None, None, 0, 0)
    median, n = found
    return Figure(round_half_up(median, definition.decimals), None, n, n)


def _roll_up(villages: dict[str, tuple[int, int]], root: str) -> dict[str, tuple[int, int]]:
    sums: dict[str, list[int]] = {}
    for village, (num, den) in villages.items():
        for length in (2, 5, 8, 13):
            code = village[:length]
            if len(code) < len(root):
                continue
            tally = sums.setdefault(code, [0, 0])
            tally[0] += num
            tally[1] += den
    return {code: (n, d) for code, (n, d) in sums.items()}
