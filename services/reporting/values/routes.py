"""Indicator catalogue, values by region and period, time series and their exports."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Caller, forbidden, require
from common.db import Session
from common.i18n import current_lang
from common.identity import Identity
from common.permissions import allowed
from services.reporting.engine import definitions as defs
from services.reporting.indicators.catalogue import (
    CATALOGUE,
    DIRECTION_LABELS,
    UNIT_LABELS,
    IndicatorDefinition,
    Lang,
)
from services.reporting.periods import Period, parse_period, periods_between
from services.reporting.regions import Region, region_index
from services.reporting.values import tables
from services.reporting.values.schemas import (
    FigureRead,
    IndicatorDefinitionRead,
    IndicatorRef,
    ParameterRead,
    PeriodRead,
    RegionRead,
    SeriesPointRead,
    SeriesRead,
    ValuesRead,
    values_json,
)
from services.reporting.values.service import (
    Breakdown,
    Shown,
    ValuesResult,
    is_protected,
    query_values,
    require_region,
    shown_tree,
)
from services.reporting.values.snapshot import consistent_snapshot

router = APIRouter(prefix="/v1/reporting", tags=["reporting"])

READ = [Depends(require("reporting.indicator.read"))]
MAX_SERIES_PERIODS = 60

IndicatorParam = Annotated[
    list[str],
    Query(
        description="Indicator code, repeatable; parametrised ones as code:parameter "
        "(coverage:S2, tpk_visit_coverage:baduta, kampung_kb_sites:mandiri)",
        examples=["stunting_prevalence"],
    ),
]
RegionParam = Annotated[
    str, Query(description="Kemendagri code at any level", examples=["61.04"], max_length=13)
]
PeriodParam = Annotated[
    str,
    Query(description="2026-03, 2026-Q1, 2026 or 2026-BPB-02", examples=["2026-Q1"], max_length=12),
]
FormatParam = Annotated[Literal["json", "csv", "xlsx"], Query(description="Answer format")]
LangParam = Annotated[Literal["id", "en"] | None, Query(description="Language of labels")]


def language(lang: str | None) -> Lang:
    chosen = lang or current_lang.get()
    return "id" if chosen == "id" else "en"


def require_export(caller: Identity) -> None:
    if caller.role != "service" and not allowed(
        caller.role, "reporting.export", sector=caller.sector, scopes=caller.scopes
    ):
        raise forbidden("reporting.export")


@router.get(
    "/indicators",
    summary="The indicator catalogue: every definition with its versions.",
    dependencies=READ,
)
async def list_indicators() -> list[IndicatorDefinitionRead]:
    out = []
    for code in CATALOGUE.codes():
        for d in CATALOGUE.versions(code):
            out.append(_definition_out(d))
    return out


def _definition_out(d: IndicatorDefinition) -> IndicatorDefinitionRead:
    domain = d.parameter_domain
    return IndicatorDefinitionRead(
        code=d.code,
        key=d.key,
        version=d.version,
        valid_from=d.valid_from,
        valid_to=d.valid_to,
        name=dict(d.name),
        numerator=dict(d.numerator),
        denominator=dict(d.denominator) if d.denominator else None,
        unit=d.unit.value,
        unit_label=dict(UNIT_LABELS[d.unit]),
        direction=d.direction.value,
        direction_label=dict(DIRECTION_LABELS[d.direction]),
        sources=[m.value for m in d.read_models],
        parameter=ParameterRead(
            kind=domain.kind,
            pattern=domain.pattern.pattern if domain.pattern else None,
            values={k: dict(v) for k, v in domain.labels.items()},
        )
        if domain
        else None,
    )


async def _values(
    request: Request,
    session: AsyncSession,
    caller: Identity,
    indicator: list[str],
    region: str,
    period: str,
    breakdown: Breakdown,
    threshold: int,
) -> ValuesResult:
    await consistent_snapshot(session)
    regions = region_index()
    place = require_region(regions, caller, region)
    when = parse_period(period)
    definitions = defs.resolve(indicator, when)
    return await query_values(
        session,
        regions,
        caller,
        place,
        when,
        definitions,
        breakdown=breakdown,
        threshold=threshold,
        second=getattr(request.app.state, "second_sessions", None),
    )


@router.get(
    "/values",
    summary="Indicator values for a region and period, with the previous period and the change.",
    dependencies=READ,
    response_model=ValuesRead,
)
async def get_values(
    request: Request,
    session: Session,
    caller: Caller,
    indicator: IndicatorParam,
    region: RegionParam,
    period: PeriodParam,
    breakdown: Annotated[
        Breakdown,
        Query(
            description="children: one row per child region; villages: one row per village "
            "within the region"
        ),
    ] = "none",
    format: FormatParam = "json",
    lang: LangParam = None,
) -> Response | ValuesRead:
    if format != "json":
        require_export(caller)
    threshold = request.app.state.settings.small_cell_threshold
    result = await _values(
        request, session, caller, indicator, region, period, breakdown, threshold
    )
    if format == "json":
        # Written at once as ValuesRead would write it (values_json): FastAPI would
        # validate 12,838 models again for every village of a regency.
        return Response(values_json(result), media_type="application/json")
    chosen = language(lang)
    return tables.download(
        tables.value_rows(result, chosen),
        tables.VALUE_COLUMNS,
        format,
        lang=chosen,
        filename=f"indikator-{result.region.code}-{result.period.code}",
        definitions=[i.definition for i in result.indicators],
    )


@router.get(
    "/exports",
    summary="Download indicator values as CSV or XLSX (same query as /values).",
    dependencies=[Depends(require("reporting.export"))],
)
async def export_values(
    request: Request,
    session: Session,
    caller: Caller,
    indicator: IndicatorParam,
    region: RegionParam,
    period: PeriodParam,
    breakdown: Annotated[Breakdown, Query()] = "children",
    format: Annotated[Literal["csv", "xlsx"], Query()] = "xlsx",
    lang: LangParam = None,
) -> Response:
    threshold = request.app.state.settings.small_cell_threshold
    result = await _values(
        request, session, caller, indicator, region, period, breakdown, threshold
    )
    chosen = language(lang)
    return tables.download(
        tables.value_rows(result, chosen),
        tables.VALUE_COLUMNS,
        format,
        lang=chosen,
        filename=f"indikator-{result.region.code}-{result.period.code}",
        definitions=[i.definition for i in result.indicators],
    )


async def series_points(
    session: AsyncSession,
    caller: Identity,
    indicator: list[str],
    region: str,
    first: str,
    last: str,
    threshold: int,
) -> tuple[Region, bool, dict[str, IndicatorDefinition], dict[str, list[tuple[Period, Shown]]]]:
    await consistent_snapshot(session)
    regions = region_index()
    place = require_region(regions, caller, region)
    periods = periods_between(
        parse_period(first), parse_period(last), max_periods=MAX_SERIES_PERIODS
    )
    definitions_by_period = [defs.resolve(indicator, p) for p in periods]
    protected = is_protected(caller)
    points: dict[str, list] = {}
    keyed: dict[str, IndicatorDefinition] = {}
    for period, definitions in zip(periods, definitions_by_period, strict=True):
        trees = await shown_tree(
            session,
            regions,
            definitions,
            period,
            place,
            protected=protected,
            threshold=threshold,
        )
        for definition, tree in zip(definitions, trees, strict=True):
            keyed.setdefault(definition.code, definition)
            points.setdefault(definition.code, []).append((period, tree[place.code]))
    return place, protected, keyed, points


@router.get(
    "/series",
    summary="A time series per indicator for a region, from one period to another.",
    dependencies=READ,
    response_model=list[SeriesRead],
)
async def get_series(
    request: Request,
    session: Session,
    caller: Caller,
    indicator: IndicatorParam,
    region: RegionParam,
    from_: Annotated[str, Query(alias="from", description="First period, e.g. 2025-01")],
    to: Annotated[str, Query(description="Last period of the same kind, e.g. 2026-06")],
    format: FormatParam = "json",
    lang: LangParam = None,
) -> Response | list[SeriesRead]:
    if format != "json":
        require_export(caller)
    threshold = request.app.state.settings.small_cell_threshold
    place, protected, keyed, points = await series_points(
        session, caller, indicator, region, from_, to, threshold
    )
    if format == "json":
        return [
            SeriesRead(
                **IndicatorRef.of(definition).model_dump(),
                region=RegionRead.of(place),
                small_cells_suppressed=protected,
                points=[
                    SeriesPointRead(**FigureRead.of(shown).model_dump(), period=PeriodRead.of(p))
                    for p, shown in points[code]
                ],
            )
            for code, definition in keyed.items()
        ]
    chosen = language(lang)
    rows = (
        row
        for code, definition in keyed.items()
        for row in tables.series_rows(definition, place, points[code], chosen)
    )
    return tables.download(
        rows,
        tables.SERIES_COLUMNS,
        format,
        lang=chosen,
        filename=f"deret-{place.code}-{from_}-{to}",
        definitions=list(keyed.values()),
    )
