"""Per-child rows behind a child-growth figure, for roles that work with named families
and hold the personal-data right: which children the numerator and denominator count."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.audit_header import mark_audit
from common.auth import Caller, require
from common.db import Session
from common.errors import ProblemError
from common.pagination import Page, PageOut, paginate
from common.pii import mask_birth_date
from common.scoping import scope_sql
from services.reporting.engine import definitions as defs
from services.reporting.engine.compute import GROWTH_FIGURES, growth_key
from services.reporting.periods import Period, parse_period
from services.reporting.regions import region_index
from services.reporting.values.routes import PeriodParam, RegionParam
from services.reporting.values.service import require_region

router = APIRouter(prefix="/v1/reporting", tags=["reporting"])

_STUNTED = {"stunted", "severely_stunted"}
_WASTED = {"wasted", "severely_wasted"}
# code: (index column, classes in the numerator)
_MEMBERSHIP: dict[str, tuple[str, set[str]]] = {
    "stunting_prevalence": ("haz", _STUNTED),
    "severe_stunting_prevalence": ("haz", {"severely_stunted"}),
    "wasting_prevalence": ("whz", _WASTED),
    "severe_wasting_prevalence": ("whz", {"severely_wasted"}),
    "underweight_prevalence": ("waz", {"underweight", "severely_underweight"}),
    "overweight_prevalence": ("whz", {"overweight", "obese"}),
}


class ChildRow(BaseModel):
    """``in_denominator``/``in_numerator`` say how the child counts in the figure."""

    person_id: str
    village_code: str
    sex: int | None
    birth_date: str | None
    measured: bool
    haz_class: str | None
    whz_class: str | None
    waz_class: str | None
    in_denominator: bool
    in_numerator: bool


def _not_available(code: str) -> ProblemError:
    return ProblemError(
        422,
        "drilldown_not_available",
        detail={
            "id": f"Rincian per anak tersedia untuk indikator pertumbuhan balita, bukan {code}.",
            "en": f"Per-child rows exist for the child-growth indicators, not for {code}.",
        },
    )


def _pii_required() -> ProblemError:
    return ProblemError(
        403,
        "personal_data_right_required",
        detail={
            "id": "Rincian per anak hanya untuk peran dengan hak data pribadi.",
            "en": "Per-child rows need the personal-data right.",
        },
    )


async def _growth_rows(
    session: AsyncSession, period: Period, scope: str, after: str | None, limit: int
) -> list[dict[str, Any]]:
    kind, start = growth_key(period)
    rows = await session.execute(
        text(
            "SELECT g.person_id::text AS person_id, g.village_code, g.haz, g.whz, g.waz,"
            " p.sex, p.birth_date, true AS measured"
            " FROM growth_child_period g LEFT JOIN person p ON p.person_id = g.person_id"
            " WHERE g.period_kind = :kind AND g.period_start = :start"
            f" AND {scope_sql('g.village_code')}"
            " AND (CAST(:after AS uuid) IS NULL OR g.person_id > CAST(:after AS uuid))"
            " ORDER BY g.person_id LIMIT :limit"
        ),
        {"kind": kind, "start": start, "scope": scope, "after": after, "limit": limit},
    )
    return [dict(r) for r in rows.mappings()]


async def _coverage_rows(
    session: AsyncSession, period: Period, scope: str, after: str | None, limit: int
) -> list[dict[str, Any]]:
    kind, start = growth_key(period)
    rows = await session.execute(
        text(
            """
            SELECT k.person_id::text AS person_id, k.village_code, k.sex, k.birth_date,
                   g.haz, g.whz, g.waz, g.person_id IS NOT NULL AS measured
            FROM (
                SELECT p.person_id, p.sex, p.birth_date,
                       coalesce((SELECT r.village_code FROM person_residence r
                                 WHERE r.person_id = p.person_id AND r.valid_from <= :end
                                 ORDER BY r.valid_from DESC LIMIT 1), p.village_code)
                           AS village_code
                FROM person p
                WHERE p.merged_into IS NULL AND p.birth_date <= :end
                  AND p.birth_date > CAST(:pstart AS date) - interval '61 months'
                  AND (p.death_date IS NULL OR p.death_date >= :pstart)
                  AND (p.birth_date + make_interval(months => 60))::date > :pstart
                  AND (CAST(:after AS uuid) IS NULL OR p.person_id > CAST(:after AS uuid))
            ) k
            LEFT JOIN growth_child_period g ON g.period_kind = :kind
                 AND g.period_start = :start AND g.person_id = k.person_id
            WHERE """
            + scope_sql("k.village_code")
            + " ORDER BY k.person_id LIMIT :limit"
        ),
        {
            "kind": kind,
            "start": start,
            "pstart": period.start_date,
            "end": period.end_date,
            "scope": scope,
            "after": after,
            "limit": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


def _child(row: dict[str, Any], code: str, unmasked: bool) -> ChildRow:
    birth: date | None = row["birth_date"]
    if code == "measurement_coverage":
        counted, hit = True, bool(row["measured"])
    elif code == "children_measured":
        counted = hit = True
    else:
        column, wanted = _MEMBERSHIP[code]
        counted = row[column] is not None
        hit = row[column] in wanted
    return ChildRow(
        person_id=row["person_id"],
        village_code=row["village_code"],
        sex=row["sex"],
        birth_date=(birth.isoformat() if unmasked else mask_birth_date(birth)) if birth else None,
        measured=bool(row["measured"]),
        haz_class=row["haz"],
        whz_class=row["whz"],
        waz_class=row["waz"],
        in_denominator=counted,
        in_numerator=hit,
    )


@router.get(
    "/drilldown",
    summary="The children behind a child-growth figure (personal-data right needed).",
    dependencies=[Depends(require("reporting.drilldown.read"))],
)
async def list_drilldown(
    session: Session,
    caller: Caller,
    response: Response,
    page: Page,
    indicator: Annotated[str, Query(examples=["stunting_prevalence"])],
    region: RegionParam,
    period: PeriodParam,
) -> PageOut[ChildRow]:
    if not caller.pii:
        raise _pii_required()
    place = require_region(region_index(), caller, region)
    when = parse_period(period)
    (definition,) = defs.resolve([indicator], when)
    code = definition.code
    if code not in GROWTH_FIGURES and code != "measurement_coverage":
        raise _not_available(code)
    after = str(page.after[0]) if page.after else None
    fetch = _coverage_rows if code == "measurement_coverage" else _growth_rows
    rows = await fetch(session, when, place.code, after, page.limit + 1)
    children = [_child(r, code, caller.may_unmask) for r in rows]
    out = paginate(children, page, key=lambda c: [c.person_id])
    ids = [c.person_id for c in out.items]
    if ids:
        mark_audit(
            response,
            record_type="child_growth",
            record_ids=ids,
            subject_ids=ids,
            fields=["birth_date", "growth_class"],
            unmasked=caller.may_unmask,
        )
    return out
