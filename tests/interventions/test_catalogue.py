"""The intervention catalogue through the gateway: seeded at start-up, versioned and
retired by administrators, each delivery keeping the version in force on its day."""

import random
import string
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from tests.interventions.conftest import (
    KETAPANG,
    iso,
    person,
    projected,
    register_family,
    today,
)

# DOMAIN.md "Interventions": the specific (S1–S11) and sensitive (N1–N15) interventions.
DOMAIN_CODES = [f"S{n}" for n in range(1, 12)] + [f"N{n}" for n in range(1, 16)]


def new_code() -> str:
    return "T" + "".join(random.choices(string.ascii_uppercase + string.digits, k=6))


def entry_body(code: str | None, valid_from, unit: str = "tablets") -> dict:
    body = {
        "valid_from": iso(valid_from),
        "name": {"id": "Uji tablet", "en": "Test tablets"},
        "kind": "specific",
        "sectors": ["health"],
        "target_groups": ["ibu_hamil"],
        "subject_kind": "person",
        "eligibility": {"op": "subject_kind", "kind": "person"},
        "unit": unit,
        "dose": {
            "quantity": 10,
            "per": "once",
            "schedule": {"id": "10", "en": "10"},
            "confirmed": False,
        },
    }
    if code is not None:
        body["code"] = code
    return body


def test_seeded_catalogue_lists_the_domain_interventions(admin):
    resp = admin.get("/v1/interventions/catalogue")
    assert resp.status_code == 200, resp.text
    codes = [i["code"] for i in resp.json() if i["code"] in DOMAIN_CODES]
    assert codes == DOMAIN_CODES  # S1…S11 then N1…N15, each once
    s2 = admin.get("/v1/interventions/catalogue/S2").json()
    assert [v["version"] for v in s2["versions"]] == [1]
    first = s2["versions"][0]
    assert (first["unit"], first["dose"]["quantity"], first["sectors"]) == (
        "tablets",
        90,
        ["health"],
    )
    assert first["eligibility_text"]["en"] == (
        "subject is a person and in target group pregnant woman"
    )


def test_catalogue_reads_need_the_right_and_codes_exist(clients):
    auditor = clients("auditor", KETAPANG)
    assert auditor.get("/v1/interventions/catalogue").status_code == 403
    analyst = clients("analyst", KETAPANG)
    assert analyst.get("/v1/interventions/catalogue/S1").status_code == 200
    assert analyst.get("/v1/interventions/catalogue/ZZ9").status_code == 404


def test_only_admins_change_the_catalogue(clients, admin):
    officer = clients("regency_officer", KETAPANG)
    code = new_code()
    resp = officer.post("/v1/interventions/catalogue", json=entry_body(code, today()))
    assert resp.status_code == 403
    assert admin.get(f"/v1/interventions/catalogue/{code}").status_code == 404


def test_add_version_retire(admin):
    code = new_code()
    start = today() - timedelta(days=400)
    created = admin.post("/v1/interventions/catalogue", json=entry_body(code, start))
    assert created.status_code == 201, created.text
    again = admin.post("/v1/interventions/catalogue", json=entry_body(code, start))
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_code")

    same_day = admin.post(
        f"/v1/interventions/catalogue/{code}/versions", json=entry_body(None, start)
    )
    assert (same_day.status_code, same_day.json()["code"]) == (422, "valid_from_not_after_previous")
    bad_rule = entry_body(None, start + timedelta(days=10))
    bad_rule["eligibility"] = {"op": "age", "unit": "weeks", "min": 1}
    resp = admin.post(f"/v1/interventions/catalogue/{code}/versions", json=bad_rule)
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid_rule")

    v2 = admin.post(
        f"/v1/interventions/catalogue/{code}/versions",
        json=entry_body(None, today() - timedelta(days=10)),
    )
    assert v2.status_code == 201, v2.text
    assert v2.json()["in_force_version"] == 2
    detail = admin.get(f"/v1/interventions/catalogue/{code}", params={"on": iso(start)}).json()
    assert detail["in_force_version"] == 1

    retired = admin.post(
        f"/v1/interventions/catalogue/{code}/retire", json={"retired_on": iso(today())}
    )
    assert retired.status_code == 200, retired.text
    assert retired.json()["retired_on"] == iso(today())
    twice = admin.post(
        f"/v1/interventions/catalogue/{code}/retire", json={"retired_on": iso(today())}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "already_retired")
    listed = [i["code"] for i in admin.get("/v1/interventions/catalogue").json()]
    assert code not in listed
    listed = admin.get("/v1/interventions/catalogue", params={"include_retired": "true"}).json()
    assert code in [i["code"] for i in listed]


def test_deliveries_keep_the_version_in_force_on_their_day(admin, operator, clients):
    code = new_code()
    assert (
        admin.post(
            "/v1/interventions/catalogue", json=entry_body(code, today() - timedelta(days=400))
        ).status_code
        == 201
    )
    assert (
        admin.post(
            f"/v1/interventions/catalogue/{code}/versions",
            json=entry_body(None, today() - timedelta(days=10)),
        ).status_code
        == 201
    )
    family = register_family(
        operator,
        "61.04.16.1001",
        {"head": person("Rahmat", 1, today() - relativedelta(years=40), 1)},
    )
    head = family.members["head"]
    projected(operator, head)
    nurse = clients("health_worker", "61.04.16")

    def deliver(day):
        body = {
            "subject_id": head,
            "intervention_code": code,
            "delivered_on": iso(day),
            "quantity": 2,
            "funding_source": "APBD",
        }
        resp = nurse.post("/v1/interventions/deliveries", json=body)
        assert resp.status_code == 201, resp.text
        return resp.json()

    assert deliver(today() - timedelta(days=20))["catalogue_version"] == 1
    assert deliver(today())["catalogue_version"] == 2
    retired = admin.post(
        f"/v1/interventions/catalogue/{code}/retire", json={"retired_on": iso(today())}
    )
    assert retired.status_code == 200
    body = {
        "subject_id": head,
        "intervention_code": code,
        "delivered_on": iso(today()),
        "quantity": 2,
        "funding_source": "APBD",
    }
    resp = nurse.post("/v1/interventions/deliveries", json=body)
    assert (resp.status_code, resp.json()["code"]) == (422, "intervention_retired")
    # Before the retirement date the intervention still takes deliveries.
    body["delivered_on"] = iso(today() - timedelta(days=1))
    assert nurse.post("/v1/interventions/deliveries", json=body).status_code == 201
