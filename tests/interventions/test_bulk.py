"""Bulk deliveries of a session through the gateway: COPY + set-based checks, a per-row
error report, rejected rows never half-applied, on_error=skip versus reject."""

import uuid
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from tests.interventions.conftest import iso, person, projected, register_family, today

VILLAGE = "61.04.16.1003"  # Mulia Baru: only this module registers families here
CHILDREN = 6


@pytest.fixture(scope="module")
def session_families(operator):
    """Six households, each a mother with a child of 1–3 years (S7: growth monitoring)."""
    now = today()
    families = []
    for n in range(CHILDREN):
        families.append(
            register_family(
                operator,
                VILLAGE,
                {
                    "mother": person(f"Ibu{n}", 2, now - relativedelta(years=25 + n), 1),
                    "child": person(
                        f"Anak{n}",
                        1 + n % 2,
                        now - relativedelta(months=12 + 4 * n),
                        4,
                        mother="mother",
                    ),
                },
            )
        )
    for family in families:
        projected(operator, family.members["child"])
    return families


@pytest.fixture(scope="module")
def nurse(clients):
    return clients("health_worker", "61.04.16")


def posyandu(rows: list[dict], on_error: str = "skip") -> dict:
    return {
        "session": {
            "intervention_code": "S7",
            "delivered_on": iso(today()),
            "funding_source": "APBD",
            "organisation": "Puskesmas Delta Pawan",
            "officer": "Bidan Rina",
            "place": "Posyandu Mawar, Mulia Baru",
            "reference": f"posyandu-mawar-{uuid.uuid4().hex[:6]}",
        },
        "rows": rows,
        "on_error": on_error,
    }


def counted(client, subject_id: str) -> int:
    resp = client.get(
        "/v1/interventions/deliveries",
        params={"subject_id": subject_id, "intervention": "S7", "limit": 500},
    )
    return len(resp.json()["items"])


def _bad_rows(families) -> list[dict]:
    mother = families[0].members["mother"]
    child = families[1].members["child"]
    return [
        {"subject_id": child, "quantity": 0},  # quantity_not_positive
        {"subject_id": str(uuid.uuid4()), "quantity": 1},  # unknown subject
        {"subject_id": mother, "quantity": 1},  # an adult: S7 is for children under five
        # before the birth (16 months ago), while S7 is in force
        {"subject_id": child, "quantity": 1, "delivered_on": iso(today() - relativedelta(years=3))},
        {"subject_id": child, "quantity": 1, "colour": "red"},  # unknown field
        {"subject_id": "not-a-uuid", "quantity": 1},
        {"subject_id": child, "quantity": 1, "unit": "tablets"},  # S7 counts visits
    ]


EXPECTED_CODES = [
    "quantity_not_positive",
    "not_found",
    "intervention_not_applicable",
    "delivery_before_birth",
    "unknown_field",
    "invalid_subject_id",
    "unit_mismatch",
]


def test_skip_stores_valid_rows_and_reports_each_bad_one(nurse, session_families):
    good = [{"subject_id": f.members["child"], "quantity": 1} for f in session_families]
    before = {f.members["child"]: counted(nurse, f.members["child"]) for f in session_families}
    resp = nurse.post(
        "/v1/interventions/deliveries/bulk", json=posyandu(good + _bad_rows(session_families))
    )
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert (report["received"], report["accepted"], report["rejected"]) == (
        CHILDREN + 7,
        CHILDREN,
        7,
    )
    assert [e["code"] for e in report["errors"]] == EXPECTED_CODES
    assert [e["row"] for e in report["errors"]] == list(range(CHILDREN, CHILDREN + 7))
    adult = report["errors"][2]
    assert adult["loc"] == ["body", "rows", CHILDREN + 2, "subject_id"]
    assert "0–59" in adult["msg"]  # the rule that failed, in either language
    for f in session_families:
        child = f.members["child"]
        assert counted(nurse, child) == before[child] + 1
    listed = nurse.get(
        "/v1/interventions/deliveries", params={"batch_id": report["batch_id"], "limit": 100}
    ).json()["items"]
    assert len(listed) == CHILDREN
    assert {d["officer"] for d in listed} == {"Bidan Rina"}
    assert {d["catalogue_version"] for d in listed} == {1}


def test_reject_stores_nothing_when_one_row_is_bad(nurse, session_families):
    good = [{"subject_id": f.members["child"], "quantity": 1} for f in session_families]
    bad = [{"subject_id": session_families[0].members["mother"], "quantity": 1}]
    before = {f.members["child"]: counted(nurse, f.members["child"]) for f in session_families}
    resp = nurse.post("/v1/interventions/deliveries/bulk", json=posyandu(good + bad, "reject"))
    assert resp.status_code == 422, resp.text
    problem = resp.json()
    assert problem["code"] == "bulk_rejected"
    assert (problem["received"], problem["rejected"], problem["accepted"]) == (CHILDREN + 1, 1, 0)
    assert problem["errors"][0]["row"] == CHILDREN
    for f in session_families:
        assert counted(nurse, f.members["child"]) == before[f.members["child"]]


def test_all_rows_bad_is_422(nurse, session_families):
    resp = nurse.post(
        "/v1/interventions/deliveries/bulk",
        json=posyandu([{"subject_id": str(uuid.uuid4()), "quantity": 1}]),
    )
    assert (resp.status_code, resp.json()["code"]) == (422, "no_valid_rows")


def test_rows_override_the_session_and_future_dates_are_refused(nurse, session_families):
    child = session_families[2].members["child"]
    rows = [
        {"subject_id": child, "quantity": 1, "delivered_on": iso(today() - timedelta(days=35))},
        {"subject_id": child, "quantity": 1, "delivered_on": iso(today() + timedelta(days=2))},
        {"subject_id": child, "quantity": 1, "funding_source": "BOGUS"},
    ]
    resp = nurse.post("/v1/interventions/deliveries/bulk", json=posyandu(rows))
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert report["accepted"] == 1
    assert [e["code"] for e in report["errors"]] == ["delivery_in_future", "unknown_funding_source"]


def test_a_large_session_goes_through_copy(nurse, session_families):
    """Thousands of rows (within the default 1 MB body limit)."""
    children = [f.members["child"] for f in session_families]
    rows = [{"subject_id": children[n % CHILDREN], "quantity": 1} for n in range(6000)]
    resp = nurse.post("/v1/interventions/deliveries/bulk", json=posyandu(rows))
    assert resp.status_code == 201, resp.text
    assert (resp.json()["accepted"], resp.json()["errors"]) == (6000, [])


def test_bulk_by_another_sector_is_refused_per_row(clients, session_families):
    social = clients("sector_officer", "61.04", sector="social_affairs")
    rows = [{"subject_id": session_families[0].members["child"], "quantity": 1}]
    resp = social.post("/v1/interventions/deliveries/bulk", json=posyandu(rows))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["code"] == "sector_not_responsible"
