"""The growth aggregates behind the prevalence indicators, kept up to date per batch.

``growth_child_period`` holds, per child and period (month M, quarter Q, year Y), the
class counted for each index: the latest measurement of the period with a valid value
for that index (flagged values skipped, oedema counted as severely wasted and left out
of weight-for-age), among measurements of children under five (before day 1,827) that
no correction has superseded. The child is placed in the village it lived in at the end
of the period.
``growth_village_period`` holds the sums per village; each recomputation subtracts the
rows it deletes and adds the rows it inserts, so the sums never need a full rescan.
"""

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Under five while the age in months (days / 30.4375) is below 60, as the registry
# scores it: day 1826 still counts, day 1827 does not.
UNDER_FIVE_DAYS = 1827

_KEYS_TABLE = """
    CREATE TEMP TABLE IF NOT EXISTS growth_key (
        period_kind char(1), period_start date, period_end date, person_id uuid
    ) ON COMMIT DELETE ROWS
"""


def keys_from_visits(source: str) -> str:
    """SQL inserting the keys of every period (M, Q, Y) holding a (person_id, visit_date)
    row of ``source``, a relation or CTE name."""
    return f"""
        INSERT INTO growth_key (period_kind, period_start, period_end, person_id)
        SELECT DISTINCT p.kind, s.start, (s.start + p.span - interval '1 day')::date,
               x.person_id
        FROM {source} x
        CROSS JOIN (VALUES ('M', 'month', interval '1 month'),
                           ('Q', 'quarter', interval '3 months'),
                           ('Y', 'year', interval '1 year')) AS p(kind, unit, span)
        CROSS JOIN LATERAL (SELECT date_trunc(p.unit, x.visit_date)::date AS start) s
    """


# A person whose residence changed: each period already counted may move village.
_KEYS_FROM_PERSONS = """
    INSERT INTO growth_key (period_kind, period_start, period_end, person_id)
    SELECT g.period_kind, g.period_start,
           (g.period_start + CASE g.period_kind WHEN 'M' THEN interval '1 month'
                                                WHEN 'Q' THEN interval '3 months'
                                                ELSE interval '1 year' END
            - interval '1 day')::date,
           g.person_id
    FROM growth_child_period g
    WHERE g.person_id = ANY(CAST(:persons AS uuid[]))
"""


async def prepare(session: AsyncSession) -> None:
    """The per-transaction table of periods to recount (emptied at commit)."""
    await session.execute(text(_KEYS_TABLE))


_SUMS = """
    count(*) AS measured,
    count(haz) AS haz_n,
    count(*) FILTER (WHERE haz IN ('stunted', 'severely_stunted')) AS stunted,
    count(*) FILTER (WHERE haz = 'severely_stunted') AS severely_stunted,
    count(whz) AS whz_n,
    count(*) FILTER (WHERE whz IN ('wasted', 'severely_wasted')) AS wasted,
    count(*) FILTER (WHERE whz = 'severely_wasted') AS severely_wasted,
    count(*) FILTER (WHERE whz IN ('overweight', 'obese')) AS overweight,
    count(waz) AS waz_n,
    count(*) FILTER (WHERE waz IN ('underweight', 'severely_underweight')) AS underweight
"""
SUM_COLUMNS = (
    "measured",
    "haz_n",
    "stunted",
    "severely_stunted",
    "whz_n",
    "wasted",
    "severely_wasted",
    "overweight",
    "waz_n",
    "underweight",
)


def _add_to_village_sums(source: str, sign: str) -> str:
    columns = ", ".join(SUM_COLUMNS)
    signed = ", ".join(f"{sign}{c}" for c in SUM_COLUMNS)
    updates = ", ".join(f"{c} = growth_village_period.{c} + EXCLUDED.{c}" for c in SUM_COLUMNS)
    return f"""
        INSERT INTO growth_village_period (period_kind, period_start, village_code, {columns})
        SELECT period_kind, period_start, village_code, {signed}
        FROM (SELECT period_kind, period_start, village_code, {_SUMS}
              FROM {source} GROUP BY period_kind, period_start, village_code) s
        ON CONFLICT (period_kind, period_start, village_code) DO UPDATE SET {updates}
    """


_DELETE = f"""
    WITH gone AS (
        DELETE FROM growth_child_period g
        USING (SELECT DISTINCT period_kind, period_start, person_id FROM growth_key) k
        WHERE g.period_kind = k.period_kind AND g.period_start = k.period_start
          AND g.person_id = k.person_id
        RETURNING g.*
    )
    {_add_to_village_sums("gone", "-")}
"""


_ORDER = "ORDER BY m.visit_date DESC, m.pos_xid DESC, m.pos_id DESC"

# Per period to recount, one index scan over the child's measurements in it; per index,
# the first valid value in (visit date, feed order) descending is the one counted.
_INSERT = f"""
    WITH fresh AS (
        INSERT INTO growth_child_period
            (period_kind, period_start, person_id, village_code, haz, whz, waz)
        SELECT k.period_kind, k.period_start, k.person_id,
               coalesce(r.village_code, a.last_village), a.haz, a.whz, a.waz
        FROM (SELECT DISTINCT period_kind, period_start, period_end, person_id
              FROM growth_key) k
        CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   (array_agg(m.village_code {_ORDER}))[1] AS last_village,
                   (array_agg(m.class_len {_ORDER})
                        FILTER (WHERE m.class_len IS NOT NULL AND NOT m.flen))[1] AS haz,
                   (array_agg(CASE WHEN m.oedema THEN 'severely_wasted' ELSE m.class_wfl END
                              {_ORDER})
                        FILTER (WHERE m.oedema OR (m.class_wfl IS NOT NULL AND NOT m.fwfl)))[1]
                       AS whz,
                   (array_agg(m.class_wei {_ORDER})
                        FILTER (WHERE NOT m.oedema AND m.class_wei IS NOT NULL
                                AND NOT m.fwei))[1] AS waz
            FROM measurement m
            WHERE m.person_id = k.person_id
              AND m.visit_date BETWEEN k.period_start AND k.period_end
              AND NOT m.superseded AND m.age_days < {UNDER_FIVE_DAYS}
        ) a
        LEFT JOIN LATERAL (
            SELECT r.village_code FROM person_residence r
            WHERE r.person_id = k.person_id AND r.valid_from <= k.period_end
            ORDER BY r.valid_from DESC LIMIT 1
        ) r ON true
        WHERE a.n > 0
        RETURNING *
    )
    {_add_to_village_sums("fresh", "")}
"""


# A village left with no child for a period drops out, as if never counted: the sums are
# then the same whatever the batch boundaries were (a rebuild gives identical rows).
_DROP_EMPTY = """
    DELETE FROM growth_village_period v
    USING (SELECT DISTINCT period_kind, period_start FROM growth_key) k
    WHERE v.period_kind = k.period_kind AND v.period_start = k.period_start AND v.measured = 0
"""


async def recompute(session: AsyncSession, moved_persons: Iterable[str] = ()) -> None:
    """Recount the periods keyed in ``growth_key`` (see :func:`keys_from_visits`) and
    every period already counted for the persons whose residence changed."""
    persons = sorted(set(moved_persons))
    if persons:
        await session.execute(text(_KEYS_FROM_PERSONS), {"persons": persons})
    await session.execute(text(_DELETE))
    await session.execute(text(_INSERT))
    await session.execute(text(_DROP_EMPTY))
    await session.execute(text("DELETE FROM growth_key"))
