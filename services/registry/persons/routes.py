"""Persons: read (target groups as of any date), edit, NIK assignment, moves, deaths.

Every change publishes the person's event and reassesses the KRS status of each
household it touches, in the same transaction.
"""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Caller, Identity, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, not_found
from common.etag import required_version, set_etag, stale
from common.pii import mask_nik
from common.scoping import require_writable_region
from services.registry.events import repository as events_repo
from services.registry.households import repository as households_repo
from services.registry.persons import repository as repo
from services.registry.persons.crypto import NIK_CONTEXT, pii_codec
from services.registry.persons.nik_rules import validate_nik
from services.registry.persons.problems import raise_if_invalid
from services.registry.persons.region_facts import region_codes
from services.registry.persons.registration import check_niks_free
from services.registry.persons.rules import (
    check_death_date,
    check_mother,
    validate_move,
    validate_person,
)
from services.registry.persons.schemas import (
    IdentifierRead,
    MembershipRead,
    NikAssign,
    PersonDeath,
    PersonDetail,
    PersonMove,
    PersonRead,
    PersonUpdate,
)
from services.registry.persons.service import (
    audit_persons,
    emit_person,
    may_see_pii,
    person_facts,
    person_view,
)
from services.registry.risk.service import reassess_household

router = APIRouter(prefix="/v1/persons", tags=["persons"])

PERSON = {"en": "Person", "id": "Orang"}
# A null sent for these leaves them as they are: a person always has them.
REQUIRED_FIELDS = {"full_name", "sex", "birth_date", "has_birth_certificate"}


async def load_person(
    session: AsyncSession, person_id: uuid.UUID, caller: Identity, *, lock: bool = False
) -> dict[str, Any]:
    row = await repo.get_person(session, person_id, caller.region, lock=lock)
    if row is None:
        raise not_found(PERSON)
    return row


def require_editable(row: dict[str, Any], caller: Identity, version: int | None = None) -> None:
    require_writable_region(caller, row["village_code"])
    if row["merged_into"] is not None:
        raise ProblemError(
            409,
            "person_merged",
            detail={
                "en": f"This record was merged into {row['merged_into']}; edit that one.",
                "id": f"Data ini telah digabung ke {row['merged_into']}; ubah data tersebut.",
            },
        )
    if version is not None and row["version"] != version:
        raise stale()


def _deceased(row: dict[str, Any]) -> ProblemError:
    return ProblemError(
        409,
        "person_deceased",
        detail={
            "en": f"This person died on {row['death_date']}; the change cannot be recorded.",
            "id": f"Orang ini meninggal pada {row['death_date']}; perubahan tidak dapat dicatat.",
        },
    )


async def _reassess(session: AsyncSession, *household_ids: uuid.UUID | None) -> None:
    for household_id in dict.fromkeys(h for h in household_ids if h is not None):
        await reassess_household(session, household_id, today())


async def _read(
    session: AsyncSession, person_id: uuid.UUID, caller: Identity, response: Response
) -> PersonRead:
    row = await load_person(session, person_id, caller)
    events = await events_repo.events_of(session, [person_id])
    set_etag(response, row["version"])
    audit_persons(response, caller, [person_id])
    return PersonRead(
        **person_view(row, caller, events_repo.to_life_events(events.get(person_id, [])), today())
    )


@router.get(
    "/{person_id}",
    summary="One person, with target groups as of a date (default today).",
    dependencies=[Depends(require("registry.person.read"))],
)
async def get_person(
    person_id: uuid.UUID,
    session: Session,
    caller: Caller,
    response: Response,
    as_of: Annotated[date | None, Query(description="Derive target groups on this date")] = None,
) -> PersonDetail:
    row = await load_person(session, person_id, caller)
    event_rows = (await events_repo.events_of(session, [person_id])).get(person_id, [])
    on = as_of or today()
    unmasked = may_see_pii(caller)
    codec = pii_codec()
    identifiers = []
    for h in await repo.identifier_history(session, person_id):
        value = h["value"]
        if h["kind"] == "nik":
            nik = codec.decrypt(value, NIK_CONTEXT)
            value = nik if unmasked else mask_nik(nik)
        identifiers.append(IdentifierRead(**{**h, "value": value}))
    set_etag(response, row["version"])
    audit_persons(response, caller, [person_id])
    return PersonDetail(
        **person_view(row, caller, events_repo.to_life_events(event_rows), on),
        memberships=[MembershipRead(**m) for m in await repo.memberships(session, person_id)],
        identifier_history=identifiers,
        life_events=[{k: v for k, v in e.items() if k not in ("person_id",)} for e in event_rows],
    )


@router.patch(
    "/{person_id}",
    summary="Correct a person's details (If-Match).",
    dependencies=[Depends(require("registry.person.write"))],
)
async def update_person(
    person_id: uuid.UUID,
    body: PersonUpdate,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> PersonRead:
    version = required_version(request)
    row = await load_person(session, person_id, caller, lock=True)
    require_editable(row, caller, version)
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k not in REQUIRED_FIELDS
    }
    merged = {**row, **changes}
    facts = person_facts(merged)
    on = today()
    issues = list(validate_person(facts, on).errors)
    if row["nik_enc"] and ("birth_date" in changes or "sex" in changes):
        codes = await region_codes(session)
        check = validate_nik(
            pii_codec().decrypt(row["nik_enc"], NIK_CONTEXT),
            today=on,
            known_provinces=codes.provinces,
            known_districts=codes.districts,
            birth_date=facts.birth_date,
            sex=facts.sex,
        )
        issues += check.errors
    if changes.get("mother_id") is not None:
        mother = await repo.get_person(session, changes["mother_id"], caller.region)
        if mother is None or mother["id"] == person_id:
            raise not_found({"en": "Mother", "id": "Ibu"})
        issues += check_mother(person_facts(mother), facts.birth_date)
    raise_if_invalid(issues)
    if await repo.update_person(session, person_id, version, changes) is None:
        raise stale()
    row = await load_person(session, person_id, caller)
    await emit_person(session, "person.updated", row, on)
    await _reassess(session, row["household_id"])
    return await _read(session, person_id, caller, response)


@router.post(
    "/{person_id}/nik",
    summary="Assign a NIK to a person with a provisional id, or correct it (If-Match).",
    dependencies=[Depends(require("registry.person.write"))],
)
async def assign_person_nik(
    person_id: uuid.UUID,
    body: NikAssign,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> PersonRead:
    version = required_version(request)
    row = await load_person(session, person_id, caller, lock=True)
    require_editable(row, caller, version)
    on = today()
    codes = await region_codes(session)
    check = validate_nik(
        body.nik,
        today=on,
        known_provinces=codes.provinces,
        known_districts=codes.districts,
        birth_date=row["birth_date"],
        sex=row["sex"],
    )
    raise_if_invalid(check.errors)
    codec = pii_codec()
    nik = body.nik.strip()
    if row["nik_enc"] and codec.decrypt(row["nik_enc"], NIK_CONTEXT) == nik:
        return await _read(session, person_id, caller, response)
    [digest] = await check_niks_free(session, [(["body"], nik)])
    if row["nik_enc"]:
        await repo.add_identifier_history(session, person_id, "nik", row["nik_enc"], "corrected")
    else:
        await repo.add_identifier_history(
            session, person_id, "provisional", row["provisional_id"], "nik_assigned"
        )
    try:
        await repo.update_person(
            session,
            person_id,
            version,
            {"nik_enc": codec.encrypt(nik, NIK_CONTEXT), "nik_hash": digest},
        )
    except IntegrityError as exc:
        raise ProblemError(409, "nik_already_registered") from exc
    row = await load_person(session, person_id, caller)
    await emit_person(session, "person.updated", row, on)
    return await _read(session, person_id, caller, response)


@router.post(
    "/{person_id}/move",
    summary="Move a person to another household (membership history kept; If-Match).",
    dependencies=[Depends(require("registry.person.write"))],
)
async def move_person(
    person_id: uuid.UUID,
    body: PersonMove,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> PersonRead:
    version = required_version(request)
    row = await load_person(session, person_id, caller, lock=True)
    require_editable(row, caller, version)
    if not validate_move(person_facts(row)).valid:
        raise _deceased(row)
    target = await households_repo.get_household(session, body.household_id, caller.region)
    if target is None:
        raise not_found({"en": "Household", "id": "Rumah tangga"})
    require_writable_region(caller, target["village_code"])
    if not target["active"]:
        raise ProblemError(
            409,
            "household_inactive",
            detail={"en": "The household is closed.", "id": "Rumah tangga sudah ditutup."},
        )
    if target["id"] == row["household_id"]:
        raise ProblemError(
            409,
            "already_member",
            detail={
                "en": "The person already lives in this household.",
                "id": "Orang ini sudah menjadi anggota rumah tangga ini.",
            },
        )
    on = today()
    moved_on = body.moved_on or on
    if moved_on > on or moved_on < row["birth_date"]:
        raise ProblemError(
            422,
            "moved_on_invalid",
            detail={
                "en": "The move date must be between the birth date and today.",
                "id": "Tanggal pindah harus antara tanggal lahir dan hari ini.",
            },
        )
    from_household = await repo.close_membership(session, person_id, moved_on, "moved")
    await repo.insert_membership(session, person_id, target["id"], body.relationship, moved_on)
    await repo.update_person(
        session,
        person_id,
        version,
        {
            "household_id": target["id"],
            "relationship": body.relationship,
            "village_code": target["village_code"],
        },
    )
    moved = await repo.get_person(session, person_id, "")
    assert moved is not None
    await emit_person(
        session,
        "person.moved",
        moved,
        on,
        from_household_id=str(from_household) if from_household else None,
        from_village_code=row["village_code"],
    )
    await _reassess(session, from_household, target["id"])
    # The caller may have moved the person out of its own region: answer from the new row.
    events = await events_repo.events_of(session, [person_id])
    set_etag(response, moved["version"])
    audit_persons(response, caller, [person_id])
    return PersonRead(
        **person_view(moved, caller, events_repo.to_life_events(events.get(person_id, [])), on)
    )


@router.post(
    "/{person_id}/death",
    summary="Record a death: closes the household membership (If-Match).",
    dependencies=[Depends(require("registry.person.write"))],
)
async def record_person_death(
    person_id: uuid.UUID,
    body: PersonDeath,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> PersonRead:
    version = required_version(request)
    row = await load_person(session, person_id, caller, lock=True)
    require_editable(row, caller, version)
    if row["death_date"] is not None:
        raise _deceased(row)
    on = today()
    raise_if_invalid(check_death_date(row["birth_date"], body.death_date, on))
    await repo.update_person(session, person_id, version, {"death_date": body.death_date})
    await repo.close_membership(session, person_id, body.death_date, "died")
    row = await load_person(session, person_id, caller)
    await emit_person(session, "person.died", row, on)
    await _reassess(session, row["household_id"])
    return await _read(session, person_id, caller, response)
