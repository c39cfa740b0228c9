"""Recording a visit, the child's history, one counted visit per month, corrections
that keep the old version, and the measurement.* events."""

from datetime import date, timedelta

import pytest

from tests.growth import expect
from tests.growth.conftest import KALI_NILAM, MALE, measurement_body
from tests.registry import factories as f


def _previous_month_day(day: int) -> date:
    first = f.today().replace(day=1)
    return (first - timedelta(days=1)).replace(day=day)


def test_record_a_visit_with_zscores_and_read_the_history(midwife, new_child, feed):
    child = new_child(age_days=400, sex=MALE)
    r = midwife.post("/v1/growth/measurements", json=measurement_body(child))
    assert r.status_code == 201, r.text
    m = r.json()
    assert r.headers["etag"] == 'W/"1"'
    assert r.headers["location"] == f"/v1/growth/measurements/{m['id']}"

    # Expected values from the WHO tables, not from the code under test.
    zlen = expect.zlen(MALE, 400, 74.0)
    zwei = expect.zwei(MALE, 400, 9.2)
    zwfl = expect.zwfl(MALE, 74.0, 9.2)
    assert m["zlen"] == pytest.approx(round(zlen, 2), abs=1e-9)
    assert m["zwei"] == pytest.approx(round(zwei, 2), abs=1e-9)
    assert m["zwfl"] == pytest.approx(round(zwfl, 2), abs=1e-9)
    assert m["class_len"]["code"] == expect.class_len(zlen)
    assert m["class_wei"]["code"] == expect.class_wei(zwei)
    assert m["class_wfl"]["code"] == expect.class_wfl(zwfl)
    assert set(m["class_len"]["label"]) == {"id", "en"}
    assert m["zhc"] is None and m["fhc"] is None and m["class_bmi"] is not None
    assert m["flen"] is False and m["counted"] is True
    assert m["age_days"] == 400 and m["age_months"] == 13  # 400 / 30.4375 = 13.1
    assert m["birth_date"] == child.birth_date.isoformat()
    assert m["village_code"] == KALI_NILAM and m["place"] == "posyandu"
    assert m["engine_version"] and m["source"] == "api"

    history = midwife.get(f"/v1/growth/children/{child.id}/measurements")
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["child"]["full_name"] == child.name
    assert [x["id"] for x in body["measurements"]] == [m["id"]]
    assert body["measurements"][0]["zlen"] == m["zlen"]

    [event] = feed.for_aggregates({m["id"]}, at_least=1)
    assert event["type"] == "measurement.recorded"
    assert event["region_code"] == KALI_NILAM
    payload = event["payload"]
    assert set(payload) == expect.MEASUREMENT_PAYLOAD_KEYS
    assert payload["measurement_id"] == m["id"] and payload["person_id"] == child.id
    assert payload["birth_date"] == child.birth_date.isoformat()
    assert payload["visit_date"] == f.today().isoformat()
    assert payload["age_days"] == 400 and payload["sex"] == MALE
    assert payload["zlen"] == pytest.approx(zlen, abs=1e-9)  # full precision on the feed
    assert payload["class_len"] == expect.class_len(zlen)
    assert payload["measure"] == "l" and payload["oedema"] is False
    assert payload["supersedes"] is None and payload["household_id"]
    assert "Anak" not in str(payload)  # never a name on the feed


def test_one_counted_visit_per_month_latest_visit_date_wins(midwife, new_child):
    child = new_child(age_days=500)
    ids = {}
    for day in (5, 20, 10):  # the 10th is recorded last but is not the latest visit
        visit = _previous_month_day(day)
        r = midwife.post(
            "/v1/growth/measurements",
            json=measurement_body(child, visit_date=visit.isoformat(), weight_kg=9.0 + day / 100),
        )
        assert r.status_code == 201, r.text
        ids[day] = r.json()["id"]
    history = midwife.get(f"/v1/growth/children/{child.id}/measurements").json()
    counted = {m["id"]: m["counted"] for m in history["measurements"]}
    assert counted == {ids[5]: False, ids[10]: False, ids[20]: True}
    assert [m["visit_date"][-2:] for m in history["measurements"]] == ["05", "10", "20"]

    this_month = midwife.post("/v1/growth/measurements", json=measurement_body(child))
    assert this_month.status_code == 201
    assert this_month.json()["counted"] is True  # another month: counted on its own

    again = midwife.post(
        "/v1/growth/measurements",
        json=measurement_body(child, visit_date=_previous_month_day(20).isoformat()),
    )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "already_recorded"
    assert again.json()["measurement_id"] == ids[20]


def test_correction_keeps_the_old_version(midwife, new_child, feed):
    child = new_child(age_days=300)
    first = midwife.post("/v1/growth/measurements", json=measurement_body(child, weight_kg=12.5))
    assert first.status_code == 201, first.text
    old = first.json()
    url = f"/v1/growth/measurements/{old['id']}/corrections"
    fix = {
        **measurement_body(child, weight_kg=8.5),
        "reason": "salah ketik berat",
    }
    fix.pop("person_id")

    missing = midwife.post(url, json=fix)
    assert missing.status_code == 428, missing.text
    stale = midwife.post(url, json=fix, headers={"If-Match": 'W/"7"'})
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"

    r = midwife.post(url, json=fix, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["supersedes"] == old["id"] and new["weight_kg"] == 8.5
    assert new["correction_reason"] == "salah ketik berat"
    assert new["counted"] is True
    assert new["zwei"] == pytest.approx(round(expect.zwei(MALE, 300, 8.5), 2), abs=1e-9)

    kept = midwife.get(f"/v1/growth/measurements/{old['id']}")
    assert kept.status_code == 200
    assert kept.json()["superseded_by"] == new["id"] and kept.json()["counted"] is False
    assert kept.json()["weight_kg"] == 12.5 and kept.headers["etag"] == 'W/"2"'

    current = midwife.get(f"/v1/growth/children/{child.id}/measurements").json()
    assert [m["id"] for m in current["measurements"]] == [new["id"]]
    both = midwife.get(
        f"/v1/growth/children/{child.id}/measurements", params={"include_superseded": "true"}
    ).json()
    assert [m["id"] for m in both["measurements"]] == [old["id"], new["id"]]

    twice = midwife.post(url, json=fix, headers={"If-Match": 'W/"2"'})
    assert twice.status_code == 409 and twice.json()["code"] == "measurement_superseded"

    events = feed.for_aggregates({old["id"], new["id"]}, at_least=2)
    by_type = {e["type"]: e for e in events}
    assert by_type["measurement.corrected"]["aggregate_id"] == new["id"]
    payload = by_type["measurement.corrected"]["payload"]
    assert set(payload) == expect.MEASUREMENT_PAYLOAD_KEYS
    assert payload["supersedes"] == old["id"] and payload["weight_kg"] == 8.5


def test_correction_into_another_month_moves_the_counted_visit(midwife, new_child):
    child = new_child(age_days=600)
    earlier = _previous_month_day(12)
    a = midwife.post(
        "/v1/growth/measurements", json=measurement_body(child, visit_date=earlier.isoformat())
    ).json()
    b = midwife.post("/v1/growth/measurements", json=measurement_body(child)).json()
    assert a["counted"] and b["counted"]
    # b was really taken last month, after a: it becomes last month's counted visit.
    fix = {**measurement_body(child, visit_date=_previous_month_day(25).isoformat())}
    fix.pop("person_id")
    r = midwife.post(
        f"/v1/growth/measurements/{b['id']}/corrections",
        json={**fix, "reason": "tanggal salah"},
        headers={"If-Match": 'W/"1"'},
    )
    assert r.status_code == 201, r.text
    history = midwife.get(f"/v1/growth/children/{child.id}/measurements").json()
    counted = {m["id"]: m["counted"] for m in history["measurements"]}
    assert counted == {a["id"]: False, r.json()["id"]: True}
