"""API models of indicator values, series and the catalogue."""

from datetime import date
from typing import Any, Literal

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
