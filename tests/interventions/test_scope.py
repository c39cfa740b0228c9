"""Every read route of the interventions service, called by a caller of another regency
for records of Kali Nilam: nothing is shown (404 for one record, empty lists)."""

import httpx
import pytest

from tests.interventions.conftest import KALI_NILAM, iso, today

# Reads that show no personal record: the same for every region.
NOT_PERSONAL = {
    "/v1/interventions/sectors",
    "/v1/interventions/catalogue",
    "/v1/interventions/catalogue/{code}",
    "/v1/interventions/referral-types",
    "/v1/interventions/projection",
}


@pytest.fixture(scope="module")
def records(scenario_family, clients):
    nurse = clients("health_worker", "61.04.16")
    wife = scenario_family.members["wife"]
    delivery = nurse.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": wife,
            "intervention_code": "S2",
            "delivered_on": iso(today()),
            "quantity": 10,
            "funding_source": "APBD",
        },
    ).json()
    referral = nurse.post(
        "/v1/interventions/referrals",
        json={"subject_id": scenario_family.household_id, "referral_type": "safe_water"},
    ).json()
    cadre = clients("tpk_cadre", KALI_NILAM)
    dppkb = clients("sector_officer", "61.04", sector="family_planning")
    team = dppkb.post(
        "/v1/interventions/tpk/teams",
        json={
            "name": "TPK Kali Nilam 3",
            "region_code": KALI_NILAM,
            "members": [
                {"member_id": cadre.get("/v1/me").json()["sub"], "name": "K", "role": "kb_cadre"},
                {"member_id": "m-3", "name": "M", "role": "midwife"},
                {"member_id": "p-3", "name": "P", "role": "pkk_cadre"},
            ],
            "villages": [KALI_NILAM],
        },
    ).json()
    visit = cadre.post(
        "/v1/interventions/tpk/visits",
        json={
            "team_id": team["id"],
            "subject_id": wife,
            "target_group": "ibu_hamil",
            "visited_on": iso(today()),
            "answers": {
                "danger_signs": False,
                "muac_cm": 24,
                "ttd_tablets_taken": 10,
                "anc_visit": True,
            },
        },
    ).json()
    return {
        "subject": wife,
        "household": scenario_family.household_id,
        "delivery": delivery["id"],
        "referral": referral["id"],
        "team": team["id"],
        "visit": visit["id"],
    }


def test_every_read_route_hides_other_regions(stack, clients, records):
    inside = clients("admin", "61.04")
    outside = clients("admin", "61.01")  # Sambas
    ids = records
    values = {
        "subject_id": ids["subject"],
        "delivery_id": ids["delivery"],
        "referral_id": ids["referral"],
        "team_id": ids["team"],
        "visit_id": ids["visit"],
    }
    one = {
        t: t.format(**values)
        for t in (
            "/v1/interventions/subjects/{subject_id}",
            "/v1/interventions/subjects/{subject_id}/eligibility",
            "/v1/interventions/deliveries/{delivery_id}",
            "/v1/interventions/referrals/{referral_id}",
            "/v1/interventions/tpk/teams/{team_id}",
            "/v1/interventions/tpk/teams/{team_id}/schedule",
            "/v1/interventions/tpk/teams/{team_id}/overdue",
            "/v1/interventions/tpk/visits/{visit_id}",
            "/v1/interventions/fhir/referrals/{referral_id}",
            "/v1/interventions/fhir/ServiceRequest/{referral_id}",
            "/v1/interventions/fhir/Task/{referral_id}",
        )
    }
    lists = {
        "/v1/interventions/deliveries": ({"subject_id": ids["subject"]}, ids["delivery"]),
        "/v1/interventions/referrals": ({"limit": 500}, ids["referral"]),
        "/v1/interventions/referrals/incoming": ({"limit": 500}, ids["referral"]),
        "/v1/interventions/referrals/overdue": ({"limit": 500}, None),
        "/v1/interventions/referrals/outgoing": ({"limit": 500}, None),
        "/v1/interventions/tpk/teams": ({"limit": 500}, ids["team"]),
        "/v1/interventions/tpk/visits": ({"subject_id": ids["subject"]}, ids["visit"]),
    }
    spec = httpx.get(stack.url("interventions") + "/openapi.json").json()
    reads = {p for p, ops in spec["paths"].items() if "get" in ops and p.startswith("/v1/")}
    covered = set(one) | set(lists) | {"/v1/interventions/targets"} | NOT_PERSONAL
    assert reads == covered, "a new read route needs its out-of-region check here"

    for template, path in one.items():
        assert inside.get(path).status_code == 200, template
        resp = outside.get(path)
        assert (resp.status_code, resp.json()["code"]) == (404, "not_found"), template
    for template, (params, record_id) in lists.items():
        seen_inside = [i["id"] for i in inside.get(template, params=params).json()["items"]]
        if record_id is not None:
            assert record_id in seen_inside, template
        assert outside.get(template, params=params).json()["items"] == [], template
    target = {"intervention": "S2", "region": KALI_NILAM}
    assert inside.get("/v1/interventions/targets", params=target).json()["counts"]["eligible"] >= 1
    hidden = outside.get("/v1/interventions/targets", params=target).json()
    assert (hidden["counts"]["eligible"], hidden["items"]) == (0, [])
