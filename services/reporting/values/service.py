"""Indicator values as a caller may see them: a region, optionally its child regions,
this period and the one before, with small cells withheld for callers without the
personal-data right.

Small-cell protection runs over one fixed tree, the whole province of the region
(province, regencies, districts, villages), whatever part of it a request shows. The
withheld pattern of a period is therefore the same in every answer, so figures from
different requests cannot be combined to recover a withheld one.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.errors import not_found
from common.identity import Identity
from common.scoping import in_scope
from services.reporting.engine import repository as repo
from services.reporting.engine.compute import (
    RegionFigures,
    compute_tree,
    needs_population_pass,
)
from services.reporting.indicators.catalogue import IndicatorDefinition
from services.reporting.indicators.formulas import Change, change
from services.reporting.periods import Period
from services.reporting.regions import Region, RegionIndex
from services.reporting.suppression import Cell, SuppressionReason, suppress
from services.reporting.values.snapshot import sharing_snapshot

REGION = {"en": "Region", "id": "Wilayah"}
# none: the region alone; children: one row per child region; villages: one row per
# village within the region (every village of a regency in one answer).
Breakdown = Literal["none", "children", "villages"]


@dataclass(frozen=True)
class Shown:
    value: float | int | None
    numerator: int | None
    denominator: int | None
    suppressed: SuppressionReason | None = None


class ShownTree(dict[str, Shown]):
    """Figures as shown, by region; a region without data shows the empty figure."""

    def __init__(self, shown: dict[str, Shown], empty: Shown) -> None:
        super().__init__(shown)
        self.empty = empty

    def __missing__(self, code: str) -> Shown:
        return self.empty


@dataclass(frozen=True)
class RegionRow:
    region: Region
    current: Shown
    previous: Shown
    change: Change | None


@dataclass(frozen=True)
class IndicatorResult:
    definition: IndicatorDefinition
    row: RegionRow
    children: list[RegionRow] | None


@dataclass(frozen=True)
class ValuesResult:
    region: Region
    period: Period
    previous_period: Period
    protected: bool
    min_denominator: int
    indicators: list[IndicatorResult]
    data_cutoff: dict[str, Any]


def is_protected(caller: Identity) -> bool:
    """Callers without the personal-data right see aggregates with small cells withheld."""
    return caller.role != "service" and not caller.pii


def require_region(regions: RegionIndex, caller: Identity, code: str) -> Region:
    region = regions.require(code.strip())
    if not in_scope(caller.region, region.code):
        raise not_found(REGION)
    return region


def universe_root(region: Region, protected: bool) -> str:
    return region.code[:2] if protected else region.code


def shown_figures(
    figures: RegionFigures, regions: RegionIndex, root: str, *, protected: bool, threshold: int
) -> ShownTree:
    """Each region's figure as shown: withheld cells lose numbers and value.

    Regions that describe nobody (basis 0) take no part: they are shown as the empty
    cells they are. Without them a lone small cell among empty siblings withholds its
    parent instead of an empty sibling, which protects more, not less; and the search
    for complements does not wander through thousands of empty villages.
    """
    by_region = figures.by_region
    empty = figures.empty
    shown = ShownTree(
        {code: Shown(f.value, f.numerator, f.denominator) for code, f in by_region.items()},
        Shown(empty.value, empty.numerator, empty.denominator),
    )
    if not protected:
        return shown
    cells = [
        Cell(
            region_code=code,
            parent_code=None if code == root else _parent(regions, code),
            numerator=f.numerator,
            denominator=f.basis,
            value=f.value,
        )
        for code, f in by_region.items()
        if f.basis
    ]
    for cell in suppress(cells, min_denominator=threshold):
        if cell.suppressed:
            shown[cell.region_code] = Shown(None, None, None, cell.suppression)
    return shown


def _parent(regions: RegionIndex, code: str) -> str | None:
    region = regions.get(code)
    return region.parent_code if region else None


async def shown_tree(
    session: AsyncSession,
    regions: RegionIndex,
    definitions: Sequence[IndicatorDefinition],
    period: Period,
    region: Region,
    *,
    protected: bool,
    threshold: int,
) -> list[ShownTree]:
    """Per definition: every region of the computed tree as the caller may see it."""
    root = universe_root(region, protected)
    trees = await compute_tree(session, regions, definitions, period, root)
    return [
        shown_figures(t, regions, root, protected=protected, threshold=threshold) for t in trees
    ]


def change_between(definition: IndicatorDefinition, now: Shown, before: Shown) -> Change | None:
    if now.suppressed or before.suppressed:
        return None
    return change(
        _number(now.value),
        _number(before.value),
        direction=definition.direction,
        decimals=definition.decimals,
    )


def _number(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _row(
    definition: IndicatorDefinition,
    region: Region,
    now: dict[str, Shown],
    before: dict[str, Shown],
) -> RegionRow:
    current, previous = now[region.code], before[region.code]
    return RegionRow(region, current, previous, change_between(definition, current, previous))


async def query_values(
    session: AsyncSession,
    regions: RegionIndex,
    caller: Identity,
    region: Region,
    period: Period,
    definitions: Sequence[IndicatorDefinition],
    *,
    breakdown: Breakdown,
    threshold: int,
    second: async_sessionmaker[AsyncSession] | None = None,
) -> ValuesResult:
    """With ``second`` sessions, the previous period is computed on a connection of its
    own, at the same time and on the same snapshot, when the pass over every person and
    household is asked for (the other tallies take milliseconds)."""
    protected = is_protected(caller)
    previous_period = period.previous()

    async def tree(on: AsyncSession, when: Period) -> list[ShownTree]:
        return await shown_tree(
            on, regions, definitions, when, region, protected=protected, threshold=threshold
        )

    if second is None or not needs_population_pass(definitions):
        now = await tree(session, period)
        before = await tree(session, previous_period)
    else:
        async with sharing_snapshot(session, second) as other:
            now, before = await asyncio.gather(tree(session, period), tree(other, previous_period))
    # Looked up once, not once per indicator (12,838 rows for every village of a regency).
    children = [regions.require(c) for c in _breakdown(regions, region, breakdown)]
    results = []
    for definition, current, previous in zip(definitions, now, before, strict=True):
        row = _row(definition, region, current, previous)
        child_rows = (
            [_row(definition, c, current, previous) for c in children]
            if breakdown != "none"
            else None
        )
        results.append(IndicatorResult(definition, row, child_rows))
    return ValuesResult(
        region=region,
        period=period,
        previous_period=previous_period,
        protected=protected,
        min_denominator=threshold,
        indicators=results,
        data_cutoff=await data_cutoff(session),
    )


def _breakdown(regions: RegionIndex, region: Region, breakdown: Breakdown) -> list[str]:
    if breakdown == "children":
        return regions.children(region.code)
    if breakdown == "villages":
        return [c for c in regions.villages(region.code) if c != region.code]
    return []


async def data_cutoff(session: AsyncSession) -> dict[str, Any]:
    return {"as_of": datetime.now(UTC).isoformat(), "feeds": await repo.feed_positions(session)}
