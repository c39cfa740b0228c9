"""Family-assistance teams (TPK): teams assigned to villages, home visits with their
checklists, catin screenings (Elsimil), and the visits due or overdue per team."""

import re
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, not_found
from common.etag import required_version, set_etag, stale
from common.feed import emit
from common.identity import Identity, Role
from common.ids import uuid7
from common.pagination import Page, PageOut, paginate
from common.scoping import require_writable_region
from services.interventions.catalogue import repository as catalogue_repo
from services.interventions.catalogue.rules import Violation
from services.interventions.deliveries.service import check_delivery, new_row, store
from services.interventions.orgs import not_member, team_org
from services.interventions.problems import raise_violations
from services.interventions.referrals.rules import ReferralType
from services.interventions.referrals.service import check_new, open_referral
from services.interventions.sectors import Sector
from services.interventions.subjects import repository as subjects_repo
from services.interventions.subjects.service import require_subject
from services.interventions.tpk import repository as repo
from services.interventions.tpk.rules import (
    CatinRiskSettings,
    CatinScreening,
    TeamMember,
    VisitGroup,
    VisitScheduleSetting,
    catin_risk,
    screening_on_time,
    validate_checklist,
    validate_team,
)
from services.interventions.tpk.schemas import (
    ScheduleRead,
    ScreeningCreate,
    ScreeningRead,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    VisitCreate,
    VisitRead,
    VisitReferral,
)
from services.interventions.tpk.service import (
    adult_measures,
    check_visit,
    child_age_months,
    schedule_items,
    screening_record,
    visit_at_risk,
)

router = APIRouter(prefix="/v1/interventions/tpk", tags=["tpk"])

TEAM = {"en": "TPK team", "id": "Tim Pendamping Keluarga"}
VISIT = {"en": "TPK visit", "id": "Kunjungan TPK"}
_READ = [Depends(require("interventions.tpk.read"))]
_WRITE = [Depends(require("interventions.tpk.write"))]
# Catin screening is recorded as a delivery of N3 by the family-planning agency (DPPKB).
SCREENING_CODE = "N3"


_VILLAGE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def _village_issues(villages: list[str]) -> list[Violation]:
    return [
        Violation(
            "invalid_village_code",
            {"id": f"Bukan kode desa: {v}", "en": f"Not a village code: {v}"},
            f"villages[{n}]",
        )
        for n, v in enumerate(villages)
        if not _VILLAGE.match(v)
    ]


def _member_issues(members: list[Any]) -> list[Violation]:
    return validate_team([TeamMember(m.member_id, m.role) for m in members])


async def _team(session: AsyncSession, team_id: uuid.UUID, caller: Identity) -> dict[str, Any]:
    team = await repo.get_team(session, team_id, caller.region)
    if team is None:
        raise not_found(TEAM)
    return team


def _require_member(team: dict[str, Any], caller: Identity) -> None:
    """A TPK cadre records for their own team only (assignment is data, not a role)."""
    if caller.role == Role.TPK_CADRE and not any(
        m["member_id"] == caller.sub for m in team["members"]
    ):
        raise not_member()


@router.post("/teams", status_code=201, summary="Set up a TPK team.", dependencies=_WRITE)
async def create_team(
    body: TeamCreate, session: Session, caller: Caller, response: Response
) -> TeamRead:
    require_writable_region(caller, body.region_code)
    for village in body.villages:
        require_writable_region(caller, village)
    raise_violations(_member_issues(body.members) + _village_issues(body.villages))
    team_id = uuid7()
    await repo.insert_team(
        session,
        {
            "id": team_id,
            "name": body.name,
            "region_code": body.region_code,
            "members": [m.model_dump() for m in body.members],
            "created_by": caller.sub,
        },
        sorted(set(body.villages)),
    )
    team = await _team(session, team_id, caller)
    set_etag(response, team["version"])
    return TeamRead(**team)


@router.get("/teams", summary="TPK teams in your region.", dependencies=_READ)
async def list_teams(
    session: Session,
    caller: Caller,
    page: Page,
    mine: Annotated[bool, Query(description="Only teams you are a member of")] = False,
    village: Annotated[str | None, Query(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")] = None,
) -> PageOut[TeamRead]:
    member = caller.sub if mine or caller.role == Role.TPK_CADRE else None
    after = page.after[0] if page.after else None
    rows = await repo.list_teams(session, caller.region, member, village, after, page.limit + 1)
    return paginate([TeamRead(**r) for r in rows], page, key=lambda t: [str(t.id)])


@router.get("/teams/{team_id}", summary="One TPK team.", dependencies=_READ)
async def get_team(
    team_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> TeamRead:
    team = await _team(session, team_id, caller)
    set_etag(response, team["version"])
    return TeamRead(**team)


@router.patch(
    "/teams/{team_id}",
    summary="Change a team's name, members, villages or active state (If-Match).",
    dependencies=_WRITE,
)
async def update_team(
    team_id: uuid.UUID,
    body: TeamUpdate,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> TeamRead:
    version = required_version(request)
    team = await _team(session, team_id, caller)
    require_writable_region(caller, team["region_code"])
    found: list[Violation] = []
    if body.members is not None:
        found += _member_issues(body.members)
    if body.villages is not None:
        for village in body.villages:
            require_writable_region(caller, village)
        found += _village_issues(body.villages)
    raise_violations(found)
    changes = body.model_dump(exclude_unset=True, exclude={"villages"})
    if body.members is not None:
        changes["members"] = [m.model_dump() for m in body.members]
    if await repo.update_team(session, team_id, version, changes) is None:
        raise stale()
    if body.villages is not None:
        await repo.set_villages(session, team_id, sorted(set(body.villages)))
    team = await _team(session, team_id, caller)
    set_etag(response, team["version"])
    return TeamRead(**team)


async def _visit_subject(
    request: Request,
    session: AsyncSession,
    caller: Identity,
    team: dict[str, Any],
    subject_id: uuid.UUID,
) -> dict[str, Any]:
    subject = await require_subject(request, session, caller, subject_id)
    if subject["village_code"] not in team["villages"]:
        raise ProblemError(
            422,
            "subject_not_in_team_villages",
            detail={
                "en": f"The subject lives in {subject['village_code']}, not in the team's "
                "villages.",
                "id": f"Subjek tinggal di {subject['village_code']}, bukan di desa dampingan "
                "TPK ini.",
            },
        )
    return subject


async def _referrals(
    session: AsyncSession,
    caller: Identity,
    subject: dict[str, Any],
    team_id: uuid.UUID,
    wanted: list[VisitReferral],
    types: dict[str, ReferralType],
) -> list[uuid.UUID]:
    org, on = team_org(team_id), today()
    checked = []
    for n, r in enumerate(wanted):
        sector, found = check_new(org, r.referral_type, r.to_sector, None, types, on)
        raise_violations(found, ("body", "referrals", n))
        checked.append((r, sector))
    ids = []
    for r, sector in checked:
        stored = await open_referral(
            session,
            caller,
            subject,
            org=org,
            referral_type=r.referral_type,
            to_sector=sector,
            note=r.note,
            due_on=None,
            types=types,
            on=on,
        )
        ids.append(stored["id"])
    return ids


async def _store_visit(
    session: AsyncSession, caller: Identity, subject: dict[str, Any], visit: dict[str, Any]
) -> dict[str, Any]:
    visit = {
        **visit,
        "id": uuid7(),
        "subject_id": subject["id"],
        "subject_kind": subject["kind"],
        "household_id": subject["household_id"],
        "village_code": subject["village_code"],
        "recorded_by": caller.sub,
    }
    await repo.insert_visit(session, visit)
    group = VisitGroup(visit["target_group"])
    measures = adult_measures(group, visit["answers"])
    if measures:
        await subjects_repo.add_measures(session, subject["id"], measures, visit["visited_on"])
    await emit(
        session,
        "tpk.visit.recorded",
        "tpk_visit",
        visit["id"],
        {
            "visit_id": str(visit["id"]),
            "team_id": str(visit["team_id"]),
            "subject_id": str(subject["id"]),
            "village_code": subject["village_code"],
            "target_group": visit["target_group"],
            "visited_on": visit["visited_on"],
            "at_risk": visit["at_risk"],
        },
        region_code=subject["village_code"],
    )
    stored = await repo.get_visit(session, visit["id"], "")
    assert stored is not None
    return stored


@router.post("/visits", status_code=201, summary="Record a home visit.", dependencies=_WRITE)
async def create_visit(
    body: VisitCreate, request: Request, session: Session, caller: Caller
) -> VisitRead:
    team = await _team(session, body.team_id, caller)
    _require_member(team, caller)
    subject = await _visit_subject(request, session, caller, team, body.subject_id)
    found = check_visit(subject, body.target_group, body.visited_on, today())
    found += validate_checklist(
        body.target_group, body.answers, child_age_months(subject, body.visited_on)
    )
    raise_violations(found)
    referral_ids = await _referrals(
        session, caller, subject, team["id"], body.referrals, request.app.state.referral_types
    )
    stored = await _store_visit(
        session,
        caller,
        subject,
        {
            "team_id": team["id"],
            "target_group": body.target_group.value,
            "visited_on": body.visited_on,
            "answers": body.answers,
            "advice": body.advice,
            "referral_ids": referral_ids,
            "at_risk": visit_at_risk(body.target_group, body.answers),
            "screening": None,
        },
    )
    return VisitRead(**stored)


async def _screening_delivery(
    session: AsyncSession,
    caller: Identity,
    subject: dict[str, Any],
    body: ScreeningCreate,
) -> tuple[uuid.UUID | None, dict[str, str] | None]:
    """Record the screening as an N3 delivery by family planning, when N3 applies."""
    entries = await catalogue_repo.versions(session, SCREENING_CODE)
    if not entries:
        return None, {"id": "N3 tidak ada di katalog", "en": "N3 is not in the catalogue"}
    entry, found = check_delivery(
        entries, SCREENING_CODE, body.visited_on, 1, None, body.funding_source, subject, today()
    )
    if found or entry is None:
        return None, found[0].message
    row = new_row(
        kind="recorded",
        subject=subject,
        entry=entry,
        caller=caller,
        values={
            "delivered_on": body.visited_on,
            "quantity": 1,
            "unit": entry.unit.value,
            "funding_source": body.funding_source,
            "sector": Sector.FAMILY_PLANNING.value,
            "organisation": "TPK",
            "officer": None,
            "place": None,
            "note": "Skrining catin (Elsimil)",
        },
    )
    return await store(session, row), None


@router.post(
    "/screenings",
    status_code=201,
    summary="Record a catin (Elsimil) screening: risk graded, accompaniment scheduled when "
    "at risk, recorded as N3 for the other agencies (e.g. KUA) to see.",
    dependencies=_WRITE,
)
async def create_screening(
    body: ScreeningCreate, request: Request, session: Session, caller: Caller
) -> ScreeningRead:
    team = await _team(session, body.team_id, caller)
    _require_member(team, caller)
    subject = await _visit_subject(request, session, caller, team, body.subject_id)
    group = VisitGroup.catin
    found = check_visit(subject, group, body.visited_on, today())
    found += validate_checklist(group, body.answers)
    if body.marriage_date < body.visited_on:
        found.append(
            Violation(
                "marriage_before_screening",
                {
                    "id": "Tanggal menikah sebelum tanggal skrining",
                    "en": "The marriage date is before the screening",
                },
                "marriage_date",
            )
        )
    raise_violations(found)
    settings: CatinRiskSettings = request.app.state.catin_risk
    answers = body.answers
    risk = catin_risk(
        CatinScreening(
            sex="F" if subject["sex"] == 2 else "M",
            hb_g_dl=answers.get("hb_g_dl"),
            muac_cm=answers.get("muac_cm"),
            height_cm=answers.get("height_cm"),
            weight_kg=answers.get("weight_kg"),
            waist_cm=answers.get("waist_cm"),
            smoke_exposure=answers.get("smoke_exposure"),
            pregnant=body.pregnant,
        ),
        settings,
    )
    on_time = screening_on_time(body.visited_on, body.marriage_date, settings)
    referral_ids = await _referrals(
        session, caller, subject, team["id"], body.referrals, request.app.state.referral_types
    )
    stored = await _store_visit(
        session,
        caller,
        subject,
        {
            "team_id": team["id"],
            "target_group": group.value,
            "visited_on": body.visited_on,
            "answers": answers,
            "advice": [*body.advice, *(a["id"] for a in risk.advice)],
            "referral_ids": referral_ids,
            "at_risk": risk.at_risk if risk.graded else None,
            "screening": screening_record(risk, body.marriage_date, body.visited_on, on_time),
        },
    )
    delivery_id, note = await _screening_delivery(session, caller, subject, body)
    return ScreeningRead(**stored, delivery_id=delivery_id, delivery_note=note)


@router.get("/visits", summary="Visits in your region, newest first.", dependencies=_READ)
async def list_visits(
    session: Session,
    caller: Caller,
    page: Page,
    team_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    target_group: VisitGroup | None = None,
    screening: Annotated[bool | None, Query(description="Only (or no) screenings")] = None,
) -> PageOut[VisitRead]:
    rows = await repo.list_visits(
        session,
        caller.region,
        {
            "team_id": team_id,
            "subject_id": subject_id,
            "target_group": target_group.value if target_group else None,
            "screening": screening,
        },
        page.after,
        page.limit + 1,
    )
    return paginate(
        [VisitRead(**r) for r in rows],
        page,
        key=lambda v: [v.visited_on.isoformat(), str(v.id)],
    )


@router.get("/visits/{visit_id}", summary="One visit.", dependencies=_READ)
async def get_visit(visit_id: uuid.UUID, session: Session, caller: Caller) -> VisitRead:
    visit = await repo.get_visit(session, visit_id, caller.region)
    if visit is None:
        raise not_found(VISIT)
    return VisitRead(**visit)


async def _schedule(
    request: Request,
    session: AsyncSession,
    caller: Identity,
    team_id: uuid.UUID,
    as_of: date | None,
    since: date | None,
    group: VisitGroup | None,
) -> ScheduleRead:
    team = await _team(session, team_id, caller)
    day = as_of or today()
    first = since or day - timedelta(days=90)
    groups = [group] if group else list(VisitGroup)
    settings: dict[VisitGroup, VisitScheduleSetting] = request.app.state.visit_schedules
    subjects = await repo.schedule_subjects(
        session, team["id"], caller.region, [g.value for g in groups], first, day
    )
    return ScheduleRead(
        team_id=team["id"],
        as_of=day,
        since=first,
        items=schedule_items(subjects, groups, day, first, settings),
    )


@router.get(
    "/teams/{team_id}/schedule",
    summary="Visits due, overdue and upcoming for the team's families, by target group.",
    dependencies=_READ,
)
async def get_team_schedule(
    team_id: uuid.UUID,
    request: Request,
    session: Session,
    caller: Caller,
    as_of: date | None = None,
    since: Annotated[date | None, Query(description="Slots ending since; 90 days back")] = None,
    target_group: VisitGroup | None = None,
) -> ScheduleRead:
    return await _schedule(request, session, caller, team_id, as_of, since, target_group)


@router.get(
    "/teams/{team_id}/overdue",
    summary="The team's families with an overdue visit.",
    dependencies=_READ,
)
async def get_team_overdue(
    team_id: uuid.UUID,
    request: Request,
    session: Session,
    caller: Caller,
    as_of: date | None = None,
    since: Annotated[date | None, Query(description="Slots ending since; 90 days back")] = None,
    target_group: VisitGroup | None = None,
) -> ScheduleRead:
    schedule = await _schedule(request, session, caller, team_id, as_of, since, target_group)
    schedule.items = [i for i in schedule.items if i.overdue]
    return schedule
