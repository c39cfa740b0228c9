"""Scenario 3, targets for a sector: the health officer's gap list for iron tablets in
pregnancy, and the public-works list of KRS households without safe water or sanitation
in the lokus villages. Families are registered through the registry API."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from tests.interventions.conftest import (
    PURPOSE,
    groups_of,
    iso,
    married,
    person,
    projected,
    register_family,
    today,
)

SAMPIT = "61.04.16.1004"  # only this module registers families here (a lokus village)
TENGAH = "61.04.16.1002"  # a KRS family outside the lokus villages
UNSAFE = {"water_source": "unprotected_well", "sanitation": "no_latrine", "welfare_decile": 2}
SAFE = {"water_source": "piped", "sanitation": "own_septic", "welfare_decile": 7}


def _pregnant_family(operator, village, conditions, months_pregnant, months_to_go):
    now = today()
    family = register_family(
        operator,
        village,
        {
            "husband": person(
                "Andi", 1, now - relativedelta(years=31), 1, **married(now - relativedelta(years=4))
            ),
            "wife": person(
                "Rina", 2, now - relativedelta(years=27), 3, **married(now - relativedelta(years=4))
            ),
        },
        conditions,
    )
    start = now - relativedelta(months=months_pregnant)
    expected = now + relativedelta(months=months_to_go)
    resp = operator.post(
        f"/v1/persons/{family.members['wife']}/life-events",
        json={"kind": "pregnancy", "start_date": iso(start), "expected_date": iso(expected)},
    )
    assert resp.status_code == 201, resp.text
    projected(operator, family.members["wife"], lambda s: "ibu_hamil" in groups_of(s))
    return family, start, expected


@pytest.fixture(scope="module")
def sampit(operator, admin):
    year = today().year
    resp = admin.put(
        f"/v1/lokus/{SAMPIT}/{year}",
        json={
            "decree_number": f"188.45/{year}/Bappeda",
            "decree_date": iso(today().replace(month=1, day=5)),
        },
    )
    assert resp.status_code in (200, 201), resp.text
    first = _pregnant_family(operator, SAMPIT, UNSAFE, 4, 5)
    second = _pregnant_family(operator, SAMPIT, SAFE, 1, 8)
    outside = register_family(
        operator,
        TENGAH,
        {
            "husband": person(
                "Dedi",
                1,
                today() - relativedelta(years=35),
                1,
                **married(today() - relativedelta(years=10)),
            ),
            "wife": person(
                "Euis",
                2,
                today() - relativedelta(years=33),
                3,
                **married(today() - relativedelta(years=10)),
            ),
            "child": person("Fajar", 1, today() - relativedelta(months=30), 4, mother="wife"),
        },
        UNSAFE,
    )
    for household in (first[0].household_id, second[0].household_id, outside.household_id):
        projected(operator, household, lambda s: s["krs"] is not None)
    return {"first": first, "second": second, "outside": outside, "year": year}


@pytest.fixture(scope="module")
def health_officer(clients):
    return clients("sector_officer", "61.04.16", sector="health")


def targets(client, **params):
    resp = client.get("/v1/interventions/targets", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def expected_by_now(start, end, total=90.0):
    """catalogue.rules.dose_progress by hand: linear over the pregnancy window."""
    return total * ((today() - start).days + 1) / ((end - start).days + 1)


def test_gap_list_for_iron_tablets_in_pregnancy(sampit, health_officer, clients):
    (first, start1, due1), (second, _, _) = sampit["first"], sampit["second"]
    w1, w2 = first.members["wife"], second.members["wife"]
    nurse = clients("health_worker", "61.04.16")
    delivered = nurse.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": w1,
            "intervention_code": "S2",
            "delivered_on": iso(today() - timedelta(days=3)),
            "quantity": 30,
            "funding_source": "DAK",
        },
    )
    assert delivered.status_code == 201, delivered.text

    report = targets(health_officer, intervention="S2", region=SAMPIT)
    assert report["intervention"]["code"] == "S2" and report["evaluation"] == "sql"
    assert report["period"]["as_of"] == iso(today())
    counts = report["counts"]
    assert (counts["eligible"], counts["received_any"], counts["no_delivery"]) == (2, 1, 1)
    assert (counts["behind"], counts["complete"], counts["received_total"]) == (2, 0, 30)
    assert counts["coverage_pct"] == 0 and counts["national_target_pct"] == 80
    items = {i["subject_id"]: i for i in report["items"]}
    assert set(items) == {w1, w2}
    one = items[w1]
    assert (one["received"], one["expected_total"], one["remaining"]) == (30, 90, 60)
    assert (one["window_start"], one["window_end"]) == (iso(start1), iso(due1))
    assert one["expected_by_now"] == round(expected_by_now(start1, due1), 2)
    assert one["status"] == "behind" and one["status_label"]["id"] == "tertinggal"
    assert one["behind_by"] == round(expected_by_now(start1, due1) - 30, 2)
    assert len(one["birth_date"]) == 4  # year only without a stated purpose
    assert items[w2]["received"] == 0 and items[w2]["deliveries"] == 0

    done = nurse.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": w2,
            "intervention_code": "S2",
            "delivered_on": iso(today()),
            "quantity": 90,
            "funding_source": "DAK",
        },
    )
    assert done.status_code == 201
    report = targets(health_officer, intervention="S2", region=SAMPIT, by_village="true")
    assert (report["counts"]["complete"], report["counts"]["coverage_pct"]) == (1, 50.0)
    assert report["by_village"] == [
        {"village_code": SAMPIT, "eligible": 2, "received_any": 2, "complete": 1, "behind": 1}
    ]
    behind = targets(health_officer, intervention="S2", region=SAMPIT, status="behind")
    assert [i["subject_id"] for i in behind["items"]] == [w1]
    assert behind["counts"]["listed"] == 1


def test_pages_and_periods(sampit, health_officer):
    page = targets(health_officer, intervention="S2", region=SAMPIT, limit=1)
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = targets(
        health_officer, intervention="S2", region=SAMPIT, limit=1, cursor=page["next_cursor"]
    )
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert rest["items"][0]["subject_id"] != page["items"][0]["subject_id"]

    two_years_ago = today() - relativedelta(years=2)
    old = targets(
        health_officer,
        intervention="S2",
        region=SAMPIT,
        **{"from": iso(two_years_ago), "to": iso(two_years_ago + timedelta(days=30))},
    )
    assert old["counts"]["eligible"] == 0
    quarter = f"{today().year}-Q{(today().month - 1) // 3 + 1}"
    assert (
        targets(health_officer, intervention="S2", region=SAMPIT, period=quarter)["counts"][
            "eligible"
        ]
        == 2
    )
    bad = health_officer.get(
        "/v1/interventions/targets", params={"intervention": "S2", "period": "2026-Q5"}
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_period")
    unknown = health_officer.get("/v1/interventions/targets", params={"intervention": "S77"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_intervention")
    retired_era = health_officer.get(
        "/v1/interventions/targets", params={"intervention": "S2", "period": "2019"}
    )
    assert (retired_era.status_code, retired_era.json()["code"]) == (
        422,
        "intervention_not_in_force",
    )


def test_birth_dates_unmasked_only_with_a_purpose(sampit, clients):
    officer = clients("district_officer", "61.04.16", **PURPOSE)
    report = targets(officer, intervention="S2", region=SAMPIT)
    assert report["masked"] is False
    assert all(len(i["birth_date"]) == 10 for i in report["items"])


def test_public_works_krs_without_water_or_sanitation_in_lokus_villages(sampit, clients):
    public_works = clients("sector_officer", "61.04", sector="public_works")
    first, second, outside = sampit["first"][0], sampit["second"][0], sampit["outside"]
    year = sampit["year"]
    for code in ("N5", "N6"):
        lokus = targets(public_works, intervention=code, region="61.04.16", lokus_year=year)
        ids = {i["subject_id"] for i in lokus["items"]}
        assert first.household_id in ids
        assert second.household_id not in ids  # safe water and sanitation
        assert outside.household_id not in ids  # Tengah is not a lokus village
        assert all(i["village_code"] == SAMPIT for i in lokus["items"])
        everywhere = targets(public_works, intervention=code, region="61.04.16", limit=500)
        assert outside.household_id in {i["subject_id"] for i in everywhere["items"]}


def test_out_of_region_caller_sees_no_targets(sampit, clients):
    sambas = clients("sector_officer", "61.01", sector="health")
    report = targets(sambas, intervention="S2", region=SAMPIT)
    assert report["counts"]["eligible"] == 0 and report["items"] == []


def test_rules_not_translatable_exactly_are_evaluated_in_python(sampit, health_officer):
    report = targets(health_officer, intervention="S6", region=SAMPIT)
    assert report["evaluation"] == "sql+python"
    assert report["counts"]["eligible"] == 0
