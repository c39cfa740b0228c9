"""Likely duplicate persons (same folded name, birth date and village) and their merge.

A merge keeps both records: the duplicate becomes a tombstone pointing at the kept one
(``person.merged``), its memberships end, its life events move over.
"""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError
from common.feed import emit
from common.pagination import Page, PageOut, paginate
from services.registry.duplicates import repository as repo
from services.registry.events import repository as events_repo
from services.registry.persons import repository as persons_repo
from services.registry.persons.crypto import NIK_CONTEXT, pii_codec
from services.registry.persons.routes import load_person, require_editable
from services.registry.persons.schemas import PersonRead
from services.registry.persons.service import audit_persons, emit_person, person_view
from services.registry.risk.service import reassess_household

router = APIRouter(prefix="/v1/duplicates", tags=["duplicates"])


class DuplicateGroup(BaseModel):
    village_code: str
    persons: list[PersonRead]


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_id: uuid.UUID = Field(description="The record that stays")
    remove_id: uuid.UUID = Field(description="The duplicate, kept as a tombstone")


class MergeResult(BaseModel):
    kept: PersonRead
    removed_id: uuid.UUID
    merged_on: date


@router.get(
    "",
    summary="Likely duplicate persons in your region, grouped.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def list_duplicates(
    session: Session,
    caller: Caller,
    page: Page,
    response: Response,
    region: Annotated[str | None, Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")] = None,
) -> PageOut[DuplicateGroup]:
    groups = await repo.likely_duplicates(
        session, caller.region, region or "", page.after, page.limit + 1
    )
    ids = [i for g in groups for i in g["ids"]]
    people = {p["id"]: p for p in await persons_repo.get_persons(session, ids, caller.region)}
    events = await events_repo.events_of(session, ids)
    on = today()

    def view(person_id: uuid.UUID) -> PersonRead:
        life = events_repo.to_life_events(events.get(person_id, []))
        return PersonRead(**person_view(people[person_id], caller, life, on))

    out = paginate(
        [
            DuplicateGroup(village_code=g["village_code"], persons=[view(i) for i in g["ids"]])
            for g in groups
        ],
        page,
        key=lambda g: [g.village_code, str(g.persons[0].id)],
    )
    audit_persons(response, caller, [p.id for g in out.items for p in g.persons])
    return out


def _nik_hash_of(person: dict) -> str:
    return pii_codec().hash("nik", pii_codec().decrypt(person["nik_enc"], NIK_CONTEXT))


def _conflict(code: str, en: str, id_: str) -> ProblemError:
    return ProblemError(409, code, detail={"en": en, "id": id_})


@router.post(
    "/merge",
    summary="Merge a duplicate into the record that stays (history kept).",
    dependencies=[Depends(require("registry.duplicate.merge"))],
)
async def merge_duplicates(
    body: MergeRequest, session: Session, caller: Caller, response: Response
) -> MergeResult:
    if body.keep_id == body.remove_id:
        raise ProblemError(
            422,
            "merge_same_record",
            detail={"en": "Choose two different records.", "id": "Pilih dua data yang berbeda."},
        )
    # Lock in id order so two merges of the same pair cannot deadlock.
    for person_id in sorted([body.keep_id, body.remove_id]):
        await load_person(session, person_id, caller, lock=True)
    kept = await load_person(session, body.keep_id, caller)
    removed = await load_person(session, body.remove_id, caller)
    require_editable(kept, caller)
    require_editable(removed, caller)
    if kept["sex"] != removed["sex"]:
        raise _conflict(
            "merge_sex_differs",
            "The two records differ in sex; they are not the same person.",
            "Jenis kelamin kedua data berbeda; bukan orang yang sama.",
        )
    on = today()
    by = caller.client_id or caller.sub
    removed_household = await persons_repo.close_membership(session, removed["id"], on, "merged")
    await persons_repo.update_person(session, removed["id"], None, {"merged_into": kept["id"]})
    if kept["nik_enc"] is None and removed["nik_enc"] is not None:
        # The kept record takes the duplicate's NIK (freed by the tombstone above).
        await persons_repo.add_identifier_history(
            session, kept["id"], "provisional", kept["provisional_id"], "nik_from_merge"
        )
        await persons_repo.update_person(
            session,
            kept["id"],
            None,
            {"nik_enc": removed["nik_enc"], "nik_hash": _nik_hash_of(removed)},
        )
    await events_repo.move_events(session, removed["id"], kept["id"])
    await repo.record_merge(session, removed, kept["id"], by)
    await persons_repo.update_person(session, kept["id"], None, {})
    await emit(
        session,
        "person.merged",
        "person",
        removed["id"],
        {
            "person_id": str(removed["id"]),
            "merged_into": str(kept["id"]),
            "village_code": removed["village_code"],
        },
        region_code=removed["village_code"],
    )
    kept = await load_person(session, kept["id"], caller)
    life = events_repo.to_life_events(
        (await events_repo.events_of(session, [kept["id"]])).get(kept["id"], [])
    )
    await emit_person(session, "person.updated", kept, on, life)
    for household_id in dict.fromkeys([removed_household, kept["household_id"]]):
        if household_id is not None:
            await reassess_household(session, household_id, on)
    audit_persons(response, caller, [kept["id"]])
    return MergeResult(
        kept=PersonRead(**person_view(kept, caller, life, on)),
        removed_id=removed["id"],
        merged_on=on,
    )
