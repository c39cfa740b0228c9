"""All SQL behind the indicators: per-village tallies for one period and region scope
(the coverage pass, over persons and households, is in coverage.py).

Every query filters its region column with ``common.scoping.scope_sql`` bound to the
scope being computed. A person is placed in the village they lived in at the end of
the period (their residence history); a household, site or referral in its own village.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.reporting.engine.ages import latest_birth
from services.reporting.feeds.growth import SUM_COLUMNS


@dataclass(frozen=True)
class Window:
    """The period as SQL sees it, and the region scope."""

    start: date
    end: date
    scope: str

    @property
    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "scope": self.scope}


VillageCounts = dict[str, tuple[int, int]]


def persons_at_end() -> str:
    """Persons alive on some day of the period, each in their village at its end."""
    alive = (
        "p.merged_into IS NULL AND (p.death_date IS NULL OR p.death_date >= :start)"
        " AND (p.birth_date IS NULL OR p.birth_date <= :end)"
    )
    columns = "p.person_id, p.household_id, p.sex, p.birth_date, p.has_nik, p.has_birth_certificate"
    return f"""
        SELECT {columns}, p.village_code FROM person p
        WHERE NOT p.moved AND {alive} AND {scope_sql("p.village_code")}
        UNION ALL
        SELECT {columns}, r.village_code FROM person p
        JOIN LATERAL (
            SELECT r.village_code FROM person_residence r
            WHERE r.person_id = p.person_id AND r.valid_from <= :end
            ORDER BY r.valid_from DESC LIMIT 1
        ) r ON true
        WHERE p.moved AND {alive} AND {scope_sql("r.village_code")}
    """


def aged(alias: str, low_months: int, high_months: int, window: Window) -> str:
    """The person row ``alias`` is ``low..high`` completed months old on some day of the
    period: old enough by its last day, still young enough on its first."""
    birth = f"{alias}.birth_date"
    return (
        f"{birth} <= DATE '{latest_birth(window.end, low_months)}'"
        f" AND {birth} > DATE '{latest_birth(window.start, high_months + 1)}'"
    )


# Groups defined by age alone are tested on the birth date: the registry lists only the
# groups held on the day of each event, so a child registered after turning five never
# had a balita window sent, yet was a balita in earlier periods.
AGE_GROUPS = {
    "baduta": (0, 23, False),
    "balita": (0, 59, False),
    "remaja_putri": (10 * 12, 19 * 12 + 11, True),
}


async def growth_sums(
    session: AsyncSession, kind: str, period_start: date, scope: str
) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        text(
            f"SELECT village_code, {', '.join(SUM_COLUMNS)} FROM growth_village_period"
            " WHERE period_kind = :kind AND period_start = :period_start"
            f" AND {scope_sql('village_code')}"
        ),
        {"kind": kind, "period_start": period_start, "scope": scope},
    )
    return {r["village_code"]: {c: r[c] for c in SUM_COLUMNS} for r in rows.mappings()}


async def krs_counts(session: AsyncSession, window: Window) -> VillageCounts:
    """(KRS families, target families) from each family's latest verification."""
    sql = f"""
        SELECT village_code,
               count(*) FILTER (WHERE is_target_family AND is_krs) AS num,
               count(*) FILTER (WHERE is_target_family) AS den
        FROM (
            SELECT DISTINCT ON (household_id) household_id, village_code,
                   is_target_family, is_krs
            FROM krs_assessment
            WHERE assessed_on <= :end AND {scope_sql("village_code")}
            ORDER BY household_id, assessed_on DESC, pos_xid DESC, pos_id DESC
        ) latest
        GROUP BY village_code
    """
    rows = await session.execute(text(sql), window.params)
    return {r.village_code: (r.num, r.den) for r in rows}


async def referral_counts(session: AsyncSession, window: Window) -> VillageCounts:
    """(completed, raised and not cancelled) for referrals raised in the period."""
    sql = f"""
        SELECT village_code, count(completed_on) AS num, count(*) AS den
        FROM referral
        WHERE raised_on BETWEEN :start AND :end AND state <> 'cancelled'
          AND {scope_sql("village_code")}
        GROUP BY village_code
    """
    rows = await session.execute(text(sql), window.params)
    return {r.village_code: (r.num, r.den) for r in rows}


async def referral_medians(session: AsyncSession, window: Window) -> dict[str, tuple[float, int]]:
    """Median days to completion per region at every level, over referrals completed in
    the period: (median, number of referrals)."""
    sql = f"""
        SELECT c.code, percentile_cont(0.5) WITHIN GROUP (ORDER BY r.days) AS median,
               count(*) AS n
        FROM (SELECT village_code, completed_on - raised_on AS days FROM referral
              WHERE completed_on BETWEEN :start AND :end AND state <> 'cancelled'
                AND {scope_sql("village_code")}) r
        CROSS JOIN LATERAL (VALUES (substr(r.village_code, 1, 2)),
                                   (substr(r.village_code, 1, 5)),
                                   (substr(r.village_code, 1, 8)),
                                   (r.village_code)) AS c(code)
        GROUP BY c.code
    """
    rows = await session.execute(text(sql), window.params)
    return {r.code: (float(r.median), r.n) for r in rows}


async def site_levels(session: AsyncSession, window: Window) -> dict[str, dict[str, int]]:
    """Kampung KB sites per village and maturity level held at the end of the period."""
    sql = f"""
        SELECT s.village_code, l.level, count(*) AS n
        FROM site s
        JOIN LATERAL (SELECT sl.level FROM site_level sl
                      WHERE sl.site_id = s.site_id AND sl.effective_on <= :end
                      ORDER BY sl.effective_on DESC LIMIT 1) l ON true
        WHERE (s.established_on IS NULL OR s.established_on <= :end)
          AND {scope_sql("s.village_code")}
        GROUP BY s.village_code, l.level
    """
    rows = await session.execute(text(sql), window.params)
    found: dict[str, dict[str, int]] = {}
    for r in rows:
        found.setdefault(r.level, {})[r.village_code] = r.n
    return found


async def lokus_villages(session: AsyncSession, year: int, scope: str) -> set[str]:
    rows = await session.execute(
        text(
            "SELECT village_code FROM lokus WHERE year = :year AND NOT revoked"
            f" AND {scope_sql('village_code')}"
        ),
        {"year": year, "scope": scope},
    )
    return {r.village_code for r in rows}


async def feed_positions(session: AsyncSession) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        text("SELECT feed, position, events_applied, last_event_at FROM feed_cursor ORDER BY feed")
    )
    return {
        r.feed: {
            "position": r.position,
            "events_applied": r.events_applied,
            "last_event_at": r.last_event_at.isoformat() if r.last_event_at else None,
        }
        for r in rows
    }
