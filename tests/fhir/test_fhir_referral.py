"""A referral as ServiceRequest + Task, through its life: the Task's status follows the
referral's state, the ServiceRequest stands while the referral is open."""

import pytest

from tests.fhir.conftest import FHIR_JSON, validate

# The mapping asked for, written out independently of the code.
TASK_STATUS = {
    "created": "requested",
    "accepted": "accepted",
    "in_progress": "in-progress",
    "completed": "completed",
    "rejected": "rejected",
    "cancelled": "cancelled",
}
REQUEST_STATUS = {
    "created": "active",
    "accepted": "active",
    "in_progress": "active",
    "completed": "completed",
    "rejected": "revoked",
    "cancelled": "revoked",
}


@pytest.fixture(scope="module")
def public_works(clients):
    return clients("sector_officer", "61.04", sector="public_works")


@pytest.fixture(scope="module")
def reader(systems):
    return systems(["fhir:read"], "61.04")


def _refer(operator, subject_id: str) -> dict:
    resp = operator.post(
        "/v1/interventions/referrals",
        json={"subject_id": subject_id, "referral_type": "latrine", "note": "Jamban rusak"},
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def _act(client, referral_id: str, action: str, **body) -> None:
    resp = client.post(f"/v1/interventions/referrals/{referral_id}/{action}", json=body or None)
    assert resp.status_code == 200, resp.text


def _resources(reader, referral_id: str) -> tuple[dict, dict]:
    resp = reader.get(f"/v1/interventions/fhir/referrals/{referral_id}")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(FHIR_JSON)
    bundle = resp.json()
    validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["ServiceRequest", "Task"]
    request, task = (e["resource"] for e in bundle["entry"])
    assert bundle["entry"][0]["fullUrl"].endswith(
        f"/v1/interventions/fhir/ServiceRequest/{referral_id}"
    )
    return request, task


def _check(reader, referral_id: str, state: str) -> tuple[dict, dict]:
    request, task = _resources(reader, referral_id)
    assert request["status"] == REQUEST_STATUS[state]
    assert task["status"] == TASK_STATUS[state]
    assert task["businessStatus"]["coding"][0]["code"] == state
    assert task["basedOn"] == [{"reference": f"ServiceRequest/{referral_id}"}]
    return request, task


def test_referral_through_its_states(family, operator, public_works, reader):
    fam = family()
    referral = _refer(operator, fam.household_id)
    rid = referral["id"]
    request, task = _check(reader, rid, "created")
    assert request["intent"] == "order"
    assert request["code"]["coding"][0]["code"] == "latrine"
    assert request["category"][0]["coding"][0]["code"] == "public_works"
    assert request["subject"]["reference"].endswith(f"/v1/fhir/Group/{fam.household_id}")
    assert request["occurrencePeriod"]["end"] == referral["due_on"]
    assert request["note"] == [{"text": "Jamban rusak"}]
    assert task["for"] == request["subject"]
    assert task["owner"]["identifier"]["value"] == "public_works"
    assert task["restriction"]["period"]["end"] == referral["due_on"]

    for action, state in (
        ("accept", "accepted"),
        ("start", "in_progress"),
        ("complete", "completed"),
    ):
        _act(public_works, rid, action)
        _check(reader, rid, state)

    alone = reader.get(f"/v1/interventions/fhir/Task/{rid}").json()
    validate(alone)
    assert alone["status"] == "completed"
    validate(reader.get(f"/v1/interventions/fhir/ServiceRequest/{rid}").json())


def test_rejected_and_cancelled(family, operator, public_works, reader):
    fam = family()
    rejected = _refer(operator, fam.child_id)["id"]
    _act(public_works, rejected, "reject", reason="Bukan wilayah program tahun ini")
    request, task = _check(reader, rejected, "rejected")
    assert task["statusReason"] == {"text": "Bukan wilayah program tahun ini"}
    assert request["subject"]["reference"].endswith(f"/v1/fhir/Patient/{fam.child_id}")

    cancelled = _refer(operator, fam.household_id)["id"]
    _act(operator, cancelled, "cancel")
    _check(reader, cancelled, "cancelled")


def test_referral_outside_the_region_is_404(family, operator, systems):
    rid = _refer(operator, family().household_id)["id"]
    sambas = systems(["fhir:read"], "61.01")
    assert sambas.get(f"/v1/interventions/fhir/referrals/{rid}").status_code == 404
