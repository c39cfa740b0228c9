"""The one-page regency scorecard for the annual review (HTML)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from common.auth import Caller, require
from common.db import Session
from common.errors import ProblemError
from services.reporting.charts import TrendPoint
from services.reporting.engine import definitions as defs
from services.reporting.engine import repository as repo
from services.reporting.periods import Period, PeriodKind, periods_between
from services.reporting.regions import region_index
from services.reporting.scorecard import (
    Headline,
    ReportedValue,
    ScorecardData,
    VillageRow,
    render_scorecard,
)
from services.reporting.values.routes import LangParam, RegionParam, language
from services.reporting.values.service import (
    Shown,
    is_protected,
    require_region,
    shown_tree,
)
from services.reporting.values.snapshot import consistent_snapshot

router = APIRouter(prefix="/v1/reporting", tags=["scorecard"])

HEADLINES = (
    "stunting_prevalence",
    "wasting_prevalence",
    "underweight_prevalence",
    "measurement_coverage",
    "krs_share",
    "convergence",
    "tpk_visit_coverage:krs",
    "referral_completion_rate",
)
# Headlines drawn as quarterly trends over the year.
TRENDS = ("stunting_prevalence", "wasting_prevalence", "measurement_coverage", "krs_share")
VILLAGE_COLUMNS = ("stunting_prevalence", "krs_share", "convergence")


def _reported(shown: Shown) -> ReportedValue:
    if shown.suppressed:
        return ReportedValue(None, suppressed=True)
    return ReportedValue(None if shown.value is None else float(shown.value))


def _number(shown: Shown) -> float | None:
    return None if shown.suppressed or shown.value is None else float(shown.value)


@router.get(
    "/scorecard",
    summary="One-page scorecard of a regency for a year (HTML, prints on A4).",
    dependencies=[Depends(require("reporting.indicator.read"))],
    response_class=HTMLResponse,
)
async def get_scorecard(
    request: Request,
    session: Session,
    caller: Caller,
    region: RegionParam,
    year: Annotated[int, Query(ge=2018, le=2100, examples=[2026])],
    lang: LangParam = None,
) -> HTMLResponse:
    chosen = language(lang)
    settings = request.app.state.settings
    await consistent_snapshot(session)
    regions = region_index()
    place = require_region(regions, caller, region)
    if place.level != "regency":
        raise ProblemError(
            422,
            "scorecard_region_not_regency",
            detail={
                "id": "Kartu skor dibuat per kabupaten/kota (kode seperti 61.04).",
                "en": "The scorecard is made per regency (a code like 61.04).",
            },
        )
    protected = is_protected(caller)
    threshold = settings.small_cell_threshold
    period = Period(PeriodKind.YEAR, year)
    codes = list(dict.fromkeys([*HEADLINES, *VILLAGE_COLUMNS, settings.scorecard_gap_indicator]))

    async def tree(p: Period, wanted: list[str]) -> dict[str, dict[str, Shown]]:
        definitions = defs.resolve(wanted, p)
        shown = await shown_tree(
            session, regions, definitions, p, place, protected=protected, threshold=threshold
        )
        return {d.code: s for d, s in zip(definitions, shown, strict=True)}

    now = await tree(period, codes)
    before = await tree(period.previous(), codes)
    quarters = periods_between(
        Period(PeriodKind.QUARTER, year, 1), Period(PeriodKind.QUARTER, year, 4)
    )
    trends = {code: [] for code in TRENDS}
    for quarter in quarters:
        found = await tree(quarter, list(TRENDS))
        for code in TRENDS:
            point = TrendPoint(quarter.label(chosen, short=True), _number(found[code][place.code]))
            trends[code].append(point)
    definitions = {d.code: d for d in defs.resolve(codes, period)}
    gap_indicator = definitions[settings.scorecard_gap_indicator]
    headlines = [
        Headline(
            definition=definitions[code],
            current=_number(now[code][place.code]),
            previous=_number(before[code][place.code]),
            trend=trends.get(code, ()),
            target=settings.scorecard_gap_reference if code == gap_indicator.code else None,
        )
        for code in HEADLINES
    ]
    lokus = await repo.lokus_villages(session, year, place.code)
    villages = [
        VillageRow(
            village_code=code,
            village_name=regions.name(code),
            district_name=regions.name(regions.ancestor(code, "district")),
            current={c: _reported(now[c][code]) for c in {*VILLAGE_COLUMNS, gap_indicator.code}},
            previous={c: _reported(before[c][code]) for c in VILLAGE_COLUMNS},
        )
        for code in sorted(lokus)
    ]
    data = ScorecardData(
        regency_code=place.code,
        regency_name=place.name,
        period=period,
        data_cutoff=datetime.now(UTC),
        headlines=headlines,
        village_columns=[definitions[c] for c in VILLAGE_COLUMNS],
        villages=villages,
        gap_indicator=gap_indicator,
        gap_reference=settings.scorecard_gap_reference,
        min_denominator=threshold if protected else None,
    )
    return HTMLResponse(render_scorecard(data, chosen))
