"""What the registry publishes after a set-based change: person events, KRS, krs.assessed.

A bulk change fills two temporary tables, then calls :func:`publish`:

- ``dk_event_person (person_id, type, from_household_id, from_village_code)``: one
  ``person.*`` event each, with the payload of ``persons.service.person_payload``;
- ``dk_affected (household_id)``: households to reassess, as the API reassesses every
  household a person change touches.

Two ways to the same results. Households whose members carry nothing but birth data,
marital status and family links (no pregnancy, delivery or marriage-plan events, no
``marital_status_since``, nobody who died there) go through the seed's set-based SQL
twin of the target-group and KRS rules; it is exact for them. Every other household,
and every event person outside those, goes through the rules themselves
(``events.target_groups``, ``risk.rules.assess_krs``) in Python, with bulk reads.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

from common.ids import uuid7
from services.registry.events import repository as events_repo
from services.registry.events.rules import MAX_GESTATION
from services.registry.events.target_groups import (
    BADUTA_MONTHS,
    BALITA_MONTHS,
    CATIN_LEAD_MONTHS,
    PUS_AGE,
    REMAJA_PUTRI_AGE,
    HouseholdMember,
)
from services.registry.persons.service import groups_of, person_facts
from services.registry.risk.rules import assess_krs
from services.registry.risk.service import assessment_row, conditions_of
from services.registry.seed import loader

# UUIDv7 ids made in SQL, as the seed makes them: a per-transaction prefix (time,
# version, random bits) and a counter in the last 32 bits, increasing in insert order.
ID_SQL = "CAST(:id_prefix || lpad(to_hex(nextval('dk_uuid_counter')), 8, '0') AS uuid)"

_TWIN_TABLES = (
    "person_groups",
    "krs_stage",
    "krs_outcome",
    "person_stage",
    "household_stage",
    "life_event_stage",
)


def with_ids(sql: str, prefix: str) -> str:
    """``sql`` with the transaction's id prefix (24 hex digits we made) inlined."""
    return sql.replace(":id_prefix", f"'{prefix}'")


def id_prefix() -> str:
    return uuid7().hex[:24]


@dataclass(frozen=True)
class Published:
    person_events: int
    households_assessed: int


async def begin(conn: asyncpg.Connection) -> None:
    """Fresh event and affected-household tables for this transaction."""
    await conn.execute(
        """
        CREATE TEMP SEQUENCE IF NOT EXISTS dk_uuid_counter;
        CREATE TEMP SEQUENCE IF NOT EXISTS seed_uuid_counter;
        DROP TABLE IF EXISTS dk_event_person, dk_affected;
        CREATE TEMP TABLE dk_event_person (
            seq integer GENERATED ALWAYS AS IDENTITY, person_id uuid NOT NULL,
            type text NOT NULL, from_household_id uuid, from_village_code text
        ) ON COMMIT DROP;
        CREATE TEMP TABLE dk_affected (household_id uuid PRIMARY KEY) ON COMMIT DROP;
        """
    )


async def publish(conn: asyncpg.Connection, as_of: date, prefix: str) -> Published:
    """Target groups, KRS assessments and events for what ``begin``'s tables name."""
    await conn.execute(
        """
        INSERT INTO dk_affected (household_id)
        SELECT DISTINCT p.household_id FROM dk_event_person e JOIN person p ON p.id = e.person_id
        WHERE p.household_id IS NOT NULL
        ON CONFLICT DO NOTHING;
        ANALYZE dk_event_person; ANALYZE dk_affected;
        """
    )
    await conn.execute(_PATH_SQL)
    await conn.execute("ANALYZE dk_path")
    for table in _TWIN_TABLES:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
    twin = await conn.fetchval("SELECT count(*) FROM dk_path WHERE sql_path")
    if twin:
        await _sql_twin(conn, as_of)
    else:
        await conn.execute(
            "CREATE TEMP TABLE person_groups (id uuid, target_groups jsonb) ON COMMIT DROP"
        )
    await _python_path(conn, as_of, prefix)
    await conn.execute(with_ids(_PERSON_EVENTS_SQL, prefix))
    events = await conn.fetchval("SELECT count(*) FROM dk_event_person")
    assessed = await conn.fetchval("SELECT count(*) FROM dk_path")
    await conn.execute(with_ids(_KRS_EVENTS_SQL, prefix))
    return Published(person_events=events, households_assessed=assessed)


# Which affected households the SQL twin may assess exactly.
_PATH_SQL = """
    DROP TABLE IF EXISTS dk_path;
    CREATE TEMP TABLE dk_path ON COMMIT DROP AS
    WITH members AS (
        SELECT m.household_id, m.end_reason, p.marital_status_since, p.death_date, p.id
        FROM dk_affected a
        JOIN household_membership m ON m.household_id = a.household_id
        JOIN person p ON p.id = m.person_id
        WHERE m.end_reason IS NULL OR m.end_reason = 'died'
    ),
    eventful AS (
        SELECT DISTINCT e.person_id FROM life_event e JOIN members m ON m.id = e.person_id
        WHERE e.kind IN ('pregnancy', 'delivery', 'marriage_plan')
    )
    SELECT a.household_id,
           coalesce(bool_or(m.end_reason IS NULL), false)
           AND NOT coalesce(bool_or(m.end_reason = 'died' OR m.death_date IS NOT NULL
                                    OR m.marital_status_since IS NOT NULL
                                    OR ev.person_id IS NOT NULL), false) AS sql_path
    FROM dk_affected a
    LEFT JOIN members m ON m.household_id = a.household_id
    LEFT JOIN eventful ev ON ev.person_id = m.id
    GROUP BY a.household_id
"""


async def _sql_twin(conn: asyncpg.Connection, as_of: date) -> None:
    """The seed's SQL rules over the twin-eligible households' current members."""
    await conn.execute(
        """
        CREATE TEMP TABLE household_stage ON COMMIT DROP AS
        SELECT h.id, h.kk_number_enc, h.kk_hash, h.village_code, h.dusun, h.rw, h.rt,
               h.address, c.water_source, c.sanitation, c.house_condition, c.welfare_decile,
               c.extreme_poverty, c.observed_date
        FROM dk_path d JOIN household h ON h.id = d.household_id
        LEFT JOIN (
            SELECT DISTINCT ON (household_id) household_id, water_source, sanitation,
                   house_condition, welfare_decile, extreme_poverty, observed_date
            FROM household_condition
            WHERE household_id IN (SELECT household_id FROM dk_path WHERE sql_path)
            ORDER BY household_id, observed_date DESC, id DESC
        ) c ON c.household_id = h.id
        WHERE d.sql_path;
        -- The seed's person_stage columns, with the membership's relationship.
        CREATE TEMP TABLE person_stage ON COMMIT DROP AS
        SELECT p.id, m.household_id, p.nik_enc, p.nik_hash, p.provisional_id, p.full_name,
               p.sex, p.birth_date, p.birth_place, m.relationship, p.marital_status,
               p.religion, p.education, p.occupation, p.mother_id, p.mother_name
        FROM household_stage h
        JOIN household_membership m ON m.household_id = h.id AND m.end_reason IS NULL
        JOIN person p ON p.id = m.person_id;
        CREATE TEMP TABLE life_event_stage (
            id uuid, person_id uuid, household_id uuid, village_code text, kind text,
            start_date date, expected_date date, details jsonb
        ) ON COMMIT DROP;
        UPDATE krs_assessment SET is_current = false
        WHERE is_current AND household_id IN (SELECT id FROM household_stage);
        ANALYZE household_stage; ANALYZE person_stage;
        """
    )
    await conn.execute(
        loader._TARGET_GROUPS_SQL,
        as_of,
        f"{MAX_GESTATION.days} days",
        f"{CATIN_LEAD_MONTHS} months",
        f"{BADUTA_MONTHS} months",
        f"{BALITA_MONTHS} months",
        f"{PUS_AGE[0]} years",
        f"{PUS_AGE[1] + 1} years",
        f"{REMAJA_PUTRI_AGE[0]} years",
        f"{REMAJA_PUTRI_AGE[1] + 1} years",
    )
    await loader._assess_staged(conn, as_of, id_prefix())


_MEMBERS_SQL = """
    SELECT m.household_id AS member_household_id, m.relationship AS member_relationship,
           m.end_reason, p.id, p.nik_enc, p.sex, p.birth_date, p.marital_status,
           p.marital_status_since, p.death_date, p.mother_id, p.education
    FROM household_membership m JOIN person p ON p.id = m.person_id
    WHERE m.household_id = ANY($1::uuid[]) AND (m.end_reason IS NULL OR m.end_reason = 'died')
    ORDER BY m.household_id, m.relationship, p.birth_date, p.id
"""
_EVENTS_SQL = """
    SELECT id, person_id, household_id, village_code, kind, start_date, end_date,
           expected_date, outcome, details
    FROM life_event WHERE person_id = ANY($1::uuid[])
    ORDER BY person_id, start_date NULLS LAST, id
"""


async def _life_events(conn: asyncpg.Connection, person_ids: list) -> dict[Any, list[dict]]:
    found: dict[Any, list[dict]] = defaultdict(list)
    for r in await conn.fetch(_EVENTS_SQL, person_ids):
        row = dict(r)
        if isinstance(row["details"], str):
            row["details"] = orjson.loads(row["details"])
        found[row["person_id"]].append(row)
    return found


async def _python_path(conn: asyncpg.Connection, as_of: date, prefix: str) -> None:
    """KRS of the other households and target groups of event persons without a twin
    result, from the rules themselves."""
    households = [
        r["household_id"]
        for r in await conn.fetch("SELECT household_id FROM dk_path WHERE NOT sql_path")
    ]
    loose = [
        r["person_id"]
        for r in await conn.fetch(
            """
            SELECT DISTINCT e.person_id FROM dk_event_person e
            WHERE NOT EXISTS (SELECT 1 FROM person_groups g WHERE g.id = e.person_id)
            """
        )
    ]
    await conn.execute(
        """
        CREATE TEMP TABLE dk_py_groups (person_id uuid PRIMARY KEY, target_groups jsonb)
            ON COMMIT DROP
        """
    )
    if not households and not loose:
        return
    members = [dict(r) for r in await conn.fetch(_MEMBERS_SQL, households)] if households else []
    persons = {
        r["id"]: dict(r)
        for r in await conn.fetch(
            """
            SELECT id, household_id, village_code, sex, birth_date, relationship,
                   marital_status, marital_status_since, death_date, nik_enc,
                   has_birth_certificate
            FROM person WHERE id = ANY($1::uuid[])
            """,
            loose,
        )
    }
    events = await _life_events(conn, list({m["id"] for m in members} | set(persons)))

    groups = [
        (pid, orjson.dumps(groups_of(row, _events(events, pid), as_of)).decode())
        for pid, row in persons.items()
    ]
    await conn.copy_records_to_table("dk_py_groups", records=groups)
    if not households:
        return

    latest = {
        r["household_id"]: dict(r)
        for r in await conn.fetch(
            """
            SELECT DISTINCT ON (household_id) household_id, water_source, sanitation,
                   house_condition, welfare_decile
            FROM household_condition WHERE household_id = ANY($1::uuid[])
            ORDER BY household_id, observed_date DESC, id DESC
            """,
            households,
        )
    }
    villages = {
        r["id"]: r["village_code"]
        for r in await conn.fetch(
            "SELECT id, village_code FROM household WHERE id = ANY($1::uuid[])", households
        )
    }
    by_household: dict[Any, list[HouseholdMember]] = defaultdict(list)
    for m in members:
        by_household[m["member_household_id"]].append(
            HouseholdMember(
                member_id=str(m["id"]),
                person=person_facts(m),
                relationship=m["member_relationship"],
                events=_events(events, m["id"]),
                mother_id=str(m["mother_id"]) if m["mother_id"] else None,
                education=m["education"],
            )
        )
    rows = []
    for household_id in households:
        assessment = assess_krs(
            conditions_of(latest.get(household_id)), by_household.get(household_id, []), as_of
        )
        row = assessment_row(household_id, villages[household_id], assessment)
        rows.append(
            (
                row["id"],
                row["household_id"],
                row["village_code"],
                row["assessed_on"],
                row["rule_set"],
                row["is_target_family"],
                row["is_krs"],
                orjson.dumps(row["criteria"]).decode(),
                row["criteria_met"],
                orjson.dumps(row["reason"]).decode(),
            )
        )
    await conn.execute(
        """
        CREATE TEMP TABLE dk_py_krs (id uuid, household_id uuid, village_code text,
            assessed_on date, rule_set text, is_target_family boolean, is_krs boolean,
            criteria text, criteria_met text[], reason text) ON COMMIT DROP
        """
    )
    await conn.copy_records_to_table("dk_py_krs", records=rows)
    await conn.execute(
        """
        UPDATE krs_assessment SET is_current = false
        WHERE is_current AND household_id IN (SELECT household_id FROM dk_py_krs);
        INSERT INTO krs_assessment (id, household_id, village_code, assessed_on, rule_set,
            is_target_family, is_krs, criteria, criteria_met, reason)
        SELECT id, household_id, village_code, assessed_on, rule_set, is_target_family,
               is_krs, CAST(criteria AS jsonb), criteria_met, CAST(reason AS jsonb)
        FROM dk_py_krs;
        """
    )


def _events(found: dict[Any, list[dict]], person_id: Any):
    return events_repo.to_life_events(found.get(person_id, []))


# person.* payloads as persons.service.person_payload builds them (plus the move's origin).
_PERSON_EVENTS_SQL = f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {ID_SQL}, e.type, 'person', p.id, p.village_code,
           jsonb_build_object(
               'person_id', p.id, 'household_id', p.household_id,
               'village_code', p.village_code, 'sex', p.sex, 'birth_date', p.birth_date,
               'relationship', p.relationship, 'marital_status', p.marital_status,
               'alive', p.death_date IS NULL, 'death_date', p.death_date,
               'has_nik', p.nik_enc IS NOT NULL,
               'has_birth_certificate', p.has_birth_certificate,
               'target_groups', coalesce(py.target_groups, g.target_groups, '[]'::jsonb))
           || CASE WHEN e.type = 'person.moved'
                   THEN jsonb_build_object('from_household_id', e.from_household_id,
                                           'from_village_code', e.from_village_code)
                   ELSE '{{}}'::jsonb END
    FROM dk_event_person e
    JOIN person p ON p.id = e.person_id
    LEFT JOIN dk_py_groups py ON py.person_id = p.id
    LEFT JOIN person_groups g ON g.id = p.id
    ORDER BY e.seq
"""

_KRS_EVENTS_SQL = f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {ID_SQL}, 'krs.assessed', 'household', k.household_id, k.village_code,
           jsonb_build_object(
               'household_id', k.household_id, 'village_code', k.village_code,
               'assessed_on', k.assessed_on, 'rule_set', k.rule_set,
               'is_target_family', k.is_target_family, 'is_krs', k.is_krs,
               'criteria', k.criteria)
    FROM dk_path d JOIN krs_assessment k ON k.household_id = d.household_id AND k.is_current
    ORDER BY k.household_id
"""

# household.* payloads as households.routes.household_payload builds them.
HOUSEHOLD_PAYLOAD_SQL = """
    jsonb_build_object(
        'household_id', h.id, 'village_code', h.village_code, 'active', h.active,
        'conditions', (
            SELECT jsonb_build_object(
                'water_source', c.water_source, 'sanitation', c.sanitation,
                'house_condition', c.house_condition, 'welfare_decile', c.welfare_decile,
                'extreme_poverty', c.extreme_poverty, 'observed_date', c.observed_date)
            FROM household_condition c WHERE c.household_id = h.id
            ORDER BY c.observed_date DESC, c.id DESC LIMIT 1))
"""
