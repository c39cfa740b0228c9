"""Region scope (another region's child is absent, 404), masking of birth date and name
without a stated purpose, and the audit of unmasked reads."""

import re
from datetime import timedelta

import pytest

from tests.auth_helpers import system_client
from tests.growth.conftest import PAYA_KUMANG, PURPOSE, Child, measurement_body, register_children
from tests.registry import factories as f


@pytest.fixture(scope="module")
def measured(operator, midwife) -> tuple[Child, dict]:
    birth = f.today() - timedelta(days=700)
    [child] = register_children(operator, [("Putri Sintetis", 2, birth, True)])
    r = midwife.post("/v1/growth/measurements", json=measurement_body(child, weight_kg=10.1))
    assert r.status_code == 201, r.text
    return child, r.json()


def _read_routes(child: Child, measurement: dict) -> list[str]:
    return [
        f"/v1/growth/children/{child.id}/measurements",
        f"/v1/growth/children/{child.id}/chart",
        f"/v1/growth/measurements/{measurement['id']}",
    ]


def test_another_regions_caller_sees_nothing(clients, measured):
    child, measurement = measured
    elsewhere = clients("health_worker", PAYA_KUMANG, **PURPOSE)
    for route in _read_routes(child, measurement):
        r = elsewhere.get(route)
        assert r.status_code == 404, (route, r.text)
        assert r.json()["code"] == "not_found"
        assert "Putri" not in r.text
    fix = {**measurement_body(child), "reason": "x"}
    fix.pop("person_id")
    r = elsewhere.post(
        f"/v1/growth/measurements/{measurement['id']}/corrections",
        json=fix,
        headers={"If-Match": 'W/"1"'},
    )
    assert r.status_code == 404
    upload = elsewhere.post(
        "/v1/growth/uploads",
        content=f"person_id,visit_date,weight_kg\n{child.id},{f.today().isoformat()},9.9\n",
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 422, upload.text
    assert upload.json()["row_errors"][0]["code"] == "person_not_found"
    # The regency's officer does see it.
    regency = clients("regency_officer", "61.04")
    for route in _read_routes(child, measurement):
        assert regency.get(route).status_code == 200, route


def test_masked_without_a_stated_purpose(midwife_masked, measured):
    child, _ = measured
    body = midwife_masked.get(f"/v1/growth/children/{child.id}/measurements").json()
    assert body["child"]["masked"] is True
    assert body["child"]["full_name"] == "P. S."
    assert body["child"]["birth_date"] == str(child.birth_date.year)
    [m] = body["measurements"]
    assert m["masked"] is True and m["birth_date"] == str(child.birth_date.year)
    assert m["age_days"] is None and m["age_months"] == 22  # 700 / 30.4375 = 22.998
    text = str(body)
    assert child.birth_date.isoformat() not in text and "Putri" not in text


def test_unmasked_read_is_audited_with_its_purpose(clients, midwife, measured):
    child, measurement = measured
    body = midwife.get(f"/v1/growth/children/{child.id}/measurements").json()
    assert body["child"]["full_name"] == "Putri Sintetis"
    assert body["measurements"][0]["birth_date"] == child.birth_date.isoformat()
    auditor = clients("auditor", "")
    report = auditor.get(f"/v1/audit/subjects/{child.id}")
    assert report.status_code == 200, report.text
    reads = [a for a in report.json()["accesses"] if a["method"] == "GET"]
    assert reads, report.json()
    assert all(a["purpose"] == "service_delivery" for a in reads)
    assert any("birth_date" in a["fields"] for a in reads)


def test_system_client_reads_growth_without_personal_data(stack, db_url, measured):
    child, _ = measured
    with system_client(stack, db_url, ["growth:read"], "61") as other_system:
        r = other_system.get(f"/v1/growth/children/{child.id}/measurements")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["child"]["masked"] is True
        assert body["child"]["birth_date"] == str(child.birth_date.year)
        assert not re.search(r"\d{16}", r.text)  # no NIK anywhere
        denied = other_system.post(
            "/v1/growth/measurements", json=measurement_body(child, weight_kg=10.0)
        )
        assert denied.status_code == 403
