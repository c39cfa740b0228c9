"""Published figures: insert-only (a trigger refuses UPDATE, DELETE and TRUNCATE)."""

import uuid
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql

_COLUMNS = (
    "publication_id, region_code, period_code, version, published_at, published_by,"
    " data_cutoff, indicator_keys, fingerprint"
)


async def lock_series(session: AsyncSession, region_code: str, period_code: str) -> None:
    """Serialise publishing of one region and period (versions are numbered in turn)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('publication:' || :r || ':' || :p))"),
        {"r": region_code, "p": period_code},
    )


async def latest(session: AsyncSession, region_code: str, period_code: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_COLUMNS} FROM publication"
                    " WHERE region_code = :r AND period_code = :p ORDER BY version DESC LIMIT 1"
                ),
                {"r": region_code, "p": period_code},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def insert(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO publication (publication_id, region_code, period_code, version,"
            " published_by, data_cutoff, indicator_keys, fingerprint, figures)"
            " VALUES (:publication_id, :region_code, :period_code, :version, :published_by,"
            " CAST(:data_cutoff AS jsonb), CAST(:indicator_keys AS jsonb), :fingerprint,"
            " CAST(:figures AS jsonb))"
        ),
        {
            **row,
            "data_cutoff": orjson.dumps(row["data_cutoff"]).decode(),
            "indicator_keys": orjson.dumps(row["indicator_keys"]).decode(),
            "figures": orjson.dumps(row["figures"]).decode(),
        },
    )


async def get(session: AsyncSession, publication_id: uuid.UUID, scope: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_COLUMNS}, figures FROM publication"
                    f" WHERE publication_id = :id AND {scope_sql('region_code')}"
                ),
                {"id": publication_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_versions(
    session: AsyncSession, scope: str, region_code: str | None, period_code: str | None, limit: int
) -> list[dict]:
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM publication WHERE {scope_sql('region_code')}"
            " AND (CAST(:r AS text) IS NULL OR region_code = :r)"
            " AND (CAST(:p AS text) IS NULL OR period_code = :p)"
            " ORDER BY region_code, period_code, version DESC LIMIT :limit"
        ),
        {"scope": scope, "r": region_code, "p": period_code, "limit": limit},
    )
    return [dict(r) for r in rows.mappings()]
