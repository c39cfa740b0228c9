"""Households (Kartu Keluarga): registration with members, address, dated living
conditions, births and new members. Every change reassesses the family's KRS status."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.audit_header import mark_audit
from common.auth import Caller, Identity, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, field_error, not_found
from common.etag import required_version, set_etag, stale
from common.feed import emit
from common.ids import uuid7
from common.pagination import Page, PageOut, paginate
from common.pii import REDACTED, mask_kk, mask_name
from common.scoping import require_writable_region
from services.registry.codelists import HEAD
from services.registry.events import repository as events_repo
from services.registry.events.rules import LifeEvents
from services.registry.households import repository as repo
from services.registry.households.schemas import (
    ConditionsIn,
    ConditionsRead,
    HouseholdCreate,
    HouseholdRead,
    HouseholdSummary,
    HouseholdUpdate,
    KrsRead,
    krs_read,
)
from services.registry.persons import repository as persons_repo
from services.registry.persons.crypto import KK_CONTEXT, pii_codec
from services.registry.persons.nik_rules import validate_kk
from services.registry.persons.problems import Located, located_problem
from services.registry.persons.region_facts import region_codes, require_village
from services.registry.persons.registration import (
    NewMember,
    check_niks_free,
    insert_member,
    member_issues,
    mother_issues,
    new_member_id,
    raise_all,
)
from services.registry.persons.rules import Issue, PersonFacts, issue
from services.registry.persons.schemas import MemberAdd, PersonRead
from services.registry.persons.service import (
    PII_FIELDS,
    audit_persons,
    emit_person,
    may_see_pii,
    person_facts,
    person_view,
)
from services.registry.risk import repository as risk_repo
from services.registry.risk.service import reassess_household

router = APIRouter(prefix="/v1/households", tags=["households"])

HOUSEHOLD = {"en": "Household", "id": "Rumah tangga"}
RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", description="Only under this code"),
]


# --- views -----------------------------------------------------------------------------


def _kk(row: dict[str, Any], unmasked: bool) -> str:
    kk = pii_codec().decrypt(row["kk_number_enc"], KK_CONTEXT)
    return kk if unmasked else mask_kk(kk) or ""


async def household_view(
    session: AsyncSession, row: dict[str, Any], caller: Identity, response: Response | None
) -> HouseholdRead:
    as_of = today()
    unmasked = may_see_pii(caller)
    people = [
        p for p in await persons_repo.household_people(session, row["id"]) if not p["end_reason"]
    ]
    events = await events_repo.events_of(session, [p["id"] for p in people])
    members = [
        PersonRead(
            **person_view(p, caller, events_repo.to_life_events(events.get(p["id"], [])), as_of)
        )
        for p in people
    ]
    history = await repo.conditions(session, row["id"])
    krs = (await risk_repo.current(session, [row["id"]])).get(row["id"])
    head = next((m for m in members if m.relationship == HEAD), None)
    if unmasked and response is not None:
        mark_audit(
            response,
            record_type="household",
            record_ids=[str(row["id"])],
            subject_ids=[str(m.id) for m in members],
            fields=["kk_number", "address", *PII_FIELDS],
            unmasked=True,
        )
    return HouseholdRead(
        id=row["id"],
        kk_number=_kk(row, unmasked),
        village_code=row["village_code"],
        village_name=row["village_name"],
        dusun=row["dusun"],
        rw=row["rw"],
        rt=row["rt"],
        address=row["address"] if unmasked or row["address"] is None else REDACTED,
        head_name=head.full_name if head else None,
        active=row["active"],
        version=row["version"],
        masked=not unmasked,
        conditions=ConditionsRead(**history[0]) if history else None,
        condition_history=[ConditionsRead(**c) for c in history],
        members=members,
        krs=krs_read(krs),
    )


async def household_payload(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    latest = await repo.conditions(session, row["id"], latest_only=True)
    conditions = None
    if latest:
        conditions = {k: v for k, v in latest[0].items() if k != "recorded_at"}
    return {
        "household_id": str(row["id"]),
        "village_code": row["village_code"],
        "conditions": conditions,
        "active": row["active"],
    }


async def emit_household(session: AsyncSession, event_type: str, household_id: uuid.UUID) -> None:
    row = await repo.get_household(session, household_id, "")
    assert row is not None
    await emit(
        session,
        event_type,
        "household",
        household_id,
        await household_payload(session, row),
        region_code=row["village_code"],
    )


async def load_household(
    session: AsyncSession, household_id: uuid.UUID, caller: Identity, *, lock: bool = False
) -> dict[str, Any]:
    row = await repo.get_household(session, household_id, caller.region, lock=lock)
    if row is None:
        raise not_found(HOUSEHOLD)
    return row


# --- checks ----------------------------------------------------------------------------


def _at(loc: list[str | int], issues: list[Issue]) -> list[Located]:
    return [(loc, i) for i in issues]


def _kk_issues(kk_number: str, on: date, codes) -> list[Located]:
    check = validate_kk(
        kk_number, today=on, known_provinces=codes.provinces, known_districts=codes.districts
    )
    return [(["body"], Issue(i.code, i.message, "kk_number")) for i in check.errors]


def _observed_issue(conditions: ConditionsIn | None, on: date) -> list[Located]:
    if conditions is None or conditions.observed_date <= on:
        return []
    return [
        (
            ["body", "conditions"],
            issue(
                "observed_date_in_future",
                "Tanggal pengamatan tidak boleh di masa depan.",
                "The observation date cannot be in the future.",
                "observed_date",
            ),
        )
    ]


async def _check_kk_free(session: AsyncSession, kk_number: str) -> str:
    digest = pii_codec().hash("kk_number", kk_number.strip())
    holder = await repo.holder_of_kk(session, digest)
    if holder is not None:
        village = f"{holder['village_name']} ({holder['village_code']})"
        detail = {
            "en": f"This KK number is already registered for an active household in {village}.",
            "id": f"Nomor KK ini sudah terdaftar untuk rumah tangga aktif di {village}.",
        }
        raise ProblemError(
            409,
            "kk_already_registered",
            detail=detail,
            errors=[field_error(["body", "kk_number"], detail, "kk_already_registered")],
            extra={"existing_village_code": holder["village_code"]},
        )
    return digest


def _unique_violation(exc: IntegrityError) -> ProblemError:
    """Two requests raced past the checks; the unique index decided."""
    if getattr(exc.orig, "sqlstate", None) != "23505":
        raise exc
    return ProblemError(
        409,
        "already_registered",
        detail={
            "en": "The NIK or KK number was registered by another request just now.",
            "id": "NIK atau nomor KK baru saja didaftarkan oleh permintaan lain.",
        },
    )


# --- routes ----------------------------------------------------------------------------


@router.post(
    "",
    status_code=201,
    summary="Register a household (Kartu Keluarga) with its members.",
    dependencies=[Depends(require("registry.household.write"))],
)
async def create_household(
    body: HouseholdCreate, session: Session, caller: Caller, response: Response
) -> HouseholdRead:
    on = today()
    require_writable_region(caller, body.village_code)
    await require_village(session, body.village_code)
    codes = await region_codes(session)

    found: list[Located] = _kk_issues(body.kk_number, on, codes)
    found += _observed_issue(body.conditions, on)
    for i, m in enumerate(body.members):
        loc: list[str | int] = ["body", "members", i]
        found += _at(loc, member_issues(m, on, codes))
        if m.mother_index is not None:
            if m.mother_index >= len(body.members) or m.mother_index == i:
                found.append(
                    (
                        loc,
                        issue(
                            "mother_index_invalid",
                            "mother_index harus menunjuk anggota lain pada daftar ini.",
                            "mother_index must point to another member of this list.",
                            "mother_index",
                        ),
                    )
                )
            else:
                mother = body.members[m.mother_index]
                facts = PersonFacts(mother.birth_date, mother.sex)
                found += _at(loc, mother_issues(facts, m.birth_date))
    if body.registered_on is not None and body.registered_on > on:
        found.append(
            (
                ["body"],
                issue(
                    "registered_on_in_future",
                    "Tanggal terdaftar tidak boleh di masa depan.",
                    "The registration date cannot be in the future.",
                    "registered_on",
                ),
            )
        )
    heads = sum(1 for m in body.members if m.relationship == HEAD)
    if body.members and heads != 1:
        found.append(
            (
                ["body", "members"],
                issue(
                    "head_count",
                    f"Satu KK harus punya tepat satu kepala keluarga (ada {heads}).",
                    f"A family card has exactly one head of family ({heads} given).",
                ),
            )
        )
    raise_all(found)
    kk_hash = await _check_kk_free(session, body.kk_number)
    nik_hashes = iter(
        await check_niks_free(
            session,
            [(["body", "members", i], m.nik) for i, m in enumerate(body.members) if m.nik],
        )
    )

    household_id = uuid7()
    ids = [new_member_id() for _ in body.members]
    members = [
        NewMember(
            id=ids[i],
            body=m,
            nik=m.nik,
            nik_hash=next(nik_hashes) if m.nik else None,
            mother_id=ids[m.mother_index] if m.mother_index is not None else None,
        )
        for i, m in enumerate(body.members)
    ]
    start = body.registered_on or on
    try:
        await repo.insert_household(
            session,
            {
                "id": household_id,
                "kk_number_enc": pii_codec().encrypt(body.kk_number.strip(), KK_CONTEXT),
                "kk_hash": kk_hash,
                **body.model_dump(include={"village_code", "dusun", "rw", "rt", "address"}),
            },
        )
        if body.conditions is not None:
            await repo.insert_condition(session, household_id, body.conditions.model_dump())
        inserted: set[uuid.UUID] = set()
        pending = list(members)
        while pending:  # mothers before their children (foreign key)
            ready = [m for m in pending if m.mother_id is None or m.mother_id in inserted]
            for m in ready:
                joined = max(start, m.body.birth_date)
                await insert_member(session, m, household_id, body.village_code, joined)
                inserted.add(m.id)
            pending = [m for m in pending if m.id not in inserted]
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc

    await emit_household(session, "household.registered", household_id)
    for person in await persons_repo.get_persons(session, ids, ""):
        await emit_person(session, "person.registered", person, on)
    await reassess_household(session, household_id, on)
    row = await load_household(session, household_id, caller)
    set_etag(response, row["version"])
    return await household_view(session, row, caller, response)


@router.get(
    "",
    summary="Households in your region, filtered by region, dusun, RW, RT.",
    dependencies=[Depends(require("registry.household.read"))],
)
async def list_households(
    session: Session,
    caller: Caller,
    page: Page,
    response: Response,
    region: RegionQuery = None,
    dusun: Annotated[str | None, Query(max_length=50)] = None,
    rw: Annotated[str | None, Query(max_length=50)] = None,
    rt: Annotated[str | None, Query(max_length=50)] = None,
    active: bool | None = None,
) -> PageOut[HouseholdSummary]:
    rows = await repo.list_households(
        session,
        caller.region,
        {"within": region, "dusun": dusun, "rw": rw, "rt": rt, "active": active},
        page.after,
        page.limit + 1,
    )
    heads = await repo.heads(session, [r["id"] for r in rows[: page.limit]])
    unmasked = may_see_pii(caller)
    items = []
    for r in rows:
        head = heads.get(r["id"])
        name = head["full_name"] if head else None
        items.append(
            HouseholdSummary(
                **{k: r[k] for k in ("id", "village_code", "village_name", "dusun", "rw", "rt")},
                kk_number=_kk(r, unmasked),
                head_name=name if unmasked else mask_name(name),
                active=r["active"],
                version=r["version"],
                masked=not unmasked,
            )
        )
    out = paginate(items, page, key=lambda h: [h.village_code, str(h.id)])
    if unmasked and out.items:
        mark_audit(
            response,
            record_type="household",
            record_ids=[str(h.id) for h in out.items],
            subject_ids=[str(heads[h.id]["id"]) for h in out.items if h.id in heads],
            fields=["kk_number", "full_name"],
            unmasked=True,
        )
    return out


@router.get(
    "/{household_id}",
    summary="One household with members, conditions history and KRS status.",
    dependencies=[Depends(require("registry.household.read"))],
)
async def get_household(
    household_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> HouseholdRead:
    row = await load_household(session, household_id, caller)
    set_etag(response, row["version"])
    return await household_view(session, row, caller, response)


@router.patch(
    "/{household_id}",
    summary="Change address, KK number or active state (If-Match).",
    dependencies=[Depends(require("registry.household.write"))],
)
async def update_household(
    household_id: uuid.UUID,
    body: HouseholdUpdate,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> HouseholdRead:
    version = required_version(request)
    row = await load_household(session, household_id, caller, lock=True)
    require_writable_region(caller, row["village_code"])
    if row["version"] != version:
        raise stale()
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"kk_number"})
    if changes.get("active", False) is None:
        del changes["active"]
    if body.kk_number is not None:
        raise_all(_kk_issues(body.kk_number, today(), await region_codes(session)))
        changes["kk_hash"] = await _check_kk_free(session, body.kk_number)
        changes["kk_number_enc"] = pii_codec().encrypt(body.kk_number.strip(), KK_CONTEXT)
    if body.active is False:
        people = await persons_repo.household_people(session, household_id)
        if any(not p["end_reason"] for p in people):
            raise ProblemError(
                409,
                "household_has_members",
                detail={
                    "en": "A household with current members cannot be closed; move them first.",
                    "id": "Rumah tangga yang masih beranggota tidak dapat ditutup.",
                },
            )
    try:
        new_version = await repo.update_household(session, household_id, version, changes)
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    if new_version is None:
        raise stale()
    await emit_household(session, "household.updated", household_id)
    row = await load_household(session, household_id, caller)
    set_etag(response, row["version"])
    return await household_view(session, row, caller, response)


@router.post(
    "/{household_id}/conditions",
    status_code=201,
    summary="Record living conditions observed on a date (history kept; KRS reassessed).",
    dependencies=[Depends(require("registry.household.write"))],
)
async def add_household_conditions(
    household_id: uuid.UUID,
    body: ConditionsIn,
    session: Session,
    caller: Caller,
    response: Response,
) -> HouseholdRead:
    row = await load_household(session, household_id, caller, lock=True)
    require_writable_region(caller, row["village_code"])
    on = today()
    found = _observed_issue(body, on)
    if found:
        raise located_problem([(["body"], i) for _, i in found])
    await repo.insert_condition(session, household_id, body.model_dump())
    await repo.update_household(session, household_id, None, {})
    await emit_household(session, "household.updated", household_id)
    await reassess_household(session, household_id, on)
    row = await load_household(session, household_id, caller)
    set_etag(response, row["version"])
    return await household_view(session, row, caller, response)


@router.post(
    "/{household_id}/members",
    status_code=201,
    summary="Add a member: a birth (with mother_id) or a new person joining.",
    dependencies=[Depends(require("registry.person.write"))],
)
async def add_household_member(
    household_id: uuid.UUID,
    body: MemberAdd,
    session: Session,
    caller: Caller,
    response: Response,
) -> PersonRead:
    row = await load_household(session, household_id, caller, lock=True)
    require_writable_region(caller, row["village_code"])
    if not row["active"]:
        raise ProblemError(
            409,
            "household_inactive",
            detail={
                "en": "The household is closed; add the person to an active household.",
                "id": "Rumah tangga sudah ditutup; tambahkan ke rumah tangga yang aktif.",
            },
        )
    on = today()
    codes = await region_codes(session)
    found = _at(["body"], member_issues(body, on, codes))
    if body.mother_id is not None:
        mother = await persons_repo.get_person(session, body.mother_id, caller.region)
        if mother is None:
            raise not_found({"en": "Mother", "id": "Ibu"})
        found += _at(["body"], mother_issues(person_facts(mother), body.birth_date))
    joined = body.joined_on or (body.birth_date if body.mother_id else on)
    if joined < body.birth_date or joined > on:
        found.append(
            (
                ["body"],
                issue(
                    "joined_on_invalid",
                    "Tanggal masuk harus antara tanggal lahir dan hari ini.",
                    "The joining date must be between the birth date and today.",
                    "joined_on",
                ),
            )
        )
    raise_all(found)
    hashes = await check_niks_free(session, [(["body"], body.nik)] if body.nik else [])
    member = NewMember(
        id=new_member_id(),
        body=body,
        nik=body.nik,
        nik_hash=hashes[0] if hashes else None,
        mother_id=body.mother_id,
    )
    try:
        await insert_member(session, member, household_id, row["village_code"], joined)
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    person = await persons_repo.get_person(session, member.id, "")
    assert person is not None
    await emit_person(session, "person.registered", person, on)
    await reassess_household(session, household_id, on)
    set_etag(response, person["version"])
    audit_persons(response, caller, [member.id])
    return PersonRead(**person_view(person, caller, LifeEvents(), on))


@router.get(
    "/{household_id}/krs",
    summary="Every KRS assessment of the household, newest first.",
    dependencies=[Depends(require("registry.krs.read"))],
)
async def list_household_krs(
    household_id: uuid.UUID, session: Session, caller: Caller
) -> list[KrsRead]:
    await load_household(session, household_id, caller)
    return [KrsRead(**r) for r in await risk_repo.history(session, household_id)]
