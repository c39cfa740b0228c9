"""Scenario 1 of SCENARIOS.md end to end, over HTTP against the real registry process:
the Kali Nilam village operator registers a family, the wife is pregnant, the son has
no NIK yet, the family is KRS because of its unprotected well, and the wife's NIK is
refused for a second household elsewhere."""

from datetime import timedelta

from tests.registry import factories as f

HEAD, WIFE, CHILD = 1, 3, 4
MALE, FEMALE = 1, 2
MARRIED = 2


def test_registering_a_family(operator, client_for, watch):
    start = watch.position()
    t = f.today()
    husband_birth = f.years_ago(29, 50)
    wife_birth = f.years_ago(24, 30)
    son_birth = t - timedelta(days=14 * 30 + 5)  # 14 months old
    wife_nik = f.nik(wife_birth, FEMALE)
    body = f.household(
        [
            f.member("Ahmad Sintetis", MALE, husband_birth, HEAD, marital_status=MARRIED),
            {
                **f.member("Rina Sintetis", FEMALE, wife_birth, WIFE, with_nik=False),
                "nik": wife_nik,
                "marital_status": MARRIED,
            },
            f.member("Bayu Sintetis", MALE, son_birth, CHILD, with_nik=False, mother_index=1),
        ],
        water="unprotected_well",
        sanitation="own_septic",
    )
    created = operator.post("/v1/households", json=body)
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["village_name"] == "Kali Nilam"
    assert household["kk_number"] == body["kk_number"]  # unmasked for this caller
    members = {m["full_name"]: m for m in household["members"]}
    wife, son = members["Rina Sintetis"], members["Bayu Sintetis"]

    # The son gets a provisional id ("P-" + 26 base-32 characters) and is baduta.
    assert son["nik"] is None
    assert son["provisional_id"].startswith("P-") and len(son["provisional_id"]) == 28
    assert {g["group"] for g in son["target_groups"]} >= {"baduta", "balita"}
    assert son["mother_id"] == wife["id"]

    # Before the pregnancy is recorded the family is already KRS: unsafe water.
    assert household["krs"]["is_krs"] is True
    assert household["krs"]["criteria"]["unsafe_water"] is True

    # The wife is pregnant, due in 5 months: pregnancy started about 4 months ago.
    due = t + timedelta(days=150)
    recorded = operator.post(
        f"/v1/persons/{wife['id']}/life-events",
        json={
            "kind": "pregnancy",
            "start_date": (due - timedelta(days=280)).isoformat(),
            "expected_date": due.isoformat(),
        },
    )
    assert recorded.status_code == 201, recorded.text
    groups = {g["group"] for g in recorded.json()["person"]["target_groups"]}
    assert "ibu_hamil" in groups

    shown = operator.get(f"/v1/households/{household['id']}").json()
    krs = shown["krs"]
    assert krs["is_target_family"] is True
    assert krs["is_krs"] is True
    assert "unsafe_water" in krs["criteria_met"]
    assert krs["criteria"]["unsafe_sanitation"] is False
    # Wife is 24: neither too young (< 20) nor too old (35-40).
    assert krs["criteria"]["too_young"] is False
    assert krs["criteria"]["too_old"] is False
    assert "unsafe drinking water" in krs["reason"]["en"]
    assert "air minum" in krs["reason"]["id"]
    assert krs["rule_set"] == "krs-2024.1"

    # The KRS list shows the family with its reason.
    listed = operator.get("/v1/krs", params={"village": f.KALI_NILAM, "limit": 500}).json()
    mine = [x for x in listed["items"] if x["household_id"] == household["id"]]
    assert mine and "unsafe_water" in mine[0]["criteria_met"]

    # A second registration of the wife's NIK elsewhere is refused, naming Kali Nilam.
    other = client_for("village_operator", f.PAYA_KUMANG)
    again = other.post(
        "/v1/households",
        json=f.household(
            [
                {
                    **f.member("Rina Sintetis", FEMALE, wife_birth, HEAD, with_nik=False),
                    "nik": wife_nik,
                }
            ],
            village=f.PAYA_KUMANG,
        ),
    )
    assert again.status_code == 409
    problem = again.json()
    assert again.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "nik_already_registered"
    assert "Kali Nilam" in problem["detail"]
    assert other.get("/v1/households", params={"limit": 500}).json()["items"] == [] or all(
        h["village_code"] == f.PAYA_KUMANG
        for h in other.get("/v1/households", params={"limit": 500}).json()["items"]
    )

    # The feed carries the registration, with ids and codes only.
    events = watch.since(start)
    types = [e["type"] for e in events if e["region_code"] == f.KALI_NILAM]
    assert "household.registered" in types and "krs.assessed" in types
    assert "life_event.recorded" in types
    for e in events:
        text = str(e["payload"])
        assert wife_nik not in text and body["kk_number"] not in text
        assert "Rina" not in text
