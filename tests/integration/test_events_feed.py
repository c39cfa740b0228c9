"""/v1/events through the real gateway: the registry's and interventions' feeds merged,
filtered by region and by what the client's scopes may read, masked without pii:read."""

import asyncio
import random
import re
import threading
import time

import httpx
import pytest

from common.db import make_engine
from common.feed import emit
from kkb.database import service_url
from tests.auth_helpers import system_client
from tests.integration.conftest import FEED_WAIT_S
from tests.integration.feed_client import read_until_caught_up
from tests.integration.producers import (
    delivery,
    emit_direct,
    measurement,
    merged_person,
    raw_feed,
    register_family,
    wait_until,
)

REGION = "61.04.02"
VILLAGE = "61.04.02.2001"
OTHER_PROVINCE_VILLAGE = "62.01.01.1011"
# By hand from the scope table (common/permissions.py, DOMAIN.md "Roles").
REGISTRY_READ_FAMILIES = {"household", "person", "life_event", "krs", "site", "lokus"}
GROWTH_READ_FAMILIES = {"measurement"}
INTERVENTIONS_READ_FAMILIES = {"delivery", "referral", "tpk", "target"}
ENVELOPE_KEYS = {"id", "type", "occurred_at", "region_code", "subject", "data"}


def _family(event_type: str) -> str:
    return event_type.split(".")[0]


@pytest.fixture(scope="module")
def produced(hooks):
    """One family in Marau (61.04.02) and one in Kotawaringin Barat (62.01) through the
    registry API; measurements, deliveries and a merge written into the outboxes."""
    with (
        system_client(hooks.stack, hooks.db_url, ["registry:write"], REGION) as w61,
        system_client(hooks.stack, hooks.db_url, ["registry:write"], "62.01") as w62,
    ):
        family = register_family(w61, VILLAGE)
        family_62 = register_family(w62, OTHER_PROVINCE_VILLAGE)
    named = measurement(VILLAGE, full_name="Ani Sintetis", address="Jl. X", nik="6104")
    registry_ids = emit_direct(
        hooks.db_url,
        "registry",
        [
            named,
            measurement(OTHER_PROVINCE_VILLAGE),
            merged_person(VILLAGE),
        ],
    )
    interventions_ids = emit_direct(
        hooks.db_url, "interventions", [delivery(VILLAGE), delivery(OTHER_PROVINCE_VILLAGE)]
    )
    raw = {}
    expected_ids = set(registry_ids) | set(interventions_ids)

    def all_raw_visible() -> bool:
        raw.clear()
        for service in ("registry", "interventions"):
            raw.update({e["event_id"]: e for e in raw_feed(hooks.stack, service)})
        subjects = {e["aggregate_id"] for e in raw.values()}
        return expected_ids <= raw.keys() and {family["id"], family_62["id"]} <= subjects

    wait_until(all_raw_visible, FEED_WAIT_S, "the produced events on the internal feeds")
    return {
        "family": family,
        "raw": raw,
        "named_measurement": registry_ids[0],
        "measurement_62": registry_ids[1],
        "merge": registry_ids[2],
        "delivery_62": interventions_ids[1],
    }


def _expected(raw: dict, region: str, families: set[str]) -> set[str]:
    return {
        i
        for i, e in raw.items()
        if (e["region_code"] == region or e["region_code"].startswith(region + "."))
        and _family(e["type"]) in families
    }


def _seen(hooks, scopes: list[str], region: str = REGION, **headers: str) -> dict[str, dict]:
    with system_client(hooks.stack, hooks.db_url, ["events:read", *scopes], region) as client:
        events, _ = read_until_caught_up(client, **headers)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "an event was served twice"
    return {e["id"]: e for e in events}


@pytest.mark.parametrize(
    ("scopes", "families"),
    [
        (["registry:read"], REGISTRY_READ_FAMILIES),
        (["growth:read"], GROWTH_READ_FAMILIES),
        (["interventions:read"], INTERVENTIONS_READ_FAMILIES),
        (
            ["registry:read", "growth:read", "interventions:read"],
            REGISTRY_READ_FAMILIES | GROWTH_READ_FAMILIES | INTERVENTIONS_READ_FAMILIES,
        ),
    ],
)
def test_each_client_sees_exactly_its_region_and_types(hooks, produced, scopes, families):
    seen = _seen(hooks, scopes)
    expected = _expected(produced["raw"], REGION, families)
    assert expected, "the fixture produced events of these kinds"
    # Events produced after the fixture (by other tests) may follow; none may be missing.
    assert expected <= seen.keys()
    for event in seen.values():
        assert event["region_code"].startswith(REGION + ".")
        assert _family(event["type"]) in families


def test_other_province_is_never_seen(hooks, produced):
    seen = _seen(hooks, ["registry:read", "growth:read", "interventions:read"], region="61")
    assert produced["measurement_62"] not in seen
    assert produced["delivery_62"] not in seen
    assert not [e for e in seen.values() if e["region_code"].startswith("62")]
    assert produced["named_measurement"] in seen  # the province sees its own


def test_public_envelope_and_masking(hooks, produced):
    seen = _seen(hooks, ["registry:read", "growth:read"])
    raw = produced["raw"]
    persons = [e for e in seen.values() if e["type"] == "person.registered"]
    assert len(persons) == 3  # the family's three members
    for event in seen.values():
        source = raw.get(event["id"])
        if source is None:
            continue
        assert set(event) == ENVELOPE_KEYS
        assert event["subject"] == {"type": source["aggregate_type"], "id": source["aggregate_id"]}
        assert event["type"] == source["type"]
        assert event["region_code"] == source["region_code"]
    for person in persons:
        full = raw[person["id"]]["payload"]["birth_date"]
        assert re.fullmatch(r"\d{4}-\d{2}", person["data"]["birth_date"])
        assert person["data"]["birth_date"] == full[:7]
        assert "full_name" not in person["data"]
    named = seen[produced["named_measurement"]]["data"]
    assert named["birth_date"] == "2024-09"
    assert not {"full_name", "address", "nik"} & named.keys()
    assert named["zlen"] == -2.31  # the rest passes through


def test_pii_client_sees_full_dates_only_with_a_purpose_and_is_audited(hooks, produced):
    scopes = ["growth:read", "pii:read"]
    masked = _seen(hooks, scopes)
    assert masked[produced["named_measurement"]]["data"]["birth_date"] == "2024-09"
    with system_client(hooks.stack, hooks.db_url, ["events:read", *scopes], REGION) as client:
        events, _ = read_until_caught_up(client, **{"X-KKB-Purpose": "service_delivery"})
        me = client.get("/v1/me").json()
    unmasked = {e["id"]: e for e in events}[produced["named_measurement"]]["data"]
    assert unmasked["birth_date"] == "2024-09-17"
    assert unmasked["full_name"] == "Ani Sintetis"
    audited = _audit_rows(hooks.db_url, me["sub"])
    assert any(produced["named_measurement"] in r["record_ids"] for r in audited)
    assert all(r["purpose"] == "service_delivery" and "birth_date" in r["fields"] for r in audited)


def _audit_rows(db_url: str, actor: str) -> list[dict]:
    import asyncio

    from kkb import database

    async def rows() -> list[dict]:
        conn = await database.connect(db_url)
        try:
            found = await conn.fetch(
                "SELECT record_ids, purpose, fields FROM gateway.audit_entry"
                " WHERE actor = $1 AND operation = 'events.read'",
                actor,
            )
            return [dict(r) for r in found]
        finally:
            await conn.close()

    return asyncio.run(rows())


def test_merge_tombstone_passes_through(hooks, produced):
    seen = _seen(hooks, ["registry:read"])
    tombstone = seen[produced["merge"]]
    raw = produced["raw"][produced["merge"]]["payload"]
    assert tombstone["type"] == "person.merged"
    assert tombstone["data"] == raw
    assert tombstone["subject"]["id"] == raw["person_id"]


def test_cursor_resumes_without_repeats(hooks, produced):
    with system_client(
        hooks.stack, hooks.db_url, ["events:read", "registry:read"], REGION
    ) as client:
        first, cursor = read_until_caught_up(client)
        assert first
        again, _ = read_until_caught_up(client, cursor)
        assert not {e["id"] for e in again} & {e["id"] for e in first}
        with system_client(hooks.stack, hooks.db_url, ["registry:write"], REGION) as writer:
            family = register_family(writer, VILLAGE)
        member_ids = {m["id"] for m in family["members"]}

        def new_persons() -> set[str]:
            events, _ = read_until_caught_up(client, cursor)
            return {e["subject"]["id"] for e in events if e["type"] == "person.registered"}

        assert wait_until(lambda: new_persons() >= member_ids, FEED_WAIT_S, "the new events")


def test_bad_cursor_and_missing_scope(hooks):
    with system_client(hooks.stack, hooks.db_url, ["events:read"], REGION) as client:
        resp = client.get("/v1/events", params={"after": "not-a-cursor"})
        assert resp.status_code == 400
        assert resp.json()["code"] == "invalid_cursor"
    with system_client(hooks.stack, hooks.db_url, ["registry:read"], REGION) as client:
        resp = client.get("/v1/events")
        assert resp.status_code == 403
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{hooks.gateway}/v1/events").status_code == 401


def test_out_of_order_commits_in_both_sources_are_served_once(hooks):
    """Writers in both services commit out of order (a long transaction first) while a
    consumer keeps reading: it ends with every event exactly once."""
    village = "61.04.02.2004"
    rng = random.Random(8)
    plan = [("registry", 1.5)] + [
        (rng.choice(["registry", "interventions"]), rng.uniform(0, 0.4)) for _ in range(40)
    ]
    written: list[str] = []
    done = threading.Event()
    seen: list[dict] = []

    with system_client(
        hooks.stack, hooks.db_url, ["events:read", "growth:read", "interventions:read"], village
    ) as client:

        def consume() -> None:
            cursor = None
            while not done.is_set():
                events, cursor = read_until_caught_up(client, cursor)
                seen.extend(events)
                time.sleep(0.05)
            seen.append({"cursor": cursor})

        reader = threading.Thread(target=consume)
        reader.start()
        try:
            written = asyncio.run(_write_concurrently(hooks.db_url, village, plan))
        finally:
            done.set()
            reader.join()
        cursor = seen.pop()["cursor"]

        def all_seen() -> bool:
            nonlocal cursor
            events, cursor = read_until_caught_up(client, cursor)
            seen.extend(events)
            return set(written) <= {e["id"] for e in seen}

        wait_until(all_seen, FEED_WAIT_S, "every concurrently written event")
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "served twice"
    assert set(ids) == set(written)


async def _write_concurrently(db_url: str, village: str, plan: list[tuple[str, float]]) -> list:
    engines = {
        s: make_engine(service_url(db_url, s), s, pool_size=20)
        for s in ("registry", "interventions")
    }

    async def one(service: str, hold_s: float, delay_s: float) -> str:
        await asyncio.sleep(delay_s)
        event = measurement(village) if service == "registry" else delivery(village)
        async with engines[service].begin() as conn:
            event_id = await emit(
                conn,
                event["type"],
                event["aggregate_type"],
                event["aggregate_id"],
                event["payload"],
                region_code=village,
            )
            await asyncio.sleep(hold_s)  # commit later than writers that started after
        return str(event_id)

    try:
        return await asyncio.gather(
            *(one(service, hold, i * 0.02) for i, (service, hold) in enumerate(plan))
        )
    finally:
        for engine in engines.values():
            await engine.dispose()
