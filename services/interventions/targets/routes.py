"""Targets and gaps: who should receive an intervention, what they received, who is behind."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.pagination import Page
from services.interventions.catalogue.rules import Violation
from services.interventions.problems import violation_problem
from services.interventions.targets.periods import parse_period
from services.interventions.targets.schemas import TargetsRead
from services.interventions.targets.service import targets_report

router = APIRouter(prefix="/v1/interventions/targets", tags=["targets"])

RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", description="Only under this code"),
]


@router.get(
    "",
    summary="Eligible subjects of an intervention in a region and period, with what each "
    "received and the gap; counts over all of them.",
    dependencies=[Depends(require("interventions.target.read"))],
)
async def list_targets(
    session: Session,
    caller: Caller,
    response: Response,
    page: Page,
    intervention: Annotated[str, Query(pattern=r"^[A-Z][A-Z0-9_]{0,15}$", examples=["S2"])],
    region: RegionQuery = None,
    period: Annotated[
        str | None, Query(description="YYYY, YYYY-Qn or YYYY-MM; the current quarter")
    ] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    lokus_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Literal["complete", "on_track", "behind", "not_complete", "no_delivery"] | None = None,
    by_village: bool = False,
) -> TargetsRead:
    parsed = parse_period(period, from_, to, today())
    if isinstance(parsed, Violation):
        raise violation_problem([parsed], ("query",))
    return await targets_report(
        session,
        caller,
        response,
        code=intervention,
        period=parsed,
        within=region,
        lokus_year=lokus_year,
        status=status,
        page=page,
        by_village=by_village,
    )
