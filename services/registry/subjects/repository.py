"""Read-only SQL for the subject lookup of other services."""

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_PERSON = """
    SELECT p.id, p.household_id, p.village_code, p.sex, p.birth_date, p.death_date,
           p.marital_status, p.marital_status_since, p.has_birth_certificate,
           p.nik_enc IS NOT NULL AS has_nik, p.merged_into
    FROM person p
"""


async def person(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(text(_PERSON + " WHERE p.id = :id"), {"id": person_id}))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def members(session: AsyncSession, household_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(_PERSON + " WHERE p.household_id = :h AND p.merged_into IS NULL ORDER BY p.id"),
        {"h": household_id},
    )
    return [dict(r) for r in rows.mappings()]


async def household(session: AsyncSession, household_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    """
                    SELECT h.id, h.village_code, h.active,
                           (SELECT c.welfare_decile FROM household_condition c
                            WHERE c.household_id = h.id
                            ORDER BY c.observed_date DESC, c.id DESC LIMIT 1) AS welfare_decile
                    FROM household h WHERE h.id = :id
                    """
                ),
                {"id": household_id},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def current_krs(session: AsyncSession, household_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    "SELECT is_krs, is_target_family, criteria, assessed_on, rule_set"
                    " FROM krs_assessment WHERE household_id = :h AND is_current"
                ),
                {"h": household_id},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def life_events(
    session: AsyncSession, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    rows = await session.execute(
        text(
            "SELECT person_id, kind, start_date, end_date, expected_date, outcome, details"
            " FROM life_event WHERE person_id = ANY(:ids) ORDER BY start_date NULLS LAST"
        ),
        {"ids": person_ids},
    )
    found: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in rows.mappings():
        found[r["person_id"]].append(dict(r))
    return found
