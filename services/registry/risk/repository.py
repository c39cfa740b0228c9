"""All SQL on KRS assessments."""

import uuid
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.persons.region_facts import scope_range

_COLS = """
    k.id, k.household_id, k.village_code, k.assessed_on, k.rule_set, k.is_target_family,
    k.is_krs, k.criteria, k.criteria_met, k.reason, k.assessed_at
"""


async def insert_assessment(session: AsyncSession, row: dict[str, Any]) -> None:
    """The new assessment becomes the household's current one; earlier ones stay."""
    await session.execute(
        text("UPDATE krs_assessment SET is_current = false WHERE household_id = :h AND is_current"),
        {"h": row["household_id"]},
    )
    await session.execute(
        text(
            """
            INSERT INTO krs_assessment (id, household_id, village_code, assessed_on, rule_set,
                is_target_family, is_krs, criteria, criteria_met, reason)
            VALUES (:id, :household_id, :village_code, :assessed_on, :rule_set,
                :is_target_family, :is_krs, CAST(:criteria AS jsonb), :criteria_met,
                CAST(:reason AS jsonb))
            """
        ),
        {
            **row,
            "criteria": orjson.dumps(row["criteria"]).decode(),
            "reason": orjson.dumps(row["reason"]).decode(),
        },
    )


async def current(session: AsyncSession, household_ids: list[uuid.UUID]) -> dict[Any, dict]:
    rows = await session.execute(
        text(
            f"SELECT {_COLS} FROM krs_assessment k"
            " WHERE k.household_id = ANY(:ids) AND k.is_current"
        ),
        {"ids": household_ids},
    )
    return {r["household_id"]: dict(r) for r in rows.mappings()}


async def history(session: AsyncSession, household_id: uuid.UUID) -> list[dict]:
    rows = await session.execute(
        text(
            f"SELECT {_COLS} FROM krs_assessment k WHERE k.household_id = :h"
            " ORDER BY k.assessed_at DESC"
        ),
        {"h": household_id},
    )
    return [dict(r) for r in rows.mappings()]


async def list_krs(
    session: AsyncSession,
    scope: str,
    within: str | None,
    criteria: list[str],
    lokus_year: int | None,
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    """Current KRS families in cursor order (served by the partial index krs_assessment_list)."""
    bounds = scope_range(scope, within)
    if bounds is None:
        return []
    rows = await session.execute(
        text(
            f"""
            SELECT {_COLS}, r.name AS village_name, h.kk_number_enc, h.dusun, h.rw, h.rt
            FROM krs_assessment k
            JOIN household h ON h.id = k.household_id
            JOIN region r ON r.code = k.village_code
            WHERE k.is_current AND k.is_krs
              AND k.village_code >= :low AND k.village_code < :high
              AND (cardinality(CAST(:criteria AS text[])) = 0
                   OR k.criteria_met && CAST(:criteria AS text[]))
              AND (CAST(:lokus_year AS integer) IS NULL OR EXISTS (
                    SELECT 1 FROM lokus_designation l
                    WHERE l.village_code = k.village_code AND l.year = :lokus_year
                      AND l.revoked_on IS NULL))
              AND (k.village_code, k.household_id) > (:after_code, :after_id)
            ORDER BY k.village_code, k.household_id
            LIMIT :n
            """
        ),
        {
            "low": bounds[0],
            "high": bounds[1],
            "criteria": criteria,
            "lokus_year": lokus_year,
            "after_code": after[0] if after else "",
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]
