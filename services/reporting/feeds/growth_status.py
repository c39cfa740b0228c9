"""The growth_status read model: per person, the spans of time during which their latest
measurement shows a condition a coverage target depends on (wasting, oedema, a low arm
circumference: ``targets.growth_condition``).

The latest measurement on a day is the person's last visit up to that day, not
superseded, the last in feed order among visits of the same day. It holds from its visit
date until the next visit date (exclusive), or for good. Spans in which no target's
condition can hold are not kept: to every target they are the same as no measurement.
The coverage pass then reads, per person, the span holding the end of the period (a
small set-based scan) instead of looking up every child's latest measurement.

Rebuilt in each batch for every person whose measurements the batch touched.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.engine.targets import TARGETS, growth_condition


def relevant(alias: str) -> str:
    """SQL: the measurement row ``alias`` meets the growth condition of some target."""
    terms = sorted({c for s in TARGETS.values() if (c := growth_condition(s, alias))})
    return " OR ".join(f"({t})" for t in terms)


def spans_of(persons: str) -> str:
    """SQL selecting the growth_status rows of the persons that ``persons`` (a query
    with a ``person_id`` column) lists."""
    return f"""
        SELECT s.person_id, s.visit_date, s.valid_to, s.class_wfl, s.oedema, s.muac_cm
        FROM (
            SELECT l.*, coalesce(lead(l.visit_date) OVER (PARTITION BY l.person_id
                                                          ORDER BY l.visit_date),
                                 'infinity') AS valid_to
            FROM (
                SELECT DISTINCT ON (m.person_id, m.visit_date)
                       m.person_id, m.visit_date, m.class_wfl, m.oedema, m.muac_cm
                FROM measurement m
                WHERE m.person_id IN ({persons}) AND NOT m.superseded
                ORDER BY m.person_id, m.visit_date, m.pos_xid DESC, m.pos_id DESC
            ) l
        ) s
        WHERE {relevant("s")}
    """


_TOUCHED = "SELECT person_id FROM growth_key"
_INSERT = "INSERT INTO growth_status (person_id, valid_from, valid_to, class_wfl, oedema, muac_cm)"


async def refresh_touched(session: AsyncSession) -> None:
    """Rebuild the spans of the persons keyed in ``growth_key`` (every person whose
    measurements the batch wrote, corrected or superseded; see growth.keys_from_visits)."""
    await session.execute(text(f"DELETE FROM growth_status WHERE person_id IN ({_TOUCHED})"))
    await session.execute(text(f"{_INSERT} {spans_of(_TOUCHED)}"))


async def rebuild_all(session: AsyncSession) -> None:
    """Every span again from the measurements (after a change of the targets)."""
    await session.execute(text("DELETE FROM growth_status"))
    await session.execute(text(f"{_INSERT} {spans_of('SELECT person_id FROM measurement')}"))
