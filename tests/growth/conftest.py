"""Growth API tests: real HTTP through the gateway (``stack``), children registered
through the registry API, feed read from the registry with a service identity."""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from common.http import IDENTITY_HEADER, service_token
from common.settings import CommonSettings
from tests.auth_helpers import user_client
from tests.registry import factories as f

KALI_NILAM = "61.04.16.2007"
PAYA_KUMANG = "61.04.16.2008"  # another village of Delta Pawan
PURPOSE = {"X-KKB-Purpose": "service_delivery"}
HEAD, WIFE, CHILD = 1, 3, 4
MALE, FEMALE = 1, 2
MARRIED = 2


@dataclass
class Child:
    id: str
    name: str
    sex: int
    birth_date: date
    nik: str | None
    village: str


@pytest.fixture(scope="session")
def clients(stack, db_url) -> Iterator[Callable[..., httpx.Client]]:
    """``clients(role, region, sector=None, pii=None, **headers)``: a signed-in gateway client."""
    made: list[httpx.Client] = []

    def make(role: str, region: str, sector: str | None = None, pii: bool | None = None, **h):
        client = user_client(stack, db_url, role, region, sector, pii, **h)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def operator(clients) -> httpx.Client:
    """Registers families in Kali Nilam (and, being district-wide, in Paya Kumang)."""
    return clients("district_officer", "61.04.16", **PURPOSE)


@pytest.fixture(scope="session")
def midwife(clients) -> httpx.Client:
    """Health worker of Kali Nilam, personal-data right and a stated purpose: unmasked."""
    return clients("health_worker", KALI_NILAM, **PURPOSE)


@pytest.fixture(scope="session")
def midwife_masked(clients) -> httpx.Client:
    """The same role without a stated purpose: sees masked data."""
    return clients("health_worker", KALI_NILAM)


def register_children(
    operator: httpx.Client,
    children: list[tuple[str, int, date, bool]],
    village: str = KALI_NILAM,
) -> list[Child]:
    """One household (father, mother, the children) per call; children as
    (name, sex, birth date, with NIK)."""
    members = [
        f.member("Ayah Sintetis", MALE, f.years_ago(31, 20), HEAD, marital_status=MARRIED),
        f.member("Ibu Sintetis", FEMALE, f.years_ago(28, 50), WIFE, marital_status=MARRIED),
    ]
    for name, sex, birth, with_nik in children:
        members.append(f.member(name, sex, birth, CHILD, with_nik=with_nik))
    body = f.household(members, village=village)
    created = operator.post("/v1/households", json=body)
    assert created.status_code == 201, created.text
    by_name = {m["full_name"]: m for m in created.json()["members"]}
    out = []
    for spec, (name, sex, birth, _) in zip(members[2:], children, strict=True):
        out.append(Child(by_name[name]["id"], name, sex, birth, spec.get("nik"), village))
    return out


@pytest.fixture
def new_child(operator) -> Callable[..., Child]:
    """A fresh child of Kali Nilam (own household), ``age_days`` old today."""

    def make(
        age_days: int = 400, sex: int = MALE, village: str = KALI_NILAM, nik: bool = True
    ) -> Child:
        name = f"Anak {uuid.uuid4().hex[:6]}"
        birth = f.today() - timedelta(days=age_days)
        return register_children(operator, [(name, sex, birth, nik)], village)[0]

    return make


class Feed:
    """The registry's change feed, read directly with a service identity."""

    def __init__(self, registry_url: str) -> None:
        self.url = registry_url
        self.secret = CommonSettings().internal_secret

    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        cursor: str | None = None
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while True:
                params: dict[str, Any] = {"limit": 5000}
                if cursor:
                    params["after"] = cursor
                page = client.get(
                    "/internal/feed",
                    params=params,
                    headers={IDENTITY_HEADER: service_token("reporting", self.secret)},
                )
                assert page.status_code == 200, page.text
                body = page.json()
                events += body["events"]
                cursor = body["next"]
                if not body["has_more"]:
                    return events

    def for_aggregates(
        self, ids: set[str], *, at_least: int, timeout_s: float = 180.0
    ) -> list[dict[str, Any]]:
        """The events of these aggregates, once at least ``at_least`` are visible.

        The feed serves a transaction's events only once every older transaction of the
        database server has ended, so a long one elsewhere delays them: wait generously.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            found = [e for e in self.events() if e["aggregate_id"] in ids]
            if len(found) >= at_least:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(found)} of {at_least} events visible on the feed after "
                    f"{timeout_s:.0f} s; a long transaction elsewhere on the database server "
                    "holds the feed horizon back (pg_stat_activity shows it)"
                )
            time.sleep(0.2)


@pytest.fixture(scope="session")
def feed(stack) -> Feed:
    return Feed(stack.url("registry"))


def measurement_body(child: Child, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": child.id,
        "visit_date": f.today().isoformat(),
        "weight_kg": 9.2,
        "height_cm": 74.0,
        "measure": "l",
        "place": "posyandu",
        "posyandu_name": "Posyandu Melati",
    }
    body.update(values)
    return {k: v for k, v in body.items() if v is not None}
