"""All SQL on referrals and their transitions."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql

_COLS = (
    "r.id, r.subject_kind, r.subject_id, r.household_id, r.village_code, r.referral_type,"
    " r.from_org, r.to_sector, r.state, r.note, r.reason, r.created_on, r.due_on,"
    " r.created_by, r.created_at, r.updated_at, r.version"
)
OPEN = ("created", "accepted", "in_progress")


async def insert(session: AsyncSession, referral: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO referral (id, subject_kind, subject_id, household_id, village_code,
                referral_type, from_org, to_sector, state, note, created_on, due_on, created_by)
            VALUES (:id, :subject_kind, :subject_id, :household_id, :village_code,
                :referral_type, :from_org, :to_sector, :state, :note, :created_on, :due_on,
                :created_by)
            """
        ),
        referral,
    )


async def add_transition(session: AsyncSession, transition: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO referral_transition (referral_id, action, from_state, to_state, actor,
                actor_role, actor_org, reason)
            VALUES (:referral_id, :action, :from_state, :to_state, :actor, :actor_role,
                :actor_org, :reason)
            """
        ),
        transition,
    )


async def move(
    session: AsyncSession, referral_id: uuid.UUID, version: int, state: str, reason: str | None
) -> dict | None:
    """Conditional on the version read: of two concurrent moves only one matches."""
    row = (
        (
            await session.execute(
                text(
                    f"""
                    UPDATE referral r SET state = :state, version = r.version + 1,
                        reason = coalesce(:reason, r.reason), updated_at = now()
                    WHERE r.id = :id AND r.version = :version
                    RETURNING {_COLS}
                    """
                ),
                {"id": referral_id, "version": version, "state": state, "reason": reason},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def get(session: AsyncSession, referral_id: uuid.UUID, scope: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_COLS} FROM referral r"
                    f" WHERE r.id = :id AND {scope_sql('r.village_code')}"
                ),
                {"id": referral_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def transitions(session: AsyncSession, referral_id: uuid.UUID) -> list[dict]:
    rows = await session.execute(
        text(
            "SELECT action, from_state, to_state, actor, actor_role, actor_org, reason, at"
            " FROM referral_transition WHERE referral_id = :id ORDER BY id"
        ),
        {"id": referral_id},
    )
    return [dict(r) for r in rows.mappings()]


async def list_referrals(
    session: AsyncSession,
    scope: str,
    filters: dict[str, Any],
    today: date,
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    """Ordered by due date (most urgent first), then id."""
    states = filters.get("states")
    rows = await session.execute(
        text(
            f"""
            SELECT {_COLS} FROM referral r
            WHERE {scope_sql("r.village_code")} AND {scope_sql("r.village_code", "within")}
              AND (CAST(:to_sector AS text) IS NULL OR r.to_sector = :to_sector)
              AND (CAST(:from_org AS text) IS NULL OR r.from_org = :from_org)
              AND (CAST(:states AS text[]) IS NULL OR r.state = ANY(:states))
              AND (CAST(:subject AS uuid) IS NULL OR r.subject_id = :subject)
              AND (NOT :overdue OR (r.state = ANY(CAST(:open AS text[])) AND r.due_on < :today))
              AND (r.due_on, r.id) > (CAST(:after_day AS date), CAST(:after_id AS uuid))
            ORDER BY r.due_on, r.id LIMIT :n
            """
        ),
        {
            "scope": scope,
            "within": filters.get("within") or "",
            "to_sector": filters.get("to_sector"),
            "from_org": filters.get("from_org"),
            "states": list(states) if states else None,
            "subject": filters.get("subject_id"),
            "overdue": bool(filters.get("overdue")),
            "open": list(OPEN),
            "today": today,
            "after_day": date.fromisoformat(after[0]) if after else date(1, 1, 1),
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]
