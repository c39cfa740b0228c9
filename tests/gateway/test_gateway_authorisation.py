"""Authorisation through the real stack, driven by the merged OpenAPI document so that
every new route is covered as soon as a service publishes it.

* Function level: every route that declares an operation x every role (and a few system
  clients): a caller the permission matrix refuses gets 403 ``forbidden``; a caller it
  allows never does.
* Object level (BOLA): records made in one village, read by a caller of the same role
  elsewhere: 404, never the record and never 403.
* Property level: nobody grants beyond their own scope or raises their own rights.
"""

import random
import time
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from common.permissions import allowed
from tests.auth_helpers import make_user, password_token, system_client

METHODS = ("get", "post", "put", "patch", "delete")
KALI_NILAM = "61.04.16.2007"
PAYA_KUMANG = "61.04.16.2008"  # another village of the same district
# Every signed-in caller may ask who it is; public routes say `security: []`.
UNDECLARED_ALLOWED = {("get", "/v1/me")}

# (role, region, sector): every role, and the sectors the matrix treats specially.
USERS: list[tuple[str, str, str | None]] = [
    ("admin", "61.04", None),
    ("regency_officer", "61.04", None),
    ("district_officer", "61.04.16", None),
    ("village_operator", KALI_NILAM, None),
    ("tpk_cadre", KALI_NILAM, None),
    ("health_worker", "61.04.16", None),
    ("sector_officer", "61.04", "public_works"),
    ("sector_officer", "61.04", "health"),
    ("sector_officer", "61.04", "civil_registry"),
    ("sector_officer", "61.04", "family_planning"),
    ("analyst", "61", None),
    ("auditor", "61.04", None),
]
SYSTEMS: list[tuple[str, ...]] = [
    ("growth:read",),
    ("registry:read", "registry:write", "pii:read"),
    ("interventions:read", "interventions:write"),
    ("reporting:read", "events:read"),
]


@pytest.fixture(scope="module")
def document(stack) -> dict:
    return httpx.get(f"{stack.url('gateway')}/openapi.json", timeout=60).json()


def _declared(operation: dict) -> list[str]:
    value = operation.get("x-kkb-operation")
    return [value] if isinstance(value, str) else list(value or [])


def _routes(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        section, name = schema["$ref"].split("/")[-2:]
        schema = document["components"][section][name]
    return schema


def _path_value(document: dict, parameter: dict) -> str:
    """A well-formed value that names no record, so allowed callers get 404 or 422."""
    name = parameter["name"]
    schema = _resolve(document, parameter.get("schema", {}))
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "2026"
    if name.endswith("code") or name == "code":
        return KALI_NILAM if "village" in name else "X-0"
    return {"username": "nobody-here", "client_id": "kkb-000000000000"}.get(name, "x")


def _url(document: dict, path: str, operation: dict, values: dict[str, str] | None = None) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = (values or {}).get(parameter["name"]) or _path_value(document, parameter)
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


@pytest.fixture(scope="module")
def callers(stack, db_url) -> dict[str, tuple[httpx.Client, dict]]:
    """Label -> (signed-in client, the caller's grants as the matrix sees them)."""
    gateway = stack.url("gateway")
    out: dict[str, tuple[httpx.Client, dict]] = {}
    for role, region, sector in USERS:
        token = password_token(gateway, make_user(db_url, role, region, sector))
        client = httpx.Client(
            base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        out[f"{role}/{sector or region}"] = (client, {"role": role, "sector": sector})
    for scopes in SYSTEMS:
        client = system_client(stack, db_url, list(scopes), "61")
        out[f"system/{'+'.join(scopes)}"] = (client, {"role": "system", "scopes": scopes})
    yield out
    for client, _ in out.values():
        client.close()


def test_every_public_route_declares_its_operation(document):
    undeclared = [
        (method, path)
        for method, path, operation in _routes(document)
        if path.startswith("/v1/")
        and not _declared(operation)
        and operation.get("security") != []
        and (method, path) not in UNDECLARED_ALLOWED
    ]
    assert not undeclared, f"routes without require(...): {undeclared}"


def _problem_code(resp: httpx.Response) -> str | None:
    if not resp.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    return resp.json().get("code")


def test_function_level_matrix(document, callers):
    routes = [(m, p, op) for m, p, op in _routes(document) if _declared(op)]
    assert len(routes) >= 20, "expected the services' routes in the merged document"
    wrong: list[str] = []
    checked = 0
    for method, path, operation in routes:
        url = _url(document, path, operation)
        for label, (client, grants) in callers.items():
            expected = all(
                allowed(
                    grants["role"],
                    op,
                    sector=grants.get("sector"),
                    scopes=grants.get("scopes", ()),
                )
                for op in _declared(operation)
            )
            # A body no route accepts: allowed callers stop at validation, nothing is written.
            body = {"content": b'"probe"', "headers": {"Content-Type": "application/json"}}
            resp = client.request(method.upper(), url, **(body if method != "get" else {}))
            checked += 1
            code = _problem_code(resp)
            refused = resp.status_code == 403 and code == "forbidden"
            if expected and (refused or resp.status_code in (401, 429) or resp.status_code >= 500):
                wrong.append(f"{label} {method.upper()} {path}: {resp.status_code} {code}")
            if not expected and not refused:
                wrong.append(f"{label} {method.upper()} {path}: {resp.status_code}, expected 403")
    assert checked == len(routes) * len(callers)
    assert not wrong, "\n".join(wrong)


# --- object level ----------------------------------------------------------------------


def _nik(birth: date, sex: int) -> str:
    """DOMAIN.md: district (6) + DDMMYY with day + 40 for women + 4-digit serial."""
    day = birth.day + (40 if sex == 2 else 0)
    return f"610416{day:02d}{birth.month:02d}{birth.year % 100:02d}{random.randint(1, 9999):04d}"


def _kk() -> str:
    return f"610416150120{random.randint(1, 9999):04d}"


def _user(stack, db_url, role: str, region: str) -> httpx.Client:
    token = password_token(stack.url("gateway"), make_user(db_url, role, region))
    return httpx.Client(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {token}", "X-KKB-Purpose": "service_delivery"},
        timeout=30,
    )


@pytest.fixture(scope="module")
def records(stack, db_url) -> dict[str, str]:
    """Records in Kali Nilam, made through the API the way an operator makes them."""
    ids: dict[str, str] = {}
    husband_birth, wife_birth, child_birth = date(1994, 3, 2), date(1998, 7, 9), date(2024, 5, 1)
    with _user(stack, db_url, "village_operator", KALI_NILAM) as operator:
        created = operator.post(
            "/v1/households",
            json={
                "kk_number": _kk(),
                "village_code": KALI_NILAM,
                "address": "Jl. Sintetis 3",
                "members": [
                    {
                        "full_name": "Andi Sintetis",
                        "sex": 1,
                        "birth_date": str(husband_birth),
                        "relationship": 1,
                        "nik": _nik(husband_birth, 1),
                        "marital_status": 2,
                    },
                    {
                        "full_name": "Rina Sintetis",
                        "sex": 2,
                        "birth_date": str(wife_birth),
                        "relationship": 3,
                        "nik": _nik(wife_birth, 2),
                        "marital_status": 2,
                    },
                    {
                        "full_name": "Dewi Sintetis",
                        "sex": 2,
                        "birth_date": str(child_birth),
                        "relationship": 4,
                        "mother_index": 1,
                    },
                ],
            },
        )
        assert created.status_code == 201, created.text
        household = created.json()
        ids["household_id"] = household["id"]
        wife = next(
            m
            for m in household["members"]
            if m["full_name"].startswith("Rina") or m.get("sex") == 2
        )
        ids["person_id"] = wife["id"]
        ids["subject_id"] = wife["id"]
        event = operator.post(
            f"/v1/persons/{wife['id']}/life-events",
            json={"kind": "pregnancy", "start_date": str(date.today())},
        )
        if event.status_code == 201:
            body = event.json()
            ids["event_id"] = str(body.get("id") or body.get("life_event", {}).get("id"))
    with _user(stack, db_url, "regency_officer", "61.04") as officer:
        site = officer.post(
            "/v1/sites",
            json={
                "name": f"Kampung KB uji {uuid.uuid4().hex[:6]}",
                "established_on": "2023-01-10",
                "village_code": KALI_NILAM,
            },
        )
        if site.status_code == 201:
            ids["site_id"] = site.json()["id"]
        else:
            listed = officer.get("/v1/sites", params={"village_code": KALI_NILAM}).json()
            if listed.get("items"):
                ids["site_id"] = listed["items"][0]["id"]
    return ids


def _without_instance(problem: dict) -> dict:
    """The problem minus ``instance``, which echoes the path the caller sent."""
    return {k: v for k, v in problem.items() if k != "instance"}


# The same role inside and outside the records' region, in order of preference.
INSIDE_OUTSIDE = [
    (("village_operator", KALI_NILAM), ("village_operator", PAYA_KUMANG)),
    (("regency_officer", "61.04"), ("regency_officer", "61.01")),
    (("district_officer", "61.04.16"), ("district_officer", "61.04.01")),
    (("health_worker", "61.04.16"), ("health_worker", "61.04.01")),
]


def test_object_level_records_of_another_region_are_404(stack, db_url, document, records):
    users: dict[tuple[str, str], httpx.Client] = {}

    def user(role: str, region: str) -> httpx.Client:
        if (role, region) not in users:
            users[(role, region)] = _user(stack, db_url, role, region)
        return users[(role, region)]

    checked, unchecked, wrong = [], [], []
    try:
        for method, path, operation in _routes(document):
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            if method != "get" or not names or not all(n in records for n in names):
                continue
            ops = _declared(operation)
            pair = next(
                (
                    (inside, outside)
                    for inside, outside in INSIDE_OUTSIDE
                    if all(allowed(inside[0], op) for op in ops)
                ),
                None,
            )
            if pair is None:
                continue
            url = _url(document, path, operation, records)
            inside, outside = pair
            # Projections in other services follow the registry's feed: give them time.
            deadline = time.monotonic() + 20
            while (
                own := user(*inside).get(url)
            ).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            if own.status_code != 200:
                unchecked.append(f"{path}: {inside} got {own.status_code}")
                continue
            other = user(*outside).get(url)
            checked.append(path)
            if other.status_code != 404:
                wrong.append(f"{path}: {outside} got {other.status_code}, expected 404")
            elif any(v in str(_without_instance(other.json())) for v in records.values()):
                wrong.append(f"{path}: the 404 tells something about the record")
    finally:
        for client in users.values():
            client.close()
    assert not wrong, "\n".join(wrong)
    assert len(checked) >= 4, f"too few record routes checked: {checked}; unchecked: {unchecked}"


def test_object_level_writes_to_another_region_are_404(stack, db_url, records):
    with (
        _user(stack, db_url, "village_operator", KALI_NILAM) as own,
        _user(stack, db_url, "village_operator", PAYA_KUMANG) as other,
    ):
        current = own.get(f"/v1/households/{records['household_id']}")
        assert current.status_code == 200
        headers = {"If-Match": current.headers.get("etag", '"1"')}
        resp = other.patch(
            f"/v1/households/{records['household_id']}",
            json={"address": "taken over"},
            headers=headers,
        )
        assert resp.status_code == 404, resp.text
        after = own.get(f"/v1/households/{records['household_id']}").json()
        assert after["address"] == "Jl. Sintetis 3"


# --- property level --------------------------------------------------------------------


def _admin(stack, db_url, region: str) -> httpx.Client:
    return _user(stack, db_url, "admin", region)


def _new_user(role: str, region: str, **extra: Any) -> dict:
    return {
        "username": f"u-{uuid.uuid4().hex[:10]}",
        "password": "long-enough-password",
        "role": role,
        "region": region,
        **extra,
    }


def test_village_admin_cannot_grant_beyond_its_village(stack, db_url):
    with _admin(stack, db_url, KALI_NILAM) as admin:
        wider = admin.post("/v1/admin/users", json=_new_user("village_operator", "61.04.16"))
        assert wider.status_code == 403, wider.text
        assert wider.json()["code"] == "region_out_of_scope"
        regency = admin.post("/v1/admin/users", json=_new_user("regency_officer", "61.04"))
        assert regency.status_code == 403
        neighbour = admin.post("/v1/admin/users", json=_new_user("village_operator", PAYA_KUMANG))
        assert neighbour.status_code == 403
        client = admin.post(
            "/v1/admin/clients",
            json={"name": "kabupaten system", "scopes": ["growth:read"], "region": "61.04"},
        )
        assert client.status_code == 403
        own = admin.post("/v1/admin/users", json=_new_user("tpk_cadre", KALI_NILAM))
        assert own.status_code == 201, own.text
        # Users outside its village are invisible to it, and so cannot be changed.
        listed = admin.get("/v1/admin/users", params={"limit": 200}).json()["items"]
        assert {u["region"] for u in listed} == {KALI_NILAM}


def test_nobody_raises_their_own_rights(stack, db_url):
    username = make_user(db_url, "admin", "61.04")
    token = password_token(stack.url("gateway"), username)
    with httpx.Client(
        base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as admin:
        for change in ({"region": ""}, {"role": "auditor"}, {"pii": False}):
            resp = admin.patch(f"/v1/admin/users/{username}", json=change)
            assert resp.status_code == 403, (change, resp.text)
            assert resp.json()["code"] == "self_grant"
        national = admin.post("/v1/admin/users", json=_new_user("admin", ""))
        assert national.status_code == 403
        keys = admin.post("/v1/admin/keys/rotate")
        assert keys.status_code == 403
        assert keys.json()["code"] == "national_admin_only"
    with _user(stack, db_url, "village_operator", KALI_NILAM) as operator:
        me = operator.get("/v1/me").json()
        resp = operator.patch(f"/v1/admin/users/{me['sub']}", json={"role": "admin"})
        assert resp.status_code == 403


def test_tpk_cadre_cannot_call_admin_or_audit_routes(stack, db_url):
    with _user(stack, db_url, "tpk_cadre", KALI_NILAM) as cadre:
        for method, path in (
            ("GET", "/v1/admin/users"),
            ("POST", "/v1/admin/users"),
            ("GET", "/v1/admin/clients"),
            ("POST", "/v1/admin/clients"),
            ("POST", "/v1/admin/keys/rotate"),
            ("GET", "/v1/audit/entries"),
            ("GET", "/v1/audit/verify"),
        ):
            body = _new_user("admin", "") if method == "POST" else None
            resp = cadre.request(method, path, json=body)
            assert resp.status_code == 403, (method, path, resp.text)
            assert resp.json()["code"] == "forbidden"


def test_operator_cannot_register_a_family_in_another_village(stack, db_url):
    birth = date(1990, 1, 5)
    with _user(stack, db_url, "village_operator", KALI_NILAM) as operator:
        resp = operator.post(
            "/v1/households",
            json={
                "kk_number": _kk(),
                "village_code": PAYA_KUMANG,
                "members": [
                    {
                        "full_name": "Uji Sintetis",
                        "sex": 1,
                        "birth_date": str(birth),
                        "relationship": 1,
                        "nik": _nik(birth, 1),
                    }
                ],
            },
        )
        assert resp.status_code == 403, resp.text
        assert resp.json()["code"] == "region_out_of_scope"
