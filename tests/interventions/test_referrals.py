"""Scenario 4, a referral across agencies: the TPK cadre refers the family to public works
(latrine) and to social affairs (no social assistance); public works accepts and starts;
social affairs enrols the family for food aid and completes. Illegal moves, concurrent
accepts and overdue inboxes."""

import asyncio
import threading
import uuid
from datetime import timedelta

import pytest

from kkb.database import connect, service_url
from tests.interventions.conftest import KALI_NILAM, iso, today


@pytest.fixture(scope="module")
def cadre(clients):
    return clients("tpk_cadre", KALI_NILAM)


@pytest.fixture(scope="module")
def team(clients, cadre):
    """The Kali Nilam TPK, set up by the family-planning agency (DPPKB)."""
    dppkb = clients("sector_officer", "61.04", sector="family_planning")
    me = cadre.get("/v1/me").json()["sub"]
    resp = dppkb.post(
        "/v1/interventions/tpk/teams",
        json={
            "name": "TPK Kali Nilam 1",
            "region_code": "61.04.16",
            "members": [
                {"member_id": me, "name": "Kader KB Sari", "role": "kb_cadre"},
                {
                    "member_id": f"bidan-{uuid.uuid4().hex[:6]}",
                    "name": "Bidan Lina",
                    "role": "midwife",
                },
                {
                    "member_id": f"pkk-{uuid.uuid4().hex[:6]}",
                    "name": "Ibu Tuti",
                    "role": "pkk_cadre",
                },
            ],
            "villages": [KALI_NILAM],
        },
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def public_works(clients):
    return clients("sector_officer", "61.04", sector="public_works")


@pytest.fixture(scope="module")
def social(clients):
    return clients("sector_officer", "61.04", sector="social_affairs")


def refer(client, subject_id, referral_type, **extra):
    return client.post(
        "/v1/interventions/referrals",
        json={"subject_id": subject_id, "referral_type": referral_type, **extra},
    )


def act(client, referral_id, action, **body):
    return client.post(f"/v1/interventions/referrals/{referral_id}/{action}", json=body or None)


def test_scenario_4_referral_across_agencies(scenario_family, cadre, team, public_works, social):
    household = scenario_family.household_id
    latrine = refer(cadre, household, "latrine", from_team_id=team["id"], note="Jamban cemplung")
    assert latrine.status_code == 201, latrine.text
    latrine = latrine.json()
    assert (latrine["from_org"], latrine["to_sector"], latrine["state"]) == (
        f"tpk:{team['id']}",
        "public_works",
        "created",
    )
    assert latrine["due_on"] == iso(today() + timedelta(days=30))
    assert latrine["subject_kind"] == "household" and latrine["village_code"] == KALI_NILAM
    aid = refer(cadre, household, "social_assistance", from_team_id=team["id"]).json()
    assert (aid["to_sector"], aid["due_on"]) == (
        "social_affairs",
        iso(today() + timedelta(days=14)),
    )

    inbox = public_works.get("/v1/interventions/referrals/incoming", params={"limit": 500}).json()
    assert latrine["id"] in [r["id"] for r in inbox["items"]]
    assert aid["id"] not in [r["id"] for r in inbox["items"]]
    mine = next(r for r in inbox["items"] if r["id"] == latrine["id"])
    assert mine["allowed_actions"] == ["accept", "reject"]

    accepted = act(public_works, latrine["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    started = act(public_works, latrine["id"], "start")
    assert started.json()["state"] == "in_progress"

    assert act(social, aid["id"], "accept").json()["state"] == "accepted"
    # Social affairs finds the family in decile 2 and enrols it for food aid (N9).
    enrolled = social.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": household,
            "intervention_code": "N9",
            "delivered_on": iso(today()),
            "quantity": 1,
            "funding_source": "APBN",
            "organisation": "Dinas Sosial Ketapang",
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["sector"] == "social_affairs"
    assert act(social, aid["id"], "start").status_code == 200
    done = act(social, aid["id"], "complete")
    assert done.status_code == 200 and done.json()["state"] == "completed"

    detail = social.get(f"/v1/interventions/referrals/{aid['id']}").json()
    moves = [(t["action"], t["from_state"], t["to_state"]) for t in detail["transitions"]]
    assert moves == [
        ("create", None, "created"),
        ("accept", "created", "accepted"),
        ("start", "accepted", "in_progress"),
        ("complete", "in_progress", "completed"),
    ]
    assert detail["transitions"][0]["actor_org"] == f"tpk:{team['id']}"
    assert {t["actor_org"] for t in detail["transitions"][1:]} == {"social_affairs"}
    assert all(t["at"] and t["actor"] for t in detail["transitions"])
    outgoing = cadre.get("/v1/interventions/referrals/outgoing", params={"team_id": team["id"]})
    assert {latrine["id"], aid["id"]} <= {r["id"] for r in outgoing.json()["items"]}


def test_illegal_moves(scenario_family, cadre, team, public_works, clients):
    household = scenario_family.household_id
    referral = refer(cadre, household, "latrine", from_team_id=team["id"]).json()
    rid = referral["id"]
    early = act(public_works, rid, "complete")
    assert (early.status_code, early.json()["code"]) == (409, "illegal_transition")
    health = clients("sector_officer", "61.04", sector="health")
    wrong = act(health, rid, "accept")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "not_receiver")
    no_reason = act(public_works, rid, "reject")
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "reason_required")
    sender_only = act(public_works, rid, "cancel")
    assert (sender_only.status_code, sender_only.json()["code"]) == (403, "not_sender")
    assert act(cadre, rid, "cancel").status_code == 403  # cadres may not move referrals
    rejected = act(public_works, rid, "reject", reason="Sudah ada program STBM desa")
    assert (
        rejected.status_code == 200 and rejected.json()["reason"] == "Sudah ada program STBM desa"
    )
    late = act(public_works, rid, "accept")
    assert (late.status_code, late.json()["code"]) == (409, "illegal_transition")
    unknown = public_works.post(f"/v1/interventions/referrals/{rid}/teleport")
    assert unknown.status_code == 422


def test_create_refusals(scenario_family, clients, cadre, team):
    nurse = clients("health_worker", "61.04.16")
    self_ref = refer(nurse, scenario_family.members["wife"], "health_check")
    assert (self_ref.status_code, self_ref.json()["code"]) == (422, "self_referral")
    kinds = refer(cadre, scenario_family.household_id, "teleportation", from_team_id=team["id"])
    assert (kinds.status_code, kinds.json()["code"]) == (422, "unknown_referral_type")
    missing = refer(cadre, str(uuid.uuid4()), "latrine", from_team_id=team["id"])
    assert missing.status_code == 404
    elsewhere = clients("district_officer", "61.04.01")
    outside = refer(elsewhere, scenario_family.household_id, "latrine")
    assert outside.status_code == 404
    past = refer(
        cadre,
        scenario_family.household_id,
        "latrine",
        from_team_id=team["id"],
        due_on=iso(today() - timedelta(days=1)),
    )
    assert (past.status_code, past.json()["code"]) == (422, "due_on_in_past")


def test_concurrent_accept_one_wins_the_other_gets_409(scenario_family, cadre, team, clients):
    rid = refer(cadre, scenario_family.household_id, "safe_water", from_team_id=team["id"]).json()[
        "id"
    ]
    officers = [clients("sector_officer", "61.04", sector="public_works") for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def accept(client):
        barrier.wait()
        results.append(act(client, rid, "accept").status_code)

    threads = [threading.Thread(target=accept, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    detail = officers[0].get(f"/v1/interventions/referrals/{rid}").json()
    assert [t["action"] for t in detail["transitions"]] == ["create", "accept"]


def test_stale_if_match_is_412(scenario_family, cadre, team, public_works):
    created = refer(cadre, scenario_family.household_id, "safe_water", from_team_id=team["id"])
    rid, etag = created.json()["id"], created.headers["etag"]
    assert act(public_works, rid, "accept").status_code == 200
    stale = public_works.post(
        f"/v1/interventions/referrals/{rid}/start", headers={"If-Match": etag}
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")


async def _make_overdue(db_url: str, referral_id: str, days: int) -> None:
    conn = await connect(service_url(db_url, "interventions"))
    try:
        await conn.execute(
            "UPDATE interventions.referral SET due_on = $2 WHERE id = $1",
            uuid.UUID(referral_id),
            today() - timedelta(days=days),
        )
    finally:
        await conn.close()


def test_overdue_inbox(scenario_family, cadre, team, public_works, social, db_url):
    rid = refer(cadre, scenario_family.household_id, "latrine", from_team_id=team["id"]).json()[
        "id"
    ]
    # Time passing: the due date is moved into the past directly in the database.
    asyncio.run(_make_overdue(db_url, rid, 3))
    overdue = public_works.get("/v1/interventions/referrals/overdue", params={"limit": 500}).json()
    item = next(r for r in overdue["items"] if r["id"] == rid)
    assert item["days_overdue"] == 3
    assert rid not in [
        r["id"] for r in social.get("/v1/interventions/referrals/overdue").json()["items"]
    ]
    refused = public_works.get("/v1/interventions/referrals/incoming", params={"sector": "health"})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_your_sector")
    assert act(public_works, rid, "accept").status_code == 200
    still = public_works.get("/v1/interventions/referrals/overdue", params={"limit": 500}).json()
    assert rid in [r["id"] for r in still["items"]]  # accepted but not done: still overdue
