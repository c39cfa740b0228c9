"""What happens to a family over time: conditions, births, NIKs, moves, deaths, life
events, and the events each change puts on the feed (docs/CONTRACTS.md shapes)."""

from datetime import date, timedelta

from tests.registry import factories as f

MALE, FEMALE = 1, 2
HEAD, WIFE, CHILD = 1, 3, 4

HOUSEHOLD_KEYS = {"household_id", "village_code", "conditions", "active"}
CONDITION_KEYS = {
    "water_source",
    "sanitation",
    "house_condition",
    "welfare_decile",
    "extreme_poverty",
    "observed_date",
}
PERSON_KEYS = {
    "person_id",
    "household_id",
    "village_code",
    "sex",
    "birth_date",
    "relationship",
    "marital_status",
    "alive",
    "death_date",
    "has_nik",
    "has_birth_certificate",
    "target_groups",
}
LIFE_EVENT_KEYS = {
    "life_event_id",
    "person_id",
    "household_id",
    "village_code",
    "kind",
    "start_date",
    "end_date",
    "expected_date",
    "outcome",
    "details",
}
KRS_KEYS = {
    "household_id",
    "village_code",
    "assessed_on",
    "rule_set",
    "is_target_family",
    "is_krs",
    "criteria",
}


def etag(response) -> dict:
    return {"If-Match": response.headers["etag"]}


def test_krs_recomputed_when_conditions_change(operator, watch):
    # A young couple with a 6-month-old baby: a target family; safe water and latrine.
    t = f.today()
    body = f.household(
        [
            f.member("Eko Sintetis", MALE, f.years_ago(27), HEAD, marital_status=2),
            f.member("Dewi Sintetis", FEMALE, f.years_ago(25), WIFE, marital_status=2),
            f.member(
                "Ayu Sintetis",
                FEMALE,
                t - timedelta(days=183),
                CHILD,
                with_nik=False,
                mother_index=1,
            ),
        ]
    )
    household = operator.post("/v1/households", json=body).json()
    assert household["krs"]["is_target_family"] is True
    assert household["krs"]["is_krs"] is False
    assert household["krs"]["criteria_met"] == []
    before = watch.position()

    changed = operator.post(
        f"/v1/households/{household['id']}/conditions",
        json={
            "water_source": "surface_water",
            "sanitation": "no_latrine",
            "house_condition": "unfit",
            "welfare_decile": 1,
            "extreme_poverty": True,
            "observed_date": t.isoformat(),
        },
    )
    assert changed.status_code == 201, changed.text
    krs = changed.json()["krs"]
    assert krs["is_krs"] is True
    assert set(krs["criteria_met"]) == {"unsafe_water", "unsafe_sanitation"}
    # Extra indicators are computed but not enabled in the 2024 rule set.
    assert krs["criteria"]["poor_decile"] is True and krs["criteria"]["unfit_housing"] is True
    assert len(changed.json()["condition_history"]) == 2

    history = operator.get(f"/v1/households/{household['id']}/krs").json()
    assert [h["is_krs"] for h in history] == [True, False]

    events = watch.since(before)
    assert [e["type"] for e in events] == ["household.updated", "krs.assessed"]
    updated, assessed = events
    assert set(updated["payload"]) == HOUSEHOLD_KEYS
    assert set(updated["payload"]["conditions"]) == CONDITION_KEYS
    assert updated["payload"]["conditions"]["water_source"] == "surface_water"
    assert set(assessed["payload"]) == KRS_KEYS
    assert assessed["payload"]["is_krs"] is True
    assert assessed["region_code"] == f.KALI_NILAM
    assert {"unsafe_water", "too_young", "too_old", "too_close", "too_many"} <= set(
        assessed["payload"]["criteria"]
    )


def test_birth_nik_move_death_keep_history(operator, client_for, watch):
    t = f.today()
    home = operator.post("/v1/households", json=f.couple()).json()
    mother = next(m for m in home["members"] if m["relationship"] == WIFE)
    before = watch.position()

    # A birth: the baby joins from its birth date, with a provisional id.
    birth = t - timedelta(days=20)
    baby = operator.post(
        f"/v1/households/{home['id']}/members",
        json={
            "full_name": "Bayi Sintetis",
            "sex": FEMALE,
            "birth_date": birth.isoformat(),
            "relationship": CHILD,
            "mother_id": mother["id"],
        },
    )
    assert baby.status_code == 201, baby.text
    baby_id = baby.json()["id"]
    assert baby.json()["provisional_id"].startswith("P-")
    events = watch.since(before)
    assert [e["type"] for e in events] == ["person.registered", "krs.assessed"]
    registered = events[0]["payload"]
    assert set(registered) == PERSON_KEYS
    assert registered["has_nik"] is False and registered["alive"] is True
    groups = {g["group"]: g for g in registered["target_groups"]}
    assert groups["baduta"]["start"] == birth.isoformat()
    assert events[1]["payload"]["is_target_family"] is True

    # Her NIK arrives later; the provisional id stays in her history.
    nik = f.nik(birth, FEMALE)
    current = operator.get(f"/v1/persons/{baby_id}")
    assigned = operator.post(f"/v1/persons/{baby_id}/nik", json={"nik": nik}, headers=etag(current))
    assert assigned.status_code == 200, assigned.text
    detail = operator.get(f"/v1/persons/{baby_id}").json()
    assert detail["nik"] == nik
    assert [(h["kind"], h["value"]) for h in detail["identifier_history"]] == [
        ("provisional", baby.json()["provisional_id"])
    ]

    # Moving the grandmother in from another household of Kali Nilam.
    granny_home = operator.post(
        "/v1/households",
        json=f.household([f.member("Nenek Sintetis", FEMALE, f.years_ago(70), HEAD)]),
    ).json()
    granny = granny_home["members"][0]
    before = watch.position()
    moved = operator.post(
        f"/v1/persons/{granny['id']}/move",
        json={"household_id": home["id"], "relationship": 8},
        headers={"If-Match": f'W/"{granny["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["household_id"] == home["id"]
    types = [e["type"] for e in watch.since(before)]
    assert types[0] == "person.moved" and types.count("krs.assessed") == 2
    move = watch.since(before)[0]["payload"]
    assert set(move) == PERSON_KEYS | {"from_household_id", "from_village_code"}
    assert move["from_household_id"] == granny_home["id"]
    assert move["household_id"] == home["id"]
    memberships = operator.get(f"/v1/persons/{granny['id']}").json()["memberships"]
    assert [(m["household_id"], m["end_reason"]) for m in memberships] == [
        (granny_home["id"], "moved"),
        (home["id"], None),
    ]

    # Her death closes the membership; the household no longer lists her.
    current = operator.get(f"/v1/persons/{granny['id']}")
    before = watch.position()
    died = operator.post(
        f"/v1/persons/{granny['id']}/death",
        json={"death_date": t.isoformat()},
        headers=etag(current),
    )
    assert died.status_code == 200 and died.json()["alive"] is False
    died_event = watch.since(before)[0]
    assert died_event["type"] == "person.died"
    assert died_event["payload"]["alive"] is False
    assert died_event["payload"]["death_date"] == t.isoformat()
    members = operator.get(f"/v1/households/{home['id']}").json()["members"]
    assert granny["id"] not in {m["id"] for m in members}
    assert baby_id in {m["id"] for m in members}
    memberships = operator.get(f"/v1/persons/{granny['id']}").json()["memberships"]
    assert memberships[-1]["end_reason"] == "died"


def test_target_groups_as_of_any_date(operator, watch):
    t = f.today()
    home = operator.post("/v1/households", json=f.couple()).json()
    wife = next(m for m in home["members"] if m["relationship"] == WIFE)
    start = t - timedelta(days=100)
    before = watch.position()
    recorded = operator.post(
        f"/v1/persons/{wife['id']}/life-events",
        json={
            "kind": "pregnancy",
            "start_date": start.isoformat(),
            "expected_date": (start + timedelta(days=280)).isoformat(),
        },
    )
    assert recorded.status_code == 201, recorded.text
    events = watch.since(before)
    assert [e["type"] for e in events] == ["life_event.recorded", "person.updated", "krs.assessed"]
    assert set(events[0]["payload"]) == LIFE_EVENT_KEYS
    assert events[0]["payload"]["kind"] == "pregnancy"
    assert "ibu_hamil" in {g["group"] for g in events[1]["payload"]["target_groups"]}

    def groups_on(day: date) -> set[str]:
        r = operator.get(f"/v1/persons/{wife['id']}", params={"as_of": day.isoformat()})
        return {g["group"] for g in r.json()["target_groups"]}

    assert "ibu_hamil" in groups_on(t)
    assert "ibu_hamil" not in groups_on(start - timedelta(days=1))

    # The delivery closes the pregnancy and opens 42 days of postpartum.
    event = recorded.json()
    delivered = t - timedelta(days=1)
    closed = operator.patch(
        f"/v1/life-events/{event['id']}",
        json={"outcome": "live_birth", "end_date": delivered.isoformat()},
        headers={"If-Match": f'W/"{event["version"]}"'},
    )
    assert closed.status_code == 200, closed.text
    assert "ibu_pasca_persalinan" in groups_on(t)
    assert "ibu_hamil" not in groups_on(t)
    assert "ibu_pasca_persalinan" not in groups_on(delivered + timedelta(days=43))
    assert "ibu_hamil" in groups_on(delivered - timedelta(days=1))


def test_sites_with_maturity_history_and_lokus(client_for, watch):
    regency = client_for("regency_officer", "61.04")
    before = watch.position()
    site = regency.post(
        "/v1/sites",
        json={
            "village_code": f.KALI_NILAM,
            "name": "Kampung KB Kali Nilam Sejahtera",
            "established_on": "2019-03-01",
            "decree_number": "140/12/2019",
            "decree_date": "2019-02-20",
            "rumah_dataku_level": "sederhana",
            "aims": [1, 3],
            "area_types": ["river_basin", "poor"],
            "pokja": [{"name": "Kepala Sintetis", "role": "ketua"}],
            "maturity_level": "dasar",
        },
    )
    assert site.status_code == 201, site.text
    site_id = site.json()["id"]
    upgraded = regency.post(
        f"/v1/sites/{site_id}/maturity",
        json={"level": "berkembang", "effective_date": "2023-06-01"},
    )
    assert upgraded.status_code == 201, upgraded.text
    shown = regency.get(f"/v1/sites/{site_id}").json()
    assert shown["maturity_level"] == "berkembang"
    assert [(h["level"], h["effective_date"]) for h in shown["maturity_history"]] == [
        ("dasar", "2019-03-01"),
        ("berkembang", "2023-06-01"),
    ]
    bad = regency.post("/v1/sites", json={**site.json(), "aims": [7]})
    assert bad.status_code == 422

    year = f.today().year
    designated = regency.put(
        f"/v1/lokus/{f.KALI_NILAM}/{year}",
        json={"decree_number": "050/2/BAPPEDA", "decree_date": f"{year}-01-10"},
    )
    assert designated.status_code == 200, designated.text
    regency.put(
        f"/v1/lokus/{f.SUNGAI_PUTRI}/{year}",
        json={"decree_number": "050/2/BAPPEDA", "decree_date": f"{year}-01-10"},
    )
    listed = regency.get("/v1/lokus", params={"region": "61.04", "year": year}).json()
    assert {f.KALI_NILAM, f.SUNGAI_PUTRI} <= {x["village_code"] for x in listed["items"]}
    assert regency.get("/v1/lokus", params={"year": year - 1}).json()["items"] == []
    revoked = regency.delete(f"/v1/lokus/{f.SUNGAI_PUTRI}/{year}")
    assert revoked.json()["revoked_on"] is not None
    listed = regency.get("/v1/lokus", params={"region": "61.04", "year": year}).json()
    assert f.SUNGAI_PUTRI not in {x["village_code"] for x in listed["items"]}

    types = [e["type"] for e in watch.since(before)]
    assert types == [
        "site.registered",
        "site.updated",
        "lokus.designated",
        "lokus.designated",
        "lokus.revoked",
    ]
    site_event = watch.since(before)[0]["payload"]
    assert set(site_event) == {
        "site_id",
        "village_code",
        "name",
        "maturity_level",
        "established_on",
    }
    lokus = watch.since(before)[2]["payload"]
    assert lokus == {
        "village_code": f.KALI_NILAM,
        "year": year,
        "decree_number": "050/2/BAPPEDA",
        "decree_date": f"{year}-01-10",
    }
    # Outside its regency the officer can neither read nor designate.
    assert client_for("regency_officer", "61.71").get(f"/v1/sites/{site_id}").status_code == 404
    outside = regency.put(
        "/v1/lokus/61.71.01.1002/2025", json={"decree_number": "x", "decree_date": "2025-01-01"}
    )
    assert outside.status_code == 403


def test_search_by_name_and_target_group(operator):
    t = f.today()
    body = f.household(
        [
            f.member("Kurniawati Sintetis Langka", FEMALE, f.years_ago(23), HEAD, marital_status=2),
            f.member(
                "Kecil Sintetis Langka",
                MALE,
                t - timedelta(days=300),
                CHILD,
                with_nik=False,
                mother_index=0,
            ),
        ]
    )
    home = operator.post("/v1/households", json=body).json()
    child = next(m for m in home["members"] if m["relationship"] == CHILD)
    ranked = operator.post("/v1/search/persons", json={"name": "kurniawati langka"}).json()
    assert ranked["items"][0]["full_name"] == "Kurniawati Sintetis Langka"
    prefix = operator.post("/v1/search/persons", json={"name": "Kurnia"}).json()
    assert "Kurniawati Sintetis Langka" in {p["full_name"] for p in prefix["items"]}

    baduta = operator.post(
        "/v1/search/persons",
        json={"region": f.KALI_NILAM, "target_group": "baduta"},
        params={"limit": 500},
    ).json()["items"]
    assert child["id"] in {p["id"] for p in baduta}
    assert all("baduta" in {g["group"] for g in p["target_groups"]} for p in baduta)
    last_year = (t - timedelta(days=365)).isoformat()
    before_birth = operator.post(
        "/v1/search/persons",
        json={"region": f.KALI_NILAM, "target_group": "baduta", "as_of": last_year},
        params={"limit": 500},
    ).json()["items"]
    assert child["id"] not in {p["id"] for p in before_birth}
    bad = operator.post("/v1/search/persons", json={"nik": "1", "name": "x y"})
    assert bad.status_code == 422


def test_duplicates_listed_and_merged(operator, client_for, watch):
    birth = f.years_ago(33, 7)
    first = operator.post(
        "/v1/households",
        json=f.household([f.member("Hendra  Sintetis-Ganda", MALE, birth, HEAD)]),
    ).json()
    second = operator.post(
        "/v1/households",
        json=f.household(
            [
                f.member("Ani Sintetis", FEMALE, f.years_ago(30), HEAD),
                f.member("hendra sintetis ganda", MALE, birth, 9, with_nik=False),
            ]
        ),
    ).json()
    keep = first["members"][0]["id"]
    remove = next(m["id"] for m in second["members"] if m["relationship"] == 9)
    groups = operator.get("/v1/duplicates", params={"region": f.KALI_NILAM, "limit": 500})
    pairs = [{p["id"] for p in g["persons"]} for g in groups.json()["items"]]
    assert {keep, remove} in pairs

    before = watch.position()
    refused = operator.post("/v1/duplicates/merge", json={"keep_id": keep, "remove_id": remove})
    assert refused.status_code == 403  # merging is for district officers and admins
    district = client_for("district_officer", "61.04.16")
    merged = district.post("/v1/duplicates/merge", json={"keep_id": keep, "remove_id": remove})
    assert merged.status_code == 200, merged.text
    events = watch.since(before)
    tombstone = next(e for e in events if e["type"] == "person.merged")
    assert tombstone["payload"] == {
        "person_id": remove,
        "merged_into": keep,
        "village_code": f.KALI_NILAM,
    }
    gone = operator.get(f"/v1/persons/{remove}").json()
    assert gone["merged_into"] == keep
    assert gone["memberships"][-1]["end_reason"] == "merged"
    pairs = [
        {p["id"] for p in g["persons"]}
        for g in operator.get("/v1/duplicates", params={"limit": 500}).json()["items"]
    ]
    assert not any(remove in p for p in pairs)
    again = district.post("/v1/duplicates/merge", json={"keep_id": keep, "remove_id": remove})
    assert again.status_code == 409
