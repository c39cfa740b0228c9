"""Single deliveries through the gateway: recorded against the projection, every bad input
refused with a clear problem and nothing written, corrections and voids kept as history,
Idempotency-Key replays."""

import uuid
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from tests.interventions.conftest import (
    DELTA_PAWAN,
    KALI_NILAM,
    groups_of,
    iso,
    person,
    projected,
    register_family,
    today,
)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def nurse(clients):
    """A midwife of Puskesmas Delta Pawan (health worker: health sector implied)."""
    return clients("health_worker", DELTA_PAWAN)


@pytest.fixture(scope="module")
def mother(operator):
    """A pregnant woman, her husband and their toddler in Kali Nilam."""
    now = today()
    family = register_family(
        operator,
        KALI_NILAM,
        {
            "husband": person("Joko", 1, now - relativedelta(years=30), 1, marital_status=2),
            "wife": person("Wati", 2, now - relativedelta(years=27), 3, marital_status=2),
            "toddler": person("Nia", 2, now - relativedelta(months=26), 4, mother="wife"),
        },
    )
    resp = operator.post(
        f"/v1/persons/{family.members['wife']}/life-events",
        json={
            "kind": "pregnancy",
            "start_date": iso(now - relativedelta(months=2)),
            "expected_date": iso(now + relativedelta(months=7)),
        },
    )
    assert resp.status_code == 201, resp.text
    projected(operator, family.members["wife"], lambda s: "ibu_hamil" in groups_of(s))
    return family


def ttd(subject_id: str, **overrides) -> dict:
    body = {
        "subject_id": subject_id,
        "intervention_code": "S2",
        "delivered_on": iso(today()),
        "quantity": 30,
        "funding_source": "APBD",
        "organisation": "Puskesmas Delta Pawan",
        "officer": "Bidan Rina",
        "place": "Posyandu Melati",
    }
    body.update(overrides)
    return body


def deliveries_of(client, subject_id: str, history: bool = True) -> list[dict]:
    resp = client.get(
        "/v1/interventions/deliveries",
        params={"subject_id": subject_id, "history": str(history).lower(), "limit": 500},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def test_record_a_delivery(nurse, mother):
    wife = mother.members["wife"]
    resp = nurse.post("/v1/interventions/deliveries", json=ttd(wife))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["subject_kind"] == "person"
    assert (body["intervention_code"], body["catalogue_version"]) == ("S2", 1)
    assert (body["quantity"], body["unit"], body["sector"]) == (30, "tablets", "health")
    assert body["household_id"] == mother.household_id
    assert body["village_code"] == KALI_NILAM
    assert (body["kind"], body["current"], body["counts"]) == ("recorded", True, True)
    detail = nurse.get(f"/v1/interventions/deliveries/{body['id']}").json()
    assert [h["id"] for h in detail["history"]] == [body["id"]]


def _refused(client, subject_id: str, body: dict, status: int, code: str) -> dict:
    before = len(deliveries_of(client, subject_id))
    resp = client.post("/v1/interventions/deliveries", json=body)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    problem = resp.json()
    assert problem["code"] == code, problem
    assert len(deliveries_of(client, subject_id)) == before  # nothing written
    return problem


def test_unknown_subject_is_404(nurse, mother):
    body = ttd(str(uuid.uuid4()))
    resp = nurse.post("/v1/interventions/deliveries", json=body)
    assert (resp.status_code, resp.json()["code"]) == (404, "not_found")


def test_subject_outside_the_callers_region_is_404(clients, mother):
    elsewhere = clients("health_worker", "61.04.01")  # Kendawangan, another district
    wife = mother.members["wife"]
    resp = elsewhere.post("/v1/interventions/deliveries", json=ttd(wife))
    assert (resp.status_code, resp.json()["code"]) == (404, "not_found")
    assert elsewhere.get(f"/v1/interventions/subjects/{wife}").status_code == 404


def test_not_applicable_to_the_subject_says_why(nurse, mother):
    problem = _refused(
        nurse,
        mother.members["husband"],
        ttd(mother.members["husband"]),
        422,
        "intervention_not_applicable",
    )
    assert "S2" in problem["detail"] and "pregnant woman" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "subject"]


def test_date_before_birth(nurse, mother):
    baby = mother.members["toddler"]
    born = projected(nurse, baby)
    body = {
        "subject_id": baby,
        "intervention_code": "S7",
        "delivered_on": iso(today() - relativedelta(years=40)),
        "quantity": 1,
        "funding_source": "APBD",
    }
    assert born["kind"] == "person"
    _refused(nurse, baby, body, 422, "delivery_before_birth")


def test_date_in_the_future(nurse, mother):
    wife = mother.members["wife"]
    _refused(
        nurse,
        wife,
        ttd(wife, delivered_on=iso(today() + timedelta(days=1))),
        422,
        "delivery_in_future",
    )


@pytest.mark.parametrize("quantity", [0, -5])
def test_quantity_must_be_positive(nurse, mother, quantity):
    wife = mother.members["wife"]
    _refused(nurse, wife, ttd(wife, quantity=quantity), 422, "quantity_not_positive")


def test_unit_funding_and_unknown_intervention(nurse, mother):
    wife = mother.members["wife"]
    problem = _refused(nurse, wife, ttd(wife, unit="sachets"), 422, "unit_mismatch")
    assert "tablets" in problem["detail"]
    _refused(nurse, wife, ttd(wife, funding_source="HIBAH"), 422, "unknown_funding_source")
    _refused(nurse, wife, ttd(wife, intervention_code="S99"), 422, "unknown_intervention")


def test_sector_officers_deliver_only_for_their_sector(clients, mother):
    public_works = clients("sector_officer", "61.04", sector="public_works")
    wife = mother.members["wife"]
    problem = _refused(public_works, wife, ttd(wife), 403, "sector_not_responsible")
    assert "Dinkes" in problem["detail"]
    auditor = clients("auditor", "61.04")
    assert auditor.post("/v1/interventions/deliveries", json=ttd(wife)).status_code == 403


def test_idempotency_key_replays_and_refuses_another_body(nurse, mother):
    wife = mother.members["wife"]
    key = {"Idempotency-Key": f"ttd-{uuid.uuid4()}"}
    before = len(deliveries_of(nurse, wife))
    first = nurse.post("/v1/interventions/deliveries", json=ttd(wife, quantity=10), headers=key)
    assert first.status_code == 201, first.text
    again = nurse.post("/v1/interventions/deliveries", json=ttd(wife, quantity=10), headers=key)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = nurse.post("/v1/interventions/deliveries", json=ttd(wife, quantity=11), headers=key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert len(deliveries_of(nurse, wife)) == before + 1


def test_correction_and_void_keep_the_original(nurse, mother):
    wife = mother.members["wife"]
    original = nurse.post("/v1/interventions/deliveries", json=ttd(wife, quantity=30)).json()
    corrected = nurse.post(
        f"/v1/interventions/deliveries/{original['id']}/corrections",
        json={"quantity": 25, "reason": "Salah hitung / miscounted"},
    )
    assert corrected.status_code == 201, corrected.text
    fixed = corrected.json()
    assert (fixed["kind"], fixed["supersedes"], fixed["quantity"]) == (
        "corrected",
        original["id"],
        25,
    )
    assert (fixed["funding_source"], fixed["officer"]) == ("APBD", "Bidan Rina")  # copied
    kept = nurse.get(f"/v1/interventions/deliveries/{original['id']}").json()
    assert (kept["quantity"], kept["current"], kept["counts"]) == (30, False, False)
    assert [h["id"] for h in kept["history"]] == [original["id"], fixed["id"]]

    again = nurse.post(
        f"/v1/interventions/deliveries/{original['id']}/corrections",
        json={"quantity": 20, "reason": "again"},
    )
    assert (again.status_code, again.json()["code"]) == (409, "delivery_superseded")
    bad = nurse.post(
        f"/v1/interventions/deliveries/{fixed['id']}/corrections",
        json={"quantity": 0, "reason": "zero"},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "quantity_not_positive")

    voided = nurse.post(
        f"/v1/interventions/deliveries/{fixed['id']}/void", json={"reason": "Bukan pasien ini"}
    )
    assert voided.status_code == 201, voided.text
    assert (voided.json()["kind"], voided.json()["counts"]) == ("voided", False)
    counting = [d["id"] for d in deliveries_of(nurse, wife, history=False)]
    assert original["id"] not in counting and fixed["id"] not in counting
    history = [d["id"] for d in deliveries_of(nurse, wife, history=True)]
    assert {original["id"], fixed["id"], voided.json()["id"]} <= set(history)


def test_other_sectors_cannot_correct_health_deliveries(clients, nurse, mother):
    wife = mother.members["wife"]
    delivery = nurse.post("/v1/interventions/deliveries", json=ttd(wife, quantity=5)).json()
    social = clients("sector_officer", "61.04", sector="social_affairs")
    resp = social.post(f"/v1/interventions/deliveries/{delivery['id']}/void", json={"reason": "x"})
    assert (resp.status_code, resp.json()["code"]) == (403, "sector_not_responsible")
