"""Charts (PNG or SVG) of indicator values: a trend over periods, the villages of a
district ranked, and coverage per intervention."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from common.auth import Caller, require
from common.db import Session
from services.reporting.charts import (
    CoverageBar,
    RankedBar,
    TrendPoint,
    coverage_chart,
    ranking_chart,
    trend_chart,
)
from services.reporting.engine import definitions as defs
from services.reporting.engine.targets import TARGETS, intervention_order
from services.reporting.periods import parse_period
from services.reporting.regions import region_index
from services.reporting.values.routes import (
    LangParam,
    PeriodParam,
    RegionParam,
    language,
    series_points,
)
from services.reporting.values.service import (
    is_protected,
    require_region,
    shown_tree,
)
from services.reporting.values.snapshot import consistent_snapshot

router = APIRouter(
    prefix="/v1/reporting/charts",
    tags=["charts"],
    dependencies=[Depends(require("reporting.indicator.read"))],
)

ChartFormatParam = Annotated[Literal["png", "svg"], Query(description="png or svg")]
_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


def _image(body: bytes, fmt: str, name: str) -> Response:
    return Response(
        body,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'inline; filename="{name}.{fmt}"'},
    )


@router.get("/trend", summary="Trend of one indicator over periods (PNG or SVG).")
async def trend(
    request: Request,
    session: Session,
    caller: Caller,
    indicator: Annotated[str, Query(examples=["stunting_prevalence"])],
    region: RegionParam,
    from_: Annotated[str, Query(alias="from", examples=["2025-Q1"])],
    to: Annotated[str, Query(examples=["2026-Q4"])],
    format: ChartFormatParam = "png",
    lang: LangParam = None,
) -> Response:
    chosen = language(lang)
    threshold = request.app.state.settings.small_cell_threshold
    place, _, keyed, points = await series_points(
        session, caller, [indicator], region, from_, to, threshold
    )
    ((code, definition),) = keyed.items()
    chart = trend_chart(
        [TrendPoint(p.label(chosen, short=True), _number(s.value)) for p, s in points[code]],
        definition=definition,
        lang=chosen,
        subtitle=place.name,
        fmt=format,
    )
    return _image(chart, format, f"trend-{place.code}")


@router.get("/ranking", summary="Child regions (e.g. villages of a district) ranked.")
async def ranking(
    request: Request,
    session: Session,
    caller: Caller,
    indicator: Annotated[str, Query(examples=["stunting_prevalence"])],
    region: RegionParam,
    period: PeriodParam,
    format: ChartFormatParam = "png",
    lang: LangParam = None,
) -> Response:
    chosen = language(lang)
    await consistent_snapshot(session)
    regions = region_index()
    place = require_region(regions, caller, region)
    when = parse_period(period)
    (definition,) = defs.resolve([indicator], when)
    (tree,) = await shown_tree(
        session,
        regions,
        [definition],
        when,
        place,
        protected=is_protected(caller),
        threshold=request.app.state.settings.small_cell_threshold,
    )
    bars = [
        RankedBar(regions.name(code), _number(tree[code].value), tree[code].suppressed is not None)
        for code in regions.children(place.code)
    ]
    chart = ranking_chart(
        bars,
        definition=definition,
        lang=chosen,
        subtitle=f"{place.name} · {when.label(chosen)}",
        fmt=format,
    )
    return _image(chart, format, f"ranking-{place.code}-{when.code}")


@router.get("/coverage", summary="Coverage of each intervention as bars, with targets.")
async def coverage(
    request: Request,
    session: Session,
    caller: Caller,
    region: RegionParam,
    period: PeriodParam,
    format: ChartFormatParam = "png",
    lang: LangParam = None,
) -> Response:
    chosen = language(lang)
    await consistent_snapshot(session)
    regions = region_index()
    place = require_region(regions, caller, region)
    when = parse_period(period)
    codes = sorted(TARGETS, key=intervention_order)
    definitions = defs.resolve([f"coverage:{c}" for c in codes], when)
    trees = await shown_tree(
        session,
        regions,
        definitions,
        when,
        place,
        protected=is_protected(caller),
        threshold=request.app.state.settings.small_cell_threshold,
    )
    bars = [
        CoverageBar(code, _number(tree[place.code].value), TARGETS[code].national_target_pct)
        for code, tree in zip(codes, trees, strict=True)
    ]
    chart = coverage_chart(
        bars, lang=chosen, subtitle=f"{place.name} · {when.label(chosen)}", fmt=format
    )
    return _image(chart, format, f"coverage-{place.code}-{when.code}")


def _number(value: float | int | None) -> float | None:
    return None if value is None else float(value)
