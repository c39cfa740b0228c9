"""What the registry publishes after a set-based change: person events, KRS, krs.assessed.

A bulk change fills two temporary tables, then calls :func:`publish`:

- ``dk_event_person (person_id, type, from_household_id, from_village_code)``: one
  ``person.*`` event each, with the payload of ``persons.service.person_payload``;
- ``dk_affected (household_id)``: households to reassess, as the API reassesses every
  household a person change touches (the event persons' households are added here).

Target groups (carried by each person event) come two ways to the same results. People
alive, with no pregnancy, delivery or marriage-plan events and no ``marital_status_since``
get theirs from ``events.target_groups_sql`` inside the event statement; the others from
the rules themselves (``persons.service.groups_of``) in Python, with bulk reads. KRS of
every affected household comes from the set-based reassessment the daily run uses
(``risk.bulk``): a new assessment and its ``krs.assessed`` for each, as the API makes.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

from common.ids import uuid7
from common.json_sql import json_uuid, json_value
from services.registry.events import repository as events_repo
from services.registry.events.target_groups_sql import target_groups_sql
from services.registry.persons.payload_sql import person_payload_sql
from services.registry.persons.service import groups_of
from services.registry.risk.bulk import reassess_listed

# UUIDv7 ids made in SQL, as the seed makes them: a per-transaction prefix (time,
# version, random bits) and a counter in the last 32 bits, increasing in insert order.
ID_SQL = "CAST(:id_prefix || lpad(to_hex(nextval('dk_uuid_counter')), 8, '0') AS uuid)"


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
    await _python_groups(conn, as_of)
    await conn.execute(with_ids(_PERSON_EVENTS_SQL, prefix), as_of)
    events = await conn.fetchval("SELECT count(*) FROM dk_event_person")
    assessed = await reassess_listed(
        conn,
        as_of,
        "SELECT h.id, h.village_code FROM dk_affected a JOIN household h ON h.id = a.household_id",
        every=True,
    )
    return Published(person_events=events, households_assessed=assessed.households)


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


async def _python_groups(conn: asyncpg.Connection, as_of: date) -> None:
    """Target groups of the event persons ``age_groups_sql`` cannot tell, from the rules
    themselves: the dead, and people with a marriage date or life events."""
    loose = [
        r["id"]
        for r in await conn.fetch(
            """
            SELECT DISTINCT p.id FROM dk_event_person e JOIN person p ON p.id = e.person_id
            WHERE p.death_date IS NOT NULL OR p.marital_status_since IS NOT NULL
               OR EXISTS (SELECT 1 FROM life_event v WHERE v.person_id = p.id
                          AND v.kind IN ('pregnancy', 'delivery', 'marriage_plan'))
            """
        )
    ]
    await conn.execute(
        """
        CREATE TEMP TABLE dk_py_groups (person_id uuid PRIMARY KEY, target_groups text)
            ON COMMIT DROP
        """
    )
    if not loose:
        return
    persons = await conn.fetch(
        """
        SELECT id, household_id, village_code, sex, birth_date, relationship,
               marital_status, marital_status_since, death_date, nik_enc,
               has_birth_certificate
        FROM person WHERE id = ANY($1::uuid[])
        """,
        loose,
    )
    events = await _life_events(conn, loose)
    groups = [
        (r["id"], orjson.dumps(groups_of(dict(r), _events(events, r["id"]), as_of)).decode())
        for r in persons
    ]
    await conn.copy_records_to_table("dk_py_groups", records=groups)


def _events(found: dict[Any, list[dict]], person_id: Any):
    return events_repo.to_life_events(found.get(person_id, []))


# $1 as of. person.* payloads as persons.service.person_payload builds them (plus the
# move's origin).
_GROUPS_SQL = f"coalesce(py.target_groups, {target_groups_sql('p', 'CAST($1 AS date)')})"
_MOVED_FROM = [
    ("from_household_id", json_uuid("e.from_household_id")),
    ("from_village_code", json_value("e.from_village_code")),
]
_PERSON_EVENTS_SQL = f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {ID_SQL}, e.type, 'person', p.id, p.village_code,
           CAST(CASE WHEN e.type = 'person.moved'
                     THEN {person_payload_sql("p", _GROUPS_SQL, _MOVED_FROM)}
                     ELSE {person_payload_sql("p", _GROUPS_SQL)} END AS json)
    FROM dk_event_person e
    JOIN person p ON p.id = e.person_id
    LEFT JOIN dk_py_groups py ON py.person_id = p.id
    ORDER BY e.seq
"""

# household.* payloads as households.routes.household_payload builds them.
HOUSEHOLD_PAYLOAD_SQL = """
    json_build_object(
        'household_id', h.id, 'village_code', h.village_code, 'active', h.active,
        'conditions', (
            SELECT json_build_object(
                'water_source', c.water_source, 'sanitation', c.sanitation,
                'house_condition', c.house_condition, 'welfare_decile', c.welfare_decile,
                'extreme_poverty', c.extreme_poverty, 'observed_date', c.observed_date)
            FROM household_condition c WHERE c.household_id = h.id
            ORDER BY c.observed_date DESC, c.id DESC LIMIT 1))
"""
