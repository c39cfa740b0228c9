"""The coverage, measurement-coverage and TPK queries as they were before the coverage
pass was rewritten (bit masks, growth_status spans, age bounds on the birth date), kept
verbatim as the reference the rewrite must match on any data
(test_reporting_coverage_equivalence.py). Not used by the service."""

# ruff: noqa: E501

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.reporting.engine.repository import VillageCounts, Window
from services.reporting.engine.targets import SAM_MUAC_CM, TPK_HOUSEHOLD_GROUP, TargetSpec


def _completed_months(birth: str, day: str) -> str:
    """Completed months of age on ``day``: the largest n with birth + n months <= day
    (PostgreSQL's month arithmetic, as the registry's)."""
    rough = (
        f"((extract(year FROM {day})::int - extract(year FROM {birth})::int) * 12"
        f" + extract(month FROM {day})::int - extract(month FROM {birth})::int)"
    )
    return (
        f"({rough} - CASE WHEN ({birth} + make_interval(months => {rough}))::date > {day}"
        " THEN 1 ELSE 0 END)"
    )


def _persons_at_end(extra: str = "") -> str:
    """Persons alive on some day of the period, each in their village at its end, with
    their completed months of age on the first and the last day."""
    alive = (
        "p.merged_into IS NULL AND (p.death_date IS NULL OR p.death_date >= :start)"
        " AND (p.birth_date IS NULL OR p.birth_date <= :end)"
    )
    columns = "p.person_id, p.household_id, p.sex, p.birth_date, p.has_nik, p.has_birth_certificate"
    start = "CAST(:start AS date)"
    end = "CAST(:end AS date)"
    return f"""
        SELECT x.*, {_completed_months("x.birth_date", start)} AS age_start,
               {_completed_months("x.birth_date", end)} AS age_end
        FROM (
            SELECT {columns}, p.village_code FROM person p
            WHERE NOT p.moved AND {alive} AND {scope_sql("p.village_code")} {extra}
            UNION ALL
            SELECT {columns}, r.village_code FROM person p
            JOIN LATERAL (
                SELECT r.village_code FROM person_residence r
                WHERE r.person_id = p.person_id AND r.valid_from <= :end
                ORDER BY r.valid_from DESC LIMIT 1
            ) r ON true
            WHERE p.moved AND {alive} AND {scope_sql("r.village_code")} {extra}
        ) x
    """


_HOUSEHOLDS_AT_END = f"""
    SELECT h.household_id, h.village_code, h.welfare_decile,
           k.is_krs, k.is_target_family, k.criteria
    FROM household h
    LEFT JOIN LATERAL (
        SELECT a.is_krs, a.is_target_family, a.criteria FROM krs_assessment a
        WHERE a.household_id = h.household_id AND a.assessed_on <= :end
        ORDER BY a.assessed_on DESC, a.pos_xid DESC, a.pos_id DESC LIMIT 1
    ) k ON true
    WHERE h.active AND {scope_sql("h.village_code")}
"""


def _aged(alias: str, low_months: int, high_months: int) -> str:
    """The person row ``alias`` (of :func:`_persons_at_end`) is ``low..high`` completed
    months old on some day of the period (age only grows: old enough by the last day,
    still young enough on the first)."""
    return f"{alias}.age_end >= {low_months} AND {alias}.age_start <= {high_months}"


# Groups defined by age alone are tested on the birth date: the registry lists only the
# groups held on the day of each event, so a child registered after turning five never
# had a balita window sent, yet was a balita in earlier periods.
_AGE_GROUPS = {
    "baduta": (0, 23, False),
    "balita": (0, 59, False),
    "remaja_putri": (10 * 12, 19 * 12 + 11, True),
}


def _in_groups(alias: str, groups: Sequence[str]) -> str:
    """The person row ``alias`` belongs to one of ``groups`` on some day of the period."""
    terms = []
    windowed = [g for g in groups if g not in _AGE_GROUPS]
    if windowed:
        names = ", ".join(f"'{g}'" for g in windowed)
        terms.append(
            f"EXISTS (SELECT 1 FROM person_target_window w WHERE w.person_id = {alias}.person_id"
            f" AND w.target_group IN ({names}) AND w.start_date <= :end"
            " AND w.end_date >= :start)"
        )
    for group in groups:
        if group in _AGE_GROUPS:
            low, high, female = _AGE_GROUPS[group]
            sex = f" AND {alias}.sex = 2" if female else ""
            terms.append(f"({_aged(alias, low, high)}{sex})")
    return "(" + " OR ".join(terms) + ")"


async def measurement_coverage(
    session: AsyncSession, window: Window, kind: str, period_start: date
) -> VillageCounts:
    """(measured, registered under-fives) per village."""
    # An index-friendly bound first; the exact age test follows.
    young = "AND p.birth_date > CAST(:start AS date) - interval '61 months'"
    sql = f"""
        WITH kids AS ({_persons_at_end(young)})
        SELECT k.village_code, count(g.person_id) AS num, count(*) AS den
        FROM kids k
        LEFT JOIN growth_child_period g ON g.period_kind = :kind
             AND g.period_start = :period_start AND g.person_id = k.person_id
        WHERE {_aged("k", 0, 59)}
        GROUP BY k.village_code
    """
    rows = await session.execute(
        text(sql), {**window.params, "kind": kind, "period_start": period_start}
    )
    return {r.village_code: (r.num, r.den) for r in rows}


def _groups_held(alias: str, groups: Sequence[str]) -> str:
    """``alias`` (a person row with ``groups``, ``birth_date``, ``sex``) holds one of
    ``groups`` on some day of the period."""
    terms = []
    windowed = [g for g in groups if g not in _AGE_GROUPS]
    if windowed:
        names = ", ".join(f"'{g}'" for g in windowed)
        terms.append(f"{alias}.groups && ARRAY[{names}]")
    for group in groups:
        if group in _AGE_GROUPS:
            low, high, female = _AGE_GROUPS[group]
            sex = f" AND {alias}.sex = 2" if female else ""
            terms.append(f"({_aged(alias, low, high)}{sex})")
    return "(" + " OR ".join(terms) + ")"


def _person_condition(spec: TargetSpec) -> str:
    terms: list[str] = []
    if spec.groups:
        terms.append(_groups_held("p", spec.groups))
    if spec.age_months:
        terms.append(_aged("p", *spec.age_months))
    if spec.age_years:
        low, high = spec.age_years
        terms.append(_aged("p", low * 12, high * 12 + 11))
    if spec.female:
        terms.append("p.sex = 2")
    if spec.missing_documents:
        terms.append("(p.has_birth_certificate IS FALSE OR p.has_nik IS FALSE)")
    if spec.welfare_decile:
        low, high = spec.welfare_decile
        terms.append(f"p.welfare_decile BETWEEN {int(low)} AND {int(high)}")
    if spec.growth == "severe_acute_malnutrition":
        terms.append(f"(p.class_wfl = 'severely_wasted' OR p.oedema OR p.muac_cm < {SAM_MUAC_CM})")
    elif spec.growth == "moderate_wasting":
        terms.append("p.class_wfl = 'wasted'")
    if spec.max_muac_cm is not None:
        terms.append(f"p.muac_cm < {float(spec.max_muac_cm)}")
    return " AND ".join(f"({t})" for t in terms) or "TRUE"


def _household_condition(spec: TargetSpec) -> str:
    terms: list[str] = []
    if spec.krs:
        terms.append("hh.is_krs IS TRUE")
    if spec.krs_criterion:
        terms.append(f"(hh.criteria ->> '{spec.krs_criterion}')::boolean IS TRUE")
    if spec.welfare_decile:
        low, high = spec.welfare_decile
        terms.append(f"hh.welfare_decile BETWEEN {int(low)} AND {int(high)}")
    for group in spec.groups:
        terms.append(f"'{group}' = ANY(hh.member_groups)")
    return " AND ".join(f"({t})" for t in terms) or "TRUE"


def _eligible_codes(specs: Sequence[TargetSpec], condition: Callable[[TargetSpec], str]) -> str:
    """An array of the codes of ``specs`` whose ``condition`` holds for the row."""
    cases = ", ".join(f"CASE WHEN {condition(spec)} THEN '{spec.code}' END" for spec in specs)
    return f"array_remove(ARRAY[{cases}]::text[], NULL)"


def _coverage_sql(specs: Sequence[TargetSpec], convergence: bool) -> str:
    person_specs = [s for s in specs if s.subject == "person"]
    household_specs = [s for s in specs if s.subject == "household"]
    growth_needed = any(s.growth or s.max_muac_cm is not None for s in person_specs)
    member_groups = sorted({g for s in household_specs for g in s.groups})
    # The latest measurement up to the end of the period, looked up only for children
    # under five and pregnant women (the only ones a growth condition can concern).
    growth = (
        """
        LEFT JOIN LATERAL (
            SELECT m.class_wfl, m.oedema, m.muac_cm FROM measurement m
            WHERE (pe.birth_date > CAST(:end AS date) - interval '61 months'
                   OR 'ibu_hamil' = ANY(pw.groups))
              AND m.person_id = pe.person_id AND NOT m.superseded AND m.visit_date <= :end
            ORDER BY m.visit_date DESC, m.pos_xid DESC, m.pos_id DESC LIMIT 1
        ) g ON true"""
        if growth_needed
        else """
        LEFT JOIN LATERAL (
            SELECT NULL::text AS class_wfl, NULL::boolean AS oedema,
                   NULL::float8 AS muac_cm
        ) g ON true"""
    )
    member_flags = ", ".join(
        f"CASE WHEN bool_or({_groups_held('p', [g])}) THEN '{g}' END" for g in member_groups
    )
    members = (
        f"""
        members AS (
            SELECT p.household_id,
                   array_remove(ARRAY[{member_flags}]::text[], NULL) AS member_groups
            FROM p WHERE p.household_id IS NOT NULL GROUP BY p.household_id
        ),"""
        if member_groups
        else """
        members AS (SELECT NULL::uuid AS household_id, '{}'::text[] AS member_groups),"""
    )
    person_codes = _eligible_codes(person_specs, _person_condition) if person_specs else None
    household_codes = (
        _eligible_codes(household_specs, _household_condition) if household_specs else None
    )
    eligible = []
    if person_codes:
        eligible.append(
            "SELECT unnest(" + person_codes + ") AS code, p.person_id AS subject_id,"
            " p.village_code, false AS household FROM p"
        )
    if household_codes:
        eligible.append(
            "SELECT unnest(" + household_codes + ") AS code, hh.household_id AS subject_id,"
            " hh.village_code, true AS household FROM hh"
        )
    household_level = ", ".join(f"'{s.code}'" for s in household_specs) or "NULL"
    whole = """
        UNION ALL
        SELECT '' AS code, village_code, count(*) FILTER (WHERE every) AS num, count(*) AS den
        FROM (SELECT subject_id, village_code, bool_and(received) AS every
              FROM reached GROUP BY subject_id, village_code) s
        GROUP BY village_code
    """
    return f"""
        WITH persons AS MATERIALIZED ({_persons_at_end()}),
        pw AS MATERIALIZED (
            SELECT w.person_id, array_agg(DISTINCT w.target_group) AS groups
            FROM person_target_window w
            WHERE w.start_date <= :end AND w.end_date >= :start
              AND w.person_id IN (SELECT person_id FROM persons)
            GROUP BY w.person_id
        ),
        p AS MATERIALIZED (
            SELECT pe.*, coalesce(pw.groups, '{{}}') AS groups, h.welfare_decile,
                   g.class_wfl, g.oedema, g.muac_cm
            FROM persons pe
            LEFT JOIN pw ON pw.person_id = pe.person_id
            LEFT JOIN household h ON h.household_id = pe.household_id
            {growth}
        ),
        {members}
        hh AS MATERIALIZED (
            SELECT h.*, coalesce(mg.member_groups, '{{}}') AS member_groups
            FROM ({_HOUSEHOLDS_AT_END}) h
            LEFT JOIN members mg ON mg.household_id = h.household_id
        ),
        eligible AS ({" UNION ALL ".join(eligible)}),
        got AS MATERIALIZED (
            SELECT DISTINCT d.intervention_code AS code, d.subject_id AS id FROM delivery d
            WHERE d.delivered_on BETWEEN :start AND :end AND d.kind <> 'voided'
              AND NOT d.superseded
            UNION
            SELECT DISTINCT d.intervention_code, d.household_id FROM delivery d
            WHERE d.delivered_on BETWEEN :start AND :end AND d.kind <> 'voided'
              AND NOT d.superseded AND d.household_id IS NOT NULL
              AND d.intervention_code IN ({household_level})
        ),
        reached AS MATERIALIZED (
            SELECT e.code, e.subject_id, e.village_code, got.id IS NOT NULL AS received
            FROM eligible e LEFT JOIN got ON got.code = e.code AND got.id = e.subject_id
        )
        SELECT code, village_code, count(*) FILTER (WHERE received) AS num, count(*) AS den
        FROM reached GROUP BY code, village_code
        {whole if convergence else ""}
    """


@dataclass(frozen=True)
class CoverageCounts:
    by_code: dict[str, VillageCounts]
    convergence: VillageCounts


async def coverage_counts(
    session: AsyncSession, window: Window, specs: Sequence[TargetSpec], *, convergence: bool
) -> CoverageCounts:
    """(received, eligible) per intervention and village; with ``convergence``, also
    (received every intervention eligible for, eligible for at least one) per village.
    One pass over the persons and households of the scope: each row lists the codes it
    is a target of, then meets the deliveries of the period in one hash join."""
    if not specs:
        return CoverageCounts({}, {})
    rows = await session.execute(text(_coverage_sql(specs, convergence)), window.params)
    by_code: dict[str, VillageCounts] = {}
    whole_counts: VillageCounts = {}
    for r in rows:
        if r.code == "":
            whole_counts[r.village_code] = (r.num, r.den)
        else:
            by_code.setdefault(r.code, {})[r.village_code] = (r.num, r.den)
    return CoverageCounts(by_code, whole_counts)


async def tpk_counts(
    session: AsyncSession, window: Window, groups: Sequence[str]
) -> dict[str, VillageCounts]:
    """(visited at least once in the group, targets of the group) per group and village,
    for every group asked in one pass over the persons (and KRS households)."""
    person_groups = [g for g in groups if g != TPK_HOUSEHOLD_GROUP]
    parts = []
    if person_groups:
        cases = ", ".join(
            f"CASE WHEN {_in_groups('pe', [g])} THEN '{g}' END" for g in person_groups
        )
        parts.append(
            f"""
            SELECT t.grp, t.village_code, count(*) AS den, count(v.subject_id) AS num
            FROM (SELECT pe.person_id, pe.village_code,
                         unnest(array_remove(ARRAY[{cases}]::text[], NULL)) AS grp
                  FROM persons pe) t
            LEFT JOIN visited v ON v.subject_id = t.person_id AND v.target_group = t.grp
            GROUP BY t.grp, t.village_code"""
        )
    if TPK_HOUSEHOLD_GROUP in groups:
        parts.append(
            f"""
            SELECT '{TPK_HOUSEHOLD_GROUP}' AS grp, hh.village_code, count(*) AS den,
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM visited v
                       WHERE v.target_group = '{TPK_HOUSEHOLD_GROUP}'
                         AND (v.subject_id = hh.household_id OR v.subject_id IN (
                              SELECT m.person_id FROM person m
                              WHERE m.household_id = hh.household_id)))) AS num
            FROM households hh WHERE hh.is_krs IS TRUE
            GROUP BY hh.village_code"""
        )
    sql = f"""
        WITH persons AS ({_persons_at_end()}),
        households AS ({_HOUSEHOLDS_AT_END}),
        visited AS MATERIALIZED (
            SELECT DISTINCT subject_id, target_group FROM tpk_visit
            WHERE visited_on BETWEEN :start AND :end
        )
        {" UNION ALL ".join(parts)}
    """
    found: dict[str, VillageCounts] = {g: {} for g in groups}
    for r in await session.execute(text(sql), window.params):
        found[r.grp][r.village_code] = (r.num, r.den)
    return found
