"""A child's measurements as Observations, a household as Group, a child as Patient:
valid FHIR R4, SATUSEHAT codes and units, and personal data only with the right and a
purpose (scenario 8: the province's system sees no NIK)."""

import pytest

from tests.fhir.conftest import (
    FHIR_JSON,
    KALI_NILAM,
    KK_SYSTEM,
    LOINC,
    NIK_SYSTEM,
    PURPOSE,
    UCUM,
    measure,
    validate,
)
from tests.growth import expect
from tests.unit.growth.growth_expect import lms_z, who_lms

MASKED = "MASKED"


def _by_code(bundle: dict) -> dict[str, dict]:
    return {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in bundle["entry"]}


def _component(obs: dict, code: str) -> dict:
    return next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == code)


def test_observations_of_a_child_masked_for_the_province_system(family, midwife, systems):
    fam = family(age_days=400)
    m = measure(
        midwife,
        fam.child_id,
        weight_kg=9.2,
        height_cm=74.0,
        measure="l",
        head_cm=45.0,
        muac_cm=14.0,
    )
    province = systems(["fhir:read", "growth:read"], "61")  # Dinkes Kalimantan Barat
    resp = province.get("/v1/fhir/Observation", params={"subject": fam.child_id})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(FHIR_JSON)
    bundle = resp.json()
    validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 5
    assert fam.child_nik not in resp.text and fam.child_name not in resp.text

    obs = _by_code(bundle)
    assert set(obs) == {"29463-7", "8306-3", "9843-4", "56072-2", "39156-5"}
    expected_units = {"29463-7": "kg", "8306-3": "cm", "9843-4": "cm", "56072-2": "cm"}
    for code, unit in expected_units.items():
        quantity = obs[code]["valueQuantity"]
        assert (quantity["system"], quantity["code"], quantity["unit"]) == (UCUM, unit, unit)
    assert obs["39156-5"]["valueQuantity"]["code"] == "kg/m2"
    assert obs["29463-7"]["valueQuantity"]["value"] == 9.2
    assert obs["8306-3"]["valueQuantity"]["value"] == 74.0
    # BMI from weight and length (lying under 731 days: no adjustment), 2 decimals.
    assert obs["39156-5"]["valueQuantity"]["value"] == pytest.approx(round(9.2 / 0.74**2, 2))
    for resource in obs.values():
        assert resource["status"] == "final"
        assert resource["effectiveDateTime"] == m["visit_date"]
        assert resource["code"]["coding"][0]["system"] == LOINC
        assert resource["category"][0]["coding"][0]["code"] == "vital-signs"
        assert resource["subject"]["reference"] == f"Patient/{fam.child_id}"
        # No NIK without the personal-data right: the registry id names the child.
        assert resource["subject"]["identifier"]["system"] != NIK_SYSTEM
        assert resource["subject"]["identifier"]["value"] == fam.child_id
        assert resource["id"].startswith(m["id"])

    # z-scores as components, computed here from the WHO tables.
    zlen = expect.zlen(1, 400, 74.0)
    length_z = _component(obs["8306-3"], "zlen")
    assert length_z["valueQuantity"]["value"] == pytest.approx(round(zlen, 2), abs=1e-9)
    assert "WHO" in length_z["code"]["text"] or "WHO" in length_z["code"]["coding"][0]["display"]
    classes = {
        c["system"].rsplit(":", 1)[-1]: c["code"] for c in length_z["interpretation"][0]["coding"]
    }
    assert classes["growth-class"] == expect.class_len(zlen)
    zwei, zwfl = expect.zwei(1, 400, 9.2), expect.zwfl(1, 74.0, 9.2)
    weight = obs["29463-7"]
    assert _component(weight, "zwei")["valueQuantity"]["value"] == pytest.approx(round(zwei, 2))
    assert _component(weight, "zwfl")["valueQuantity"]["value"] == pytest.approx(round(zwfl, 2))
    wfl_class = _component(weight, "zwfl")["interpretation"][0]["coding"][0]["code"]
    assert wfl_class == expect.class_wfl(zwfl)
    zhc = lms_z(45.0, who_lms("hcanthro", 1, "400"))
    assert _component(obs["9843-4"], "zhc")["valueQuantity"]["value"] == pytest.approx(
        round(zhc, 2)
    )
    assert [d["reference"] for d in obs["39156-5"]["derivedFrom"]] == [
        f"Observation/{m['id']}-weight",
        f"Observation/{m['id']}-length",
    ]

    # The same Observation read on its own.
    one = province.get(f"/v1/fhir/Observation/{m['id']}-weight")
    assert one.status_code == 200, one.text
    validate(one.json())
    assert one.json() == weight
    # Filtered by code.
    only = province.get(
        "/v1/fhir/Observation", params={"subject": fam.child_id, "code": f"{LOINC}|29463-7"}
    ).json()
    assert [e["resource"]["id"] for e in only["entry"]] == [weight["id"]]


def test_with_personal_data_right_and_purpose_the_nik_is_shown_and_audited(
    family, midwife, systems, clients
):
    fam = family(age_days=200)
    measure(midwife, fam.child_id, weight_kg=7.1)
    puskesmas = systems(["fhir:read", "pii:read"], "61.04", **PURPOSE)
    bundle = puskesmas.get("/v1/fhir/Observation", params={"subject": fam.child_id}).json()
    validate(bundle)
    [entry] = bundle["entry"]
    subject = entry["resource"]["subject"]
    assert subject["identifier"] == {
        "use": "official",
        "system": NIK_SYSTEM,
        "value": fam.child_nik,
    }
    assert subject["display"] == fam.child_name

    # Without a stated purpose the same client sees masked data.
    no_purpose = systems(["fhir:read", "pii:read"], "61.04")
    masked = no_purpose.get("/v1/fhir/Observation", params={"subject": fam.child_id})
    assert fam.child_nik not in masked.text

    auditor = clients("auditor", "")
    report = auditor.get(f"/v1/audit/subjects/{fam.child_id}").json()
    reads = [a for a in report["accesses"] if a["method"] == "GET" and "nik" in a["fields"]]
    assert len(reads) == 1 and reads[0]["purpose"] == "service_delivery"


def test_patient_masked_and_unmasked(family, systems):
    fam = family(age_days=300)
    masked = systems(["fhir:read"], "61.04").get(f"/v1/fhir/Patient/{fam.child_id}")
    assert masked.status_code == 200, masked.text
    patient = masked.json()
    validate(patient)
    assert patient["meta"]["security"][0]["code"] == MASKED
    assert all(i["system"] != NIK_SYSTEM for i in patient["identifier"])
    assert patient["birthDate"] == str(fam.child_birth.year)
    assert patient["name"][0]["text"] == "A. S. " + fam.child_name.split()[-1][0].upper() + "."
    assert patient["gender"] == "male"
    codes = {e["url"]: e["valueCode"] for e in patient["address"][0]["extension"][0]["extension"]}
    assert codes == {
        "province": "61",
        "city": "6104",
        "district": "610416",
        "village": "6104162007",
    }

    full = systems(["fhir:read", "pii:read"], "61.04", **PURPOSE).get(
        f"/v1/fhir/Patient/{fam.child_id}"
    )
    patient = full.json()
    validate(patient)
    assert "security" not in patient["meta"]
    assert {"use": "official", "system": NIK_SYSTEM, "value": fam.child_nik} in patient[
        "identifier"
    ]
    assert patient["birthDate"] == fam.child_birth.isoformat()
    assert patient["name"][0]["text"] == fam.child_name


def test_household_as_group(family, systems):
    fam = family()
    masked = systems(["fhir:read"], "61").get(f"/v1/fhir/Group/{fam.household_id}")
    assert masked.status_code == 200, masked.text
    group = masked.json()
    validate(group)
    assert group["type"] == "person" and group["actual"] is True
    assert group["quantity"] == 3
    assert sorted(m["entity"]["reference"] for m in group["member"]) == sorted(
        f"Patient/{i}" for i in fam.member_ids
    )
    assert all(i["system"] != KK_SYSTEM for i in group["identifier"])
    assert fam.kk not in masked.text
    assert group["characteristic"][0]["valueCodeableConcept"]["coding"][0]["code"] == KALI_NILAM

    full = systems(["fhir:read", "pii:read"], "61.04", **PURPOSE).get(
        f"/v1/fhir/Group/{fam.household_id}"
    )
    group = full.json()
    validate(group)
    assert {"use": "official", "system": KK_SYSTEM, "value": fam.kk} in group["identifier"]


def test_outside_the_region_nothing_is_found(family, midwife, systems):
    fam = family()
    measure(midwife, fam.child_id, weight_kg=9.0)
    sambas = systems(["fhir:read"], "61.01")
    search = sambas.get("/v1/fhir/Observation", params={"subject": fam.child_id})
    assert search.status_code == 200
    assert search.json()["total"] == 0 and search.json()["entry"] == []
    for path in (f"/v1/fhir/Patient/{fam.child_id}", f"/v1/fhir/Group/{fam.household_id}"):
        assert sambas.get(path).status_code == 404


def test_without_a_fhir_scope_the_call_is_refused(family, systems, clients):
    fam = family()
    growth_only = systems(["growth:read"], "61.04")
    resp = growth_only.get("/v1/fhir/Observation", params={"subject": fam.child_id})
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"
    # Users: FHIR is for other systems and admins (common/permissions.py).
    assert (
        clients("health_worker", KALI_NILAM).get(f"/v1/fhir/Patient/{fam.child_id}").status_code
        == 403
    )
    admin = clients("admin", "61.04")
    assert admin.get(f"/v1/fhir/Patient/{fam.child_id}").status_code == 200
