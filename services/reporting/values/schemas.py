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


class RegionOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None

    @classmethod
    def of(cls, region: Region) -> "RegionOut":
        return cls(
            code=region.code, name=region.name, level=region.level, parent_code=region.parent_code
        )


class PeriodOut(BaseModel):
    code: str
    kind: str
    start: date
    end: date
    label: Bilingual

    @classmethod
    def of(cls, period: Period) -> "PeriodOut":
        return cls(
            code=period.code,
            kind=period.kind.value,
            start=period.start_date,
            end=period.end_date,
            label={"id": period.label("id"), "en": period.label("en")},
        )


class FigureOut(BaseModel):
    """``suppressed`` names why a figure is withheld (primary: fewer people than the
    threshold; complementary: it would let a withheld one be recovered)."""

    numerator: int | None
    denominator: int | None
    value: float | int | None
    suppressed: Literal["primary", "complementary"] | None = None

    @classmethod
    def of(cls, shown: Shown) -> "FigureOut":
        return cls(
            numerator=shown.numerator,
            denominator=shown.denominator,
            value=shown.value,
            suppressed=shown.suppressed.value if shown.suppressed else None,
        )


class ChangeOut(BaseModel):
    absolute: float
    relative: float | None
    trend: str
    assessment: str

    @classmethod
    def of(cls, moved: Change | None) -> "ChangeOut | None":
        if moved is None:
            return None
        return cls(
            absolute=moved.absolute,
            relative=moved.relative,
            trend=moved.trend.value,
            assessment=moved.assessment.value,
        )


class RegionValueOut(FigureOut):
    region: RegionOut
    previous: FigureOut
    change: ChangeOut | None

    @classmethod
    def of_row(cls, row: RegionRow) -> "RegionValueOut":
        return cls(
            **FigureOut.of(row.current).model_dump(),
            region=RegionOut.of(row.region),
            previous=FigureOut.of(row.previous),
            change=ChangeOut.of(row.change),
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


class IndicatorValueOut(IndicatorRef, RegionValueOut):
    children: list[RegionValueOut] | None = None


class ValuesOut(BaseModel):
    region: RegionOut
    period: PeriodOut
    previous_period: PeriodOut
    small_cells_suppressed: bool
    min_denominator: int
    indicators: list[IndicatorValueOut]
    data_cutoff: dict[str, Any]

    @classmethod
    def of(cls, result: ValuesResult) -> "ValuesOut":
        return cls(
            region=RegionOut.of(result.region),
            period=PeriodOut.of(result.period),
            previous_period=PeriodOut.of(result.previous_period),
            small_cells_suppressed=result.protected,
            min_denominator=result.min_denominator,
            indicators=[
                IndicatorValueOut(
                    **IndicatorRef.of(i.definition).model_dump(),
                    **RegionValueOut.of_row(i.row).model_dump(),
                    children=[RegionValueOut.of_row(c) for c in i.children]
                    if i.children is not None
                    else None,
                )
                for i in result.indicators
            ],
            data_cutoff=result.data_cutoff,
        )


class ParameterOut(BaseModel):
    kind: str
    pattern: str | None
    values: dict[str, Bilingual]


class IndicatorDefinitionOut(BaseModel):
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
    parameter: ParameterOut | None


class SeriesPointOut(FigureOut):
    period: PeriodOut


class SeriesOut(IndicatorRef):
    region: RegionOut
    small_cells_suppressed: bool
    points: list[SeriesPointOut]
