"""Applying a batch of the registry feed to the read models.

One read of the persons the batch touches, the person events in feed order in memory
(projection.py), then one set-based write per table, and one recount of the growth
periods the batch changed.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import local_date
from common.feed import FeedEvent
from services.reporting.feeds import growth, growth_status, krs_status
from services.reporting.feeds.projection import (
    PERSON_EVENTS,
    PersonState,
    Residence,
    Window,
    apply_life_event,
    apply_merge,
    apply_person_event,
    day,
    new_person,
    position_key,
)
from services.reporting.feeds.sql import run, sql_day

LIFE_EVENTS = frozenset({"life_event.recorded", "life_event.updated"})
MEASUREMENT_EVENTS = frozenset({"measurement.recorded", "measurement.corrected"})
HOUSEHOLD_EVENTS = frozenset({"household.registered", "household.updated"})
SITE_EVENTS = frozenset({"site.registered", "site.updated"})
LOKUS_EVENTS = frozenset({"lokus.designated", "lokus.revoked"})


def _person_ids(events: Iterable[FeedEvent]) -> list[str]:
    wanted = {
        str(e.payload["person_id"])
        for e in events
        if e.type in PERSON_EVENTS or e.type in LIFE_EVENTS or e.type == "person.merged"
    }
    return sorted(wanted)


async def load_persons(session: AsyncSession, ids: list[str]) -> dict[str, PersonState]:
    if not ids:
        return {}
    params = {"ids": ids}
    rows = await session.execute(
        text("SELECT * FROM person WHERE person_id = ANY(CAST(:ids AS uuid[]))"), params
    )
    states: dict[str, PersonState] = {}
    for r in rows.mappings():
        pid = str(r["person_id"])
        states[pid] = PersonState(
            person_id=pid,
            village_code=r["village_code"],
            household_id=str(r["household_id"]) if r["household_id"] else None,
            sex=r["sex"],
            birth_date=r["birth_date"],
            death_date=r["death_date"],
            relationship=r["relationship"],
            has_nik=r["has_nik"],
            has_birth_certificate=r["has_birth_certificate"],
            merged_into=str(r["merged_into"]) if r["merged_into"] else None,
            position=(r["pos_xid"], r["pos_id"]),
        )
    residences = await session.execute(
        text(
            "SELECT person_id, valid_from, village_code, household_id FROM person_residence"
            " WHERE person_id = ANY(CAST(:ids AS uuid[])) ORDER BY person_id, valid_from"
        ),
        params,
    )
    for r in residences.mappings():
        household = str(r["household_id"]) if r["household_id"] else None
        states[str(r["person_id"])].residence.append(
            Residence(r["valid_from"], r["village_code"], household)
        )
    windows = await session.execute(
        text(
            "SELECT person_id, target_group, start_date, end_date FROM person_target_window"
            " WHERE person_id = ANY(CAST(:ids AS uuid[]))"
        ),
        params,
    )
    for r in windows.mappings():
        states[str(r["person_id"])].windows.append(
            Window(r["target_group"], r["start_date"], r["end_date"])
        )
    return states


_UPSERT_PERSON = """
    INSERT INTO person (person_id, household_id, village_code, sex, birth_date, death_date,
                        relationship, has_nik, has_birth_certificate, merged_into, moved,
                        pos_xid, pos_id)
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        person_id uuid, household_id uuid, village_code text, sex smallint, birth_date date,
        death_date date, relationship smallint, has_nik boolean, has_birth_certificate boolean,
        merged_into uuid, moved boolean, pos_xid bigint, pos_id bigint)
    ON CONFLICT (person_id) DO UPDATE SET
        household_id = EXCLUDED.household_id, village_code = EXCLUDED.village_code,
        sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date, death_date = EXCLUDED.death_date,
        relationship = EXCLUDED.relationship, has_nik = EXCLUDED.has_nik,
        has_birth_certificate = EXCLUDED.has_birth_certificate,
        merged_into = EXCLUDED.merged_into, moved = EXCLUDED.moved,
        pos_xid = EXCLUDED.pos_xid, pos_id = EXCLUDED.pos_id
"""


async def write_persons(session: AsyncSession, states: list[PersonState]) -> None:
    if not states:
        return
    ids = [s.person_id for s in states]
    await run(
        session,
        _UPSERT_PERSON,
        [
            {
                "person_id": s.person_id,
                "household_id": s.household_id,
                "village_code": s.village_code,
                "sex": s.sex,
                "birth_date": sql_day(s.birth_date),
                "death_date": sql_day(s.death_date),
                "relationship": s.relationship,
                "has_nik": s.has_nik,
                "has_birth_certificate": s.has_birth_certificate,
                "merged_into": s.merged_into,
                "moved": s.moved,
                "pos_xid": s.position[0],
                "pos_id": s.position[1],
            }
            for s in states
        ],
    )
    await session.execute(
        text("DELETE FROM person_residence WHERE person_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": ids},
    )
    await run(
        session,
        "INSERT INTO person_residence (person_id, valid_from, village_code, household_id)"
        " SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
        " AS x(person_id uuid, valid_from date, village_code text, household_id uuid)",
        [
            {
                "person_id": s.person_id,
                "valid_from": sql_day(r.valid_from),
                "village_code": r.village_code,
                "household_id": r.household_id,
            }
            for s in states
            for r in s.residence
        ],
    )
    await session.execute(
        text("DELETE FROM person_target_window WHERE person_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": ids},
    )
    await run(
        session,
        "INSERT INTO person_target_window (person_id, target_group, start_date, end_date)"
        " SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
        " AS x(person_id uuid, target_group text, start_date date, end_date date)"
        " ON CONFLICT DO NOTHING",
        [
            {
                "person_id": s.person_id,
                "target_group": w.group,
                "start_date": sql_day(w.start),
                "end_date": sql_day(w.end),
            }
            for s in states
            for w in s.windows
        ],
    )


def _pos(event: FeedEvent) -> dict[str, int]:
    xid, seq = position_key(event.position)
    return {"pos_xid": xid, "pos_id": seq}


def household_row(event: FeedEvent) -> dict[str, Any]:
    p = event.payload
    conditions = p.get("conditions") or {}
    return {
        "household_id": p["household_id"],
        "village_code": p["village_code"],
        "active": bool(p.get("active", True)),
        "water_source": conditions.get("water_source"),
        "sanitation": conditions.get("sanitation"),
        "welfare_decile": conditions.get("welfare_decile"),
        "extreme_poverty": conditions.get("extreme_poverty"),
        **_pos(event),
    }


def krs_row(event: FeedEvent) -> dict[str, Any]:
    p = event.payload
    return {
        "household_id": p["household_id"],
        "village_code": p["village_code"],
        "assessed_on": sql_day(day(p.get("assessed_on")) or local_date(event.occurred_at)),
        "rule_set": p.get("rule_set"),
        "is_target_family": bool(p.get("is_target_family")),
        "is_krs": p.get("is_krs"),
        "criteria": p.get("criteria") or {},
        **_pos(event),
    }


def measurement_row(event: FeedEvent) -> dict[str, Any]:
    """The payload as it is (SQL reads the fields it needs) with the feed position."""
    return {**event.payload, **_pos(event)}


_UPSERT_HOUSEHOLD = """
    INSERT INTO household (household_id, village_code, active, water_source, sanitation,
                           welfare_decile, extreme_poverty, pos_xid, pos_id)
    SELECT DISTINCT ON (household_id) * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        household_id uuid, village_code text, active boolean, water_source text,
        sanitation text, welfare_decile smallint, extreme_poverty boolean,
        pos_xid bigint, pos_id bigint)
    ORDER BY household_id, pos_xid DESC, pos_id DESC
    ON CONFLICT (household_id) DO UPDATE SET
        village_code = EXCLUDED.village_code, active = EXCLUDED.active,
        water_source = EXCLUDED.water_source, sanitation = EXCLUDED.sanitation,
        welfare_decile = EXCLUDED.welfare_decile, extreme_poverty = EXCLUDED.extreme_poverty,
        pos_xid = EXCLUDED.pos_xid, pos_id = EXCLUDED.pos_id
    WHERE (household.pos_xid, household.pos_id) < (EXCLUDED.pos_xid, EXCLUDED.pos_id)
"""

_INSERT_KRS = """
    INSERT INTO krs_assessment (household_id, pos_xid, pos_id, village_code, assessed_on,
                                rule_set, is_target_family, is_krs, criteria)
    SELECT household_id, pos_xid, pos_id, village_code, assessed_on, rule_set,
           is_target_family, is_krs, criteria
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        household_id uuid, village_code text, assessed_on date, rule_set text,
        is_target_family boolean, is_krs boolean, criteria jsonb, pos_xid bigint, pos_id bigint)
    ON CONFLICT DO NOTHING
"""

_MEASUREMENT_COLUMNS = (
    "measurement_id uuid, person_id uuid, household_id uuid, village_code text, "
    "visit_date date, sex smallint, birth_date date, age_days integer, weight_kg float8, "
    "height_cm float8, measure text, oedema boolean, muac_cm float8, zlen float8, "
    "zwei float8, zwfl float8, zbmi float8, flen boolean, fwei boolean, fwfl boolean, "
    "fbmi boolean, class_len text, class_wei text, class_wfl text, class_bmi text, "
    "supersedes uuid, pos_xid bigint, pos_id bigint"
)
_MEASUREMENT_NAMES = [c.split()[0] for c in _MEASUREMENT_COLUMNS.split(", ")]
_FLAGS = {"oedema", "flen", "fwei", "fwfl", "fbmi"}
_MEASUREMENT_VALUES = ", ".join(
    f"coalesce(i.{n}, false)" if n in _FLAGS else f"i.{n}" for n in _MEASUREMENT_NAMES
)

# One statement: store the batch (a row superseded within the same batch is stored as
# superseded), mark the rows superseded earlier, and key every period touched, the old
# visit date of a row rewritten in place included, for the growth recount.
_WRITE_MEASUREMENTS = f"""
    WITH input AS (
        SELECT DISTINCT ON (measurement_id) *
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x({_MEASUREMENT_COLUMNS})
        ORDER BY measurement_id, pos_xid DESC, pos_id DESC
    ),
    replaced AS (SELECT DISTINCT supersedes AS id FROM input WHERE supersedes IS NOT NULL),
    old AS (
        SELECT m.person_id, m.visit_date FROM measurement m
        JOIN input i ON i.measurement_id = m.measurement_id
    ),
    stored AS (
        INSERT INTO measurement ({", ".join(_MEASUREMENT_NAMES)}, superseded)
        SELECT {_MEASUREMENT_VALUES}, i.measurement_id IN (SELECT id FROM replaced)
        FROM input i
        ON CONFLICT (measurement_id) DO UPDATE SET
            {", ".join(f"{n} = EXCLUDED.{n}" for n in _MEASUREMENT_NAMES[1:])}
        WHERE (measurement.pos_xid, measurement.pos_id) < (EXCLUDED.pos_xid, EXCLUDED.pos_id)
        RETURNING person_id, visit_date
    ),
    marked AS (
        UPDATE measurement SET superseded = true
        WHERE measurement_id IN (SELECT id FROM replaced) AND NOT superseded
        RETURNING person_id, visit_date
    ),
    touched AS (
        SELECT person_id, visit_date FROM old
        UNION SELECT person_id, visit_date FROM stored
        UNION SELECT person_id, visit_date FROM marked
    )
    {growth.keys_from_visits("touched")}
"""


_UPSERT_SITE = """
    INSERT INTO site (site_id, village_code, name, established_on, maturity_level,
                      pos_xid, pos_id)
    SELECT DISTINCT ON (site_id) site_id, village_code, name, established_on, maturity_level,
           pos_xid, pos_id
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        site_id uuid, village_code text, name text, established_on date, maturity_level text,
        pos_xid bigint, pos_id bigint)
    ORDER BY site_id, pos_xid DESC, pos_id DESC
    ON CONFLICT (site_id) DO UPDATE SET
        village_code = EXCLUDED.village_code, name = EXCLUDED.name,
        established_on = EXCLUDED.established_on, maturity_level = EXCLUDED.maturity_level,
        pos_xid = EXCLUDED.pos_xid, pos_id = EXCLUDED.pos_id
    WHERE (site.pos_xid, site.pos_id) < (EXCLUDED.pos_xid, EXCLUDED.pos_id)
"""

# A level history sent with the event replaces the one kept; otherwise the level in the
# event holds from the event's day (or from establishment, for a new site).
_SITE_LEVELS = """
    INSERT INTO site_level (site_id, effective_on, level)
    SELECT site_id, effective_on, level FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS x(site_id uuid, effective_on date, level text)
    ON CONFLICT (site_id, effective_on) DO UPDATE SET level = EXCLUDED.level
"""


def site_rows(event: FeedEvent) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """The site row, its level rows, and whether those are its whole history."""
    p = event.payload
    established = day(p.get("established_on"))
    site = {
        "site_id": p["site_id"],
        "village_code": p["village_code"],
        "name": p.get("name"),
        "established_on": sql_day(established),
        "maturity_level": p.get("maturity_level"),
        **_pos(event),
    }
    history = p.get("maturity_history")
    if history:
        levels = [
            {
                "site_id": p["site_id"],
                "effective_on": sql_day(day(h.get("effective_date") or h.get("effective_on"))),
                "level": h["level"],
            }
            for h in history
        ]
        return site, levels, True
    if not p.get("maturity_level"):
        return site, [], False
    since = local_date(event.occurred_at)
    if event.type == "site.registered" and established is not None:
        since = established
    level = {"site_id": p["site_id"], "effective_on": sql_day(since), "level": p["maturity_level"]}
    return site, [level], False


def lokus_row(event: FeedEvent) -> dict[str, Any]:
    p = event.payload
    return {
        "village_code": p["village_code"],
        "year": int(p["year"]),
        "decree_number": p.get("decree_number"),
        "decree_date": sql_day(day(p.get("decree_date"))),
        "revoked": event.type == "lokus.revoked",
        **_pos(event),
    }


_UPSERT_LOKUS = """
    INSERT INTO lokus (village_code, year, decree_number, decree_date, revoked, pos_xid, pos_id)
    SELECT DISTINCT ON (village_code, year) village_code, year, decree_number, decree_date,
           revoked, pos_xid, pos_id
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
        village_code text, year smallint, decree_number text, decree_date date,
        revoked boolean, pos_xid bigint, pos_id bigint)
    ORDER BY village_code, year, pos_xid DESC, pos_id DESC
    ON CONFLICT (village_code, year) DO UPDATE SET
        decree_number = coalesce(EXCLUDED.decree_number, lokus.decree_number),
        decree_date = coalesce(EXCLUDED.decree_date, lokus.decree_date),
        revoked = EXCLUDED.revoked, pos_xid = EXCLUDED.pos_xid, pos_id = EXCLUDED.pos_id
    WHERE (lokus.pos_xid, lokus.pos_id) < (EXCLUDED.pos_xid, EXCLUDED.pos_id)
"""


async def apply_registry_batch(session: AsyncSession, events: list[FeedEvent]) -> None:
    # Many small index-driven statements whose estimates (without statistics on a fresh
    # read model) cross jit_above_cost: compiling cost 0.25 s where running took 16 ms.
    await session.execute(text("SET LOCAL jit = off"))
    states = await load_persons(session, _person_ids(events))
    changed: dict[str, PersonState] = {}
    households: list[dict[str, Any]] = []
    assessments: list[dict[str, Any]] = []
    measurements: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    levels: list[dict[str, Any]] = []
    replaced_histories: list[str] = []
    lokus: list[dict[str, Any]] = []
    for event in events:
        kind, p = event.type, event.payload
        if kind in PERSON_EVENTS or kind in LIFE_EVENTS or kind == "person.merged":
            pid = str(p["person_id"])
            state = states.setdefault(pid, new_person(pid, p["village_code"]))
            if kind in PERSON_EVENTS:
                applied = apply_person_event(state, kind, p, event.position, event.occurred_at)
            elif kind in LIFE_EVENTS:
                applied = apply_life_event(state, p, event.position)
            else:
                applied = apply_merge(state, p, event.position)
            if applied:
                changed[pid] = state
        elif kind in HOUSEHOLD_EVENTS:
            households.append(household_row(event))
        elif kind == "krs.assessed":
            assessments.append(krs_row(event))
        elif kind in MEASUREMENT_EVENTS:
            measurements.append(measurement_row(event))
        elif kind in SITE_EVENTS:
            site, site_levels, whole = site_rows(event)
            sites.append(site)
            levels += site_levels
            if whole:
                replaced_histories.append(site["site_id"])
        elif kind in LOKUS_EVENTS:
            lokus.append(lokus_row(event))

    await write_persons(session, list(changed.values()))
    await run(session, _UPSERT_HOUSEHOLD, households)
    await run(session, _INSERT_KRS, assessments)
    await krs_status.refresh(session, [a["household_id"] for a in assessments])
    await growth.prepare(session)
    await run(session, _WRITE_MEASUREMENTS, measurements)
    if measurements:
        await growth_status.refresh_touched(session)
    await run(session, _UPSERT_SITE, sites)
    if replaced_histories:
        await session.execute(
            text("DELETE FROM site_level WHERE site_id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": sorted(set(replaced_histories))},
        )
    await run(session, _SITE_LEVELS, _last_level_per_day(levels))
    await run(session, _UPSERT_LOKUS, lokus)
    moved = [s.person_id for s in changed.values() if s.residence_changed]
    await growth.recompute(session, moved)


def _last_level_per_day(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (site, day), the last written winning (ON CONFLICT cannot hit twice)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in levels:
        latest[(row["site_id"], row["effective_on"])] = row
    return list(latest.values())
