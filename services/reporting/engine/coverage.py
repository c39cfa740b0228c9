"""The tallies about whom the programme should reach and whom it reached, in one pass
over the persons and households of the scope at the end of the period: coverage of each
intervention, convergence, TPK visit coverage per target group and measurement coverage.

Each tally is a bit. Every person and household is one row carrying two bit masks: the
tallies it counts in (a target of the intervention, of the TPK group, an under-five to
be measured), and of those the ones it was reached in (delivered to, visited, measured).
One GROUP BY village then counts them all, set-based: no row per (subject, tally), no
per-row index probe for the latest measurement or KRS verification.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

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
from services.reporting.engine.targets import (
    TPK_HOUSEHOLD_GROUP,
    TargetSpec,
    growth_mask,
)

# The masks are bigints: 26 interventions, 5 TPK groups and measurement coverage today.
MAX_TALLIES = 62
MEASURED = "measured"


@dataclass(frozen=True)
class CoverageAsk:
    """What the pass counts: interventions (``specs``), convergence over them, TPK groups
    (person groups and/or ``krs``), and measurement coverage for a growth period key."""

    specs: Sequence[TargetSpec] = ()
    convergence: bool = False
    tpk_groups: Sequence[str] = ()
    measurement: tuple[str, date] | None = None


@dataclass(frozen=True)
class CoverageCounts:
    """(reached, counted) per village: per intervention (villages with targets only),
    the convergence, per TPK group, and measurement coverage."""

    by_code: dict[str, VillageCounts] = field(default_factory=dict)
    convergence: VillageCounts = field(default_factory=dict)
    tpk: dict[str, VillageCounts] = field(default_factory=dict)
    measurement: VillageCounts = field(default_factory=dict)


def _tpk(group: str) -> str:
    return f"tpk:{group}"


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
    growth = growth_mask(spec)
    if growth:
        terms.append(f"(p.growth & {growth}) = {growth}")
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


def _names(ask: CoverageAsk) -> list[str]:
    names = [s.code for s in ask.specs] + [_tpk(g) for g in ask.tpk_groups]
    if ask.measurement:
        names.append(MEASURED)
    if len(names) > MAX_TALLIES:
        raise ValueError(f"at most {MAX_TALLIES} tallies in one coverage pass")
    return names


def coverage_sql(ask: CoverageAsk, window: Window) -> str:
    bits = _bits(_names(ask))
    person_specs = [s for s in ask.specs if s.subject == "person"]
    household_specs = [s for s in ask.specs if s.subject == "household"]
    person_tpk = [g for g in ask.tpk_groups if g != TPK_HOUSEHOLD_GROUP]
    # Target groups held as windows (ibu_hamil always: the growth look-up asks), and the
    # groups the household targets ask of their members (age groups included).
    window_bits = _bits(
        sorted(
            {g for s in ask.specs for g in s.groups if g not in AGE_GROUPS}
            | {g for g in person_tpk if g not in AGE_GROUPS}
            | {"ibu_hamil"}
        )
    )
    member_bits = _bits(sorted({g for s in household_specs for g in s.groups}))
    window_case = " ".join(f"WHEN '{g}' THEN {bit}" for g, bit in window_bits.items())
    window_names = ", ".join(f"'{g}'" for g in window_bits)

    person_tallies = [
        (_person_condition(s, window_bits, window), bits[s.code]) for s in person_specs
    ]
    person_tallies += [(_groups_held([g], window_bits, window), bits[_tpk(g)]) for g in person_tpk]
    if ask.measurement:
        # An index-friendly bound as the former query had, then the exact age test.
        young = "p.birth_date > CAST(:start AS date) - interval '61 months'"
        person_tallies.append((f"{young} AND {aged('p', 0, 59, window)}", bits[MEASURED]))
    household_tallies = [
        (_household_condition(s, member_bits), bits[s.code]) for s in household_specs
    ]
    if TPK_HOUSEHOLD_GROUP in ask.tpk_groups:
        household_tallies.append(("hh.is_krs IS TRUE", bits[_tpk(TPK_HOUSEHOLD_GROUP)]))
    member_mask = _mask(
        [(_groups_held([g], window_bits, window), bit) for g, bit in member_bits.items()]
    )

    household_codes = {s.code for s in household_specs}
    delivered = (
        ", ".join(
            f"('{s.code}', {bits[s.code]}::bigint, {str(s.code in household_codes).lower()})"
            for s in ask.specs
        )
        or "(NULL, 0::bigint, false)"
    )
    visit_groups = ", ".join(f"('{g}', {bits[_tpk(g)]}::bigint)" for g in ask.tpk_groups) or (
        "(NULL, 0::bigint)"
    )
    # A child counted in the growth figures of the period was measured in it.
    measured = (
        f"""
                UNION ALL
                SELECT gc.person_id, {bits[MEASURED]} FROM growth_child_period gc
                WHERE gc.period_kind = :kind AND gc.period_start = :period_start"""
        if ask.measurement
        else ""
    )
    # The latest measurement up to the end of the period (its span in growth_status),
    # looked up only for children under five and pregnant women, as before the spans.
    growth = (
        f"""
            LEFT JOIN growth_status g ON g.person_id = pe.person_id
                 AND g.valid_from <= CAST(:end AS date) AND g.valid_to > CAST(:end AS date)
                 AND (pe.birth_date > CAST(:end AS date) - interval '61 months'
                      OR (pw.groups & {window_bits["ibu_hamil"]}) <> 0)"""
        if any(growth_mask(s) for s in person_specs)
        else "LEFT JOIN (SELECT NULL::integer AS conditions) g ON false"
    )
    subjects = []
    if person_tallies:
        subjects.append("SELECT p.person_id, p.village_code, p.elig FROM p")
    if household_tallies:
        subjects.append(
            f"SELECT hh.household_id, hh.village_code, {_mask(household_tallies)} FROM hh"
        )
    convergence = sum(bits[s.code] for s in ask.specs)

    def total(name: str, condition: str = "true") -> str:
        return f'coalesce(sum(n) FILTER (WHERE {condition}), 0)::bigint AS "{name}"'

    counts = ", ".join(
        f"{total(f'den_{name}', f'(elig & {bit}) <> 0')},"
        f" {total(f'num_{name}', f'(hit & {bit}) <> 0')}"
        for name, bit in bits.items()
    )
    if ask.convergence:
        counts += (
            f", {total('den_all', f'(elig & {convergence}) <> 0')}"
            f", {total('num_all', f'(elig & {convergence}) <> 0 AND (hit & {convergence}) = (elig & {convergence})')}"  # noqa: E501
        )
    return f"""
        WITH persons AS MATERIALIZED ({persons_at_end()}),
        pw AS (
            SELECT w.person_id, bit_or(CASE w.target_group {window_case} END) AS groups
            FROM person_target_window w
            WHERE w.start_date <= :end AND w.end_date >= :start
              AND w.target_group IN ({window_names})
              AND w.person_id IN (SELECT person_id FROM persons)
            GROUP BY w.person_id
        ),
        p AS MATERIALIZED (
            SELECT p.person_id, p.household_id, p.village_code,
                   {_mask(person_tallies)} AS elig, {member_mask} AS member_groups
            FROM (
                SELECT pe.*, coalesce(pw.groups, 0) AS groups, h.welfare_decile,
                       coalesce(g.conditions, 0) AS growth
                FROM persons pe
                LEFT JOIN pw ON pw.person_id = pe.person_id
                LEFT JOIN household h ON h.household_id = pe.household_id
                {growth}
            ) p
        ),
        members AS (
            SELECT p.household_id, bit_or(p.member_groups) AS member_groups FROM p
            WHERE p.household_id IS NOT NULL AND p.member_groups <> 0
            GROUP BY p.household_id
        ),
        hh AS (
            SELECT h.household_id, h.village_code, h.welfare_decile, k.is_krs, k.criteria,
                   coalesce(mg.member_groups, 0) AS member_groups
            FROM household h
            LEFT JOIN krs_status k ON k.household_id = h.household_id
                 AND k.valid_from <= CAST(:end AS date) AND k.valid_to > CAST(:end AS date)
            LEFT JOIN members mg ON mg.household_id = h.household_id
            WHERE h.active AND {scope_sql("h.village_code")}
        ),
        subjects (id, village_code, elig) AS ({" UNION ALL ".join(subjects)}),
        codes (code, bit, household) AS (VALUES {delivered}),
        visits (grp, bit) AS (VALUES {visit_groups}),
        visited AS (
            SELECT DISTINCT v.subject_id, v.target_group, s.bit FROM tpk_visit v
            JOIN visits s ON s.grp = v.target_group
            WHERE v.visited_on BETWEEN :start AND :end
        ),
        -- What reached each subject: deliveries (to a household also through its
        -- household-level interventions), TPK visits (a KRS household also through a
        -- visit to any of its members), a measurement counted in the period's growth
        -- figures.
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
                UNION ALL
                SELECT v.subject_id, v.bit FROM visited v
                UNION ALL
                SELECT m.household_id, v.bit FROM visited v
                JOIN person m ON m.person_id = v.subject_id
                WHERE v.target_group = '{TPK_HOUSEHOLD_GROUP}' AND m.household_id IS NOT NULL
                {measured}
            ) x GROUP BY x.id
        ),
        -- Subjects of a village mostly share a few masks: count those first, then
        -- each tally over the few (mask, count) rows.
        reached AS (
            SELECT s.village_code, s.elig, s.elig & coalesce(got.bits, 0) AS hit,
                   count(*) AS n
            FROM subjects s LEFT JOIN got ON got.id = s.id
            WHERE s.elig <> 0
            GROUP BY 1, 2, 3
        )
        SELECT village_code, {counts}
        FROM reached GROUP BY village_code ORDER BY village_code
    """


async def coverage_counts(
    session: AsyncSession, window: Window, ask: CoverageAsk
) -> CoverageCounts:
    names = _names(ask)
    if not names:
        return CoverageCounts()
    kind, start = ask.measurement or ("", window.start)
    rows = await session.execute(
        text(coverage_sql(ask, window)), {**window.params, "kind": kind, "period_start": start}
    )
    found = CoverageCounts(tpk={g: {} for g in ask.tpk_groups})
    for r in rows.mappings():
        village = r["village_code"]
        for name in names:
            den = r[f"den_{name}"]
            if not den:
                continue
            pair = (r[f"num_{name}"], den)
            if name == MEASURED:
                found.measurement[village] = pair
            elif name.startswith("tpk:"):
                found.tpk[name.removeprefix("tpk:")][village] = pair
            else:
                found.by_code.setdefault(name, {})[village] = pair
        if ask.convergence and r["den_all"]:
            found.convergence[village] = (r["num_all"], r["den_all"])
    return found
