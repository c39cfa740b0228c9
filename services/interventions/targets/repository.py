"""All SQL of targets and gaps: who should receive an intervention in a period, what
they received within their dose window, and how far behind they are."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.interventions.catalogue.rules import (
    DEFAULT_PREGNANCY_DAYS,
    CatalogueEntry,
    DosePeriod,
)
from services.interventions.subjects.repository import krs_of

SUBJECT_COLS = (
    "s.id, s.kind, s.household_id, s.village_code, s.sex, s.birth_date, s.target_groups,"
    f" {krs_of('s')} AS krs, s.growth, s.welfare_decile, s.has_birth_certificate, s.has_nik"
)

STATUS_FILTERS = {
    None: "TRUE",
    "complete": "status = 'complete'",
    "on_track": "status = 'on_track'",
    "behind": "status = 'behind'",
    "not_complete": "status IS DISTINCT FROM 'complete'",
    "no_delivery": "deliveries = 0",
}


@dataclass(frozen=True)
class Scope:
    """Which subjects: kind, region (caller's scope and an optional narrower region),
    lokus villages of a year, alive or still alive at the period start."""

    kind: str
    scope: str
    within: str
    lokus_year: int | None
    period_start: date

    def where(self) -> tuple[str, dict[str, Any]]:
        sql = (
            "s.kind = :kind AND s.merged_into IS NULL AND s.active"
            " AND (s.death_date IS NULL OR s.death_date >= CAST(:period_start AS date))"
            f" AND {scope_sql('s.village_code')} AND {scope_sql('s.village_code', 'within')}"
        )
        if self.lokus_year is not None:
            sql += (
                " AND s.village_code IN (SELECT l.village_code FROM lokus_village l"
                " WHERE l.year = :lokus_year AND NOT l.revoked)"
            )
        params = {
            "kind": self.kind,
            "scope": self.scope,
            "within": self.within,
            "period_start": self.period_start,
            "lokus_year": self.lokus_year,
        }
        return sql, params


async def candidates(
    session: AsyncSession, where: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Subjects passing a prefilter, for the rules to be evaluated in Python."""
    rows = await session.execute(
        text(f"SELECT {SUBJECT_COLS} FROM subject s WHERE {where}"), params
    )
    return [dict(r) for r in rows.mappings()]


def _window(entry: CatalogueEntry, as_of: date, alias: str = "s") -> tuple[str, dict[str, Any]]:
    """A LATERAL select of the dose window (w_start, w_end) of subject ``c``, as
    catalogue.rules.dose_window places it; both NULL for a lifetime dose."""
    dose = entry.dose
    if dose is None or dose.per == DosePeriod.once:
        return "SELECT NULL::date AS w_start, NULL::date AS w_end", {}
    if dose.per in (DosePeriod.year, DosePeriod.month):
        if dose.per == DosePeriod.year:
            first, last = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
        else:
            first = as_of.replace(day=1)
            last = first + relativedelta(months=1) - timedelta(days=1)
        return (
            "SELECT CAST(:w_first AS date) AS w_start, CAST(:w_last AS date) AS w_end",
            {"w_first": first, "w_last": last},
        )
    if dose.per == DosePeriod.age_window:
        lo, hi = dose.age_window_months or (0, 0)
        birth = f"{alias}.birth_date"
        return (
            f"SELECT ({birth} + make_interval(months => CAST(:w_lo AS integer)))::date AS w_start,"
            f" ({birth} + make_interval(months => CAST(:w_hi AS integer)))::date - 1 AS w_end",
            {"w_lo": lo, "w_hi": hi + 1},
        )
    # The latest pregnancy begun by as_of; an open one without a due date runs 280 days.
    return (
        f"""
        SELECT (g->>'start')::date AS w_start,
               coalesce((g->>'end')::date, (g->>'expected_end')::date,
                        (g->>'start')::date + CAST(:w_days AS integer)) AS w_end
        FROM jsonb_array_elements({alias}.target_groups) g
        WHERE g->>'group' = 'ibu_hamil' AND (g->>'start')::date <= CAST(:as_of AS date)
        ORDER BY 1 DESC, 2 DESC LIMIT 1
        """,
        {"w_days": DEFAULT_PREGNANCY_DAYS - 1},
    )


def _expected(alias: str) -> str:
    """The dose expected by as_of: linear within an unfinished window, else the total."""
    return f"""
        CASE WHEN CAST(:total AS float8) IS NULL THEN NULL
             WHEN {alias}.w_start IS NOT NULL AND {alias}.w_end IS NOT NULL
                  AND CAST(:as_of AS date) < {alias}.w_end
             THEN CAST(:total AS float8) * greatest(CAST(:as_of AS date) - {alias}.w_start + 1, 0)
                  / ({alias}.w_end - {alias}.w_start + 1)
             ELSE CAST(:total AS float8) END"""


_STATUS = """
    CASE WHEN CAST(:total AS float8) IS NULL THEN NULL
         WHEN received >= CAST(:total AS float8) THEN 'complete'
         WHEN received < expected_by_now THEN 'behind'
         ELSE 'on_track' END"""

# The deliveries that count towards a subject's dose: current, not voided, in its unit,
# by as_of and within its dose window.
_COUNTED = """
    d.intervention_code = :code AND d.is_current AND d.kind <> 'voided' AND d.unit = :unit
    AND d.delivered_on <= CAST(:as_of AS date)
    AND (w.w_start IS NULL OR d.delivered_on >= w.w_start)
    AND (w.w_end IS NULL OR d.delivered_on <= w.w_end)
"""


def _params(
    entry: CatalogueEntry, params: dict[str, Any], window_params: dict[str, Any], as_of: date
) -> dict[str, Any]:
    return {
        **params,
        **window_params,
        "code": entry.code,
        "unit": entry.unit.value,
        "as_of": as_of,
        "total": entry.dose.quantity if entry.dose else None,
    }


def constant_window(entry: CatalogueEntry) -> bool:
    """The same dose window for every subject (lifetime, calendar year or month)."""
    return entry.dose is None or entry.dose.per in (
        DosePeriod.once,
        DosePeriod.year,
        DosePeriod.month,
    )


_VILLAGE_COUNTS = """
    SELECT village_code, count(*) AS eligible,
           count(*) FILTER (WHERE deliveries > 0) AS received_any,
           count(*) FILTER (WHERE deliveries = 0) AS no_delivery,
           count(*) FILTER (WHERE status = 'complete') AS complete,
           count(*) FILTER (WHERE status = 'on_track') AS on_track,
           count(*) FILTER (WHERE status = 'behind') AS behind,
           coalesce(sum(received), 0) AS received_total,
           count(*) FILTER (WHERE {filter}) AS listed
    FROM {source} GROUP BY village_code
"""


async def report(
    session: AsyncSession,
    *,
    entry: CatalogueEntry,
    where: str,
    params: dict[str, Any],
    as_of: date,
    status: str | None,
    after: list[Any] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Counts per village over every eligible subject and the next page of them in
    (village, id) order, with progress as catalogue.rules.dose_progress computes it.

    With one dose window for all (most household interventions) the deliveries are
    aggregated once and joined to the eligible set, and the page is read in index
    order; otherwise (or when filtering by status) one pass materialises the progress of
    every eligible subject."""
    # ~150,000 narrow rows are hashed and sorted in memory rather than spilled to disk,
    # and the projection is read from memory, so index probes (e.g. from the subjects of
    # a target group to their rows) are cheap next to scanning the whole partition.
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    await session.execute(text("SET LOCAL random_page_cost = 1.1"))
    window, window_params = _window(entry, as_of)
    bound = {
        **_params(entry, params, window_params, as_of),
        "after_village": after[0] if after else "",
        "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
        "limit": limit,
    }
    if status is None and constant_window(entry):
        return await _counts_constant(session, where, window, bound), await _page_in_order(
            session, where, window, bound
        )
    return await _single_pass(session, where, window, bound, STATUS_FILTERS[status])


async def _counts_constant(
    session: AsyncSession, where: str, window: str, bound: dict[str, Any]
) -> list[dict[str, Any]]:
    # The deliveries are aggregated once (a CTE), not again in each parallel worker.
    per_subject = f"""
        (SELECT y.*, {_STATUS} AS status FROM (
            SELECT s.village_code, coalesce(g.received, 0) AS received,
                   coalesce(g.n, 0) AS deliveries, c.expected_by_now
            FROM subject s
            CROSS JOIN (SELECT {_expected("w")} AS expected_by_now FROM ({window}) w) c
            LEFT JOIN got g ON g.id = s.id
            WHERE {where}) y) x
    """
    got = f"""
        WITH got AS MATERIALIZED (
            SELECT d.counted_subject_id AS id, sum(d.quantity)::float8 AS received,
                   count(*) AS n
            FROM delivery d CROSS JOIN ({window}) w
            WHERE {_COUNTED}
            GROUP BY d.counted_subject_id
        )
    """
    rows = await session.execute(
        text(got + _VILLAGE_COUNTS.format(filter="TRUE", source=per_subject) + " ORDER BY 1"),
        bound,
    )
    return [dict(r) for r in rows.mappings()]


async def _page_in_order(
    session: AsyncSession, where: str, window: str, bound: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"""
            SELECT x.*, {_STATUS} AS status FROM (
                SELECT s.id, s.kind, s.household_id, s.village_code, s.sex, s.birth_date,
                       w.w_start, w.w_end, coalesce(g.received, 0) AS received, g.last_on,
                       coalesce(g.n, 0) AS deliveries, {_expected("w")} AS expected_by_now
                FROM (SELECT s.* FROM subject s
                      WHERE {where}
                        AND (s.village_code, s.id) > (CAST(:after_village AS text),
                                                      CAST(:after_id AS uuid))
                      ORDER BY s.village_code, s.id LIMIT :limit) s
                LEFT JOIN LATERAL ({window}) w ON true
                LEFT JOIN LATERAL (
                    SELECT sum(d.quantity)::float8 AS received, max(d.delivered_on) AS last_on,
                           count(*) AS n
                    FROM delivery d WHERE d.counted_subject_id = s.id AND {_COUNTED}
                ) g ON true
            ) x
            ORDER BY x.village_code, x.id
            """
        ),
        bound,
    )
    return [dict(r) for r in rows.mappings()]


async def _single_pass(
    session: AsyncSession, where: str, window: str, bound: dict[str, Any], filter_sql: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    row = (
        await session.execute(
            text(
                f"""
                WITH eligible AS MATERIALIZED (
                    SELECT s.id, s.kind, s.household_id, s.village_code, s.sex, s.birth_date,
                           w.w_start, w.w_end
                    FROM subject s LEFT JOIN LATERAL ({window}) w ON true
                    WHERE {where}
                ),
                got AS (
                    SELECT w.id, sum(d.quantity)::float8 AS received,
                           max(d.delivered_on) AS last_on, count(*) AS n
                    FROM eligible w JOIN delivery d ON d.counted_subject_id = w.id
                    WHERE {_COUNTED}
                    GROUP BY w.id
                ),
                progress AS (
                    SELECT w.*, coalesce(got.received, 0) AS received, got.last_on,
                           coalesce(got.n, 0) AS deliveries, {_expected("w")} AS expected_by_now
                    FROM eligible w LEFT JOIN got ON got.id = w.id
                ),
                scored AS MATERIALIZED (SELECT p.*, {_STATUS} AS status FROM progress p)
                SELECT
                    (SELECT coalesce(json_agg(v ORDER BY v.village_code), '[]'::json) FROM (
                        {_VILLAGE_COUNTS.format(filter=filter_sql, source="scored")}) v
                    ) AS villages,
                    (SELECT coalesce(json_agg(x ORDER BY x.village_code, x.id), '[]'::json)
                     FROM (SELECT * FROM scored
                           WHERE {filter_sql}
                             AND (village_code, id) > (CAST(:after_village AS text),
                                                       CAST(:after_id AS uuid))
                           ORDER BY village_code, id LIMIT :limit) x) AS items
                """
            ),
            bound,
        )
    ).one()
    return row.villages, row.items
