"""Applying a batch of the interventions feed: deliveries (corrections and voids
supersede the row they replace), referrals with their transitions, TPK visits."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import local_date
from common.feed import FeedEvent
from services.reporting.feeds.projection import day, position_key
from services.reporting.feeds.sql import run, sql_day

DELIVERY_EVENTS = frozenset({"delivery.recorded", "delivery.corrected", "delivery.voided"})
REFERRAL_EVENTS = frozenset({"referral.created", "referral.transitioned"})
COMPLETED = "completed"


def _pos(event: FeedEvent) -> dict[str, int]:
    xid, seq = position_key(event.position)
    return {"pos_xid": xid, "pos_id": seq}


def delivery_row(event: FeedEvent) -> dict[str, Any]:
    p = event.payload
    return {
        "delivery_id": p["delivery_id"],
        "kind": event.type.removeprefix("delivery."),
        "subject_kind": p["subject_kind"],
        "subject_id": p["subject_id"],
        "household_id": p.get("household_id"),
        "village_code": p["village_code"],
        "intervention_code": p["intervention_code"],
        "catalogue_version": p.get("catalogue_version"),
        "delivered_on": sql_day(day(p["delivered_on"])),
        "quantity": p.get("quantity"),
        "unit": p.get("unit"),
        "sector": p.get("sector"),
        "funding_source": p.get("funding_source"),
        "supersedes": p.get("supersedes"),
        **_pos(event),
    }


def referral_row(event: FeedEvent) -> dict[str, Any]:
    p = event.payload
    at = day(p.get("at")) or local_date(event.occurred_at)
    return {
        "referral_id": p["referral_id"],
        "subject_kind": p.get("subject_kind"),
        "subject_id": p.get("subject_id"),
        "village_code": p["village_code"],
        "referral_type": p.get("referral_type"),
        "from_org": p.get("from_org"),
        "to_sector": p.get("to_sector"),
        "state": p["state"],
        "raised_on": sql_day(at),
        "due_on": sql_day(day(p.get("due_on"))),
        "completed_on": sql_day(at) if p["state"] == COMPLETED else None,
        "action": p.get("action") or ("create" if event.type == "referral.created" else None),
        "at": p.get("at") or event.occurred_at.isoformat(),
        **_pos(event),
    }


def visit_row(event: FeedEvent) -> dict[str, Any]:
    p = event.payload
    return {
        "visit_id": p["visit_id"],
        "team_id": p.get("team_id"),
        "subject_id": p["subject_id"],
        "village_code": p["village_code"],
        "target_group": p["target_group"],
        "visited_on": sql_day(day(p["visited_on"])),
        "at_risk": p.get("at_risk"),
    }


_DELIVERY_COLUMNS = (
    "delivery_id uuid, kind text, subject_kind text, subject_id uuid, household_id uuid, "
    "village_code text, intervention_code text, catalogue_version integer, delivered_on date, "
    "quantity float8, unit text, sector text, funding_source text, supersedes uuid, "
    "pos_xid bigint, pos_id bigint"
)
_DELIVERY_NAMES = ", ".join(c.split()[0] for c in _DELIVERY_COLUMNS.split(", "))
_INSERT_DELIVERY = f"""
    INSERT INTO delivery ({_DELIVERY_NAMES})
    SELECT {_DELIVERY_NAMES} FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS x({_DELIVERY_COLUMNS})
    ON CONFLICT (delivery_id) DO NOTHING
"""
_SUPERSEDE_DELIVERY = """
    UPDATE delivery SET superseded = true
    WHERE delivery_id IN (SELECT supersedes FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                          AS x(supersedes uuid) WHERE supersedes IS NOT NULL)
"""

# The first event of a referral fixes the day it was raised; later ones move its state.
_UPSERT_REFERRAL = """
    INSERT INTO referral AS r (referral_id, subject_kind, subject_id, village_code,
                               referral_type, from_org, to_sector, state, raised_on, due_on,
                               completed_on, pos_xid, pos_id)
    SELECT referral_id, subject_kind, subject_id, village_code, referral_type, from_org,
           to_sector, state, raised_on, due_on, completed_on, pos_xid, pos_id
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        referral_id uuid, subject_kind text, subject_id uuid, village_code text,
        referral_type text, from_org text, to_sector text, state text, raised_on date,
        due_on date, completed_on date, pos_xid bigint, pos_id bigint)
    ON CONFLICT (referral_id) DO UPDATE SET
        village_code = EXCLUDED.village_code, to_sector = EXCLUDED.to_sector,
        state = EXCLUDED.state, due_on = EXCLUDED.due_on,
        completed_on = coalesce(EXCLUDED.completed_on,
                                CASE WHEN EXCLUDED.state = 'completed' THEN r.completed_on END),
        pos_xid = EXCLUDED.pos_xid, pos_id = EXCLUDED.pos_id
    WHERE (r.pos_xid, r.pos_id) < (EXCLUDED.pos_xid, EXCLUDED.pos_id)
"""
_INSERT_TRANSITION = """
    INSERT INTO referral_transition (referral_id, pos_xid, pos_id, state, action, at)
    SELECT referral_id, pos_xid, pos_id, state, action, at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        referral_id uuid, pos_xid bigint, pos_id bigint, state text, action text,
        at timestamptz)
    ON CONFLICT DO NOTHING
"""
_INSERT_VISIT = """
    INSERT INTO tpk_visit (visit_id, team_id, subject_id, village_code, target_group,
                           visited_on, at_risk)
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        visit_id uuid, team_id uuid, subject_id uuid, village_code text, target_group text,
        visited_on date, at_risk boolean)
    ON CONFLICT (visit_id) DO NOTHING
"""


async def apply_interventions_batch(session: AsyncSession, events: list[FeedEvent]) -> None:
    deliveries = [delivery_row(e) for e in events if e.type in DELIVERY_EVENTS]
    referrals = [referral_row(e) for e in events if e.type in REFERRAL_EVENTS]
    visits = [visit_row(e) for e in events if e.type == "tpk.visit.recorded"]
    await run(session, _INSERT_DELIVERY, deliveries)
    await run(session, _SUPERSEDE_DELIVERY, deliveries)
    # One row per statement and referral: ON CONFLICT cannot update a row twice.
    for wave in _waves(referrals):
        await run(session, _UPSERT_REFERRAL, wave)
    await run(session, _INSERT_TRANSITION, referrals)
    await run(session, _INSERT_VISIT, visits)


def _waves(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split rows so each referral appears at most once per wave, in feed order."""
    waves: list[list[dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for row in rows:
        index = seen.get(row["referral_id"], -1) + 1
        seen[row["referral_id"]] = index
        if index == len(waves):
            waves.append([])
        waves[index].append(row)
    return waves
