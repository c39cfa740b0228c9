"""Duplicate detection and merging SQL."""

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql

# Case, spaces and punctuation folded ("Nur'aini" = "Nur Aini"): the expression of the
# person_duplicate_key index (migration registry_0008), written the same here so the
# planner uses it.
NAME_KEY = "regexp_replace(lower(p.full_name), '[^[:alnum:]]+', '', 'g')"


async def likely_duplicates(
    session: AsyncSession, scope: str, within: str, after: list[Any] | None, limit: int
) -> list[dict]:
    """Groups of living records with the same folded name, birth date and village.

    The cursor is the group's village and first id: never the name itself.
    """
    rows = await session.execute(
        text(
            f"""
            SELECT village_code, ids[1] AS first_id, ids FROM (
                SELECT p.village_code, array_agg(p.id ORDER BY p.id) AS ids
                FROM person p
                WHERE p.merged_into IS NULL AND {scope_sql("p.village_code")}
                  AND {scope_sql("p.village_code", "within")}
                GROUP BY p.village_code, {NAME_KEY}, p.birth_date
                HAVING count(*) > 1
            ) g
            WHERE (village_code, ids[1]) > (:after_code, :after_id)
            ORDER BY village_code, ids[1]
            LIMIT :n
            """
        ),
        {
            "scope": scope,
            "within": within,
            "after_code": after[0] if after else "",
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def record_merge(
    session: AsyncSession,
    removed: dict[str, Any],
    kept_id: uuid.UUID,
    merged_by: str,
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO person_merge (removed_id, kept_id, merged_by, removed_household_id,
                                      removed_relationship)
            VALUES (:r, :k, :by, :h, :rel)
            """
        ),
        {
            "r": removed["id"],
            "k": kept_id,
            "by": merged_by,
            "h": removed["household_id"],
            "rel": removed["relationship"],
        },
    )
    # Children recorded against the duplicate now point at the kept mother.
    await session.execute(
        text("UPDATE person SET mother_id = :k WHERE mother_id = :r"),
        {"k": kept_id, "r": removed["id"]},
    )


async def merges_into(session: AsyncSession, kept_id: uuid.UUID) -> list[dict]:
    rows = await session.execute(
        text(
            "SELECT removed_id, merged_at, merged_by FROM person_merge WHERE kept_id = :k"
            " ORDER BY merged_at"
        ),
        {"k": kept_id},
    )
    return [dict(r) for r in rows.mappings()]
