"""Reading an incoming Bundle (pure, no database): entry problems with FHIRPath-like
locations, subjects by NIK, registry id or a Patient entry, visits per child and day."""

import uuid
from datetime import date

import pytest

from services.registry.fhir.intake import BundleRejected, read_bundle, visits
from services.registry.fhir.terms import WEIGHT

NIK = "https://fhir.kemkes.go.id/id/nik"
CHILD_NIK = "6104160101240001"


def obs(code="29463-7", value=9.0, unit="kg", subject=None, ident="a", **extra):
    resource = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:x", "value": ident}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": subject or {"identifier": {"system": NIK, "value": CHILD_NIK}},
        "effectiveDateTime": "2025-03-04T09:30:00+07:00",
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }
    resource.update(extra)
    return resource


def bundle(*resources, kind="batch", urls=None):
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": r, **({"fullUrl": urls[i]} if urls and urls[i] else {})}
            for i, r in enumerate(resources)
        ],
    }


def codes(entry):
    return [(i.code, i.expression) for i in entry.issues]


def test_a_good_observation():
    [entry] = read_bundle(bundle(obs())).entries
    assert entry.issues == []
    o = entry.observation
    assert (o.quantity.loinc, o.value, o.effective) == ("29463-7", 9.0, date(2025, 3, 4))
    assert (o.subject.kind, o.subject.value) == ("nik", CHILD_NIK)
    assert o.identifier == ("urn:x", "a")


@pytest.mark.parametrize(
    ("change", "code", "where"),
    [
        (
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}},
            "unknown_code",
            "code",
        ),
        (
            {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "27113001"}]}},
            "unknown_code",
            "code",
        ),
        (
            {
                "valueQuantity": {
                    "value": 9000,
                    "unit": "g",
                    "system": "http://unitsofmeasure.org",
                    "code": "g",
                }
            },
            "wrong_unit",
            "valueQuantity.code",
        ),
        (
            {
                "valueQuantity": {
                    "value": 9,
                    "unit": "kg",
                    "system": "http://example.org",
                    "code": "kg",
                }
            },
            "wrong_unit",
            "valueQuantity.code",
        ),
        ({"valueQuantity": {"value": "9", "code": "kg"}}, "value_missing", "valueQuantity.value"),
        (
            {"valueQuantity": {"value": 0, "code": "kg"}},
            "value_not_positive",
            "valueQuantity.value",
        ),
        ({"status": "preliminary"}, "status_not_final", "status"),
        ({"identifier": []}, "identifier_missing", "identifier"),
        ({"effectiveDateTime": "2025-03"}, "effective_missing", "effectiveDateTime"),
        ({"effectiveDateTime": "2025-02-30"}, "effective_invalid", "effectiveDateTime"),
        (
            {"subject": {"identifier": {"system": NIK, "value": "61041601"}}},
            "nik_invalid",
            "subject",
        ),
        ({"subject": {"display": "Budi"}}, "subject_missing", "subject"),
    ],
)
def test_entry_problems(change, code, where):
    [entry] = read_bundle(bundle(obs(**change))).entries
    assert entry.observation is None
    assert (code, f"Bundle.entry[0].resource.{where}") in codes(entry)


def test_units_accepted_per_code():
    ok = bundle(
        obs("8302-2", 80.0, "cm", ident="1"),
        obs("9843-4", 45.0, "cm", ident="2"),
        obs("56072-2", 14.0, "cm", ident="3"),
        obs("39156-5", 16.0, "kg/m2", ident="4"),
    )
    assert all(e.issues == [] for e in read_bundle(ok).entries)
    wrong = read_bundle(bundle(obs("8302-2", 0.8, "m"))).entries[0]
    assert codes(wrong)[0][0] == "wrong_unit"


def test_subject_by_patient_entry_and_by_registry_id():
    pid = str(uuid.uuid4())
    patient = {"resourceType": "Patient", "identifier": [{"system": NIK, "value": CHILD_NIK}]}
    entries = read_bundle(
        bundle(
            patient,
            obs(subject={"reference": "urn:uuid:p1"}, ident="1"),
            obs(subject={"reference": f"Patient/{pid}"}, ident="2"),
            obs(subject={"reference": "urn:uuid:nobody"}, ident="3"),
            urls=["urn:uuid:p1", None, None, None],
        )
    ).entries
    assert entries[0].patient_key.value == CHILD_NIK
    assert (entries[1].observation.subject.kind, entries[1].observation.subject.value) == (
        "nik",
        CHILD_NIK,
    )
    assert (entries[2].observation.subject.kind, entries[2].observation.subject.value) == (
        "id",
        pid,
    )
    assert codes(entries[3])[0][0] == "subject_unresolved"


def test_bundle_level_refusals():
    for body, code in (
        ({"resourceType": "Observation"}, "not_a_bundle"),
        ([], "not_a_bundle"),
        ({"resourceType": "Bundle", "type": "searchset", "entry": [{}]}, "bundle_type_unsupported"),
        ({"resourceType": "Bundle", "type": "batch", "entry": []}, "bundle_empty"),
        (
            {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": obs()}] * 1001},
            "bundle_too_large",
        ),
    ):
        with pytest.raises(BundleRejected) as refused:
            read_bundle(body)
        assert refused.value.issues[0].code == code


def test_other_resources_and_methods():
    entries = read_bundle(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": {"resourceType": "Condition"}, "request": {"method": "POST"}},
                {"resource": obs(), "request": {"method": "DELETE", "url": "Observation/1"}},
            ],
        }
    ).entries
    assert codes(entries[0])[0][0] == "resource_unsupported"
    assert codes(entries[1])[0][0] == "method_unsupported"


def test_visits_group_by_child_and_day_and_check_them():
    child, other = uuid.uuid4(), uuid.uuid4()
    parsed = read_bundle(
        bundle(
            obs("29463-7", 9.0, "kg", ident="w"),
            obs("8306-3", 74.0, "cm", ident="l"),
            obs("29463-7", 9.5, "kg", ident="w2"),  # weight twice for the same day
            obs("8302-2", 80.0, "cm", ident="h"),  # with the length: position conflict
            obs("39156-5", 16.0, "kg/m2", ident="b"),  # BMI of the other child alone
        )
    )
    for e in parsed.entries:
        e.person_id = other if e.observation.identifier[1] == "b" else child
    found = visits(parsed.entries)
    problems = {e.observation.identifier[1]: [c for c, _ in codes(e)] for e in parsed.entries}
    assert problems == {
        "w": ["quantity_repeated"],
        "w2": ["quantity_repeated"],
        "l": ["position_conflict"],
        "h": ["position_conflict"],
        "b": ["bmi_without_sources"],
    }
    assert found == []

    clean = read_bundle(
        bundle(obs("29463-7", 9.0, "kg", ident="w"), obs("8306-3", 74.0, "cm", ident="l"))
    )
    for e in clean.entries:
        e.person_id = child
    [visit] = visits(clean.entries)
    assert (visit.value(WEIGHT), visit.measure) == (9.0, "l")


def test_repeated_identifier_in_one_bundle():
    entries = read_bundle(
        bundle(obs(ident="same"), obs("8306-3", 74.0, "cm", ident="same"))
    ).entries
    assert entries[0].issues == []
    assert codes(entries[1])[0][0] == "duplicate_identifier"


def test_patient_entry_with_a_malformed_registry_id():
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:kkb:registry:person", "value": "not-a-uuid"}],
    }
    entries = read_bundle(
        bundle(patient, obs(subject={"reference": "urn:uuid:p"}), urls=["urn:uuid:p", None])
    ).entries
    assert codes(entries[0]) == [("patient_not_found", "Bundle.entry[0].resource.identifier")]
    assert codes(entries[1])[0][0] == "subject_unresolved"
