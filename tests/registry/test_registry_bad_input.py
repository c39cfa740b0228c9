"""Every kind of bad input gets a clear 4xx problem+json, and nothing is written."""

from datetime import timedelta

import pytest

from tests.registry import factories as f

MALE, FEMALE = 1, 2
HEAD, HUSBAND, WIFE, CHILD = 1, 2, 3, 4


@pytest.fixture
def unchanged(outbox_size):
    """Asserts, after the test, that no event (so no write) was committed."""
    before = outbox_size()
    yield
    assert outbox_size() == before, "a refused request wrote something"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status and body["detail"]
    return body


def one_person(nik: str | None, birth, sex=MALE, **extra) -> dict:
    person = f.member("Tono Sintetis", sex, birth, HEAD, with_nik=False, **extra)
    if nik is not None:
        person["nik"] = nik
    return f.household([person])


BIRTH = f.years_ago(30, 3)


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        (f.nik(BIRTH, MALE)[:15], "nik_wrong_length"),
        (f.nik(BIRTH, MALE)[:12] + "00A1", "nik_not_digits"),
        ("99" + f.nik(BIRTH, MALE)[2:], "nik_province_unknown"),
        # The date part says another day than the birth date.
        (f.nik(BIRTH + timedelta(days=1), MALE), "nik_birth_date_mismatch"),
        # A woman's NIK (day + 40) for a man.
        (f.nik(BIRTH, FEMALE), "nik_sex_mismatch"),
    ],
)
def test_invalid_nik_is_refused(operator, unchanged, nik, code):
    body = problem(operator.post("/v1/households", json=one_person(nik, BIRTH)), 422, code)
    assert body["errors"][0]["loc"][:3] == ["body", "members", 0]
    assert nik not in str(body)  # never echoed back


@pytest.mark.parametrize(
    ("kk", "code"),
    [
        ("61041615012000", "kk_wrong_length"),
        ("610416150120000X", "kk_not_digits"),
        ("9904161501200001", "kk_province_unknown"),
        ("6104163213200001", "kk_issue_date_invalid"),
    ],
)
def test_invalid_kk_is_refused(operator, unchanged, kk, code):
    body = one_person(f.nik(BIRTH, MALE), BIRTH)
    body["kk_number"] = kk
    problem(operator.post("/v1/households", json=body), 422, code)


def test_unknown_or_non_village_region_is_refused(operator, client_for, unchanged):
    body = one_person(f.nik(BIRTH, MALE), BIRTH)
    body["village_code"] = "61.04.16.2999"
    national = client_for("admin", "")
    problem(national.post("/v1/households", json=body), 422, "village_unknown")
    body["village_code"] = "61.04.16"  # a district, not a village
    problem(national.post("/v1/households", json=body), 422, "validation_error")


def test_birth_date_in_future_is_refused(operator, unchanged):
    tomorrow = f.today() + timedelta(days=1)
    problem(
        operator.post("/v1/households", json=one_person(None, tomorrow)),
        422,
        "birth_date_in_future",
    )


def test_mother_younger_than_ten_is_refused(operator, unchanged):
    mother_birth = f.years_ago(19)
    child_birth = mother_birth + timedelta(days=9 * 365)  # mother 9 at the birth
    body = f.household(
        [
            f.member("Ani Sintetis", FEMALE, mother_birth, HEAD),
            f.member("Ara Sintetis", FEMALE, child_birth, CHILD, with_nik=False, mother_index=0),
        ]
    )
    problem(operator.post("/v1/households", json=body), 422, "mother_too_young")


def test_pregnancy_for_a_man_or_outside_10_to_55_is_refused(operator):
    created = operator.post(
        "/v1/households",
        json=f.household(
            [
                f.member("Joko Sintetis", MALE, f.years_ago(40), HEAD, marital_status=2),
                f.member("Mina Sintetis", FEMALE, f.years_ago(57), WIFE, marital_status=2),
                f.member("Nia Sintetis", FEMALE, f.years_ago(9), CHILD, with_nik=False),
            ]
        ),
    )
    assert created.status_code == 201, created.text
    people = {m["full_name"]: m["id"] for m in created.json()["members"]}
    start = (f.today() - timedelta(days=60)).isoformat()
    cases = [
        ("Joko Sintetis", "pregnancy_not_female"),
        ("Mina Sintetis", "pregnancy_age_out_of_range"),
        ("Nia Sintetis", "pregnancy_age_out_of_range"),
    ]
    for name, code in cases:
        r = operator.post(
            f"/v1/persons/{people[name]}/life-events",
            json={"kind": "pregnancy", "start_date": start},
        )
        problem(r, 422, code)
        events = operator.get(f"/v1/persons/{people[name]}/life-events").json()
        assert events == []


def test_second_active_household_for_the_same_nik_is_refused(operator, unchanged_after_setup):
    existing, nik = unchanged_after_setup
    again = operator.post(
        f"/v1/households/{existing['id']}/members",
        json={
            **f.member("Rudi Sintetis", MALE, BIRTH, CHILD, with_nik=False),
            "nik": nik,
        },
    )
    body = problem(again, 409, "nik_already_registered")
    assert "Kali Nilam" in body["detail"]


@pytest.fixture
def unchanged_after_setup(operator, outbox_size):
    nik = f.nik(BIRTH, MALE)
    created = operator.post("/v1/households", json=one_person(nik, BIRTH))
    assert created.status_code == 201, created.text
    before = outbox_size()
    yield created.json(), nik
    assert outbox_size() == before


@pytest.fixture
def deceased(operator):
    created = operator.post(
        "/v1/households",
        json=f.household(
            [
                f.member("Wati Sintetis", FEMALE, f.years_ago(30), HEAD, marital_status=2),
                f.member("Bima Sintetis", MALE, f.years_ago(31), HUSBAND, marital_status=2),
            ]
        ),
    ).json()
    wife = next(m for m in created["members"] if m["full_name"] == "Wati Sintetis")
    died = operator.post(
        f"/v1/persons/{wife['id']}/death",
        json={"death_date": (f.today() - timedelta(days=10)).isoformat()},
        headers={"If-Match": f'W/"{wife["version"]}"'},
    )
    assert died.status_code == 200, died.text
    return created, died.json()


def test_moving_or_adding_a_life_event_to_a_deceased_person_is_refused(
    operator, deceased, outbox_size
):
    household, person = deceased
    other = operator.post("/v1/households", json=f.couple()).json()
    before = outbox_size()
    moved = operator.post(
        f"/v1/persons/{person['id']}/move",
        json={"household_id": other["id"], "relationship": 9},
        headers={"If-Match": f'W/"{person["version"]}"'},
    )
    problem(moved, 409, "person_deceased")
    event = operator.post(
        f"/v1/persons/{person['id']}/life-events",
        json={"kind": "pregnancy", "start_date": f.today().isoformat()},
    )
    problem(event, 409, "person_deceased")
    assert outbox_size() == before


def test_stale_or_missing_if_match(operator):
    created = operator.post("/v1/households", json=f.couple()).json()
    url = f"/v1/households/{created['id']}"
    assert operator.patch(url, json={"rt": "009"}).status_code == 428
    ok = operator.patch(url, json={"rt": "009"}, headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
    stale = operator.patch(url, json={"rt": "010"}, headers={"If-Match": 'W/"1"'})
    problem(stale, 412, "stale_version")
    assert operator.get(url).json()["rt"] == "009"


def test_record_from_another_region_is_not_found(operator, client_for):
    created = operator.post("/v1/households", json=f.couple()).json()
    outsider = client_for("village_operator", f.PAYA_KUMANG)
    problem(outsider.get(f"/v1/households/{created['id']}"), 404, "not_found")
    person = created["members"][0]
    problem(outsider.get(f"/v1/persons/{person['id']}"), 404, "not_found")
    r = outsider.post(
        f"/v1/persons/{person['id']}/life-events",
        json={"kind": "marriage_plan", "expected_date": f.today().isoformat()},
    )
    problem(r, 404, "not_found")


def test_writing_into_another_region_is_forbidden(client_for, unchanged):
    outsider = client_for("village_operator", f.PAYA_KUMANG)
    problem(outsider.post("/v1/households", json=f.couple()), 403, "region_out_of_scope")


def test_oversized_body_is_refused(operator, unchanged):
    body = f.couple(address="x" * 2_000_000)
    r = operator.post("/v1/households", json=body)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")


def test_concurrent_registrations_of_one_nik_let_one_through(client_for):
    from concurrent.futures import ThreadPoolExecutor

    nik = f.nik(BIRTH, MALE)
    clients = [client_for("village_operator", v) for v in (f.KALI_NILAM, f.PAYA_KUMANG)]
    bodies = [{**one_person(nik, BIRTH), "village_code": v} for v in (f.KALI_NILAM, f.PAYA_KUMANG)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda cb: cb[0].post("/v1/households", json=cb[1]),
                zip(clients, bodies, strict=True),
            )
        )
    assert sorted(r.status_code for r in answers) == [201, 409]


def test_a_retried_registration_with_the_same_idempotency_key_registers_once(
    operator, outbox_size
):
    """A village connection drops after the server answered: the retry must not make a
    second household, and the key cannot be reused for another family."""
    body = one_person(f.nik(BIRTH, MALE), BIRTH)
    key = {"Idempotency-Key": f"kk-{f.nik(BIRTH, FEMALE)}"}
    first = operator.post("/v1/households", json=body, headers=key)
    assert first.status_code == 201, first.text
    after_first = outbox_size()
    again = operator.post("/v1/households", json=body, headers=key)
    assert again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    other = one_person(f.nik(BIRTH, MALE), BIRTH)
    problem(operator.post("/v1/households", json=other, headers=key), 422, "idempotency_key_reused")
    assert outbox_size() == after_first
