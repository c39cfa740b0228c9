"""Bulk-export tests: real HTTP through the gateway. The data lives in Kota Singkawang
(61.72), where no other test writes, so the exported rows can be checked one by one."""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.auth_helpers import system_client, user_client
from tests.registry import factories as f

SINGKAWANG = "61.72"
ROBAN = "61.72.01.1001"  # a kelurahan of Singkawang Tengah
DISTRICT = "617201"  # its district in NIK/KK form
PURPOSE = {"X-KKB-Purpose": "service_delivery"}
ALL_DATASETS = ["households", "persons", "measurements", "deliveries", "referrals"]


@dataclass
class Person:
    id: str
    nik: str
    name: str
    birth: date


@dataclass
class Seeded:
    households: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body sent
    persons: dict[str, Person] = field(default_factory=dict)
    measurements: list[str] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def clients(stack, db_url) -> Iterator[Callable[..., httpx.Client]]:
    made: list[httpx.Client] = []

    def make(role: str, region: str, sector: str | None = None, pii: bool | None = None, **h):
        client = user_client(stack, db_url, role, region, sector, pii, **h)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def systems(stack, db_url) -> Iterator[Callable[..., httpx.Client]]:
    made: list[httpx.Client] = []

    def make(scopes: list[str], region: str, **headers: str) -> httpx.Client:
        client = system_client(stack, db_url, scopes, region)
        client.headers.update(headers)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _member(name: str, sex: int, birth: date, relationship: int, **extra: Any) -> dict:
    return {
        "full_name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "relationship": relationship,
        "nik": f.nik(birth, sex, district=DISTRICT),
        **extra,
    }


@pytest.fixture(scope="session")
def seeded(clients) -> Seeded:
    """Two families of Roban, each with a 14-month-old child measured once, an MP-ASI
    delivery to each child and a latrine referral for each household."""
    operator = clients("district_officer", "61.72.01", **PURPOSE)
    midwife = clients("health_worker", ROBAN, **PURPOSE)
    out = Seeded()
    for i in range(2):
        tag = uuid.uuid4().hex[:4]
        child_birth = f.today() - timedelta(days=430)
        members = [
            _member(f"Hadi Sintetis {tag}", 1, f.years_ago(33, i), 1, marital_status=2),
            _member(f"Nurul Sintetis {tag}", 2, f.years_ago(29, i), 3, marital_status=2),
            _member(f"Putra Kecil {tag}", 1, child_birth, 4),
        ]
        body = f.household(members, village=ROBAN, address=f"Jl. Sintetis No. {tag}")
        body["kk_number"] = f.kk(district=DISTRICT)
        resp = operator.post("/v1/households", json=body)
        assert resp.status_code == 201, resp.text
        household = resp.json()
        out.households[household["id"]] = body
        by_name = {m["full_name"]: m["id"] for m in household["members"]}
        for m in members:
            out.persons[by_name[m["full_name"]]] = Person(
                by_name[m["full_name"]],
                m["nik"],
                m["full_name"],
                date.fromisoformat(m["birth_date"]),
            )
        child = by_name[members[2]["full_name"]]
        measured = midwife.post(
            "/v1/growth/measurements",
            json={
                "person_id": child,
                "visit_date": f.today().isoformat(),
                "weight_kg": 9.0 + i,
                "height_cm": 76.0,
                "measure": "l",
            },
        )
        assert measured.status_code == 201, measured.text
        out.measurements.append(measured.json()["id"])
        delivered = midwife.post(
            "/v1/interventions/deliveries",
            json={
                "subject_id": child,
                "intervention_code": "S5",
                "delivered_on": f.today().isoformat(),
                "quantity": 1,
                "funding_source": "APBD",
            },
        )
        assert delivered.status_code == 201, delivered.text
        out.deliveries.append(delivered.json()["id"])
        referred = operator.post(
            "/v1/interventions/referrals",
            json={"subject_id": household["id"], "referral_type": "latrine"},
        )
        assert referred.status_code == 201, referred.text
        out.referrals.append(referred.json()["id"])
    return out


def wait_done(client: httpx.Client, export_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        resp = client.get(f"/v1/exports/{export_id}")
        assert resp.status_code == 200, resp.text
        job = resp.json()
        if job["status"] in ("done", "failed", "expired") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def masked_number(number: str) -> str:
    """DOMAIN/common.pii rule: first 4 and last 4 digits kept, 8 hidden."""
    return number[:4] + "•" * 8 + number[-4:]


def initials(name: str) -> str:
    return " ".join(f"{w[0].upper()}." for w in name.split())
