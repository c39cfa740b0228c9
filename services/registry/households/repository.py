"""All SQL on households and their dated living conditions."""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.registry.persons.region_facts import scope_range

_COLS = """
    h.id, h.kk_number_enc, h.village_code, r.name AS village_name, h.dusun, h.rw, h.rt,
    h.address, h.active, h.version, h.created_at
"""
CONDITION_FIELDS = (
    "water_source",
    "sanitation",
    "house_condition",
    "welfare_decile",
    "extreme_poverty",
    "observed_date",
)


async def insert_household(session: AsyncSession, household: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO household (id, kk_number_enc, kk_hash, village_code, dusun, rw, rt,
                                   address)
            VALUES (:id, :kk_number_enc, :kk_hash, :village_code, :dusun, :rw, :rt, :address)
            """
        ),
        household,
    )


async def get_household(
    session: AsyncSession, household_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"""
                    SELECT {_COLS} FROM household h JOIN region r ON r.code = h.village_code
                    WHERE h.id = :id AND {scope_sql("h.village_code")}
                    {"FOR UPDATE OF h" if lock else ""}
                    """
                ),
                {"id": household_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def holder_of_kk(session: AsyncSession, kk_hash: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    """
                    SELECT h.id, h.village_code, r.name AS village_name
                    FROM household h JOIN region r ON r.code = h.village_code
                    WHERE h.kk_hash = :k AND h.active
                    """
                ),
                {"k": kk_hash},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def update_household(
    session: AsyncSession, household_id: uuid.UUID, version: int | None, changes: dict[str, Any]
) -> int | None:
    sets = [f"{name} = :{name}" for name in changes]
    sets += ["version = version + 1", "updated_at = now()"]
    guard = " AND version = :v" if version is not None else ""
    return (
        await session.execute(
            text(f"UPDATE household SET {', '.join(sets)} WHERE id = :id{guard} RETURNING version"),
            {**changes, "id": household_id, "v": version},
        )
    ).scalar_one_or_none()


async def insert_condition(
    session: AsyncSession, household_id: uuid.UUID, condition: dict[str, Any]
) -> None:
    await session.execute(
        text(
            f"""
            INSERT INTO household_condition (household_id, {", ".join(CONDITION_FIELDS)})
            VALUES (:household_id, {", ".join(":" + f for f in CONDITION_FIELDS)})
            """
        ),
        {"household_id": household_id, **{f: condition.get(f) for f in CONDITION_FIELDS}},
    )


async def conditions(
    session: AsyncSession, household_id: uuid.UUID, *, latest_only: bool = False
) -> list[dict]:
    """Observations newest first (by observed date, then by entry)."""
    rows = await session.execute(
        text(
            f"""
            SELECT {", ".join(CONDITION_FIELDS)}, recorded_at FROM household_condition
            WHERE household_id = :h ORDER BY observed_date DESC, id DESC
            {"LIMIT 1" if latest_only else ""}
            """
        ),
        {"h": household_id},
    )
    return [dict(r) for r in rows.mappings()]


async def list_households(
    session: AsyncSession,
    scope: str,
    filters: dict[str, Any],
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    bounds = scope_range(scope, filters.get("within"))
    if bounds is None:
        return []
    rows = await session.execute(
        text(
            f"""
            SELECT {_COLS} FROM household h JOIN region r ON r.code = h.village_code
            WHERE h.village_code >= :low AND h.village_code < :high
              AND (CAST(:dusun AS text) IS NULL OR h.dusun = :dusun)
              AND (CAST(:rw AS text) IS NULL OR h.rw = :rw)
              AND (CAST(:rt AS text) IS NULL OR h.rt = :rt)
              AND (CAST(:active AS boolean) IS NULL OR h.active = :active)
              AND (h.village_code, h.id) > (:after_code, :after_id)
            ORDER BY h.village_code, h.id
            LIMIT :n
            """
        ),
        {
            "low": bounds[0],
            "high": bounds[1],
            "dusun": filters.get("dusun"),
            "rw": filters.get("rw"),
            "rt": filters.get("rt"),
            "active": filters.get("active"),
            "after_code": after[0] if after else "",
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def heads(session: AsyncSession, household_ids: list[uuid.UUID]) -> dict[Any, dict]:
    """The head of each household (current member with SHDK 1)."""
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT ON (m.household_id) m.household_id, p.id, p.full_name
            FROM household_membership m JOIN person p ON p.id = m.person_id
            WHERE m.household_id = ANY(:ids) AND m.end_reason IS NULL AND m.relationship = 1
            ORDER BY m.household_id, m.start_date
            """
        ),
        {"ids": household_ids},
    )
    return {r["household_id"]: dict(r) for r in rows.mappings()}
