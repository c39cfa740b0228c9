"""The bulk seed: counts, feed events, and the bulk SQL agreeing with the per-household
rules (target groups and KRS) on every seeded household."""

from datetime import date

import orjson
import pytest
from sqlalchemy import text

from common.db import make_engine, make_sessionmaker
from common.pii import decrypt_field, lookup_hash
from kkb.bootstrap import as_service
from kkb.database import service_url
from services.registry.duplicates.repository import NAME_KEY
from services.registry.events import repository as events_repo
from services.registry.events.routes import life_event_payload
from services.registry.households import repository as households_repo
from services.registry.households.routes import household_payload
from services.registry.persons.crypto import NIK_CONTEXT, pii_codec
from services.registry.persons.service import person_payload
from services.registry.risk.rules import assess_krs
from services.registry.risk.service import (
    assessment_row,
    conditions_of,
    household_members,
)
from services.registry.search.repository import NAME_TSV
from services.registry.seed.loader import (
    SeedConflict,
    seed_regency,
    suspend_keys_and_indexes,
    villages_of,
)
from services.registry.seed.population import generate

REGENCY = "61.11"  # Kayong Utara: no other test writes there
HOUSEHOLDS = 300
AS_OF = date(2025, 8, 15)
HOUSEHOLDS_IN_REGENCY = "SELECT count(*) FROM household WHERE village_code LIKE $1 || '.%'"


@pytest.fixture(scope="module")
async def seeded(db_url):
    async with as_service(db_url, "registry") as conn:
        result = await seed_regency(conn, REGENCY, HOUSEHOLDS, seed=11, as_of=AS_OF)
        villages = await villages_of(conn, REGENCY)
    population = generate(REGENCY, HOUSEHOLDS, villages, 11, as_of=AS_OF)
    return result, population


async def _count(conn, sql: str) -> int:
    return await conn.fetchval(sql, REGENCY)


async def test_seed_counts_and_feed(db_url, seeded):
    result, population = seeded
    assert result.households == HOUSEHOLDS
    assert result.persons == len(population.persons)
    expected_events = (
        len(population.pregnancies)
        + len(population.planned_marriages)
        + len(population.contraception)
    )
    assert result.life_events == expected_events
    async with as_service(db_url, "registry") as conn:
        in_regency = "village_code LIKE $1 || '.%'"
        assert await _count(conn, f"SELECT count(*) FROM household WHERE {in_regency}") == (
            HOUSEHOLDS
        )
        assert await _count(conn, f"SELECT count(*) FROM person WHERE {in_regency}") == len(
            population.persons
        )
        memberships = await _count(
            conn,
            "SELECT count(*) FROM household_membership m JOIN household h"
            f" ON h.id = m.household_id WHERE h.{in_regency} AND m.end_reason IS NULL",
        )
        assert memberships == len(population.persons)
        assert (
            await _count(
                conn, f"SELECT count(*) FROM krs_assessment WHERE is_current AND {in_regency}"
            )
            == HOUSEHOLDS
        )
        misplaced = await _count(
            conn,
            "SELECT count(*) FROM life_event e JOIN person p ON p.id = e.person_id"
            f" WHERE p.{in_regency} AND (e.household_id IS DISTINCT FROM p.household_id"
            " OR e.village_code <> p.village_code)",
        )
        assert misplaced == 0
        rows = await conn.fetch(
            "SELECT type, count(*) AS n FROM outbox_event"
            " WHERE region_code LIKE $1 || '.%' GROUP BY type",
            REGENCY,
        )
        by_type = {r["type"]: r["n"] for r in rows}
        assert by_type == {
            "household.registered": HOUSEHOLDS,
            "person.registered": len(population.persons),
            "life_event.recorded": expected_events,
            "krs.assessed": HOUSEHOLDS,
        }
        # NIK and KK stored sealed: ciphertext and keyed hash, never the number.
        nik = next(n for n in population.persons.nik if n)
        row = await conn.fetchrow(
            "SELECT nik_enc, nik_hash FROM person WHERE nik_hash = $1",
            lookup_hash("nik", nik, pii_codec().hash_key),
        )
        assert row is not None and nik not in row["nik_enc"]
        assert decrypt_field(row["nik_enc"], pii_codec().keyring, context=NIK_CONTEXT) == nik
        leaked = await conn.fetchval(
            "SELECT count(*) FROM outbox_event WHERE payload::text LIKE '%' || $1 || '%'", nik
        )
        assert leaked == 0


async def test_bulk_krs_and_target_groups_match_the_rules(db_url, seeded):
    """Every seeded household reassessed by the per-household code gives the stored result."""
    engine = make_engine(service_url(db_url, "registry"), "registry")
    session_maker = make_sessionmaker(engine)
    mismatches = []
    async with session_maker() as session:
        households = (
            await session.execute(
                text(
                    "SELECT k.household_id, k.village_code, k.is_target_family, k.is_krs,"
                    " k.criteria, k.criteria_met, k.reason FROM krs_assessment k"
                    " WHERE k.is_current AND k.village_code LIKE :r || '.%'"
                ),
                {"r": REGENCY},
            )
        ).mappings()
        stored = [dict(h) for h in households]
        for h in stored:
            latest = await households_repo.conditions(session, h["household_id"], latest_only=True)
            members = await household_members(session, h["household_id"])
            expected = assessment_row(
                h["household_id"],
                h["village_code"],
                assess_krs(conditions_of(latest[0]), members, AS_OF),
            )
            got = {k: h[k] for k in ("is_target_family", "is_krs", "criteria", "reason")}
            got["criteria_met"] = sorted(h["criteria_met"])
            want = {k: expected[k] for k in ("is_target_family", "is_krs", "criteria", "reason")}
            want["criteria_met"] = sorted(expected["criteria_met"])
            if got != want:
                mismatches.append((h["household_id"], got, want))
        payloads = (
            await session.execute(
                text(
                    "SELECT payload FROM outbox_event WHERE type = 'person.registered'"
                    " AND region_code LIKE :r || '.%'"
                ),
                {"r": REGENCY},
            )
        ).scalars()
        by_person = {p["person_id"]: p for p in payloads}
        people = (
            await session.execute(
                text("SELECT p.* FROM person p WHERE p.village_code LIKE :r || '.%'"),
                {"r": REGENCY},
            )
        ).mappings()
        people = [dict(p) for p in people]
        events = await events_repo.events_of(session, [p["id"] for p in people])
        group_mismatches = []
        for p in people:
            life = events_repo.to_life_events(events.get(p["id"], []))
            want = orjson.loads(orjson.dumps(person_payload(p, life, AS_OF), default=str))
            got = by_person[str(p["id"])]
            if got != want:
                group_mismatches.append((p["id"], got, want))
    await engine.dispose()
    assert mismatches == []
    assert group_mismatches == []
    krs = sum(1 for h in stored if h["is_krs"])
    target = sum(1 for h in stored if h["is_target_family"])
    assert 0 < krs < target < HOUSEHOLDS


async def test_seeding_the_same_population_twice_is_refused(db_url, seeded):
    async with as_service(db_url, "registry") as conn:
        before = await _count(
            conn, "SELECT count(*) FROM household WHERE village_code LIKE $1 || '.%'"
        )
        with pytest.raises(SeedConflict):
            await seed_regency(conn, REGENCY, HOUSEHOLDS, seed=11, as_of=AS_OF)
        after = await _count(
            conn, "SELECT count(*) FROM household WHERE village_code LIKE $1 || '.%'"
        )
    assert after == before == HOUSEHOLDS


def test_seeded_families_through_the_api(client_for, seeded):
    _, population = seeded
    officer = client_for("regency_officer", REGENCY)
    page = officer.get("/v1/krs", params={"limit": 50}).json()
    assert page["items"] and page["next_cursor"]
    assert all(item["village_code"].startswith(REGENCY + ".") for item in page["items"])
    assert all(item["reason"]["en"].startswith("Family at risk") for item in page["items"])
    nik = next(n for n in population.persons.nik if n)
    found = officer.post("/v1/search/persons", json={"nik": nik}).json()["items"]
    assert len(found) == 1 and found[0]["nik"] == nik
    unsafe = officer.get("/v1/krs", params={"criterion": "unsafe_water", "limit": 500}).json()
    assert all("unsafe_water" in item["criteria_met"] for item in unsafe["items"])


def test_bulk_sealing_matches_common_pii():
    codec = pii_codec()
    values = ["6104164507990001", None, "6104160101010002"]
    sealed = codec.encrypt_many(values, NIK_CONTEXT)
    assert sealed[1] is None
    for value, token in zip(values, sealed, strict=True):
        if value is not None:
            assert decrypt_field(token, codec.keyring, context=NIK_CONTEXT) == value
    assert codec.hash_many("nik", values) == [
        lookup_hash("nik", v, codec.hash_key) if v else None for v in values
    ]


@pytest.mark.parametrize(
    ("condition", "index"),
    [
        (f"{NAME_TSV} @@ to_tsquery('simple', 'siti')", "person_name_tsv"),
        (
            f"p.merged_into IS NULL AND p.village_code = '61.11.01.2001'"
            f" AND {NAME_KEY} = 'sitiaminah'",
            "person_duplicate_key",
        ),
    ],
)
async def test_name_queries_use_the_expression_indexes(db_url, seeded, condition, index):
    """The queries' name expressions are the indexes' (migration registry_0008): a copy
    that drifted would turn every name search into a scan of the whole registry."""
    async with as_service(db_url, "registry") as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) SELECT p.id FROM person p WHERE {condition}"
        )
    assert index in plan


async def test_household_and_life_event_payloads_match_the_api(db_url, seeded):
    """The seed's JSON text is what the per-record API publishes, field for field."""
    engine = make_engine(service_url(db_url, "registry"), "registry")
    mismatches = []
    try:
        async with make_sessionmaker(engine)() as session:
            published = (
                await session.execute(
                    text(
                        "SELECT type, aggregate_id, payload::text AS payload FROM outbox_event"
                        " WHERE type IN ('household.registered', 'life_event.recorded')"
                        " AND region_code LIKE :r || '.%'"
                    ),
                    {"r": REGENCY},
                )
            ).all()
            assert len(published) > HOUSEHOLDS
            for kind, aggregate_id, payload in published:
                if kind == "household.registered":
                    row = await households_repo.get_household(session, aggregate_id, "")
                    want = await household_payload(session, row)
                else:
                    want = life_event_payload(
                        await events_repo.get_event(session, aggregate_id, "")
                    )
                want = orjson.loads(orjson.dumps(want, default=str))
                if orjson.loads(payload) != want:
                    mismatches.append((kind, aggregate_id, payload, want))
    finally:
        await engine.dispose()
    assert mismatches == []


_SCHEMA_SQL = """
    SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'registry'::regnamespace
    UNION ALL
    SELECT indexdef FROM pg_indexes WHERE schemaname = 'registry'
"""


async def test_suspended_keys_and_indexes_come_back_the_same(db_url):
    """What the bulk load drops (keys, indexes, foreign keys from and to its tables) its
    restore statements make again, definition for definition."""
    async with as_service(db_url, "registry") as conn:
        before = sorted(await conn.fetchval(f"SELECT array_agg(d) FROM ({_SCHEMA_SQL}) s(d)"))
        transaction = conn.transaction()
        await transaction.start()
        try:
            restore = await suspend_keys_and_indexes(conn)
            suspended = await conn.fetchval(f"SELECT count(*) FROM ({_SCHEMA_SQL}) s")
            for statement in restore:
                await conn.execute(statement)
            after = sorted(await conn.fetchval(f"SELECT array_agg(d) FROM ({_SCHEMA_SQL}) s(d)"))
        finally:
            await transaction.rollback()
    assert suspended < len(before) - 40
    assert after == before
