"""Person search SQL: exact by keyed hash, ranked full text on names, and candidates for
a target group (narrowed in SQL by dates, decided exactly by the rules afterwards)."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.registry.persons.repository import PERSON_COLS

# The expression of the person_name_tsv index (migration registry_0008): written the same
# here so the planner uses the index.
NAME_TSV = "to_tsvector('simple'::regconfig, p.full_name)"

_BASE = f"""
    FROM person p
    WHERE p.merged_into IS NULL AND {scope_sql("p.village_code")}
      AND {scope_sql("p.village_code", "within")}
"""


async def by_nik_hash(session: AsyncSession, digest: str, scope: str) -> list[dict]:
    rows = await session.execute(
        text(f"SELECT {PERSON_COLS} {_BASE} AND p.nik_hash = :h"),
        {"h": digest, "scope": scope, "within": ""},
    )
    return [dict(r) for r in rows.mappings()]


async def by_kk_hash(session: AsyncSession, digest: str, scope: str) -> list[dict]:
    """Current members of the active household holding that KK number."""
    rows = await session.execute(
        text(
            f"""
            SELECT {PERSON_COLS} {_BASE}
              AND p.household_id IN (SELECT id FROM household WHERE kk_hash = :h AND active)
              AND EXISTS (SELECT 1 FROM household_membership m
                          WHERE m.person_id = p.id AND m.end_reason IS NULL)
            ORDER BY p.relationship, p.birth_date, p.id
            """
        ),
        {"h": digest, "scope": scope, "within": ""},
    )
    return [dict(r) for r in rows.mappings()]


def _filters(params: dict[str, Any]) -> str:
    """Shared optional filters: deceased people, target-group date windows."""
    return """
      AND (:include_deceased OR p.death_date IS NULL OR p.death_date > :as_of)
      AND p.birth_date <= :as_of
      AND (CAST(:sex AS smallint) IS NULL OR p.sex = :sex)
      AND (CAST(:married AS boolean) IS NULL OR p.marital_status = 2)
      AND (CAST(:born_after AS date) IS NULL OR p.birth_date > :born_after)
      AND (CAST(:born_before AS date) IS NULL OR p.birth_date < :born_before)
      AND (CAST(:event_kind AS text) IS NULL OR EXISTS (
            SELECT 1 FROM life_event e
            WHERE e.person_id = p.id AND e.kind = ANY(CAST(:event_kinds AS text[]))
              AND COALESCE(e.end_date, e.expected_date, e.start_date) >= :event_from
              AND COALESCE(e.start_date, e.expected_date) <= :event_to))
    """


async def by_name(
    session: AsyncSession,
    query: str,
    scope: str,
    params: dict[str, Any],
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    rows = await session.execute(
        text(
            f"""
            SELECT * FROM (
                SELECT {PERSON_COLS}, ts_rank({NAME_TSV}, q)::float8 AS rank
                FROM person p, to_tsquery('simple', :q) q
                WHERE {NAME_TSV} @@ q AND p.merged_into IS NULL
                  AND {scope_sql("p.village_code")} AND {scope_sql("p.village_code", "within")}
                  {_filters(params)}
            ) ranked
            WHERE (CAST(:after_rank AS float8) IS NULL OR rank < :after_rank
                   OR (rank = :after_rank AND id > :after_id))
            ORDER BY rank DESC, id
            LIMIT :n
            """
        ),
        {
            **params,
            "q": query,
            "scope": scope,
            "after_rank": after[0] if after else None,
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def by_region(
    session: AsyncSession,
    scope: str,
    params: dict[str, Any],
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    rows = await session.execute(
        text(
            f"""
            SELECT {PERSON_COLS} {_BASE} {_filters(params)}
              AND (p.village_code, p.id) > (:after_code, :after_id)
            ORDER BY p.village_code, p.id
            LIMIT :n
            """
        ),
        {
            **params,
            "scope": scope,
            "after_code": after[0] if after else "",
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


def no_filters(within: str, as_of: date, include_deceased: bool) -> dict[str, Any]:
    return {
        "within": within,
        "as_of": as_of,
        "include_deceased": include_deceased,
        "sex": None,
        "married": None,
        "born_after": None,
        "born_before": None,
        "event_kind": None,
        "event_kinds": [],
        "event_from": as_of,
        "event_to": as_of,
    }
