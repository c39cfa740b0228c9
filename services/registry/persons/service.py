"""Person records as the rules, the feed and the API see them."""

import uuid
from datetime import date
from typing import Any

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.audit_header import mark_audit
from common.auth import Identity
from common.feed import emit
from common.permissions import identity_allowed
from common.pii import mask_birth_date, mask_name, mask_nik
from services.registry.events import repository as events_repo
from services.registry.events.rules import LifeEvents
from services.registry.events.target_groups import TARGET_GROUP_LABELS, target_groups
from services.registry.persons.crypto import NIK_CONTEXT, pii_codec
from services.registry.persons.rules import PersonFacts


def person_facts(row: dict[str, Any]) -> PersonFacts:
    return PersonFacts(
        birth_date=row["birth_date"],
        sex=row["sex"],
        marital_status=row["marital_status"],
        marital_status_since=row["marital_status_since"],
        death_date=row["death_date"],
    )


def groups_of(row: dict[str, Any], events: LifeEvents, as_of: date) -> list[dict[str, Any]]:
    return [
        {"group": m.group.value, "start": m.start, "end": m.end}
        for m in target_groups(person_facts(row), events, as_of)
    ]


def person_payload(
    row: dict[str, Any], events: LifeEvents, as_of: date, **extra: Any
) -> dict[str, Any]:
    """The feed payload of person.* events: ids, codes and dates, never NIK or name."""
    return {
        "person_id": str(row["id"]),
        "household_id": str(row["household_id"]) if row["household_id"] else None,
        "village_code": row["village_code"],
        "sex": row["sex"],
        "birth_date": row["birth_date"],
        "relationship": row["relationship"],
        "marital_status": row["marital_status"],
        "alive": row["death_date"] is None,
        "death_date": row["death_date"],
        "has_nik": row["nik_enc"] is not None,
        "has_birth_certificate": row["has_birth_certificate"],
        "target_groups": groups_of(row, events, as_of),
        **extra,
    }


async def emit_person(
    session: AsyncSession,
    event_type: str,
    row: dict[str, Any],
    as_of: date,
    events: LifeEvents | None = None,
    **extra: Any,
) -> None:
    if events is None:
        found = await events_repo.events_of(session, [row["id"]])
        events = events_repo.to_life_events(found.get(row["id"], []))
    await emit(
        session,
        event_type,
        "person",
        row["id"],
        person_payload(row, events, as_of, **extra),
        region_code=row["village_code"],
    )


PII_FIELDS = ["nik", "full_name", "birth_date", "mother_name"]


def may_see_pii(caller: Identity) -> bool:
    """Unmasked only with the personal-data right, a stated purpose, and a role the
    permission matrix lets read personal data (checked here too, not only upstream)."""
    return caller.may_unmask and identity_allowed(caller, "registry.person.read_pii")


def person_view(
    row: dict[str, Any], caller: Identity, events: LifeEvents, as_of: date
) -> dict[str, Any]:
    """A person for the API: NIK, name, birth date and mother's name masked unless the
    caller may unmask (personal-data right and a stated purpose)."""
    nik = pii_codec().decrypt(row["nik_enc"], NIK_CONTEXT) if row["nik_enc"] else None
    unmasked = may_see_pii(caller)
    groups = groups_of(row, events, as_of)
    for g in groups:
        g["label"] = TARGET_GROUP_LABELS[g["group"]]
    return {
        "id": row["id"],
        "nik": nik if unmasked else mask_nik(nik),
        "provisional_id": row["provisional_id"],
        "full_name": row["full_name"] if unmasked else mask_name(row["full_name"]),
        "sex": row["sex"],
        "birth_date": row["birth_date"].isoformat()
        if unmasked
        else mask_birth_date(row["birth_date"]),
        "birth_place": row["birth_place"],
        "religion": row["religion"],
        "education": row["education"],
        "occupation": row["occupation"],
        "marital_status": row["marital_status"],
        "marital_status_since": row["marital_status_since"],
        "has_birth_certificate": row["has_birth_certificate"],
        "mother_id": row["mother_id"],
        "mother_name": row["mother_name"] if unmasked else mask_name(row["mother_name"]),
        "alive": row["death_date"] is None,
        "death_date": row["death_date"],
        "household_id": row["household_id"],
        "relationship": row["relationship"],
        "village_code": row["village_code"],
        "merged_into": row["merged_into"],
        "version": row["version"],
        "as_of": as_of,
        "target_groups": groups,
        "masked": not unmasked,
    }


def audit_persons(
    response: Response, caller: Identity, person_ids: list[uuid.UUID], record_type: str = "person"
) -> None:
    """Tell the gateway which people were shown unmasked (nothing to say when masked)."""
    if may_see_pii(caller) and person_ids:
        ids = [str(i) for i in person_ids]
        mark_audit(
            response,
            record_type=record_type,
            record_ids=ids,
            subject_ids=ids,
            fields=PII_FIELDS,
            unmasked=True,
        )
