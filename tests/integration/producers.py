"""Making events to watch: households through the registry API (via the gateway), and
events written straight into a service's outbox as that service (for kinds whose API
is not built yet: measurements, deliveries, merges), plus reading the raw feeds."""

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from common.db import make_engine
from common.feed import emit
from common.http import IDENTITY_HEADER, service_token
from common.ids import uuid7
from common.settings import CommonSettings
from kkb.database import service_url

_serials = itertools.count(random.randint(1, 5000))


def kk_number(village: str) -> str:
    """District digits + issue date DDMMYY + serial (DOMAIN.md)."""
    district = village.replace(".", "")[:6]
    return f"{district}150120{next(_serials) % 9999 + 1:04d}"


def family_body(village: str, child_born: date | None = None) -> dict[str, Any]:
    today = date.today()
    child_born = child_born or today - timedelta(days=400)
    return {
        "kk_number": kk_number(village),
        "village_code": village,
        "address": "Jl. Sintetis No. 7",
        "members": [
            {
                "full_name": "Budi Sintetis",
                "sex": 1,
                "birth_date": (today - timedelta(days=35 * 365)).isoformat(),
                "relationship": 1,
                "marital_status": 2,
            },
            {
                "full_name": "Sari Sintetis",
                "sex": 2,
                "birth_date": (today - timedelta(days=29 * 365)).isoformat(),
                "relationship": 3,
                "marital_status": 2,
            },
            {
                "full_name": "Ani Sintetis",
                "sex": 2,
                "birth_date": child_born.isoformat(),
                "relationship": 4,
                "mother_index": 1,
            },
        ],
    }


def register_family(writer: httpx.Client, village: str) -> dict[str, Any]:
    resp = writer.post("/v1/households", json=family_body(village))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _emit_all(db_url: str, service: str, write: Callable[[AsyncConnection], Any]) -> Any:
    engine = make_engine(service_url(db_url, service), service, pool_size=1)
    try:
        async with engine.begin() as conn:
            return await write(conn)
    finally:
        await engine.dispose()


def emit_direct(db_url: str, service: str, events: list[dict[str, Any]]) -> list[str]:
    """Write events into ``service``'s outbox in one transaction, as that service."""

    async def write(conn: AsyncConnection) -> list[str]:
        ids = []
        for e in events:
            event_id = await emit(
                conn,
                e["type"],
                e["aggregate_type"],
                e["aggregate_id"],
                e["payload"],
                region_code=e["region_code"],
            )
            ids.append(str(event_id))
        return ids

    return asyncio.run(_emit_all(db_url, service, write))


def measurement(village: str, **extra: Any) -> dict[str, Any]:
    measurement_id, person_id = uuid7(), uuid7()
    return {
        "type": "measurement.recorded",
        "aggregate_type": "measurement",
        "aggregate_id": measurement_id,
        "region_code": village,
        "payload": {
            "measurement_id": str(measurement_id),
            "person_id": str(person_id),
            "household_id": str(uuid7()),
            "village_code": village,
            "visit_date": "2026-11-02",
            "sex": 2,
            "birth_date": "2024-09-17",
            "age_days": 776,
            "weight_kg": 10.1,
            "height_cm": 81.5,
            "measure": "h",
            "zlen": -2.31,
            "class_len": "stunted",
            "supersedes": None,
            **extra,
        },
    }


def delivery(village: str) -> dict[str, Any]:
    delivery_id = uuid7()
    return {
        "type": "delivery.recorded",
        "aggregate_type": "delivery",
        "aggregate_id": delivery_id,
        "region_code": village,
        "payload": {
            "delivery_id": str(delivery_id),
            "subject_kind": "person",
            "subject_id": str(uuid7()),
            "household_id": None,
            "village_code": village,
            "intervention_code": "S1",
            "catalogue_version": 1,
            "delivered_on": "2026-11-03",
            "quantity": 1.0,
            "unit": "visit",
            "sector": "health",
            "funding_source": "apbd",
            "supersedes": None,
        },
    }


def merged_person(village: str) -> dict[str, Any]:
    removed, kept = uuid7(), uuid7()
    return {
        "type": "person.merged",
        "aggregate_type": "person",
        "aggregate_id": removed,
        "region_code": village,
        "payload": {
            "person_id": str(removed),
            "merged_into": str(kept),
            "village_code": village,
        },
    }


def raw_feed(stack, service: str) -> list[dict[str, Any]]:
    """Every event on ``service``'s internal feed now, read as a service would."""
    secret = CommonSettings().internal_secret
    events: list[dict[str, Any]] = []
    after = ""
    with httpx.Client(base_url=stack.url(service), timeout=30) as client:
        while True:
            headers = {IDENTITY_HEADER: service_token("tests", secret)}
            params = {"limit": 5000, **({"after": after} if after else {})}
            page = client.get("/internal/feed", params=params, headers=headers).json()
            events += page["events"]
            after = page["next"]
            if not page["has_more"]:
                return events


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        time.sleep(0.1)
