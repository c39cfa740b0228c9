"""Scenario 5, catin screening, and TPK home visits: checklists, risk, referrals raised
during a visit, the due-visit schedule and the overdue list of a team."""

import uuid
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from tests.interventions.conftest import (
    KALI_NILAM,
    groups_of,
    iso,
    married,
    person,
    projected,
    register_family,
    today,
)

SUKA_BANGUN = "61.04.16.2006"  # only this module registers families here


@pytest.fixture(scope="module")
def cadre(clients):
    return clients("tpk_cadre", SUKA_BANGUN)


@pytest.fixture(scope="module")
def team(clients, cadre):
    dppkb = clients("sector_officer", "61.04", sector="family_planning")
    me = cadre.get("/v1/me").json()["sub"]
    resp = dppkb.post(
        "/v1/interventions/tpk/teams",
        json={
            "name": "TPK Suka Bangun",
            "region_code": "61.04.16",
            "members": [
                {
                    "member_id": f"bidan-{uuid.uuid4().hex[:6]}",
                    "name": "Bidan Ani",
                    "role": "midwife",
                },
                {
                    "member_id": f"pkk-{uuid.uuid4().hex[:6]}",
                    "name": "Ibu Yanti",
                    "role": "pkk_cadre",
                },
                {"member_id": me, "name": "Kader KB Dewi", "role": "kb_cadre"},
            ],
            "villages": [SUKA_BANGUN],
        },
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def bride(operator):
    """A 22-year-old woman marrying in three months (planned marriage in the registry)."""
    now = today()
    family = register_family(
        operator,
        SUKA_BANGUN,
        {
            "father": person(
                "Harun",
                1,
                now - relativedelta(years=50),
                1,
                **married(now - relativedelta(years=25)),
            ),
            "mother": person(
                "Aminah",
                2,
                now - relativedelta(years=47),
                3,
                **married(now - relativedelta(years=25)),
            ),
            "bride": person(
                "Laila", 2, now - relativedelta(years=22), 4, marital_status=1, mother="mother"
            ),
        },
        {"water_source": "piped", "sanitation": "own_septic", "welfare_decile": 5},
    )
    resp = operator.post(
        f"/v1/persons/{family.members['bride']}/life-events",
        json={"kind": "marriage_plan", "expected_date": iso(now + relativedelta(months=3))},
    )
    assert resp.status_code == 201, resp.text
    projected(operator, family.members["bride"], lambda s: "catin" in groups_of(s))
    return family


@pytest.fixture(scope="module")
def expecting(operator):
    now = today()
    family = register_family(
        operator,
        SUKA_BANGUN,
        {
            "husband": person(
                "Rudi", 1, now - relativedelta(years=29), 1, **married(now - relativedelta(years=2))
            ),
            "wife": person(
                "Sinta",
                2,
                now - relativedelta(years=25),
                3,
                **married(now - relativedelta(years=2)),
            ),
        },
        {"water_source": "unprotected_spring", "sanitation": "own_septic", "welfare_decile": 3},
    )
    start = now - relativedelta(months=4)
    resp = operator.post(
        f"/v1/persons/{family.members['wife']}/life-events",
        json={
            "kind": "pregnancy",
            "start_date": iso(start),
            "expected_date": iso(now + relativedelta(months=5)),
        },
    )
    assert resp.status_code == 201, resp.text
    projected(operator, family.members["wife"], lambda s: "ibu_hamil" in groups_of(s))
    projected(operator, family.household_id, lambda s: (s["krs"] or {}).get("is_krs") is True)
    return family, start


SCREENING = {
    "height_cm": 152,
    "weight_kg": 45,
    "muac_cm": 22.9,
    "waist_cm": 70,
    "hb_g_dl": 10.2,
    "smoke_exposure": False,
}


def test_scenario_5_catin_screening(cadre, team, bride, clients):
    wedding = today() + relativedelta(months=3)
    resp = cadre.post(
        "/v1/interventions/tpk/screenings",
        json={
            "team_id": team["id"],
            "subject_id": bride.members["bride"],
            "visited_on": iso(today()),
            "marriage_date": iso(wedding),
            "answers": SCREENING,
        },
    )
    assert resp.status_code == 201, resp.text
    screening = resp.json()
    assert screening["at_risk"] is True and screening["target_group"] == "catin"
    record = screening["screening"]
    assert [f["code"] for f in record["findings"]] == ["anaemia", "kek"]
    assert [f["threshold"] for f in record["findings"]] == [11.0, 23.5]
    assert record["on_time"] is True  # three months before the wedding
    end = today() + relativedelta(months=3) - timedelta(days=1)
    assert record["accompaniment"] == {"start": iso(today()), "end": iso(end), "months": 3}
    assert record["bmi"] == round(45 / 1.52**2, 1)
    assert screening["delivery_id"] is not None

    # The TPK schedules three monthly visits; the screening itself is the first.
    schedule = cadre.get(
        f"/v1/interventions/tpk/teams/{team['id']}/schedule", params={"target_group": "catin"}
    ).json()
    item = next(i for i in schedule["items"] if i["subject_id"] == bride.members["bride"])
    assert [s["status"] for s in item["slots"]] == ["done", "upcoming", "upcoming"]
    assert [s["start"] for s in item["slots"]] == [
        iso(today() + relativedelta(months=n)) for n in range(3)
    ]

    # The KUA sees the screening done (N3), and the bride still due for marriage guidance.
    kua = clients("sector_officer", "61.04", sector="religious_affairs")
    n3 = kua.get(
        "/v1/interventions/targets", params={"intervention": "N3", "region": SUKA_BANGUN}
    ).json()
    mine = next(i for i in n3["items"] if i["subject_id"] == bride.members["bride"])
    assert (mine["status"], mine["received"]) == ("complete", 1)
    n4 = kua.get(
        "/v1/interventions/targets", params={"intervention": "N4", "region": SUKA_BANGUN}
    ).json()
    assert bride.members["bride"] in {i["subject_id"] for i in n4["items"]}
    seen = cadre.get(f"/v1/interventions/subjects/{bride.members['bride']}").json()
    assert (seen["growth"]["muac_cm"], seen["growth"]["hb_g_dl"]) == (22.9, 10.2)


def visit(cadre, team, subject_id, group, answers, **extra):
    return cadre.post(
        "/v1/interventions/tpk/visits",
        json={
            "team_id": team["id"],
            "subject_id": subject_id,
            "target_group": group,
            "visited_on": iso(extra.pop("on", today())),
            "answers": answers,
            **extra,
        },
    )


PREGNANCY_VISIT = {
    "danger_signs": False,
    "muac_cm": 22.0,
    "ttd_tablets_taken": 20,
    "anc_visit": True,
}


def test_pregnancy_visit_with_referral_and_schedule(cadre, team, expecting):
    family, start = expecting
    wife = family.members["wife"]
    resp = visit(
        cadre,
        team,
        wife,
        "ibu_hamil",
        PREGNANCY_VISIT,
        advice=["Minum TTD setiap hari"],
        referrals=[{"referral_type": "nutrition_treatment", "note": "LiLA 22 cm"}],
    )
    assert resp.status_code == 201, resp.text
    recorded = resp.json()
    assert recorded["at_risk"] is True  # LiLA under 23.5 cm
    assert len(recorded["referral_ids"]) == 1
    referral = cadre.get(f"/v1/interventions/referrals/{recorded['referral_ids'][0]}").json()
    assert (referral["to_sector"], referral["from_org"]) == ("health", f"tpk:{team['id']}")

    # Monthly slots from the start of the pregnancy, those ending in the last 90 days.
    since = today() - timedelta(days=90)
    expected = []
    n = 0
    while start + relativedelta(months=n) <= today():
        first = start + relativedelta(months=n)
        last = start + relativedelta(months=n + 1) - timedelta(days=1)
        if last >= since:
            expected.append("done" if first <= today() <= last else "overdue")
        n += 1
    schedule = cadre.get(
        f"/v1/interventions/tpk/teams/{team['id']}/schedule", params={"target_group": "ibu_hamil"}
    ).json()
    item = next(i for i in schedule["items"] if i["subject_id"] == wife)
    assert [s["status"] for s in item["slots"]] == expected
    overdue = cadre.get(f"/v1/interventions/tpk/teams/{team['id']}/overdue").json()
    late = [i for i in overdue["items"] if i["subject_id"] == wife]
    assert late and late[0]["overdue"] == expected.count("overdue")
    assert family.household_id not in {i["subject_id"] for i in overdue["items"]}
    # The family was assessed KRS today: its first monthly visit is due, not yet overdue.
    everyone = cadre.get(f"/v1/interventions/tpk/teams/{team['id']}/schedule").json()
    krs = [i for i in everyone["items"] if i["subject_id"] == family.household_id]
    assert [(i["target_group"], [s["status"] for s in i["slots"]]) for i in krs] == [
        ("krs", ["due"])
    ]


def test_visit_refusals(cadre, team, bride, expecting, clients, scenario_family):
    family, _ = expecting
    wife = family.members["wife"]
    missing = visit(cadre, team, wife, "ibu_hamil", {"danger_signs": False})
    assert (missing.status_code, missing.json()["code"]) == (422, "answer_required")
    wild = visit(cadre, team, wife, "ibu_hamil", {**PREGNANCY_VISIT, "muac_cm": 95})
    assert (wild.status_code, wild.json()["code"]) == (422, "out_of_range")
    odd = visit(cadre, team, wife, "ibu_hamil", {**PREGNANCY_VISIT, "shoe_size": 38})
    assert (odd.status_code, odd.json()["code"]) == (422, "unknown_item")
    not_pregnant = visit(cadre, team, bride.members["bride"], "ibu_hamil", PREGNANCY_VISIT)
    assert (not_pregnant.status_code, not_pregnant.json()["code"]) == (422, "not_in_target_group")
    future = visit(cadre, team, wife, "ibu_hamil", PREGNANCY_VISIT, on=today() + timedelta(days=1))
    assert (future.status_code, future.json()["code"]) == (422, "visit_in_future")
    stranger = clients("tpk_cadre", SUKA_BANGUN)
    other = visit(stranger, team, wife, "ibu_hamil", PREGNANCY_VISIT)
    assert (other.status_code, other.json()["code"]) == (403, "not_team_member")
    district = clients("district_officer", "61.04.16")
    kali_nilam = visit(
        district, team, scenario_family.members["wife"], "ibu_hamil", PREGNANCY_VISIT
    )
    assert kali_nilam.status_code == 403  # district officers do not record TPK visits
    dppkb = clients("sector_officer", "61.04", sector="family_planning")
    away = visit(dppkb, team, scenario_family.members["wife"], "ibu_hamil", PREGNANCY_VISIT)
    assert (away.status_code, away.json()["code"]) == (422, "subject_not_in_team_villages")
    bad_team = dppkb.post(
        "/v1/interventions/tpk/teams",
        json={
            "name": "Tim kurang",
            "region_code": "61.04.16",
            "members": [{"member_id": "x", "name": "X", "role": "midwife"}],
            "villages": [KALI_NILAM],
        },
    )
    assert bad_team.status_code == 422
    assert {e["code"] for e in bad_team.json()["errors"]} >= {"team_size", "missing_role"}


def test_team_update_needs_if_match(clients, team):
    dppkb = clients("sector_officer", "61.04", sector="family_planning")
    current = dppkb.get(f"/v1/interventions/tpk/teams/{team['id']}")
    etag = current.headers["etag"]
    no_etag = dppkb.patch(f"/v1/interventions/tpk/teams/{team['id']}", json={"name": "TPK SB"})
    assert no_etag.status_code == 428
    renamed = dppkb.patch(
        f"/v1/interventions/tpk/teams/{team['id']}",
        json={"name": "TPK SB"},
        headers={"If-Match": etag},
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "TPK SB"
    stale = dppkb.patch(
        f"/v1/interventions/tpk/teams/{team['id']}", json={"name": "X"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
