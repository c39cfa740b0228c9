"""Importing growth Observations from a health-centre system: stored through the growth
service with WHO z-scores, idempotent on each Observation's identifier, refused entry
by entry with an OperationOutcome (a transaction Bundle all or nothing)."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.fhir.conftest import FHIR_JSON, LOINC, NIK_SYSTEM, UCUM, history, validate
from tests.growth import expect
from tests.registry import factories as f

SIMPUS = "https://simpus.ketapangkab.example/fhir/observation"


def observation(
    code: str,
    value: float,
    unit: str,
    subject: dict[str, Any],
    day: str | None = None,
    identifier: str | None = None,
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "identifier": [{"system": SIMPUS, "value": identifier or uuid.uuid4().hex}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": subject,
        "effectiveDateTime": day or f.today().isoformat(),
        "performer": [{"display": "Puskesmas Delta Pawan"}],
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def nik_subject(nik: str) -> dict[str, Any]:
    return {"identifier": {"system": NIK_SYSTEM, "value": nik}}


def bundle(kind: str, resources: list[dict[str, Any]], full_urls: list[str] | None = None) -> dict:
    entries = []
    for i, r in enumerate(resources):
        entry: dict[str, Any] = {"resource": r}
        if full_urls and full_urls[i]:
            entry["fullUrl"] = full_urls[i]
        if kind != "collection":
            entry["request"] = {"method": "POST", "url": r["resourceType"]}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def post(client, body: dict):
    return client.post("/v1/fhir/Bundle", json=body, headers={"Content-Type": FHIR_JSON})


@pytest.fixture(scope="module")
def simpus(systems):
    """The health centre's system: may write FHIR in Ketapang, no personal data."""
    return systems(["fhir:write", "fhir:read"], "61.04")


def test_transaction_stores_a_visit_with_zscores_and_repeats_harmlessly(family, simpus, midwife):
    fam = family(age_days=400)
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": NIK_SYSTEM, "value": fam.child_nik}],
    }
    by_reference = {"reference": patient_url}
    body = bundle(
        "transaction",
        [
            patient,
            observation("29463-7", 9.2, "kg", by_reference),
            observation("8306-3", 74.0, "cm", nik_subject(fam.child_nik)),
            observation("9843-4", 45.0, "cm", {"reference": f"Patient/{fam.child_id}"}),
        ],
        [patient_url, None, None, None],
    )
    resp = post(simpus, body)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    validate(answer)
    assert answer["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["200 OK", "201 Created", "201 Created", "201 Created"]
    assert answer["entry"][0]["response"]["location"] == f"Patient/{fam.child_id}"

    [stored] = history(midwife, fam.child_id)
    assert (stored["weight_kg"], stored["height_cm"], stored["head_cm"]) == (9.2, 74.0, 45.0)
    assert stored["measure"] == "l" and stored["place"] == "other"
    assert stored["posyandu_name"] == "Puskesmas Delta Pawan"
    zlen = expect.zlen(1, 400, 74.0)
    assert stored["zlen"] == pytest.approx(round(zlen, 2), abs=1e-9)
    assert stored["class_len"]["code"] == expect.class_len(zlen)
    locations = {e["response"]["location"] for e in answer["entry"][1:]}
    assert locations == {
        f"Observation/{stored['id']}-weight",
        f"Observation/{stored['id']}-length",
        f"Observation/{stored['id']}-head",
    }

    # The Observations served back carry the sender's own identifiers.
    served = simpus.get("/v1/fhir/Observation", params={"subject": fam.child_id}).json()
    sent = {r["resource"]["identifier"][0]["value"] for r in body["entry"][1:]}
    got = {
        i["value"]
        for e in served["entry"]
        for i in e["resource"]["identifier"]
        if i["system"] == SIMPUS
    }
    assert got == sent

    again = post(simpus, body)
    assert again.status_code == 200, again.text
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 4
    assert len(history(midwife, fam.child_id)) == 1

    # Same identifier, other value: a conflict, and nothing changes.
    changed = bundle("transaction", [dict(body["entry"][1]["resource"])])
    changed["entry"][0]["resource"]["valueQuantity"] = {
        "value": 9.8,
        "unit": "kg",
        "system": UCUM,
        "code": "kg",
    }
    changed["entry"][0]["resource"]["subject"] = nik_subject(fam.child_nik)
    conflict = post(simpus, changed)
    assert conflict.status_code == 409, conflict.text
    outcome = conflict.json()
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "identifier_conflict"
    assert [m["weight_kg"] for m in history(midwife, fam.child_id)] == [9.2]


def _refused(client, body: dict, status: int, code: str, where: str) -> dict:
    resp = post(client, body)
    assert resp.status_code == status, resp.text
    outcome = resp.json()
    validate(outcome)
    codes = [
        (i["details"]["coding"][0]["code"], i.get("expression", [""])[0]) for i in outcome["issue"]
    ]
    assert (code, where) in codes, codes
    assert all(i["severity"] == "error" for i in outcome["issue"])
    return outcome


def test_transaction_with_a_bad_entry_stores_nothing(family, simpus, midwife):
    fam = family(age_days=500)
    good = observation("29463-7", 10.1, "kg", nik_subject(fam.child_nik))

    unknown_code = bundle(
        "transaction", [good, observation("8867-4", 120, "/min", nik_subject(fam.child_nik))]
    )
    _refused(simpus, unknown_code, 422, "unknown_code", "Bundle.entry[1].resource.code")

    grams = bundle(
        "transaction",
        [good, observation("8302-2", 8100, "g", nik_subject(fam.child_nik), day="2025-01-01")],
    )
    _refused(simpus, grams, 422, "wrong_unit", "Bundle.entry[1].resource.valueQuantity.code")

    stranger = f.nik(f.years_ago(1), 1)  # well-formed, registered nowhere
    nobody = bundle("transaction", [observation("29463-7", 9.0, "kg", nik_subject(stranger))])
    _refused(simpus, nobody, 404, "patient_not_found", "Bundle.entry[0].resource.subject")

    twice = bundle("transaction", [good, dict(good)])
    _refused(simpus, twice, 422, "duplicate_identifier", "Bundle.entry[1].resource.identifier")

    tomorrow = (f.today() + timedelta(days=1)).isoformat()
    future = observation("29463-7", 10.0, "kg", nik_subject(fam.child_nik), day=tomorrow)
    _refused(
        simpus, bundle("transaction", [future]), 422, "visit_in_future", "Bundle.entry[0].resource"
    )

    assert history(midwife, fam.child_id) == []


def test_batch_stores_what_is_valid_and_reports_each_entry(family, simpus, midwife):
    fam = family(age_days=600)
    other = family(age_days=700)
    body = bundle(
        "batch",
        [
            observation("29463-7", 11.0, "kg", nik_subject(fam.child_nik)),
            observation("29463-7", 11.0, "lb", nik_subject(other.child_nik)),
            observation("8302-2", 80.0, "cm", nik_subject(other.child_nik)),
        ],
    )
    resp = post(simpus, body)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    validate(answer)
    assert answer["type"] == "batch-response"
    [ok, bad, height] = answer["entry"]
    assert ok["response"]["status"] == "201 Created"
    assert bad["response"]["status"].startswith("422")
    assert bad["response"]["outcome"]["issue"][0]["details"]["coding"][0]["code"] == "wrong_unit"
    assert height["response"]["status"] == "201 Created"
    assert [m["weight_kg"] for m in history(midwife, fam.child_id)] == [11.0]
    [stored] = history(midwife, other.child_id)
    assert (stored["weight_kg"], stored["height_cm"], stored["measure"]) == (None, 80.0, "h")


def test_a_collection_is_read_like_a_batch_and_bmi_alone_is_refused(family, simpus):
    fam = family()
    body = bundle("collection", [observation("39156-5", 16.0, "kg/m2", nik_subject(fam.child_nik))])
    resp = post(simpus, body)
    assert resp.status_code == 200, resp.text
    [entry] = resp.json()["entry"]
    assert entry["response"]["status"].startswith("422")
    codes = [i["details"]["coding"][0]["code"] for i in entry["response"]["outcome"]["issue"]]
    assert codes == ["bmi_without_sources"]


def test_not_a_bundle_and_write_scope(systems, simpus):
    resp = post(simpus, {"resourceType": "Observation"})
    assert resp.status_code == 422
    assert resp.json()["issue"][0]["details"]["coding"][0]["code"] == "not_a_bundle"
    at_base = simpus.post("/v1/fhir", json={"resourceType": "Bundle", "type": "batch"})
    assert at_base.status_code == 422  # the FHIR base takes Bundles too
    assert at_base.json()["issue"][0]["details"]["coding"][0]["code"] == "bundle_empty"
    reader = systems(["fhir:read"], "61.04")
    body = bundle("batch", [observation("29463-7", 9.0, "kg", nik_subject("6104160101250001"))])
    assert post(reader, body).status_code == 403
