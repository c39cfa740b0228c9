"""All SQL on Kampung KB sites, their maturity history, and lokus designations."""

import uuid
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql

_SITE_COLS = """
    s.id, s.village_code, r.name AS village_name, s.sub_area_kind, s.sub_area_code, s.name,
    s.established_on, s.decree_number, s.decree_date, s.rumah_dataku_level, s.aims,
    s.area_types, s.pokja, s.version
"""


async def insert_site(session: AsyncSession, site_id: uuid.UUID, fields: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO kampung_kb_site (id, village_code, sub_area_kind, sub_area_code, name,
                established_on, decree_number, decree_date, rumah_dataku_level, aims,
                area_types, pokja)
            VALUES (:id, :village_code, :sub_area_kind, :sub_area_code, :name, :established_on,
                :decree_number, :decree_date, :rumah_dataku_level, :aims, :area_types,
                CAST(:pokja AS jsonb))
            """
        ),
        {**fields, "id": site_id, "pokja": orjson.dumps(fields["pokja"], default=str).decode()},
    )


async def update_site(
    session: AsyncSession, site_id: uuid.UUID, version: int, changes: dict[str, Any]
) -> int | None:
    """Apply ``changes`` if the site is still at ``version``; the new version or None."""
    params: dict[str, Any] = {"id": site_id, "v": version}
    sets = []
    for name, value in changes.items():
        if name == "pokja":
            sets.append("pokja = CAST(:pokja AS jsonb)")
            params["pokja"] = orjson.dumps(value, default=str).decode()
        else:
            sets.append(f"{name} = :{name}")
            params[name] = value
    sets.append("version = version + 1")
    sets.append("updated_at = now()")
    return (
        await session.execute(
            text(
                f"UPDATE kampung_kb_site SET {', '.join(sets)} WHERE id = :id AND version = :v"
                " RETURNING version"
            ),
            params,
        )
    ).scalar_one_or_none()


async def add_maturity(session: AsyncSession, site_id: uuid.UUID, level: dict[str, Any]) -> bool:
    """False when a level is already recorded for that date."""
    row = await session.execute(
        text(
            """
            INSERT INTO kampung_kb_maturity (site_id, effective_date, level, decree_number, note)
            VALUES (:site_id, :effective_date, :level, :decree_number, :note)
            ON CONFLICT DO NOTHING RETURNING 1
            """
        ),
        {"site_id": site_id, **level},
    )
    return row.first() is not None


async def get_site(session: AsyncSession, site_id: uuid.UUID, scope: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"""
                    SELECT {_SITE_COLS} FROM kampung_kb_site s
                    JOIN region r ON r.code = s.village_code
                    WHERE s.id = :id AND {scope_sql("s.village_code")}
                    """
                ),
                {"id": site_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_sites(
    session: AsyncSession,
    scope: str,
    within: str | None,
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_SITE_COLS} FROM kampung_kb_site s
            JOIN region r ON r.code = s.village_code
            WHERE {scope_sql("s.village_code")} AND {scope_sql("s.village_code", "within")}
              AND (s.village_code, s.id) > (:after_code, CAST(:after_id AS uuid))
            ORDER BY s.village_code, s.id
            LIMIT :n
            """
        ),
        {
            "scope": scope,
            "within": within or "",
            "after_code": after[0] if after else "",
            "after_id": after[1] if after else "00000000-0000-0000-0000-000000000000",
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def maturity_history(session: AsyncSession, site_ids: list[uuid.UUID]) -> dict[Any, list]:
    rows = await session.execute(
        text(
            """
            SELECT site_id, level, effective_date, decree_number, note
            FROM kampung_kb_maturity WHERE site_id = ANY(:ids)
            ORDER BY site_id, effective_date
            """
        ),
        {"ids": site_ids},
    )
    history: dict[Any, list] = {}
    for r in rows.mappings():
        history.setdefault(r["site_id"], []).append(dict(r))
    return history


# --- lokus -----------------------------------------------------------------------------


async def designate_lokus(
    session: AsyncSession, village_code: str, year: int, decree_number: str, decree_date: date
) -> None:
    """Designate, re-designate after a revocation, or correct the decree."""
    await session.execute(
        text(
            """
            INSERT INTO lokus_designation (village_code, year, decree_number, decree_date)
            VALUES (:v, :y, :n, :d)
            ON CONFLICT (village_code, year) DO UPDATE
            SET decree_number = EXCLUDED.decree_number, decree_date = EXCLUDED.decree_date,
                revoked_on = NULL, revoke_reason = NULL, updated_at = now()
            """
        ),
        {"v": village_code, "y": year, "n": decree_number, "d": decree_date},
    )


async def revoke_lokus(
    session: AsyncSession, village_code: str, year: int, on: date, reason: str | None
) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    """
                    UPDATE lokus_designation
                    SET revoked_on = :on, revoke_reason = :reason, updated_at = now()
                    WHERE village_code = :v AND year = :y AND revoked_on IS NULL
                    RETURNING decree_number, decree_date
                    """
                ),
                {"v": village_code, "y": year, "on": on, "reason": reason},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_lokus(
    session: AsyncSession,
    scope: str,
    within: str,
    year: int,
    include_revoked: bool,
    after: str | None,
    limit: int,
) -> list[dict]:
    rows = await session.execute(
        text(
            f"""
            SELECT l.village_code, v.name AS village_name, d.code AS district_code,
                   d.name AS district_name, l.year, l.decree_number, l.decree_date, l.revoked_on
            FROM lokus_designation l
            JOIN region v ON v.code = l.village_code
            JOIN region d ON d.code = v.parent_code
            WHERE l.year = :year AND {scope_sql("l.village_code")}
              AND {scope_sql("l.village_code", "within")}
              AND (:include_revoked OR l.revoked_on IS NULL)
              AND l.village_code > :after
            ORDER BY l.village_code
            LIMIT :n
            """
        ),
        {
            "year": year,
            "scope": scope,
            "within": within,
            "include_revoked": include_revoked,
            "after": after or "",
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]
