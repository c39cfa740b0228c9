"""API models of indicator values, series and the catalogue."""

from datetime import date
from typing import Any, Literal

import orjson
from pydantic import BaseModel

from services.reporting.indicators.catalogue import IndicatorDefinition
from services.reporting.indicators.formulas import Change
from services.reporting.periods import Period
from services.reporting.regions import Region
from services.reporting.values.service import RegionRow, Shown, ValuesResult

Bilingual = dict[str, str]


class RegionRead(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None

    @classmethod
    def of(cls, region: Region) -> "RegionRead":
        return cls(
            code=region.code, name=region.name, level=region.level, parent_code=region.parent_code
        )


class PeriodRead(BaseModel):
    code: str
    kind: str
    start: date
    end: date
    label: Bilingual

    @classmethod
    def of(cls, period: Period) -> "PeriodRead":
        return cls(
            code=period.code,
            kind=period.kind.value,
            start=period.start_date,
            end=period.end_date,
            label={"id": period.label("id"), "en": period.label("en")},
        )


class FigureRead(BaseModel):
    """``suppressed`` names why a figure is withheld (primary: fewer people than the
    threshold; complementary: it would let a withheld one be recovered)."""

    numerator: int | None
    denominator: int | None
    value: float | int | None
    suppressed: Literal["primary", "complementary"] | None = None

    @classmethod
    def of(cls, shown: Shown) -> "FigureRead":
        return cls(
            numerator=shown.numerator,
            denominator=shown.denominator,
            value=shown.value,
            suppressed=shown.suppressed.value if shown.suppressed else None,
        )


class ChangeRead(BaseModel):
    absolute: float
    relative: float | None
    trend: str
    assessment: str

    @classmethod
    def of(cls, moved: Change | None) -> "ChangeRead | None":
        if moved is None:
            return None
        return cls(
            absolute=moved.absolute,
            relative=moved.relative,
            trend=moved.trend.value,
            assessment=moved.assessment.value,
        )


class RegionValueRead(FigureRead):
    region: RegionRead
    previous: FigureRead
    change: ChangeRead | None

    @classmethod
    def of_row(cls, row: RegionRow, region: RegionRead | None = None) -> "RegionValueRead":
        """``region``: the row's region already as read (a region recurs once per
        indicator). Built without validation: the values come typed from the engine, and
        an answer for every village of a regency has 12,000 rows (0.2 s validated)."""
        current, previous = row.current, row.previous
        moved = row.change
        return cls.model_construct(
            numerator=current.numerator,
            denominator=current.denominator,
            value=current.value,
            suppressed=current.suppressed.value if current.suppressed else None,
            region=region or RegionRead.of(row.region),
            previous=FigureRead.model_construct(
                numerator=previous.numerator,
                denominator=previous.denominator,
                value=previous.value,
                suppressed=previous.suppressed.value if previous.suppressed else None,
            ),
            change=None
            if moved is None
            else ChangeRead.model_construct(
                absolute=moved.absolute,
                relative=moved.relative,
                trend=moved.trend.value,
                assessment=moved.assessment.value,
            ),
        )


class IndicatorRef(BaseModel):
    code: str
    key: str
    version: int
    name: Bilingual
    unit: str
    direction: str

    @classmethod
    def of(cls, d: IndicatorDefinition) -> "IndicatorRef":
        return cls(
            code=d.code,
            key=d.key,
            version=d.version,
            name=dict(d.name),
            unit=d.unit.value,
            direction=d.direction.value,
        )


class IndicatorValueRead(IndicatorRef, RegionValueRead):
    children: list[RegionValueRead] | None = None


class ValuesRead(BaseModel):
    region: RegionRead
    period: PeriodRead
    previous_period: PeriodRead
    small_cells_suppressed: bool
    min_denominator: int
    indicators: list[IndicatorValueRead]
    data_cutoff: dict[str, Any]

    @classmethod
    def of(cls, result: ValuesResult) -> "ValuesRead":
        regions: dict[str, RegionRead] = {}

        def child(row: RegionRow) -> RegionValueRead:
            code = row.region.code
            if code not in regions:
                regions[code] = RegionRead.of(row.region)
            return RegionValueRead.of_row(row, regions[code])

        return cls(
            region=RegionRead.of(result.region),
            period=PeriodRead.of(result.period),
            previous_period=PeriodRead.of(result.previous_period),
            small_cells_suppressed=result.protected,
            min_denominator=result.min_denominator,
            indicators=[
                IndicatorValueRead(
                    **IndicatorRef.of(i.definition).model_dump(),
                    **RegionValueRead.of_row(i.row).model_dump(),
                    children=[child(c) for c in i.children] if i.children is not None else None,
                )
                for i in result.indicators
            ],
            data_cutoff=result.data_cutoff,
        )


def values_json(result: ValuesResult) -> bytes:
    """``ValuesRead.of(result).model_dump_json()``, key for key and byte for byte (the
    tests compare the two), written by orjson from plain dicts: 12,838 rows for every
    village of a regency took 0.24 s as models (built without validation) and 20 ms to
    serialise; as dicts 25 ms in all. A region's dict is shared by its rows."""
    regions: dict[str, dict[str, Any]] = {}

    def region(place: Region) -> dict[str, Any]:
        found = regions.get(place.code)
        if found is None:
            found = regions[place.code] = {
                "code": place.code,
                "name": place.name,
                "level": place.level,
                "parent_code": place.parent_code,
            }
        return found

    def row(r: RegionRow) -> dict[str, Any]:
        now, before, moved = r.current, r.previous, r.change
        return {
            "numerator": now.numerator,
            "denominator": now.denominator,
            "value": now.value,
            "suppressed": now.suppressed.value if now.suppressed else None,
            "region": region(r.region),
            "previous": {
                "numerator": before.numerator,
                "denominator": before.denominator,
                "value": before.value,
                "suppressed": before.suppressed.value if before.suppressed else None,
            },
            "change": None
            if moved is None
            else {
                "absolute": moved.absolute,
                "relative": moved.relative,
                "trend": moved.trend.value,
                "assessment": moved.assessment.value,
            },
        }

    def period(p: Period) -> dict[str, Any]:
        return {
            "code": p.code,
            "kind": p.kind.value,
            "start": p.start_date,
            "end": p.end_date,
            "label": {"id": p.label("id"), "en": p.label("en")},
        }

    indicators = []
    for i in result.indicators:
        d = i.definition
        indicators.append(
            {
                **row(i.row),
                "code": d.code,
                "key": d.key,
                "version": d.version,
                "name": dict(d.name),
                "unit": d.unit.value,
                "direction": d.direction.value,
                "children": None if i.children is None else [row(c) for c in i.children],
            }
        )
    return orjson.dumps(
        {
            "region": region(result.region),
            "period": period(result.period),
            "previous_period": period(result.previous_period),
            "small_cells_suppressed": result.protected,
            "min_denominator": result.min_denominator,
            "indicators": indicators,
            "data_cutoff": result.data_cutoff,
        }
    )


class ParameterRead(BaseModel):
    kind: str
    pattern: str | None
    values: dict[str, Bilingual]


class IndicatorDefinitionRead(BaseModel):
    code: str
    key: str
    version: int
    valid_from: date
    valid_to: date | None
    name: Bilingual
    numerator: Bilingual
    denominator: Bilingual | None
    unit: str
    unit_label: Bilingual
    direction: str
    direction_label: Bilingual
    sources: list[str]
    parameter: ParameterRead | None


class SeriesPointRead(FigureRead):
    period: PeriodRead


class SeriesRead(IndicatorRef):
    region: RegionRead
    small_cells_suppressed: bool
    points: list[SeriesPointRead]
