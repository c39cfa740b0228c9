"""Load a synthetic population into the registry through the bulk path.

Python generates the population and seals NIK/KK numbers (ciphertext + keyed hash);
binary COPY puts everything into temporary staging tables; set-based SQL then fills the
real tables, derives memberships and target groups, and writes every feed event; KRS
assessments (and their events) come from the set-based reassessment every daily run
uses (``risk/bulk.py``). One transaction: a failed seed leaves nothing behind.

Feed payloads are the bulk paths' JSON text (``persons/payload_sql.py``,
``events/target_groups_sql.py``); the seed tests compare them, and the KRS assessments,
with the per-record code on every seeded household.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import date

import asyncpg

from common.clock import today
from common.ids import uuid7
from common.json_sql import NULL, json_object, json_plain, json_uuid, json_value
from common.laps import Laps
from services.registry.events.rules import MAX_GESTATION
from services.registry.events.target_groups import CATIN_LEAD_MONTHS, TargetGroup
from services.registry.events.target_groups_sql import group_object_sql, target_groups_sql
from services.registry.persons.crypto import KK_CONTEXT, NIK_CONTEXT, pii_codec
from services.registry.persons.nik_rules import new_provisional_id
from services.registry.persons.payload_sql import person_payload_sql
from services.registry.risk.bulk import reassess_listed
from services.registry.seed.population import Population, PopulationParams, generate

# UUIDv7 ids made in SQL: one generated prefix per load (Unix milliseconds, version,
# random bits) and a counter in the last 32 bits (RFC 9562 allows a counter there), so
# ids increase in insert order. gen_random_uuid() costs ~9 us a row on small machines.
UUID7_SQL = "CAST(:uuid_prefix || lpad(to_hex(nextval('seed_uuid_counter')), 8, '0') AS uuid)"


class SeedConflict(Exception):
    """The population (or part of it) is already in the registry."""


@dataclass
class SeedResult:
    regency_code: str
    households: int
    persons: int
    life_events: int
    krs_families: int
    target_families: int
    events: int
    seconds: dict[str, float] = field(default_factory=dict)


async def villages_of(conn: asyncpg.Connection, regency_code: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT code FROM region WHERE level = 'village' AND code LIKE $1 || '.%' ORDER BY code",
        regency_code,
    )
    return [r["code"] for r in rows]


async def registry_is_empty(conn: asyncpg.Connection) -> bool:
    return not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM household)")


# --- staging -------------------------------------------------------------------------

_STAGE_DDL = """
CREATE TEMP SEQUENCE IF NOT EXISTS seed_uuid_counter;
CREATE TEMP TABLE household_stage (
    id uuid, kk_number_enc text, kk_hash text, village_code text, dusun text, rw text,
    rt text, address text, water_source text, sanitation text, house_condition text,
    welfare_decile smallint, extreme_poverty boolean, observed_date date
) ON COMMIT DROP;
CREATE TEMP TABLE person_stage (
    id uuid, household_id uuid, nik_enc text, nik_hash text, provisional_id text,
    full_name text, sex smallint, birth_date date, birth_place text, relationship smallint,
    marital_status smallint, religion smallint, education smallint, occupation smallint,
    mother_id uuid, mother_name text, village_code text
) ON COMMIT DROP;
CREATE TEMP TABLE event_stage (
    person_id uuid, household_id uuid, village_code text, kind text, start_date date,
    expected_date date, method text
) ON COMMIT DROP;
"""


def _household_records(pop: Population) -> list[tuple]:
    h = pop.households
    codec = pii_codec()
    kk = h.kk_number.tolist()
    columns = [
        h.id.tolist(),
        codec.encrypt_many(kk, KK_CONTEXT),
        codec.hash_many("kk_number", kk),
        h.village_code.tolist(),
        h.dusun.tolist(),
        [str(v) for v in h.rw.tolist()],
        [str(v) for v in h.rt.tolist()],
        h.address.tolist(),
        h.water_source.tolist(),
        h.sanitation.tolist(),
        h.house_condition.tolist(),
        h.welfare_decile.tolist(),
        h.extreme_poverty.tolist(),
        h.observed_date.tolist(),
    ]
    return list(zip(*columns, strict=True))


def _person_records(pop: Population) -> list[tuple]:
    p = pop.persons
    codec = pii_codec()
    ids = p.id.tolist()
    niks = p.nik.tolist()
    mother_index = p.mother_index.tolist()
    provisional = [
        None if n is not None else new_provisional_id(uuid.UUID(i))
        for i, n in zip(ids, niks, strict=True)
    ]
    columns = [
        ids,
        p.household_id.tolist(),
        codec.encrypt_many(niks, NIK_CONTEXT),
        codec.hash_many("nik", niks),
        provisional,
        p.full_name.tolist(),
        p.sex.tolist(),
        p.birth_date.tolist(),
        p.birth_place.tolist(),
        p.relationship.tolist(),
        p.marital_status.tolist(),
        p.religion.tolist(),
        p.education.tolist(),
        p.occupation.tolist(),
        [ids[m] if m >= 0 else None for m in mother_index],
        p.mother_name.tolist(),
        pop.households.village_code[p.household_index].tolist(),
    ]
    return list(zip(*columns, strict=True))


def _event_records(pop: Population) -> list[tuple]:
    """Life events with their person's household and village (no join in SQL)."""
    p = pop.persons
    household_ids = p.household_id
    villages = pop.households.village_code[p.household_index]

    def place(kind) -> tuple[list, list]:
        return household_ids[kind.person_index].tolist(), villages[kind.person_index].tolist()

    records: list[tuple] = []
    preg = pop.pregnancies
    records += [
        (pid, hid, village, "pregnancy", start, expected, None)
        for pid, hid, village, start, expected in zip(
            preg.person_id.tolist(),
            *place(preg),
            preg.start_date.tolist(),
            preg.expected_delivery_date.tolist(),
            strict=True,
        )
    ]
    plans = pop.planned_marriages
    records += [
        (pid, hid, village, "marriage_plan", None, planned, None)
        for pid, hid, village, planned in zip(
            plans.person_id.tolist(), *place(plans), plans.planned_date.tolist(), strict=True
        )
    ]
    use = pop.contraception
    records += [
        (pid, hid, village, "contraception", start, None, method)
        for pid, hid, village, method, start in zip(
            use.person_id.tolist(),
            *place(use),
            use.method.tolist(),
            use.start_date.tolist(),
            strict=True,
        )
    ]
    return records


# --- set-based SQL -------------------------------------------------------------------

_INSERT_SQL = [
    """
    INSERT INTO household (id, kk_number_enc, kk_hash, village_code, dusun, rw, rt, address)
    SELECT id, kk_number_enc, kk_hash, village_code, dusun, rw, rt, address FROM household_stage
    """,
    """
    INSERT INTO household_condition (household_id, observed_date, water_source, sanitation,
        house_condition, welfare_decile, extreme_poverty)
    SELECT id, observed_date, water_source, sanitation, house_condition, welfare_decile,
           extreme_poverty
    FROM household_stage
    """,
    """
    INSERT INTO person (id, nik_enc, nik_hash, provisional_id, full_name, sex, birth_date,
        birth_place, religion, education, occupation, marital_status, mother_id, mother_name,
        household_id, relationship, village_code)
    SELECT id, nik_enc, nik_hash, provisional_id, full_name, sex, birth_date, birth_place,
           religion, education, occupation, marital_status, mother_id, mother_name,
           household_id, relationship, village_code
    FROM person_stage
    """,
    f"""
    INSERT INTO household_membership (id, person_id, household_id, relationship, start_date)
    SELECT {UUID7_SQL}, id, household_id, relationship, CAST($1 AS date) FROM person_stage
    """,
    f"""
    CREATE TEMP TABLE life_event_stage ON COMMIT DROP AS
    SELECT {UUID7_SQL} AS id, person_id, household_id, village_code, kind, start_date,
           expected_date,
           CASE WHEN method IS NULL THEN '{{}}'::jsonb
                ELSE jsonb_build_object('method', method) END AS details
    FROM event_stage
    """,
    """
    INSERT INTO life_event (id, person_id, household_id, village_code, kind, start_date,
                            expected_date, details)
    SELECT id, person_id, household_id, village_code, kind, start_date, expected_date, details
    FROM life_event_stage
    """,
]

# person.registered for every staged person, with its target groups on $1 (as_of): the
# payload and groups of the bulk paths (persons/payload_sql, events/target_groups_sql),
# with catin and ibu hamil from the staged life events. The seed makes no deliveries, no
# deaths and no marriage dates, so nobody needs the rules themselves.
_CATIN_START = f"(expected_date - interval '{CATIN_LEAD_MONTHS} months')::date"
_PERSON_EVENTS_SQL = f"""
INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code, payload)
WITH ev AS (
    SELECT person_id,
           min(start_date) FILTER (WHERE kind = 'pregnancy' AND start_date <= $1
                   AND $1 <= start_date + interval '{MAX_GESTATION.days} days') AS pregnancy_start,
           string_agg({group_object_sql(TargetGroup.CATIN, _CATIN_START, "expected_date")},
                      ',' ORDER BY expected_date)
               FILTER (WHERE kind = 'marriage_plan' AND {_CATIN_START} <= $1
                       AND $1 <= expected_date) AS catin
    FROM life_event_stage GROUP BY person_id
)
SELECT {UUID7_SQL}, 'person.registered', 'person', p.id, p.village_code,
       CAST({
    person_payload_sql(
        "p", target_groups_sql("p", "$1", catin="ev.catin", pregnancy_start="ev.pregnancy_start")
    )
} AS json)
FROM (SELECT *, NULL::date AS death_date, false AS has_birth_certificate
      FROM person_stage) p
LEFT JOIN ev ON ev.person_id = p.id
"""

_CONDITIONS = json_object(
    [
        ("water_source", json_value("water_source")),
        ("sanitation", json_value("sanitation")),
        ("house_condition", json_value("house_condition")),
        ("welfare_decile", json_plain("welfare_decile")),
        ("extreme_poverty", json_plain("extreme_poverty")),
        ("observed_date", json_value("observed_date")),
    ]
)
_HOUSEHOLD_PAYLOAD = json_object(
    [
        ("household_id", json_uuid("id")),
        ("village_code", json_value("village_code")),
        ("active", "'true'"),
        ("conditions", _CONDITIONS),
    ]
)
_LIFE_EVENT_PAYLOAD = json_object(
    [
        ("life_event_id", json_uuid("id")),
        ("person_id", json_uuid("person_id")),
        ("household_id", json_uuid("household_id")),
        ("village_code", json_value("village_code")),
        ("kind", json_value("kind")),
        ("start_date", json_value("start_date")),
        ("end_date", NULL),
        ("expected_date", json_value("expected_date")),
        ("outcome", NULL),
        ("details", "details::text"),
    ]
)
_EVENTS_SQL = [
    (
        "household",
        f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {UUID7_SQL}, 'household.registered', 'household', id, village_code,
           CAST({_HOUSEHOLD_PAYLOAD} AS json)
    FROM household_stage
    """,
    ),
    ("person", _PERSON_EVENTS_SQL),
    (
        "life_event",
        f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {UUID7_SQL}, 'life_event.recorded', 'life_event', id, village_code,
           CAST({_LIFE_EVENT_PAYLOAD} AS json)
    FROM life_event_stage
    """,
    ),
]


async def _refuse_taken(conn: asyncpg.Connection, count_sql: str) -> None:
    taken = await conn.fetchval(count_sql)
    if taken:
        raise SeedConflict(
            f"{taken} KK numbers or NIKs of this population are already registered; "
            "seed with another --seed"
        )


def _with_ids(sql: str, prefix: str) -> str:
    """``sql`` with the load's UUIDv7 prefix (24 hex digits of our own making) inlined."""
    return sql.replace(":uuid_prefix", f"'{prefix}'")


_BULK_TABLES = [
    "household",
    "household_condition",
    "person",
    "household_membership",
    "life_event",
    "krs_assessment",
]


async def suspend_keys_and_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the loaded tables' indexes, primary keys, unique constraints and the foreign
    keys from or to them; the statements that restore them, in an order that works
    (PostgreSQL's "Populating a Database" advice: one index build and one set-based FK
    validation beat 400,000 incremental updates).

    Keys go too: each row's entry cost ~2.7 us in a 364,000-person load, the rebuild
    0.7 us. The foreign keys of other tables pointing at them (growth, Dukcapil links,
    merges) are dropped with them and validated again at the end.
    """
    constraints = await conn.fetch(
        """
        SELECT conrelid::regclass::text AS tbl, conname, contype::text AS contype,
               pg_get_constraintdef(oid) AS def
        FROM pg_constraint
        WHERE (contype IN ('p', 'u') AND conrelid::regclass::text = ANY($1::text[]))
           OR (contype = 'f' AND (conrelid::regclass::text = ANY($1::text[])
                                  OR confrelid::regclass::text = ANY($1::text[])))
        ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname
        """,
        _BULK_TABLES,
    )
    indexes = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        _BULK_TABLES,
    )
    # Foreign keys ('f') come first in that order: they depend on the keys.
    for c in constraints:
        await conn.execute(f'ALTER TABLE {c["tbl"]} DROP CONSTRAINT "{c["conname"]}"')
    for index in indexes:
        await conn.execute(f"DROP INDEX {index['name']}")
    keys = [c for c in constraints if c["contype"] != "f"]
    foreign_keys = [c for c in constraints if c["contype"] == "f"]
    return [
        *(f'ALTER TABLE {c["tbl"]} ADD CONSTRAINT "{c["conname"]}" {c["def"]}' for c in keys),
        *(i["def"] for i in indexes),
        *(
            f'ALTER TABLE {c["tbl"]} ADD CONSTRAINT "{c["conname"]}" {c["def"]}'
            for c in foreign_keys
        ),
    ]


async def load_population(conn: asyncpg.Connection, pop: Population) -> SeedResult:
    """Insert ``pop`` (already generated) in one transaction on ``conn``."""
    lap = Laps()

    # Sealing the persons' NIKs is the longest Python step: it runs in a thread while
    # the database takes the households (asyncpg waits on the socket, freeing the GIL).
    sealing = asyncio.get_running_loop().run_in_executor(None, _person_records, pop)
    households = _household_records(pop)
    events = _event_records(pop)
    lap("seal_households")
    as_of = pop.as_of
    prefix = uuid7().hex[:24]
    # Staging and derived tables are temporary: keep them in memory, sort in memory. JIT
    # compiling (where the server has it) costs more than it saves in statements that
    # each run once: 1 s of 19 on the shared development server.
    await conn.execute(
        "SET temp_buffers = '1GB'; SET work_mem = '256MB'; SET maintenance_work_mem = '512MB';"
        " SET jit = off"
    )
    try:
        async with conn.transaction():
            # Every join here is between whole staged sets: a nested loop is never right,
            # and a misestimate (CTEs carry no statistics) would make one quadratic. With
            # nested loops off, page counts size the hash joins well enough: the staging
            # tables are not analyzed (that cost 0.6 s of 100,000 households).
            await conn.execute("SET LOCAL enable_nestloop = off")
            await conn.execute(_STAGE_DDL)
            await conn.copy_records_to_table("household_stage", records=households)
            await conn.copy_records_to_table("event_stage", records=events)
            await _refuse_taken(
                conn,
                "SELECT count(*) FROM household_stage s JOIN household h"
                " ON h.kk_hash = s.kk_hash AND h.active",
            )
            existing = await conn.fetchval("SELECT count(*) FROM household")
            # Worth it only when the load is larger than what is there (rebuilds are full).
            restore = await suspend_keys_and_indexes(conn) if existing < len(households) else []
            lap("copy_households")
            for statement in _INSERT_SQL[:2]:
                await conn.execute(statement)
            lap("insert_households")
            persons = await sealing
            lap("seal_persons_wait")
            await conn.copy_records_to_table("person_stage", records=persons)
            await _refuse_taken(
                conn,
                "SELECT count(*) FROM person_stage s JOIN person p"
                " ON p.nik_hash = s.nik_hash AND p.merged_into IS NULL",
            )
            lap("copy_persons")
            for i, statement in enumerate(_INSERT_SQL[2:], start=2):
                args = [as_of] if "$1" in statement else []
                await conn.execute(_with_ids(statement, prefix), *args)
                lap(f"insert_{i}")
            # Feed events in the order the per-record API publishes them: households,
            # their people, life events, then each family's assessment.
            for name, statement in _EVENTS_SQL:
                args = (as_of,) if "$1" in statement else ()
                await conn.execute(_with_ids(statement, prefix), *args)
                lap(f"events_{name}")
            assessed = await reassess_listed(
                conn, as_of, "SELECT id, village_code FROM household_stage"
            )
            lap("krs")
            for statement in restore:
                await conn.execute(statement)
            lap("restore_indexes")
            n_events = await conn.fetchval("SELECT count(*) FROM life_event_stage")
    finally:
        if not sealing.done():
            await asyncio.wait([sealing])
    lap("commit")
    # Fresh statistics, so the first queries on the new data get the right plans; a
    # small sample is plenty for that, and autovacuum refines them later.
    await conn.execute("SET default_statistics_target = 10")
    await conn.execute(f"ANALYZE {', '.join(_BULK_TABLES)}")
    await conn.execute("RESET default_statistics_target")
    lap("analyze")
    return SeedResult(
        regency_code=pop.regency_code,
        households=len(households),
        persons=len(persons),
        life_events=n_events,
        krs_families=assessed.krs_families,
        target_families=assessed.target_families,
        events=len(households) * 2 + len(persons) + n_events,
        seconds=lap.seconds,
    )


async def seed_regency(
    conn: asyncpg.Connection,
    regency_code: str,
    households: int,
    *,
    seed: int = 1,
    as_of: date | None = None,
    params: PopulationParams | None = None,
) -> SeedResult:
    """Generate and load ``households`` synthetic households across the regency's villages.

    ``conn`` is an asyncpg connection acting as the registry role (search_path registry).
    """
    started = time.perf_counter()
    villages = await villages_of(conn, regency_code)
    if not villages:
        raise ValueError(f"no villages under {regency_code!r}; is the region list loaded?")
    population = generate(
        regency_code, households, villages, seed, as_of=as_of or today(), params=params
    )
    generated = time.perf_counter() - started
    result = await load_population(conn, population)
    result.seconds = {"generate": round(generated, 3), **result.seconds}
    result.seconds["total"] = round(time.perf_counter() - started, 3)
    return result
