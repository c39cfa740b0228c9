"""Building a known population through the real registry and interventions APIs (via
the gateway), and waiting until reporting has consumed it.

All test data lives in Kalimantan Utara (province 65), which no other test suite uses,
so the hand-computed figures hold whatever else runs in the same database. NIKs and KK
numbers follow DOMAIN.md: district + DDMMYY (day + 40 for women) + serial.
"""

import itertools
import random
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from common.http import IDENTITY_HEADER, service_token
from common.settings import CommonSettings

PROVINCE = "65"
REGENCY = "65.01"  # Kabupaten Bulungan
DISTRICT_1 = "65.01.01"  # Tanjung Palas
DISTRICT_2 = "65.01.02"  # Tanjung Palas Barat
VILLAGE_A = "65.01.01.1001"
VILLAGE_B = "65.01.01.1002"
VILLAGE_C = "65.01.02.2001"

HEAD, WIFE, CHILD = 1, 3, 4
MALE, FEMALE = 1, 2
MARRIED = 2
PURPOSE = {"X-KKB-Purpose": "service_delivery"}

_serials = itertools.count(random.randint(1, 3000))


def today() -> date:
    """The registry's today: the calendar day in western Indonesia."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def _district(village: str) -> str:
    return village[:8].replace(".", "")


def nik(birth: date, sex: int, village: str) -> str:
    day = birth.day + (40 if sex == FEMALE else 0)
    serial = next(_serials) % 9999 + 1
    return f"{_district(village)}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def kk(village: str) -> str:
    serial = next(_serials) % 9999 + 1
    return f"{_district(village)}150120{serial:04d}"


def member(
    name: str, sex: int, birth: date, relationship: int, village: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "full_name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "relationship": relationship,
        "nik": nik(birth, sex, village),
        **extra,
    }
    if relationship in (HEAD, WIFE):
        body.setdefault("marital_status", MARRIED)
    return body


def register_family(
    client: httpx.Client,
    village: str,
    children: list[tuple[str, int, date]],
    *,
    water: str = "piped",
    sanitation: str = "own_septic",
    decile: int = 7,
    mother_birth: date = date(1996, 5, 20),
) -> dict[str, Any]:
    """A married couple (husband 32, wife about 30 in 2026) with ``children``; returns
    the household as the registry answered it, members keyed by name as ``by_name``."""
    members = [
        member("Ayah Uji", MALE, date(1994, 3, 3), HEAD, village),
        member("Ibu Uji", FEMALE, mother_birth, WIFE, village),
    ]
    for name, sex, birth in children:
        members.append(
            member(name, sex, birth, CHILD, village, mother_index=1, has_birth_certificate=True)
        )
    body = {
        "kk_number": kk(village),
        "village_code": village,
        "rt": "001",
        "rw": "001",
        "address": "Jl. Uji Pelaporan",
        "conditions": {
            "water_source": water,
            "sanitation": sanitation,
            "house_condition": "fit",
            "welfare_decile": decile,
            "extreme_poverty": False,
            "observed_date": today().isoformat(),
        },
        "members": members,
    }
    resp = client.post("/v1/households", json=body)
    assert resp.status_code == 201, resp.text
    household = resp.json()
    household["by_name"] = {m["full_name"]: m for m in household["members"]}
    return household


def measure(
    client: httpx.Client,
    person_id: str,
    visit: date,
    *,
    weight: float,
    height: float,
    oedema: bool = False,
    muac: float | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": person_id,
        "visit_date": visit.isoformat(),
        "weight_kg": weight,
        "height_cm": height,
        "oedema": oedema,
    }
    if muac is not None:
        body["muac_cm"] = muac
    resp = client.post("/v1/growth/measurements", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def feed_client(stack, service: str) -> httpx.Client:
    """A client reading ``service``'s change feed directly, as another service would."""
    secret = CommonSettings().internal_secret

    def sign(request: httpx.Request) -> None:
        request.headers[IDENTITY_HEADER] = service_token("reporting-tests", secret)

    return httpx.Client(base_url=stack.url(service), timeout=30, event_hooks={"request": [sign]})


def _key(position: str) -> tuple[int, int]:
    if not position:
        return (0, 0)
    xid, _, seq = position.partition(".")
    return int(xid), int(seq)


def position_of(feed: httpx.Client, aggregate_id: str, timeout_s: float = 600.0) -> str:
    """The feed position of the last event about ``aggregate_id``, once the feed serves
    it (a commit is served only after every older transaction of the server ended)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found, after = "", ""
        while True:
            page = feed.get("/internal/feed", params={"after": after, "limit": 5000}).json()
            for event in page["events"]:
                if event["aggregate_id"] == aggregate_id:
                    found = event["position"]
            after = page["next"]
            if not page["has_more"]:
                break
        if found:
            return found
        assert time.monotonic() < deadline, f"{aggregate_id} never reached the feed"
        time.sleep(0.2)


def wait_caught_up(
    client: httpx.Client, marks: dict[str, str] | None = None, timeout_s: float = 600.0
) -> list[dict[str, Any]]:
    """Until every consumer has applied everything its source serves, and at least up to
    the feed positions in ``marks`` (feed name → position of the last write)."""
    marks = marks or {}
    deadline = time.monotonic() + timeout_s
    last: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        resp = client.get("/v1/reporting/freshness")
        if resp.status_code == 200:
            last = resp.json()
            done = len(last) >= 2 and all(
                f["caught_up"] and _key(f["position"]) >= _key(marks.get(f["feed"], ""))
                for f in last
            )
            if done:
                return last
        time.sleep(0.2)
    raise AssertionError(f"reporting did not catch up: {last}")


def values(
    client: httpx.Client,
    indicators: list[str],
    region: str,
    period: str,
    **params: str,
) -> dict[str, dict[str, Any]]:
    """The values answer keyed by indicator code."""
    resp = client.get(
        "/v1/reporting/values",
        params={"indicator": indicators, "region": region, "period": period, **params},
    )
    assert resp.status_code == 200, resp.text
    return {i["code"]: i for i in resp.json()["indicators"]}


def pair(figure: dict[str, Any]) -> tuple[int | None, int | None]:
    return figure["numerator"], figure["denominator"]
