"""All SQL on the intervention catalogue."""

from collections.abc import Sequence
from datetime import date

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.interventions.catalogue.rules import CatalogueEntry

_INSERT = """
    INSERT INTO catalogue_entry (code, version, valid_from, retired_on, entry, created_by)
    SELECT r.code, r.version, r.valid_from, r.retired_on, r.entry, :by
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(code text, version integer, valid_from date, retired_on date, entry jsonb)
"""


def _rows(entries: Sequence[CatalogueEntry]) -> str:
    return orjson.dumps(
        [
            {
                "code": e.code,
                "version": e.version,
                "valid_from": e.valid_from,
                "retired_on": e.retired_on,
                "entry": e.model_dump(mode="json"),
            }
            for e in entries
        ]
    ).decode()


def _entry(row) -> CatalogueEntry:
    # The retirement date lives in its own column: retiring does not rewrite the entry.
    return CatalogueEntry.model_validate({**row.entry, "retired_on": row.retired_on})


async def all_entries(session: AsyncSession) -> list[CatalogueEntry]:
    rows = await session.execute(
        text("SELECT entry, retired_on FROM catalogue_entry ORDER BY code, version")
    )
    return [_entry(r) for r in rows]


async def versions(session: AsyncSession, code: str, *, lock: bool = False) -> list[CatalogueEntry]:
    rows = await session.execute(
        text(
            "SELECT entry, retired_on FROM catalogue_entry WHERE code = :c ORDER BY version"
            + (" FOR UPDATE" if lock else "")
        ),
        {"c": code},
    )
    return [_entry(r) for r in rows]


async def versions_of_codes(session: AsyncSession, codes: list[str]) -> list[CatalogueEntry]:
    rows = await session.execute(
        text(
            "SELECT entry, retired_on FROM catalogue_entry WHERE code = ANY(:c)"
            " ORDER BY code, version"
        ),
        {"c": codes},
    )
    return [_entry(r) for r in rows]


async def insert(session: AsyncSession, entry: CatalogueEntry, created_by: str) -> None:
    await session.execute(text(_INSERT), {"rows": _rows([entry]), "by": created_by})


async def retire(session: AsyncSession, code: str, on: date) -> None:
    await session.execute(
        text(
            "UPDATE catalogue_entry SET retired_on = :on"
            " WHERE code = :c AND version = (SELECT max(version) FROM catalogue_entry"
            " WHERE code = :c)"
        ),
        {"c": code, "on": on},
    )


async def seed(conn: AsyncConnection, entries: Sequence[CatalogueEntry]) -> int:
    """Insert the seed versions that are not there yet; admins' later versions stay."""
    result = await conn.execute(
        text(_INSERT + " ON CONFLICT (code, version) DO NOTHING"),
        {"rows": _rows(entries), "by": "seed"},
    )
    return result.rowcount
