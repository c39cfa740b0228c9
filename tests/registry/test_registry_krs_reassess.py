"""The set-based KRS reassessment (risk/bulk.py, ``kkb krs reassess``) gives, for every
household, what the per-household ``reassess_household`` gives, on a population varied
beyond what the seed makes (deaths, moves, an emptied household, later marriages,
closed and open pregnancies, unknown conditions and education), and publishes
``krs.assessed`` only for the families whose assessment changed."""

import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from typing import Any

import orjson
import pytest

from common.clock import today
from common.db import make_engine, make_sessionmaker
from kkb import database
from kkb.bootstrap import as_service
from kkb.database import service_url
from services.registry.persons.nik_rules import new_provisional_id
from services.registry.risk.bulk import UnknownRegion, reassess_region
from services.registry.risk.service import assessment_payload, reassess_household
from services.registry.seed.loader import seed_regency

REGENCY = "61.06"  # Kapuas Hulu: no other test writes there
HOUSEHOLDS = 240
SEEDED_ON = date(2025, 3, 10)
# A village of another untouched regency, for hand-made families.
SMALL_REGENCY = "61.03"

_VARIATIONS = [
    # Deaths: some young children (two years after birth, or a month after the seed
    # date) and some wives; the membership ends with the death, as the API does.
    """
    CREATE TEMP TABLE died ON COMMIT DROP AS
    SELECT id, LEAST(birth_date + 730, CAST($1 AS date) + 30) AS death_date FROM (
        SELECT p.id, p.birth_date, m.relationship,
               row_number() OVER (PARTITION BY m.relationship ORDER BY p.id) AS n
        FROM person p JOIN household_membership m ON m.person_id = p.id
        WHERE p.village_code LIKE '61.06.%' AND m.end_reason IS NULL
          AND (m.relationship = 3 OR (m.relationship = 4 AND p.birth_date > $1 - 2200))
    ) x WHERE (relationship = 4 AND n % 6 = 0) OR (relationship = 3 AND n % 15 = 0)
    UNION
    -- The youngest of four or more children, in every other such family: "terlalu
    -- banyak" counts the living.
    SELECT id, LEAST(birth_date + 730, CAST($1 AS date) + 30) FROM (
        SELECT p.id, p.birth_date,
               row_number() OVER (PARTITION BY m.household_id ORDER BY p.birth_date DESC) AS k,
               count(*) OVER (PARTITION BY m.household_id) AS children,
               dense_rank() OVER (ORDER BY m.household_id) AS family
        FROM person p JOIN household_membership m ON m.person_id = p.id
        WHERE p.village_code LIKE '61.06.%' AND m.end_reason IS NULL AND m.relationship = 4
    ) y WHERE children >= 4 AND k = 1 AND family % 2 = 0
    """,
    "UPDATE person p SET death_date = d.death_date FROM died d WHERE p.id = d.id",
    """
    UPDATE household_membership m SET end_date = d.death_date, end_reason = 'died'
    FROM died d WHERE m.person_id = d.id AND m.end_reason IS NULL
    """,
    # Moves: some children and wives go to the next household of the regency (keeping
    # their mother link), and every member of one household leaves it.
    """
    CREATE TEMP TABLE hh ON COMMIT DROP AS
    SELECT id, village_code, row_number() OVER (ORDER BY id) AS n,
           lead(id) OVER (ORDER BY id) AS next_id,
           lead(village_code) OVER (ORDER BY id) AS next_village
    FROM household WHERE village_code LIKE '61.06.%'
    """,
    """
    CREATE TEMP TABLE moved ON COMMIT DROP AS
    SELECT m.person_id, hh.next_id AS household_id, hh.next_village AS village_code,
           m.relationship
    FROM household_membership m JOIN hh ON hh.id = m.household_id
    JOIN person p ON p.id = m.person_id
    WHERE m.end_reason IS NULL AND hh.next_id IS NOT NULL
      AND (hh.n = 7 OR (hh.n % 9 = 0 AND m.relationship IN (3, 4, 6)
                        AND get_byte(uuid_send(p.id), 15) % 3 = 0))
    """,
    """
    UPDATE household_membership m SET end_date = CAST($1 AS date) + 10, end_reason = 'moved'
    FROM moved v WHERE m.person_id = v.person_id AND m.end_reason IS NULL
    """,
    """
    INSERT INTO household_membership (id, person_id, household_id, relationship, start_date)
    SELECT gen_random_uuid(), person_id, household_id, relationship, CAST($1 AS date) + 10
    FROM moved
    """,
    """
    UPDATE person p SET household_id = v.household_id, village_code = v.village_code,
        relationship = v.relationship
    FROM moved v WHERE p.id = v.person_id
    """,
    # Daughters who marry later (not married before that date), and wives whose
    # marriage date is known.
    """
    UPDATE person p SET marital_status = 2, marital_status_since = CAST($1 AS date) + 120
    FROM household_membership m
    WHERE m.person_id = p.id AND m.end_reason IS NULL AND m.relationship = 4 AND p.sex = 2
      AND p.birth_date BETWEEN $1 - 11000 AND $1 - 7400
    """,
    """
    UPDATE person p SET marital_status_since = p.birth_date + 7000
    FROM household_membership m
    WHERE m.person_id = p.id AND m.relationship = 3 AND p.village_code LIKE '61.06.%'
      AND get_byte(uuid_send(p.id), 15) % 4 = 0
    """,
    # Pregnancies: closed by a birth or a miscarriage, and open ones starting later.
    """
    INSERT INTO life_event (id, person_id, household_id, village_code, kind, start_date,
                            end_date, expected_date, outcome)
    SELECT gen_random_uuid(), p.id, p.household_id, p.village_code, 'pregnancy',
           CAST($1 AS date) - 100 + (get_byte(uuid_send(p.id), 14) % 200),
           CASE WHEN get_byte(uuid_send(p.id), 15) % 3 = 0 THEN NULL
                ELSE CAST($1 AS date) + 60 + (get_byte(uuid_send(p.id), 13) % 300) END,
           CAST($1 AS date) + 180,
           CASE WHEN get_byte(uuid_send(p.id), 15) % 3 = 1 THEN 'live_birth'
                WHEN get_byte(uuid_send(p.id), 15) % 3 = 2 THEN 'miscarriage' END
    FROM person p JOIN household_membership m ON m.person_id = p.id
    WHERE m.end_reason IS NULL AND p.sex = 2 AND p.village_code LIKE '61.06.%'
      AND p.birth_date BETWEEN $1 - 14000 AND $1 - 5800
      AND get_byte(uuid_send(p.id), 12) % 5 = 0
    """,
    # Unmarried pregnant teenage daughters (wives of the family while pregnant): births
    # around the 200th day after the seed date.
    """
    INSERT INTO life_event (id, person_id, household_id, village_code, kind, start_date,
                            end_date, expected_date, outcome)
    SELECT gen_random_uuid(), p.id, p.household_id, p.village_code, 'pregnancy',
           CAST($1 AS date) - 60, CAST($1 AS date) + 195 + get_byte(uuid_send(p.id), 15) % 10,
           CAST($1 AS date) + 200, 'live_birth'
    FROM person p JOIN household_membership m ON m.person_id = p.id
    WHERE m.end_reason IS NULL AND m.relationship = 4 AND p.sex = 2
      AND p.marital_status = 1 AND p.village_code LIKE '61.06.%'
      AND p.birth_date BETWEEN $1 - 7300 AND $1 - 5200
    """,
    # Twins, and births a day apart (one delivery either way).
    """
    UPDATE person p SET birth_date = s.birth_date + CAST(s.n % 2 AS integer)
    FROM (SELECT c.id, lag(c.birth_date) OVER w AS birth_date, row_number() OVER w AS n
          FROM person c JOIN household_membership m ON m.person_id = c.id
          WHERE m.relationship = 4 AND c.village_code LIKE '61.06.%' AND m.end_reason IS NULL
          WINDOW w AS (PARTITION BY m.household_id ORDER BY c.birth_date)) s
    WHERE p.id = s.id AND s.birth_date IS NOT NULL AND get_byte(uuid_send(p.id), 15) % 5 = 0
    """,
    # Unknown education; unknown conditions; a later observation in odd spelling, and an
    # older one that must not count.
    """
    UPDATE person SET education = NULL
    WHERE village_code LIKE '61.06.%' AND get_byte(uuid_send(id), 11) % 4 = 0
    """,
    """
    DELETE FROM household_condition c USING hh
    WHERE c.household_id = hh.id AND hh.n % 10 = 3
    """,
    """
    INSERT INTO household_condition (household_id, observed_date, water_source, sanitation,
                                     house_condition, welfare_decile)
    SELECT id, CAST($1 AS date) + 5, ' Surface_Water', 'OWN_SEPTIC', 'Unfit', NULL
    FROM hh WHERE n % 10 = 4
    UNION ALL
    SELECT id, CAST($1 AS date) - 400, 'piped', 'no_latrine', 'fit', 1
    FROM hh WHERE n % 10 = 5
    UNION ALL
    SELECT id, CAST($1 AS date) + 5, 'not_a_code', NULL, NULL, 9
    FROM hh WHERE n % 10 = 6
    """,
    # A closed household: not reassessed in bulk.
    "UPDATE household h SET active = false FROM hh WHERE h.id = hh.id AND hh.n = 11",
]


@pytest.fixture(scope="module")
async def varied(db_url):
    async with as_service(db_url, "registry") as conn:
        await seed_regency(conn, REGENCY, HOUSEHOLDS, seed=6, as_of=SEEDED_ON)
        async with conn.transaction():
            for statement in _VARIATIONS:
                if "$1" in statement:
                    await conn.execute(statement.replace("$1", "$1::date"), SEEDED_ON)
                else:
                    await conn.execute(statement)
        facts = await conn.fetchrow(
            """
            SELECT count(*) FILTER (WHERE end_reason = 'died') AS died,
                   count(*) FILTER (WHERE end_reason = 'moved') AS moved
            FROM household_membership m JOIN household h ON h.id = m.household_id
            WHERE h.village_code LIKE '61.06.%'
            """
        )
    assert facts["died"] > 10 and facts["moved"] > 10
    return facts


async def _current(conn, region: str) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT k.household_id, k.village_code, k.rule_set, k.is_target_family, k.is_krs,
               k.criteria::text AS criteria, k.criteria_met, k.reason::text AS reason,
               k.assessed_on
        FROM krs_assessment k JOIN household h ON h.id = k.household_id
        WHERE k.is_current AND h.active AND h.village_code LIKE $1 || '.%'
        """,
        region,
    )
    return {
        r["household_id"]: {
            **dict(r),
            "criteria": orjson.loads(r["criteria"]),
            "reason": orjson.loads(r["reason"]),
            "criteria_met": sorted(r["criteria_met"]),
        }
        for r in rows
    }


async def _published_since(conn, last_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT aggregate_id, region_code, payload::text AS payload FROM outbox_event
        WHERE type = 'krs.assessed' AND id > $1 ORDER BY id
        """,
        last_id,
    )
    return [{**dict(r), "payload": orjson.loads(r["payload"])} for r in rows]


async def _reassess_each(db_url: str, household_ids, as_of: date) -> dict[uuid.UUID, dict]:
    """What ``reassess_household`` stores and publishes for each, rolled back after."""
    engine = make_engine(service_url(db_url, "registry"), "registry")
    found = {}
    try:
        async with make_sessionmaker(engine)() as session:
            for household_id in household_ids:
                row = await reassess_household(session, household_id, as_of)
                found[household_id] = {
                    **row,
                    "criteria_met": sorted(row["criteria_met"]),
                    "payload": orjson.loads(orjson.dumps(assessment_payload(row), default=str)),
                }
            await session.rollback()
    finally:
        await engine.dispose()
    return found


_COMPARED = ("village_code", "rule_set", "is_target_family", "is_krs", "criteria")


@pytest.mark.parametrize("days", [0, 200, 800, 1900])
async def test_bulk_reassessment_matches_the_per_household_rules(db_url, varied, days):
    as_of = SEEDED_ON + timedelta(days=days)
    async with as_service(db_url, "registry") as conn:
        before = await _current(conn, REGENCY)
        last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox_event")
        result = await reassess_region(conn, as_of, REGENCY)
        after = await _current(conn, REGENCY)
        published = await _published_since(conn, last_id)
        active = await conn.fetchval(
            "SELECT count(*) FROM household WHERE active AND village_code LIKE '61.06.%'"
        )
    assert result.households == active == len(after) == HOUSEHOLDS - 1

    expected = await _reassess_each(db_url, list(after), as_of)
    mismatches = [
        (h, {k: after[h][k] for k in (*_COMPARED, "criteria_met", "reason")}, want)
        for h, want in (
            (h, {k: e[k] for k in (*_COMPARED, "criteria_met", "reason")})
            for h, e in expected.items()
        )
        if {k: after[h][k] for k in (*_COMPARED, "criteria_met", "reason")} != want
    ]
    assert mismatches == []

    # Published: exactly the families whose assessment changed, with the per-household
    # path's payload; the others keep their earlier assessment.
    changed = {
        h for h in after if h not in before or any(before[h][k] != after[h][k] for k in _COMPARED)
    }
    assert result.changed == len(changed) == len(published)
    assert {e["aggregate_id"] for e in published} == changed
    for event in published:
        want = expected[event["aggregate_id"]]["payload"]
        assert event["payload"] == want
        assert event["region_code"] == want["village_code"]
    assert all(after[h]["assessed_on"] == as_of for h in changed)
    assert all(
        after[h]["assessed_on"] == before[h]["assessed_on"] for h in after if h not in changed
    )
    if days:
        assert changed, "ages and windows moved: some families must change"
    assert 0 < result.krs_families < result.target_families < result.households


async def test_reassessing_the_same_day_again_changes_nothing(db_url, varied):
    as_of = SEEDED_ON + timedelta(days=300)
    async with as_service(db_url, "registry") as conn:
        await reassess_region(conn, as_of, REGENCY)
        last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox_event")
        again = await reassess_region(conn, as_of, REGENCY)
        assert again.changed == 0
        assert await _published_since(conn, last_id) == []


# --- a hand-made family across a child's second and fifth birthdays -----------------


async def _family(conn, village: str, child_birth: date) -> uuid.UUID:
    """A widowed grandmother (no PUS wife) raising a grandchild, unsafe water: a target
    family (and KRS) only while the child is under five."""
    household_id = uuid.uuid4()
    await conn.execute(
        """
        INSERT INTO household (id, kk_number_enc, kk_hash, village_code)
        VALUES ($1, 'test', $2, $3)
        """,
        household_id,
        f"test-{household_id}",
        village,
    )
    await conn.execute(
        """
        INSERT INTO household_condition (household_id, observed_date, water_source,
                                         sanitation, house_condition, welfare_decile)
        VALUES ($1, '2019-01-01', 'surface_water', 'own_septic', 'fit', 6)
        """,
        household_id,
    )
    for sex, birth, relationship, marital in (
        (2, date(1966, 4, 2), 1, 4),
        (1, child_birth, 6, 1),
    ):
        person_id = uuid.uuid4()
        await conn.execute(
            """
            INSERT INTO person (id, provisional_id, full_name, sex, birth_date, education,
                                marital_status, household_id, relationship, village_code)
            VALUES ($1, $2, 'Sintetis Uji', $3, $4, 4, $5, $6, $7, $8)
            """,
            person_id,
            new_provisional_id(person_id),
            sex,
            birth,
            marital,
            household_id,
            relationship,
            village,
        )
        await conn.execute(
            """
            INSERT INTO household_membership (id, person_id, household_id, relationship,
                                              start_date)
            VALUES ($1, $2, $3, $4, $5)
            """,
            uuid.uuid4(),
            person_id,
            household_id,
            relationship,
            birth,
        )
    return household_id


async def test_a_child_turning_five_changes_the_family_after_the_daily_run(db_url):
    async with as_service(db_url, "registry") as conn:
        village = await conn.fetchval(
            "SELECT min(code) FROM region WHERE level = 'village' AND code LIKE $1 || '.%'",
            SMALL_REGENCY,
        )
        # Born on 29 February: the birthdays fall on 28 February in common years, as
        # add_months says.
        household_id = await _family(conn, village, date(2024, 2, 29))

        async def run(on: date) -> tuple[dict, list[dict]]:
            last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox_event")
            await reassess_region(conn, on, village)
            current = (await _current(conn, SMALL_REGENCY))[household_id]
            return current, await _published_since(conn, last_id)

        first, events = await run(date(2026, 2, 27))
        assert (first["is_target_family"], first["is_krs"]) == (True, True)
        assert first["criteria_met"] == ["unsafe_water"]
        assert len(events) == 1

        # Two years old: no longer baduta but still balita; the family's assessment
        # does not change, so nothing is stored or published.
        second, events = await run(date(2026, 2, 28))
        assert events == []
        assert second["assessed_on"] == date(2026, 2, 27)

        still, events = await run(date(2029, 2, 27))
        assert (still["is_target_family"], still["is_krs"], events) == (True, True, [])

        # Five years old: not a target family any more, so not KRS; published once.
        fifth, events = await run(date(2029, 2, 28))
        assert (fifth["is_target_family"], fifth["is_krs"]) == (False, False)
        assert fifth["reason"]["en"] == "Not a target family."
        assert [e["payload"]["is_target_family"] for e in events] == [False]
        assert events[0]["payload"]["assessed_on"] == "2029-02-28"

    per_household = await _reassess_each(db_url, [household_id], date(2029, 2, 28))
    assert per_household[household_id]["is_krs"] is False


async def test_unknown_region_and_uncovered_date_are_refused(db_url):
    async with as_service(db_url, "registry") as conn:
        with pytest.raises(UnknownRegion):
            await reassess_region(conn, date(2025, 1, 1), "61.99")
        with pytest.raises(LookupError):
            await reassess_region(conn, date(2023, 12, 31), REGENCY)


def _kkb(db_url: str, *args: str) -> subprocess.CompletedProcess:
    server = database.with_database(db_url, "postgres")
    env = {**os.environ, "DATABASE_URL": server, "KKB_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kkb",
            "krs",
            "reassess",
            *args,
            "--db",
            database.database_of(db_url),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_kkb_krs_reassess(db_url):
    done = _kkb(db_url, "--regency", SMALL_REGENCY)
    assert done.returncode == 0, done.stderr
    assert f"of {SMALL_REGENCY} as of {today()}" in done.stdout

    unknown = _kkb(db_url, "--regency", "61.99")
    assert unknown.returncode == 1
    assert "no regency '61.99'" in unknown.stderr

    district = _kkb(db_url, "--regency", "61.03.01")
    assert district.returncode == 1 and "not a regency" in district.stderr

    impossible = _kkb(db_url, "--as-of", "2025-02-30")
    assert impossible.returncode == 2
    assert "not a date: '2025-02-30'" in impossible.stderr

    future = _kkb(db_url, "--as-of", (today() + timedelta(days=1)).isoformat())
    assert future.returncode == 1 and "in the future" in future.stderr

    uncovered = _kkb(db_url, "--as-of", "2020-01-01")
    assert uncovered.returncode == 1 and "no KRS rule set" in uncovered.stderr
