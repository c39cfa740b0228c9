"""FHIR tests: real HTTP through the gateway; families registered and children measured
through the registry API; every FHIR resource produced is validated with the
``fhir.resources`` R4B models (R4B is R4 with a few additions; Observation, Patient,
Group, ServiceRequest, Task, Bundle and OperationOutcome are the same)."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.auth_helpers import system_client, user_client
from tests.registry import factories as f

KALI_NILAM = "61.04.16.2007"
PURPOSE = {"X-KKB-Purpose": "service_delivery"}
NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
KK_SYSTEM = "https://fhir.kemkes.go.id/id/kk"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
FHIR_JSON = "application/fhir+json"
HEAD, WIFE, CHILD = 1, 3, 4
MALE, FEMALE = 1, 2


# Required bindings of FHIR R4, which the models do not check: the codes allowed.
_REQUIRED: dict[str, dict[str, set[str]]] = {
    "Bundle": {
        "type": set(
            "document message transaction transaction-response batch batch-response history "
            "searchset collection".split()
        )
    },
    "Observation": {
        "status": set(
            "registered preliminary final amended corrected cancelled entered-in-error "
            "unknown".split()
        )
    },
    "Patient": {"gender": set("male female other unknown".split())},
    "Group": {"type": set("person animal practitioner device medication substance".split())},
    "ServiceRequest": {
        "status": set("draft active on-hold revoked completed entered-in-error unknown".split()),
        "intent": set(
            "proposal plan directive order original-order reflex-order filler-order "
            "instance-order option".split()
        ),
    },
    "Task": {
        "status": set(
            "draft requested received accepted rejected ready cancelled in-progress on-hold "
            "failed completed entered-in-error".split()
        ),
        "intent": set(
            "unknown proposal plan order original-order reflex-order filler-order "
            "instance-order option".split()
        ),
    },
}
_ISSUE_SEVERITY = set("fatal error warning information".split())
_ISSUE_TYPE = set(
    "invalid structure required value invariant security login unknown expired forbidden "
    "suppressed processing not-supported duplicate multiple-matches not-found deleted "
    "too-long code-invalid extension too-costly business-rule conflict transient lock-error "
    "no-store exception timeout incomplete throttled informational".split()
)


def _check_codes(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    for name, allowed in _REQUIRED.get(kind, {}).items():
        assert resource[name] in allowed, f"{kind}.{name} = {resource[name]!r}"
    if kind == "OperationOutcome":
        for issue in resource["issue"]:
            assert issue["severity"] in _ISSUE_SEVERITY and issue["code"] in _ISSUE_TYPE, issue
    for entry in resource.get("entry", []) if kind == "Bundle" else []:
        if "resource" in entry:
            _check_codes(entry["resource"])
        if "outcome" in entry.get("response", {}):
            _check_codes(entry["response"]["outcome"])


def validate(resource: dict[str, Any]) -> Any:
    """Parse with the FHIR model of the resource's type (raises on any deviation in
    structure, types or cardinality), then check the codes of required bindings."""
    parsed = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    _check_codes(resource)
    return parsed


@dataclass
class Family:
    household_id: str
    kk: str
    child_id: str
    child_nik: str
    child_name: str
    child_birth: date
    member_ids: list[str]


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
    """``systems(scopes, region, **headers)``: a signed-in system client (OAuth2 client
    credentials), as another government system would use."""
    made: list[httpx.Client] = []

    def make(scopes: list[str], region: str, **headers: str) -> httpx.Client:
        client = system_client(stack, db_url, scopes, region)
        client.headers.update(headers)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def operator(clients) -> httpx.Client:
    return clients("district_officer", "61.04.16", **PURPOSE)


@pytest.fixture(scope="session")
def midwife(clients) -> httpx.Client:
    return clients("health_worker", KALI_NILAM, **PURPOSE)


@pytest.fixture
def family(operator) -> Callable[..., Family]:
    """``family(age_days=…, sex=…)``: a new household in Kali Nilam with a child with NIK."""

    def make(age_days: int = 400, sex: int = MALE) -> Family:
        name = f"Anak Sintetis {uuid.uuid4().hex[:5]}"
        birth = f.today() - timedelta(days=age_days)
        members = [
            f.member("Ayah Sintetis", MALE, f.years_ago(31, 20), HEAD, marital_status=2),
            f.member("Ibu Sintetis", FEMALE, f.years_ago(28, 50), WIFE, marital_status=2),
            f.member(name, sex, birth, CHILD),
        ]
        body = f.household(members)
        created = operator.post("/v1/households", json=body)
        assert created.status_code == 201, created.text
        household = created.json()
        child = next(m for m in household["members"] if m["full_name"] == name)
        return Family(
            household_id=household["id"],
            kk=body["kk_number"],
            child_id=child["id"],
            child_nik=members[2]["nik"],
            child_name=name,
            child_birth=birth,
            member_ids=[m["id"] for m in household["members"]],
        )

    return make


def measure(midwife: httpx.Client, child_id: str, **values: Any) -> dict[str, Any]:
    body = {"person_id": child_id, "visit_date": f.today().isoformat(), "place": "posyandu"}
    body.update(values)
    resp = midwife.post("/v1/growth/measurements", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def history(midwife: httpx.Client, child_id: str) -> list[dict[str, Any]]:
    resp = midwife.get(f"/v1/growth/children/{child_id}/measurements")
    assert resp.status_code == 200, resp.text
    return resp.json()["measurements"]
