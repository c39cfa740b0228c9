"""Families registered through the real registry API (gateway → registry), then seen by
the interventions service through the registry feed, as in production."""

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from dateutil.relativedelta import relativedelta

from tests.auth_helpers import user_client

KALI_NILAM = "61.04.16.2007"  # desa in Delta Pawan, Ketapang
SUKABANGUN = "61.04.16.2006"  # another desa of Delta Pawan
DELTA_PAWAN = "61.04.16"
KETAPANG = "61.04"
OTHER_REGENCY_VILLAGE = "61.01.01.2001"  # Sambas: outside Ketapang
PURPOSE = {"X-KKB-Purpose": "service_delivery"}


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def iso(day: date) -> str:
    return day.isoformat()


def kk_number(village: str) -> str:
    """A well-formed, random KK number issued in the village's district."""
    district = village.replace(".", "")[:6]
    issued = date(2015, 1, 1) + timedelta(days=random.randrange(3000))
    return f"{district}{issued:%d%m%y}{random.randrange(1, 9999):04d}"


@dataclass
class Family:
    household_id: str
    village: str
    members: dict[str, str] = field(default_factory=dict)  # role name -> person id


def person(name: str, sex: int, birth: date, relationship: int, **extra: Any) -> dict[str, Any]:
    return {
        "full_name": f"{name} Sintetis",
        "sex": sex,
        "birth_date": iso(birth),
        "relationship": relationship,
        **extra,
    }


def married(since: date) -> dict[str, Any]:
    return {"marital_status": 2, "marital_status_since": iso(since)}


def register_family(
    client: httpx.Client,
    village: str,
    members: dict[str, dict[str, Any]],
    conditions: dict[str, Any] | None = None,
) -> Family:
    """POST /v1/households with the members in order; ``mother`` names the mother's role."""
    roles = list(members)
    body_members = []
    for spec in members.values():
        spec = dict(spec)
        mother = spec.pop("mother", None)
        if mother is not None:
            spec["mother_index"] = roles.index(mother)
        body_members.append(spec)
    body: dict[str, Any] = {
        "kk_number": kk_number(village),
        "village_code": village,
        "members": body_members,
    }
    if conditions is not None:
        body["conditions"] = {"observed_date": iso(today()), **conditions}
    resp = client.post("/v1/households", json=body)
    assert resp.status_code == 201, resp.text
    data = resp.json()
    family = Family(household_id=data["id"], village=village)
    for role, spec in zip(roles, body_members, strict=True):
        match = next(
            m
            for m in data["members"]
            if m["relationship"] == spec["relationship"]
            and m["sex"] == spec["sex"]
            and m["id"] not in family.members.values()
            and m["birth_date"][:4] == spec["birth_date"][:4]
        )
        family.members[role] = match["id"]
    return family


def life_event(client: httpx.Client, person_id: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post(f"/v1/persons/{person_id}/life-events", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def wait_for(check: Callable[[], Any], timeout_s: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def projected(
    client: httpx.Client, subject_id: str, predicate: Callable[[dict], bool] = lambda s: True
) -> dict[str, Any]:
    """Wait until the interventions projection holds the subject as ``predicate`` wants."""

    def check() -> dict[str, Any] | None:
        resp = client.get(f"/v1/interventions/subjects/{subject_id}")
        if resp.status_code == 200 and predicate(resp.json()):
            return resp.json()
        return None

    return wait_for(check, what=f"subject {subject_id} in the projection")


def groups_of(subject: dict[str, Any]) -> set[str]:
    return {g["group"] for g in subject["target_groups"]}


@pytest.fixture(scope="session")
def clients(stack, db_url) -> Callable[..., httpx.Client]:
    """A factory of signed-in gateway clients, closed at the end of the session."""
    made: list[httpx.Client] = []

    def make(role: str, region: str, sector: str | None = None, **headers: str) -> httpx.Client:
        client = user_client(stack, db_url, role, region, sector, **headers)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def operator(clients) -> httpx.Client:
    """Registers families in Delta Pawan (registry), reads the projection (interventions)."""
    return clients("district_officer", DELTA_PAWAN)


@pytest.fixture(scope="session")
def admin(clients) -> httpx.Client:
    return clients("admin", KETAPANG)


@pytest.fixture(scope="session")
def scenario_family(operator) -> Family:
    """Scenario 1's family in Kali Nilam: husband, wife (24, pregnant, due in 5 months), a
    14-month-old son without a NIK; water from an unprotected well; decile 2."""
    now = today()
    family = register_family(
        operator,
        KALI_NILAM,
        {
            "husband": person(
                "Budi", 1, now - relativedelta(years=28), 1, **married(now - relativedelta(years=3))
            ),
            "wife": person(
                "Siti", 2, now - relativedelta(years=24), 3, **married(now - relativedelta(years=3))
            ),
            "son": person("Adi", 1, now - relativedelta(months=14), 4, mother="wife"),
        },
        {
            "water_source": "unprotected_well",
            "sanitation": "latrine_no_septic",
            "welfare_decile": 2,
        },
    )
    life_event(
        operator,
        family.members["wife"],
        {
            "kind": "pregnancy",
            "start_date": iso(now - relativedelta(months=4)),
            "expected_date": iso(now + relativedelta(months=5)),
        },
    )
    projected(operator, family.members["wife"], lambda s: "ibu_hamil" in groups_of(s))
    projected(operator, family.household_id, lambda s: (s["krs"] or {}).get("is_krs") is True)
    return family


def new_id() -> str:
    return str(uuid.uuid4())
