"""Helpers for set-based writes: a batch travels as one JSON array parameter and is
unpacked in SQL with ``jsonb_to_recordset``."""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.feeds.projection import FIRST_DAY, LAST_DAY


def sql_day(value: date | None) -> str | None:
    """A date as PostgreSQL reads it; the open ends become -infinity / infinity."""
    if value is None:
        return None
    if value == FIRST_DAY:
        return "-infinity"
    if value == LAST_DAY:
        return "infinity"
    return value.isoformat()


def as_json(rows: Iterable[Mapping[str, Any]]) -> str:
    return orjson.dumps(list(rows), default=str).decode()


async def run(
    session: AsyncSession, sql: str, rows: list[Mapping[str, Any]], **params: Any
) -> None:
    """Execute ``sql`` with the rows bound as ``:rows`` (skipped when there are none)."""
    if rows:
        await session.execute(text(sql), {"rows": as_json(rows), **params})
