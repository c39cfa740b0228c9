"""``GET /internal/subjects/{id}``: one person or household as other services project
it from the feed, for a consumer that has not seen it on the feed yet (service calls
only). Ids, codes, dates and flags only: never NIK, KK number or names."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import require_service
from common.clock import today
from common.db import Session
from common.errors import not_found
from services.registry.events.repository import to_life_events
from services.registry.growth.repository import latest_growth
from services.registry.persons.service import groups_of
from services.registry.subjects import repository as repo

router = APIRouter(tags=["internal"], include_in_schema=False)

SUBJECT = {"en": "Subject", "id": "Subjek"}


def _krs(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {**row, "assessed_on": row["assessed_on"].isoformat()}


async def _groups(session: AsyncSession, people: list[dict[str, Any]]) -> dict[Any, list]:
    events = await repo.life_events(session, [p["id"] for p in people])
    on = today()
    return {p["id"]: groups_of(p, to_life_events(events.get(p["id"], [])), on) for p in people}


async def _household_view(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    krs = await repo.current_krs(session, row["id"])
    members = await repo.members(session, row["id"])
    groups = [g for gs in (await _groups(session, members)).values() for g in gs]
    if krs and krs["is_krs"]:
        groups.append({"group": "krs", "start": None, "end": None})
    if krs and krs["is_target_family"]:
        groups.append({"group": "keluarga_sasaran", "start": None, "end": None})
    return {
        "kind": "household",
        "id": row["id"],
        "household_id": row["id"],
        "village_code": row["village_code"],
        "sex": None,
        "birth_date": None,
        "alive": True,
        "active": row["active"],
        "target_groups": groups,
        "krs": _krs(krs),
        "growth": None,
        "welfare_decile": row["welfare_decile"],
        "has_birth_certificate": None,
        "has_nik": None,
        "merged_into": None,
    }


async def _person_view(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    household = await repo.household(session, row["household_id"]) if row["household_id"] else None
    krs = await repo.current_krs(session, row["household_id"]) if household else None
    groups = (await _groups(session, [row]))[row["id"]]
    return {
        "kind": "person",
        "id": row["id"],
        "household_id": row["household_id"],
        "village_code": row["village_code"],
        "sex": row["sex"],
        "birth_date": row["birth_date"],
        "alive": row["death_date"] is None,
        "death_date": row["death_date"],
        "active": True,
        "target_groups": groups,
        "krs": _krs(krs),
        "growth": await latest_growth(session, row["id"]),
        "welfare_decile": household["welfare_decile"] if household else None,
        "has_birth_certificate": row["has_birth_certificate"],
        "has_nik": row["has_nik"],
        "merged_into": row["merged_into"],
    }


@router.get("/internal/subjects/{subject_id}", dependencies=[Depends(require_service)])
async def get_internal_subject(subject_id: uuid.UUID, session: Session) -> dict[str, Any]:
    person = await repo.person(session, subject_id)
    if person is not None:
        return await _person_view(session, person)
    household = await repo.household(session, subject_id)
    if household is not None:
        return await _household_view(session, household)
    raise not_found(SUBJECT)
