"""The growth_status read model: per person, the spans of time during which their latest
measurement meets the growth conditions of the coverage targets (wasting, oedema, a low
arm circumference), one bit per condition of ``targets.GROWTH_TERMS``.

The latest measurement on a day is the person's last visit up to that day, not
superseded, the last in feed order among visits of the same day. A span starts at a
visit date where the bits change and ends (exclusive) where they change again, or never.
Spans with no bit set are not kept: to every target they are the same as no measurement.
The coverage pass then reads the span holding the end of the period, one small scan,
instead of looking up every child's latest measurement.

Rebuilt in each batch for every person whose measurements the batch touched.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.engine.targets import GROWTH_TERMS


def _conditions() -> str:
    return " | ".join(
        f"CASE WHEN {term} THEN {1 << i} ELSE 0 END" for i, term in enumerate(GROWTH_TERMS)
    )


def spans_of(measurements: str) -> str:
    """SQL selecting the growth_status rows of the persons whose measurements
    ``measurements`` (a FROM item named ``m``, superseded rows left out) lists."""
    return f"""
        WITH latest AS (
            SELECT person_id, visit_date, {_conditions()} AS conditions
            FROM (
                SELECT DISTINCT ON (m.person_id, m.visit_date)
                       m.person_id, m.visit_date, m.class_wfl, m.oedema, m.muac_cm
                FROM {measurements}
                ORDER BY m.person_id, m.visit_date, m.pos_xid DESC, m.pos_id DESC
            ) m
        ),
        changes AS (
            SELECT person_id, visit_date, conditions FROM (
                SELECT *, lag(conditions) OVER (PARTITION BY person_id ORDER BY visit_date)
                              AS before
                FROM latest
            ) l
            WHERE before IS DISTINCT FROM conditions
        )
        SELECT person_id, visit_date,
               coalesce(lead(visit_date) OVER (PARTITION BY person_id ORDER BY visit_date),
                        'infinity'),
               conditions
        FROM changes
    """


_INSERT = "INSERT INTO growth_status (person_id, valid_from, valid_to, conditions)"
# Person by person through the person index, whatever the statistics say (a join with
# the batch's persons was planned as a scan of every measurement, 0.27 s a batch).
_TOUCHED = """
    unnest(CAST(:ids AS uuid[])) AS x(person_id)
    CROSS JOIN LATERAL (SELECT * FROM measurement m
                        WHERE m.person_id = x.person_id AND NOT m.superseded
                        OFFSET 0) m  -- kept a sub-select: not flattened into a join
"""


def _fill(persons: str) -> str:
    return f"{_INSERT} SELECT * FROM ({spans_of(persons)}) s WHERE s.conditions <> 0"


async def refresh_touched(session: AsyncSession) -> None:
    """Rebuild the spans of the persons keyed in ``growth_key`` (every person whose
    measurements the batch wrote, corrected or superseded; see growth.keys_from_visits)."""
    ids = (
        await session.execute(text("SELECT array_agg(DISTINCT person_id) FROM growth_key"))
    ).scalar_one()
    if not ids:
        return
    params = {"ids": ids}
    await session.execute(
        text("DELETE FROM growth_status WHERE person_id = ANY(CAST(:ids AS uuid[]))"), params
    )
    await session.execute(text(_fill(_TOUCHED)), params)


def fill_all_sql() -> str:
    """The statement filling growth_status from every measurement (the migration's)."""
    return _fill("(SELECT * FROM measurement WHERE NOT superseded) m")


async def rebuild_all(session: AsyncSession) -> None:
    """Every span again from the measurements."""
    await session.execute(text("DELETE FROM growth_status"))
    await session.execute(text(fill_all_sql()))
