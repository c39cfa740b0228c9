"""Set-based KRS reassessment of many households as of one date.

A family's risk depends on its members' ages and on life-event windows, so it changes
as days pass without any write: a child turns two or five, a wife turns 20 or 35, a
pregnancy passes its 45 weeks. ``reassess_region`` assesses every active household of a
region (or of the whole registry) as of a date in a few statements over the whole set,
stores a new current assessment only where the result differs from the current one
(rule set, target-family test, verdict or any criterion value), and publishes
``krs.assessed`` for exactly those, with the payload the per-household path publishes.
An unchanged family keeps its current assessment (and its ``assessed_on``): a daily run
adds rows only for the families whose situation moved.

The SQL is the set-based twin of ``rules.assess_krs`` over the members
``risk.service.household_members`` reads (current members, and members whose membership
ended with their death: the dead still count for birth spacing); the verdict and the
reason come from ``rules.krs_outcome`` itself, once per distinct combination of
criterion values. tests/registry/test_registry_krs_reassess.py compares the two on a
varied population.

The seed (``seed/loader.py``) assesses its freshly loaded households through
``reassess_listed``: one way to assess many families.
"""

from dataclasses import dataclass, field
from datetime import date

import asyncpg
import orjson

from common.ids import uuid7
from common.laps import Laps
from services.registry.codelists import (
    CHILD,
    FEMALE,
    HEAD,
    HOUSE_CONDITION,
    MARRIED,
    SANITATION,
    WATER_SOURCE,
    WIFE,
)
from services.registry.events.rules import MAX_GESTATION
from services.registry.events.target_groups import BADUTA_MONTHS, BALITA_MONTHS, PUS_AGE
from services.registry.persons.region_facts import scope_range
from services.registry.risk.rules import Criterion, KrsRuleSet, krs_outcome, rule_set_for
from services.registry.risk.service import criterion_key

CRITERIA = tuple(Criterion)
COLUMNS = tuple(criterion_key(c) for c in CRITERIA)

# UUIDv7 ids made in SQL: a prefix made per run (milliseconds, version, random bits)
# and a counter in the last 32 bits; gen_random_uuid() costs ~9 us a row.
_ID_SQL = "CAST($2 || lpad(to_hex(nextval('krs_uuid_counter')), 8, '0') AS uuid)"


class UnknownRegion(ValueError):
    """The region code is not in the region list."""


@dataclass
class ReassessResult:
    as_of: date
    rule_set: str
    households: int  # active households assessed
    changed: int  # new current assessments stored, and krs.assessed events published
    krs_families: int
    target_families: int
    seconds: dict[str, float] = field(default_factory=dict)


def _codes_sql(values: tuple) -> str:
    """A SQL array literal of code-list codes (our own constants, never user input)."""
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _known_sql(column: str, code_list) -> str:
    """The stored code as ``CodeList.get`` reads it: trimmed, case folded."""
    return f"lower(btrim({column})) = ANY({_codes_sql(code_list.codes())})"


def _unsafe_sql(column: str, code_list) -> str:
    safe = tuple(e.code for e in code_list if e.safe)
    return (
        f"CASE WHEN {_known_sql(column, code_list)}"
        f" THEN NOT (lower(btrim({column})) = ANY({_codes_sql(safe)})) END"
    )


def _members_sql() -> str:
    """Each member of the scope's households with the facts of rules.py as of $1."""
    return f"""
    CREATE TEMP TABLE rs_member ON COMMIT DROP AS
    WITH pregnant AS (
        -- Pregnancy.pregnant_on: until the outcome date, or 45 weeks without one.
        SELECT DISTINCT e.person_id
        FROM life_event e
        WHERE e.kind = 'pregnancy' AND e.start_date <= $1
          AND CASE WHEN e.end_date IS NOT NULL THEN $1 < e.end_date
                   ELSE $1 <= e.start_date + {MAX_GESTATION.days} END
    ),
    member AS (
        SELECT m.household_id, p.id, m.relationship, p.sex, p.birth_date, p.mother_id,
               p.education,
               p.birth_date <= $1 AND (p.death_date IS NULL OR $1 < p.death_date) AS alive,
               COALESCE(p.marital_status = {MARRIED}
                        AND (p.marital_status_since IS NULL OR p.marital_status_since <= $1),
                        false) AS married,
               pr.person_id IS NOT NULL AS pregnant
        FROM rs_scope s
        JOIN household_membership m ON m.household_id = s.id
        JOIN person p ON p.id = m.person_id
        LEFT JOIN pregnant pr ON pr.person_id = p.id
        WHERE m.end_reason IS NULL OR m.end_reason = 'died'
    )
    SELECT *,
           -- target_groups(): every group needs the member alive on $1.
           alive AND sex = {FEMALE} AND married
               AND (birth_date + interval '{PUS_AGE[0]} years')::date <= $1
               AND $1 < (birth_date + interval '{PUS_AGE[1] + 1} years')::date AS pus,
           alive AND pregnant AS ibu_hamil,
           alive AND $1 < (birth_date + interval '{BADUTA_MONTHS} months')::date AS baduta,
           alive AND $1 < (birth_date + interval '{BALITA_MONTHS} months')::date AS balita,
           -- family_wives(): the head's wife or female head, or a married or pregnant woman.
           alive AND sex = {FEMALE}
               AND (relationship IN ({HEAD}, {WIFE}) OR married OR pregnant) AS wife
    FROM member
    """


def _criteria_sql(rules: KrsRuleSet) -> str:
    """Every criterion's value per household of the scope (``_criteria_values``), and a
    small integer naming the combination: one digit in base 3 per value."""
    low, high = rules.old_wife_ages
    low_education = ", ".join(str(c) for c in sorted(rules.low_education_codes))
    poor = ", ".join(str(d) for d in sorted(rules.poor_deciles))
    digits = " + ".join(
        f"(CASE WHEN {c} THEN 2 WHEN NOT {c} THEN 1 ELSE 0 END) * {3**i}"
        for i, c in enumerate(COLUMNS)
    )
    return f"""
    CREATE TEMP TABLE rs_values ON COMMIT DROP AS
    WITH primary_wife AS (
        -- The first of family_wives() who is the head's wife or the female head, in
        -- household_people()'s order.
        SELECT DISTINCT ON (household_id) household_id, id
        FROM rs_member WHERE wife AND relationship IN ({HEAD}, {WIFE})
        ORDER BY household_id, relationship, birth_date, id
    ),
    children AS (
        -- _children_by_mother(): a known mother, else the head's couple for SHDK ANAK;
        -- the dead count too (the births happened).
        SELECT c.household_id, c.birth_date, c.alive,
               COALESCE(c.mother_id::text,
                        CASE WHEN c.relationship = {CHILD}
                             THEN COALESCE(w.id::text, 'head') END) AS mother_key
        FROM rs_member c LEFT JOIN primary_wife w ON w.household_id = c.household_id
        WHERE c.birth_date <= $1
    ),
    spacing AS (
        SELECT household_id, mother_key, birth_date, alive,
               lag(birth_date) OVER (PARTITION BY household_id, mother_key
                                     ORDER BY birth_date) AS previous
        FROM children WHERE mother_key IS NOT NULL
    ),
    per_mother AS (
        SELECT household_id,
               bool_or(previous IS NOT NULL AND birth_date - previous > 1
                       AND birth_date < (previous
                                         + interval '{rules.close_birth_months} months')::date)
                   AS too_close,
               count(*) FILTER (WHERE alive) AS living
        FROM spacing GROUP BY household_id, mother_key
    ),
    spacing_facts AS (
        SELECT household_id, bool_or(too_close) AS too_close,
               bool_or(living > {rules.many_children_over}) AS too_many
        FROM per_mother GROUP BY household_id
    ),
    family AS (
        -- target_family(): a PUS wife, a pregnant woman, a child 0-23 or 24-59 months;
        -- and the wives' criteria (one pass over the members for both).
        SELECT household_id,
               bool_or(pus OR ibu_hamil OR baduta OR (balita AND NOT baduta)) AS target,
               bool_or(wife) AS has_wife,
               bool_or(wife AND $1 < (birth_date
                                      + interval '{rules.young_wife_under} years')::date)
                   AS too_young,
               bool_or(wife AND (birth_date + interval '{low} years')::date <= $1
                       AND $1 < (birth_date + interval '{high + 1} years')::date) AS too_old,
               bool_or(wife AND education IN ({low_education})) AS low_education_any,
               bool_and(education IS NOT NULL) FILTER (WHERE wife) AS education_known
        FROM rs_member GROUP BY household_id
    ),
    latest AS (
        SELECT DISTINCT ON (c.household_id) c.household_id, c.water_source, c.sanitation,
               c.house_condition, c.welfare_decile
        FROM household_condition c JOIN rs_scope s ON s.id = c.household_id
        ORDER BY c.household_id, c.observed_date DESC, c.id DESC
    ),
    -- Materialized: the combination below reads every value twice.
    criteria AS MATERIALIZED (
        SELECT s.id AS household_id, s.village_code,
               COALESCE(f.target, false) AS is_target_family,
               {_unsafe_sql("c.water_source", WATER_SOURCE)} AS unsafe_water,
               {_unsafe_sql("c.sanitation", SANITATION)} AS unsafe_sanitation,
               COALESCE(f.too_young, false) AS too_young,
               COALESCE(f.too_old, false) AS too_old,
               COALESCE(sp.too_close, false) AS too_close,
               COALESCE(sp.too_many, false) AS too_many,
               c.welfare_decile IN ({poor}) AS poor_decile,
               CASE WHEN f.low_education_any THEN true
                    WHEN NOT COALESCE(f.has_wife, false) OR f.education_known THEN false
               END AS low_maternal_education,
               -- Not asked by the registry's household form: unknown.
               CAST(NULL AS boolean) AS smoker_in_house,
               CASE WHEN {_known_sql("c.house_condition", HOUSE_CONDITION)}
                    THEN lower(btrim(c.house_condition)) = 'unfit' END AS unfit_housing
        FROM rs_scope s
        LEFT JOIN family f ON f.household_id = s.id
        LEFT JOIN spacing_facts sp ON sp.household_id = s.id
        LEFT JOIN latest c ON c.household_id = s.id
    )
    SELECT *, CAST(is_target_family AS integer) + 2 * ({digits}) AS combination
    FROM criteria
    """


def _outcome_records(rules: KrsRuleSet, combinations: list[asyncpg.Record]) -> list[tuple]:
    """The verdict of each distinct combination, from the domain rule itself."""
    records = []
    for combo in combinations:
        values = {c: combo[k] for c, k in zip(CRITERIA, COLUMNS, strict=True)}
        outcome = krs_outcome(rules, combo["is_target_family"], values)
        criteria = {criterion_key(v.criterion): v.value for v in outcome.criteria}
        records.append(
            (
                combo["combination"],
                outcome.is_krs,
                orjson.dumps(criteria).decode(),
                [criterion_key(v.criterion) for v in outcome.criteria if v.enabled and v.value],
                orjson.dumps(outcome.reason).decode(),
            )
        )
    return records


_CHANGED_SQL = """
    CREATE TEMP TABLE rs_changed ON COMMIT DROP AS
    SELECT v.household_id, v.village_code, v.is_target_family, o.is_krs, o.criteria,
           o.criteria_met, o.reason, k.id AS replaced_id
    FROM rs_values v
    JOIN rs_outcome o ON o.combination = v.combination
    LEFT JOIN krs_assessment k ON k.household_id = v.household_id AND k.is_current
    WHERE $2 OR k.id IS NULL OR k.rule_set <> $1 OR k.village_code <> v.village_code
       OR k.is_target_family <> v.is_target_family OR k.is_krs IS DISTINCT FROM o.is_krs
       OR k.criteria <> o.criteria
"""

_RETIRE_SQL = """
    UPDATE krs_assessment k SET is_current = false
    FROM rs_changed c WHERE k.id = c.replaced_id
"""
_STORE_SQL = [
    f"""
    INSERT INTO krs_assessment (id, household_id, village_code, assessed_on, rule_set,
        is_target_family, is_krs, criteria, criteria_met, reason)
    SELECT {_ID_SQL}, household_id, village_code, $1, $3, is_target_family, is_krs,
           criteria, criteria_met, reason
    FROM rs_changed
    """,
    # assessment_payload(): the same fields the per-household path publishes.
    f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {_ID_SQL}, 'krs.assessed', 'household', household_id, village_code,
           json_build_object(
               'household_id', household_id, 'village_code', village_code,
               'assessed_on', CAST($1 AS date), 'rule_set', CAST($3 AS text),
               'is_target_family', is_target_family, 'is_krs', is_krs, 'criteria', criteria)
    FROM rs_changed
    """,
]


async def _reassess_scope(
    conn: asyncpg.Connection, as_of: date, every: bool = False
) -> ReassessResult:
    """Assess the households in ``rs_scope`` (id, village_code); in the caller's
    transaction. ``every``: store and publish every household's assessment, changed or
    not (as the per-household path does after a write)."""
    rules = rule_set_for(as_of)
    lap = Laps()

    # Per-household writes wait for this run (and it for them): each family's current
    # assessment is then either this run's or one made from later data.
    await conn.execute("LOCK TABLE krs_assessment IN SHARE ROW EXCLUSIVE MODE")
    await conn.execute("CREATE TEMP SEQUENCE IF NOT EXISTS krs_uuid_counter")
    # Statistics for the whole-set joins: the scope and the members are new tables.
    await conn.execute("ANALYZE rs_scope")
    await conn.execute(_members_sql(), as_of)
    await conn.execute("ANALYZE rs_member")
    lap("members")
    await conn.execute(_criteria_sql(rules), as_of)
    lap("criteria")
    combinations = await conn.fetch(
        f"SELECT DISTINCT combination, is_target_family, {', '.join(COLUMNS)} FROM rs_values"
    )
    await conn.execute(
        """
        CREATE TEMP TABLE rs_outcome (combination integer PRIMARY KEY, is_krs boolean,
            criteria jsonb, criteria_met text[], reason jsonb) ON COMMIT DROP
        """
    )
    await conn.copy_records_to_table("rs_outcome", records=_outcome_records(rules, combinations))
    await conn.execute(_CHANGED_SQL, rules.version, every)
    lap("compare")
    prefix = uuid7().hex[:24]
    await conn.execute(_RETIRE_SQL)
    for statement in _STORE_SQL:
        await conn.execute(statement, as_of, prefix, rules.version)
    lap("store")
    counts = await conn.fetchrow(
        """
        SELECT count(*) AS households,
               count(*) FILTER (WHERE o.is_krs) AS krs,
               count(*) FILTER (WHERE v.is_target_family) AS target,
               (SELECT count(*) FROM rs_changed) AS changed
        FROM rs_values v JOIN rs_outcome o ON o.combination = v.combination
        """
    )
    for table in ("rs_changed", "rs_outcome", "rs_values", "rs_member", "rs_scope"):
        await conn.execute(f"DROP TABLE {table}")
    lap("count")
    return ReassessResult(
        as_of=as_of,
        rule_set=rules.version,
        households=counts["households"],
        changed=counts["changed"],
        krs_families=counts["krs"],
        target_families=counts["target"],
        seconds=lap.seconds,
    )


async def region_level(conn: asyncpg.Connection, code: str) -> str | None:
    return await conn.fetchval("SELECT level FROM region WHERE code = $1", code)


async def reassess_region(
    conn: asyncpg.Connection, as_of: date, region_code: str | None = None
) -> ReassessResult:
    """Reassess every active household of ``region_code`` (any level; None: the whole
    registry) as of ``as_of``, in one transaction on ``conn`` (the registry role)."""
    rule_set_for(as_of)  # refuse a date no rule set covers before any work
    if region_code is not None and await region_level(conn, region_code) is None:
        raise UnknownRegion(f"no region {region_code!r} in the region list")
    low, high = scope_range(region_code or "", None) or ("", "")
    async with conn.transaction():
        # Whole-set joins and sorts: in memory, and never a nested loop over a
        # misestimated CTE.
        await conn.execute("SET LOCAL work_mem = '256MB'; SET LOCAL enable_nestloop = off")
        await conn.execute(
            """
            CREATE TEMP TABLE rs_scope ON COMMIT DROP AS
            SELECT id, village_code FROM household
            WHERE active AND village_code >= $1 AND village_code < $2
            """,
            low,
            high,
        )
        return await _reassess_scope(conn, as_of)


async def reassess_listed(
    conn: asyncpg.Connection, as_of: date, households_sql: str, *, every: bool = False
) -> ReassessResult:
    """Reassess the households ``households_sql`` selects (``id, village_code``), in the
    caller's transaction: the seed's freshly loaded ones, or those a bulk change touched
    (``every``: a new assessment for each, as the API makes after a write)."""
    await conn.execute(f"CREATE TEMP TABLE rs_scope ON COMMIT DROP AS {households_sql}")
    return await _reassess_scope(conn, as_of, every)
