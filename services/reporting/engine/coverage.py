"""Coverage and convergence tallies: for every person and household of the scope, the
interventions of the catalogue it is a target of at the end of the period and those it
received in the period, counted per village.

Each subject is one row carrying two bit masks, one bit per intervention: the codes it is
a target of, and of those the codes delivered to it in the period. One GROUP BY village
then counts every code and the convergence at once, set-based: no row per (subject,
code), no per-row index probe for the latest measurement or KRS verification.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.scoping import scope_sql
from services.reporting.engine.repository import (
    AGE_GROUPS,
    VillageCounts,
    Window,
    aged,
    persons_at_end,
)
from services.reporting.engine.targets import TargetSpec, growth_condition

# A bigint holds the masks; the catalogue has 26 interventions.
MAX_CODES = 62


@dataclass(frozen=True)
class CoverageCounts:
    by_code: dict[str, VillageCounts]
    convergence: VillageCounts


def _bits(names: Sequence[str]) -> dict[str, int]:
    return {name: 1 << i for i, name in enumerate(names)}


def _groups_held(groups: Sequence[str], window_bits: dict[str, int], window: Window) -> str:
    """The person row ``p`` holds one of ``groups`` on some day of the period: a window
    overlapping it (bits of ``p.groups``) or the age, tested on the birth date."""
    terms = []
    mask = sum(window_bits[g] for g in groups if g not in AGE_GROUPS)
    if mask:
        terms.append(f"(p.groups & {mask}) <> 0")
    for group in groups:
        if group in AGE_GROUPS:
            low, high, female = AGE_GROUPS[group]
            sex = " AND p.sex = 2" if female else ""
            terms.append(f"({aged('p', low, high, window)}{sex})")
    return "(" + " OR ".join(terms) + ")"


def _person_condition(spec: TargetSpec, window_bits: dict[str, int], window: Window) -> str:
    terms: list[str] = []
    if spec.groups:
        terms.append(_groups_held(spec.groups, window_bits, window))
    if spec.age_months:
        terms.append(aged("p", *spec.age_months, window))
    if spec.age_years:
        low, high = spec.age_years
        terms.append(aged("p", low * 12, high * 12 + 11, window))
    if spec.female:
        terms.append("p.sex = 2")
    if spec.missing_documents:
        terms.append("(p.has_birth_certificate IS FALSE OR p.has_nik IS FALSE)")
    if spec.welfare_decile:
        low, high = spec.welfare_decile
        terms.append(f"p.welfare_decile BETWEEN {int(low)} AND {int(high)}")
    growth = growth_condition(spec, "p")
    if growth:
        terms.append(growth)
    return " AND ".join(f"({t})" for t in terms) or "TRUE"


def _household_condition(spec: TargetSpec, member_bits: dict[str, int]) -> str:
    terms: list[str] = []
    if spec.krs:
        terms.append("hh.is_krs IS TRUE")
    if spec.krs_criterion:
        terms.append(f"(hh.criteria ->> '{spec.krs_criterion}')::boolean IS TRUE")
    if spec.welfare_decile:
        low, high = spec.welfare_decile
        terms.append(f"hh.welfare_decile BETWEEN {int(low)} AND {int(high)}")
    for group in spec.groups:
        terms.append(f"(hh.member_groups & {member_bits[group]}) <> 0")
    return " AND ".join(f"({t})" for t in terms) or "TRUE"


def _mask(conditions: Sequence[tuple[str, int]]) -> str:
    """A bigint with the bit of every condition that holds (NULL counts as not)."""
    if not conditions:
        return "0::bigint"
    return " | ".join(f"CASE WHEN {c} THEN {bit}::bigint ELSE 0 END" for c, bit in conditions)


def coverage_sql(specs: Sequence[TargetSpec], convergence: bool, window: Window) -> str:
    if len(specs) > MAX_CODES:
        raise ValueError(f"at most {MAX_CODES} interventions in one coverage pass")
    code_bits = _bits([s.code for s in specs])
    person_specs = [s for s in specs if s.subject == "person"]
    household_specs = [s for s in specs if s.subject == "household"]
    growth_needed = any(growth_condition(s, "p") for s in person_specs)
    # Target groups held as windows (ibu_hamil always: the growth look-up asks), and the
    # groups the household targets ask of their members (age groups included).
    window_bits = _bits(
        sorted({g for s in specs for g in s.groups if g not in AGE_GROUPS} | {"ibu_hamil"})
    )
    member_bits = _bits(sorted({g for s in household_specs for g in s.groups}))
    window_case = " ".join(f"WHEN '{g}' THEN {bit}" for g, bit in window_bits.items())
    # The latest measurement up to the end of the period (its span in growth_status),
    # looked up only for children under five and pregnant women, the only ones a growth
    # condition concerns.
    growth = (
        f"""
        LEFT JOIN growth_status g ON g.person_id = pe.person_id
             AND g.valid_from <= CAST(:end AS date) AND g.valid_to > CAST(:end AS date)
             AND (pe.birth_date > CAST(:end AS date) - interval '61 months'
                  OR (pw.groups & {window_bits["ibu_hamil"]}) <> 0)"""
        if growth_needed
        else """
        LEFT JOIN (SELECT NULL::uuid AS person_id, NULL::text AS class_wfl,
                          NULL::boolean AS oedema, NULL::float8 AS muac_cm) g ON false"""
    )
    person_mask = _mask(
        [(_person_condition(s, window_bits, window), code_bits[s.code]) for s in person_specs]
    )
    member_mask = _mask(
        [(_groups_held([g], window_bits, window), bit) for g, bit in member_bits.items()]
    )
    household_mask = _mask(
        [(_household_condition(s, member_bits), code_bits[s.code]) for s in household_specs]
    )
    household_codes = {s.code for s in household_specs}
    delivered = ", ".join(
        f"('{code}', {bit}::bigint, {str(code in household_codes).lower()})"
        for code, bit in code_bits.items()
    )

    def total(name: str, condition: str = "true") -> str:
        return f'coalesce(sum(n) FILTER (WHERE {condition}), 0)::bigint AS "{name}"'

    counts = ", ".join(
        f"{total(f'den_{code}', f'(elig & {bit}) <> 0')},"
        f" {total(f'num_{code}', f'(hit & {bit}) <> 0')}"
        for code, bit in code_bits.items()
    )
    whole = f", {total('den_all')}, {total('num_all', 'hit = elig')}" if convergence else ""
    return f"""
        WITH persons AS MATERIALIZED ({persons_at_end()}),
        pw AS (
            SELECT w.person_id, bit_or(CASE w.target_group {window_case} END) AS groups
            FROM person_target_window w
            WHERE w.start_date <= :end AND w.end_date >= :start
              AND w.target_group IN ({", ".join(f"'{g}'" for g in window_bits)})
              AND w.person_id IN (SELECT person_id FROM persons)
            GROUP BY w.person_id
        ),
        p AS MATERIALIZED (
            SELECT pe.person_id, pe.household_id, pe.village_code, pe.sex, pe.birth_date,
                   pe.has_nik, pe.has_birth_certificate, coalesce(pw.groups, 0) AS groups,
                   h.welfare_decile, g.class_wfl, g.oedema, g.muac_cm
            FROM persons pe
            LEFT JOIN pw ON pw.person_id = pe.person_id
            LEFT JOIN household h ON h.household_id = pe.household_id
            {growth}
        ),
        members AS (
            SELECT p.household_id, bit_or({member_mask}) AS member_groups
            FROM p WHERE p.household_id IS NOT NULL GROUP BY p.household_id
        ),
        krs AS (
            SELECT DISTINCT ON (a.household_id) a.household_id, a.is_krs, a.criteria
            FROM krs_assessment a JOIN household h ON h.household_id = a.household_id
            WHERE a.assessed_on <= :end AND h.active AND {scope_sql("h.village_code")}
            ORDER BY a.household_id, a.assessed_on DESC, a.pos_xid DESC, a.pos_id DESC
        ),
        hh AS (
            SELECT h.household_id, h.village_code, h.welfare_decile, k.is_krs, k.criteria,
                   coalesce(mg.member_groups, 0) AS member_groups
            FROM household h
            LEFT JOIN krs k ON k.household_id = h.household_id
            LEFT JOIN members mg ON mg.household_id = h.household_id
            WHERE h.active AND {scope_sql("h.village_code")}
        ),
        subjects AS (
            SELECT p.person_id AS id, p.village_code, {person_mask} AS elig FROM p
            UNION ALL
            SELECT hh.household_id, hh.village_code, {household_mask} FROM hh
        ),
        codes (code, bit, household) AS (VALUES {delivered}),
        got AS (
            SELECT x.id, bit_or(x.bit) AS bits FROM (
                SELECT d.subject_id AS id, c.bit FROM delivery d
                JOIN codes c ON c.code = d.intervention_code
                WHERE d.delivered_on BETWEEN :start AND :end AND d.kind <> 'voided'
                  AND NOT d.superseded
                UNION ALL
                SELECT d.household_id, c.bit FROM delivery d
                JOIN codes c ON c.code = d.intervention_code AND c.household
                WHERE d.delivered_on BETWEEN :start AND :end AND d.kind <> 'voided'
                  AND NOT d.superseded AND d.household_id IS NOT NULL
            ) x GROUP BY x.id
        ),
        -- Subjects of a village mostly share a few masks: count those first, then
        -- each code over the few (mask, count) rows.
        reached AS (
            SELECT s.village_code, s.elig, s.elig & coalesce(got.bits, 0) AS hit,
                   count(*) AS n
            FROM subjects s LEFT JOIN got ON got.id = s.id
            WHERE s.elig <> 0
            GROUP BY 1, 2, 3
        )
        SELECT village_code, {counts}{whole}
        FROM reached GROUP BY village_code ORDER BY village_code
    """


async def coverage_counts(
    session: AsyncSession, window: Window, specs: Sequence[TargetSpec], *, convergence: bool
) -> CoverageCounts:
    """(received, eligible) per intervention and village; with ``convergence``, also
    (received every intervention eligible for, eligible for at least one) per village."""
    if not specs:
        return CoverageCounts({}, {})
    rows = await session.execute(text(coverage_sql(specs, convergence, window)), window.params)
    by_code: dict[str, VillageCounts] = {}
    whole: VillageCounts = {}
    for r in rows.mappings():
        village = r["village_code"]
        for spec in specs:
            den = r[f"den_{spec.code}"]
            if den:
                by_code.setdefault(spec.code, {})[village] = (r[f"num_{spec.code}"], den)
        if convergence:
            whole[village] = (r["num_all"], r["den_all"])
    return CoverageCounts(by_code, whole)
