"""The krs_status read model: per household, the spans of time during which each KRS
verification is the household's latest (the last verification up to a day, the last in
feed order among those of the same day), with what it found.

A span starts on a verification day and ends (exclusive) at the next one, or never. The
coverage pass reads the span holding the end of the period, one scan, instead of sorting
every household's verifications. Rebuilt in each batch for the households the batch
verified.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def _fill(verifications: str) -> str:
    """The spans of the households whose verifications ``verifications`` (a FROM item)
    lists."""
    return f"""
        INSERT INTO krs_status (household_id, valid_from, valid_to, is_krs, criteria)
        SELECT household_id, assessed_on,
               coalesce(lead(assessed_on) OVER (PARTITION BY household_id
                                                ORDER BY assessed_on), 'infinity'),
               is_krs, criteria
        FROM (
            SELECT DISTINCT ON (household_id, assessed_on)
                   household_id, assessed_on, is_krs, criteria
            FROM {verifications}
            ORDER BY household_id, assessed_on, pos_xid DESC, pos_id DESC
        ) last_of_day
    """


_BY_HOUSEHOLD = """
    unnest(CAST(:ids AS uuid[])) AS x(id)
    CROSS JOIN LATERAL (SELECT * FROM krs_assessment a WHERE a.household_id = x.id
                        OFFSET 0) a  -- kept a sub-select: not flattened into a join
"""


async def refresh(session: AsyncSession, households: list[str]) -> None:
    """Rebuild the spans of ``households``."""
    if not households:
        return
    params = {"ids": sorted(set(households))}
    await session.execute(
        text("DELETE FROM krs_status WHERE household_id = ANY(CAST(:ids AS uuid[]))"), params
    )
    # Household by household through the primary key, whatever the statistics say.
    await session.execute(text(_fill(_BY_HOUSEHOLD)), params)


def fill_all_sql() -> str:
    """The statement filling krs_status from every verification (the migration's)."""
    return _fill("krs_assessment")


async def rebuild_all(session: AsyncSession) -> None:
    """Every span again from the verifications."""
    await session.execute(text("DELETE FROM krs_status"))
    await session.execute(text(fill_all_sql()))
