"""The two feeds of this service: what it publishes (docs/CONTRACTS.md shapes) and how it
keeps its registry projection (catch-up after downtime, one-off lookup, the registry's
internal subject endpoint)."""

import asyncio
import uuid

import httpx
import pytest
from dateutil.relativedelta import relativedelta

from common.http import IDENTITY_HEADER, service_token
from common.identity import Identity, Role, encode_identity
from common.settings import CommonSettings
from kkb.database import connect, service_url
from tests.interventions.conftest import (
    KALI_NILAM,
    groups_of,
    iso,
    person,
    projected,
    register_family,
    today,
)

DELIVERY_KEYS = {
    "delivery_id",
    "subject_kind",
    "subject_id",
    "household_id",
    "village_code",
    "intervention_code",
    "catalogue_version",
    "delivered_on",
    "quantity",
    "unit",
    "sector",
    "funding_source",
    "supersedes",
}
REFERRAL_KEYS = {
    "referral_id",
    "subject_kind",
    "subject_id",
    "village_code",
    "referral_type",
    "from_org",
    "to_sector",
    "state",
    "at",
    "due_on",
}
VISIT_KEYS = {
    "visit_id",
    "team_id",
    "subject_id",
    "village_code",
    "target_group",
    "visited_on",
    "at_risk",
}
CATCH_UP_VILLAGE = "61.04.16.1005"


def service_get(stack, app: str, path: str, **params) -> httpx.Response:
    token = service_token("tests", CommonSettings().internal_secret)
    return httpx.get(stack.url(app) + path, params=params, headers={IDENTITY_HEADER: token})


def whole_feed(stack) -> list[dict]:
    events, after = [], ""
    while True:
        page = service_get(stack, "interventions", "/internal/feed", after=after, limit=5000).json()
        events += page["events"]
        after = page["next"]
        if not page["has_more"]:
            return events


@pytest.fixture(scope="module")
def activity(scenario_family, clients):
    """One delivery (single and bulk), a referral moved once, and a TPK visit."""
    nurse = clients("health_worker", "61.04.16")
    wife = scenario_family.members["wife"]
    single = nurse.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": wife,
            "intervention_code": "S11",
            "delivered_on": iso(today()),
            "quantity": 1,
            "funding_source": "APBD",
        },
    )
    assert single.status_code == 201, single.text
    bulk = nurse.post(
        "/v1/interventions/deliveries/bulk",
        json={
            "session": {
                "intervention_code": "S11",
                "delivered_on": iso(today()),
                "funding_source": "APBD",
            },
            "rows": [{"subject_id": wife, "quantity": 1}],
        },
    )
    assert bulk.status_code == 201, bulk.text
    referral = nurse.post(
        "/v1/interventions/referrals",
        json={"subject_id": scenario_family.household_id, "referral_type": "latrine"},
    ).json()
    public_works = clients("sector_officer", "61.04", sector="public_works")
    assert (
        public_works.post(f"/v1/interventions/referrals/{referral['id']}/accept").status_code == 200
    )
    cadre = clients("tpk_cadre", KALI_NILAM)
    me = cadre.get("/v1/me").json()["sub"]
    dppkb = clients("sector_officer", "61.04", sector="family_planning")
    team = dppkb.post(
        "/v1/interventions/tpk/teams",
        json={
            "name": "TPK Kali Nilam 2",
            "region_code": "61.04.16",
            "members": [
                {"member_id": me, "name": "Kader", "role": "pkk_cadre"},
                {"member_id": "bidan-x", "name": "Bidan", "role": "midwife"},
                {"member_id": "kb-x", "name": "KB", "role": "kb_cadre"},
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
                "muac_cm": 25.0,
                "ttd_tablets_taken": 30,
                "anc_visit": True,
            },
        },
    )
    assert visit.status_code == 201, visit.text
    return {
        "delivery": single.json()["id"],
        "batch": bulk.json()["batch_id"],
        "referral": referral["id"],
        "visit": visit.json()["id"],
    }


def test_published_events_have_the_contract_shapes(stack, activity):
    events = whole_feed(stack)
    by_aggregate: dict[str, list[dict]] = {}
    for e in events:
        by_aggregate.setdefault(e["aggregate_id"], []).append(e)
    single = by_aggregate[activity["delivery"]]
    assert [e["type"] for e in single] == ["delivery.recorded"]
    assert set(single[0]["payload"]) == DELIVERY_KEYS
    assert single[0]["region_code"] == KALI_NILAM
    bulk = [
        e
        for e in events
        if e["type"] == "delivery.recorded"
        and e["payload"]["delivery_id"] not in (activity["delivery"],)
    ]
    assert all(set(e["payload"]) == DELIVERY_KEYS for e in bulk)
    moves = by_aggregate[activity["referral"]]
    assert [(e["type"], e["payload"]["state"]) for e in moves] == [
        ("referral.created", "created"),
        ("referral.transitioned", "accepted"),
    ]
    assert all(set(e["payload"]) == REFERRAL_KEYS for e in moves)
    visit = by_aggregate[activity["visit"]]
    assert [e["type"] for e in visit] == ["tpk.visit.recorded"]
    assert set(visit[0]["payload"]) == VISIT_KEYS
    assert visit[0]["payload"]["at_risk"] is False


def test_the_feed_is_for_services_only(stack, admin):
    assert httpx.get(stack.url("interventions") + "/internal/feed").status_code == 401
    assert admin.get("/internal/feed").status_code == 404  # not routed by the gateway


def test_registry_internal_subject_lookup(stack, scenario_family):
    wife = service_get(stack, "registry", f"/internal/subjects/{scenario_family.members['wife']}")
    assert wife.status_code == 200, wife.text
    body = wife.json()
    assert (body["kind"], body["household_id"], body["village_code"]) == (
        "person",
        scenario_family.household_id,
        KALI_NILAM,
    )
    assert body["sex"] == 2 and body["alive"] is True and body["welfare_decile"] == 2
    assert "ibu_hamil" in {g["group"] for g in body["target_groups"]}
    assert body["krs"]["is_krs"] is True and body["krs"]["criteria"]["unsafe_water"] is True
    assert "nik" not in body and "full_name" not in body
    house = service_get(stack, "registry", f"/internal/subjects/{scenario_family.household_id}")
    groups = {g["group"] for g in house.json()["target_groups"]}
    assert house.json()["kind"] == "household" and {"baduta", "ibu_hamil", "krs"} <= groups
    assert service_get(stack, "registry", f"/internal/subjects/{uuid.uuid4()}").status_code == 404


def test_registry_lookup_carries_the_latest_measurement(stack, operator, clients):
    """A consumer that fetches a child it has not seen must get its growth class too."""
    family = register_family(
        operator,
        CATCH_UP_VILLAGE,
        {
            "mother": person("Wulan", 2, today() - relativedelta(years=25), 1),
            "child": person("Bayu", 1, today() - relativedelta(months=20), 4, mother="mother"),
        },
    )
    child = family.members["child"]
    lookup = f"/internal/subjects/{child}"
    assert service_get(stack, "registry", lookup).json()["growth"] is None
    nurse = clients("health_worker", CATCH_UP_VILLAGE)
    visit = (today() - relativedelta(days=3)).isoformat()
    measured = nurse.post(
        "/v1/growth/measurements",
        json={
            "person_id": child,
            "visit_date": visit,
            "weight_kg": 9.0,
            "height_cm": 75.0,
            "measure": "l",
            "place": "posyandu",
        },
    )
    assert measured.status_code == 201, measured.text
    growth = service_get(stack, "registry", lookup).json()["growth"]
    assert growth["measurement_id"] == measured.json()["id"]
    assert growth["visit_date"] == visit
    assert growth["latest_class_len"] == measured.json()["class_len"]["code"]


def test_registry_lookup_refuses_users(stack, admin):
    assert admin.get(f"/internal/subjects/{uuid.uuid4()}").status_code == 404  # not routed
    user = Identity(sub="someone", role=Role.ADMIN, region="", request_id="r")
    token = encode_identity(user, CommonSettings().internal_secret)
    direct = httpx.get(
        stack.url("registry") + f"/internal/subjects/{uuid.uuid4()}",
        headers={IDENTITY_HEADER: token},
    )
    assert direct.status_code == 403


async def _forget(db_url: str, subject_id: str) -> None:
    conn = await connect(service_url(db_url, "interventions"))
    try:
        await conn.execute("DELETE FROM interventions.subject WHERE id = $1", uuid.UUID(subject_id))
    finally:
        await conn.close()


def test_a_subject_missing_from_the_projection_is_fetched_once(operator, clients, db_url):
    family = register_family(
        operator,
        CATCH_UP_VILLAGE,
        {
            "mother": person("Ratna", 2, today() - relativedelta(years=26), 1),
            "child": person("Umar", 1, today() - relativedelta(years=2), 4, mother="mother"),
        },
    )
    child = family.members["child"]
    projected(operator, child)
    # As if the feed had not brought it yet.
    asyncio.run(_forget(db_url, child))
    assert operator.get(f"/v1/interventions/subjects/{child}").status_code == 404
    nurse = clients("health_worker", "61.04.16")
    resp = nurse.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": child,
            "intervention_code": "S7",
            "delivered_on": iso(today()),
            "quantity": 1,
            "funding_source": "APBD",
        },
    )
    assert resp.status_code == 201, resp.text
    fetched = operator.get(f"/v1/interventions/subjects/{child}").json()
    assert fetched["source"] == "lookup"
    assert {"baduta", "balita"} & groups_of(fetched)


def test_catch_up_after_the_interventions_app_was_down(stack, operator, admin):
    before = admin.get("/v1/interventions/projection").json()
    stack.stop_app("interventions")
    try:
        assert operator.get("/v1/interventions/sectors").status_code == 503
        families = [
            register_family(
                operator,
                CATCH_UP_VILLAGE,
                {
                    "mother": person(f"Mira{n}", 2, today() - relativedelta(years=30), 1),
                    "child": person(
                        f"Bayu{n}", 1, today() - relativedelta(months=5), 4, mother="mother"
                    ),
                },
            )
            for n in range(3)
        ]
    finally:
        stack.start_app("interventions")
        stack.wait_ready(only=("interventions",))
    for family in families:
        child = projected(operator, family.members["child"], lambda s: "baduta" in groups_of(s))
        assert child["source"] == "feed"
    after = admin.get("/v1/interventions/projection").json()
    assert after["running"] is True and after["last_error"] is None
    assert after["events_applied"] > before["events_applied"]
