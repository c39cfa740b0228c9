"""Opening a referral: the checks, the row, its first move and its event."""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.feed import emit
from common.identity import Identity
from common.ids import uuid7
from services.interventions.catalogue.rules import Violation
from services.interventions.referrals import repository as repo
from services.interventions.referrals.rules import (
    ReferralState,
    ReferralType,
    due_date,
    validate_new_referral,
)
from services.interventions.sectors import parse_sector


def check_new(
    org: str,
    referral_type: str,
    to_sector: str | None,
    due_on: date | None,
    types: dict[str, ReferralType],
    on: date,
) -> tuple[str | None, list[Violation]]:
    """The receiving sector (the type's by default) and every rule the referral breaks."""
    kind = types.get(referral_type)
    sector = to_sector or (kind.default_sector.value if kind else None)
    found = [
        Violation(v.code, v.message, "to_sector" if v.loc == "receiver_org" else v.loc)
        for v in validate_new_referral(org, sector or "", referral_type, types)
    ]
    if sector is None or parse_sector(sector) is None:
        found.append(
            Violation(
                "invalid_sector",
                {"id": "Sektor tujuan tidak dikenal", "en": "Unknown receiving sector"},
                "to_sector",
            )
        )
    if due_on is not None and due_on < on:
        found.append(
            Violation(
                "due_on_in_past",
                {"id": "Batas waktu tidak boleh lewat", "en": "due_on cannot be in the past"},
                "due_on",
            )
        )
    return sector, found


def event_payload(referral: dict[str, Any], at: datetime | date) -> dict[str, Any]:
    return {
        "referral_id": str(referral["id"]),
        "subject_kind": referral["subject_kind"],
        "subject_id": str(referral["subject_id"]),
        "village_code": referral["village_code"],
        "referral_type": referral["referral_type"],
        "from_org": referral["from_org"],
        "to_sector": referral["to_sector"],
        "state": referral["state"],
        "at": at,
        "due_on": referral["due_on"],
    }


async def open_referral(
    session: AsyncSession,
    caller: Identity,
    subject: dict[str, Any],
    *,
    org: str,
    referral_type: str,
    to_sector: str,
    note: str | None,
    due_on: date | None,
    types: dict[str, ReferralType],
    on: date,
) -> dict[str, Any]:
    """Store a checked referral (state created) with its first move, and publish it."""
    referral = {
        "id": uuid7(),
        "subject_kind": subject["kind"],
        "subject_id": subject["id"],
        "household_id": subject["household_id"],
        "village_code": subject["village_code"],
        "referral_type": referral_type,
        "from_org": org,
        "to_sector": to_sector,
        "state": ReferralState.created.value,
        "note": note,
        "created_on": on,
        "due_on": due_on or due_date(on, referral_type, types),
        "created_by": caller.sub,
    }
    await repo.insert(session, referral)
    await repo.add_transition(
        session,
        {
            "referral_id": referral["id"],
            "action": "create",
            "from_state": None,
            "to_state": referral["state"],
            "actor": caller.sub,
            "actor_role": caller.role.value,
            "actor_org": org,
            "reason": None,
        },
    )
    stored = await repo.get(session, referral["id"], "")
    assert stored is not None
    await emit(
        session,
        "referral.created",
        "referral",
        referral["id"],
        event_payload(stored, stored["created_at"]),
        region_code=stored["village_code"],
    )
    return stored
