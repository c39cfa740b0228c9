"""Region scope on every read and list, and masking of personal data with the audit
header only when data is shown unmasked."""

import json

import httpx
import pytest

from tests.registry import factories as f


@pytest.fixture(scope="module")
def family(operator):
    body = f.couple()
    created = operator.post("/v1/households", json=body)
    assert created.status_code == 201, created.text
    return body, created.json()


def test_read_routes_hide_other_regions(operator, client_for, family):
    _, household = family
    person = household["members"][0]
    outsider = client_for("district_officer", "61.04.01")
    for url in (
        f"/v1/households/{household['id']}",
        f"/v1/households/{household['id']}/krs",
        f"/v1/persons/{person['id']}",
        f"/v1/persons/{person['id']}/life-events",
    ):
        assert operator.get(url).status_code == 200, url
        r = outsider.get(url)
        assert r.status_code == 404, url
    ids = lambda items: {h["id"] for h in items}  # noqa: E731
    mine = operator.get("/v1/households", params={"limit": 500}).json()["items"]
    assert household["id"] in ids(mine)
    assert all(h["village_code"] == f.KALI_NILAM for h in mine)
    theirs = outsider.get("/v1/households", params={"limit": 500}).json()["items"]
    assert household["id"] not in ids(theirs)
    assert all(h["village_code"].startswith("61.04.01.") for h in theirs)
    krs = outsider.get("/v1/krs", params={"limit": 500}).json()["items"]
    assert all(k["village_code"].startswith("61.04.01.") for k in krs)
    found = outsider.post("/v1/search/persons", json={"name": "Sari Sintetis"}).json()
    assert all(p["village_code"].startswith("61.04.01.") for p in found["items"])


def test_list_filters(operator, client_for, family):
    _, household = family
    regency = client_for("regency_officer", "61.04")
    in_village = regency.get("/v1/households", params={"region": f.KALI_NILAM}).json()
    assert in_village["items"] and all(
        h["village_code"] == f.KALI_NILAM for h in in_village["items"]
    )
    by_rt = regency.get(
        "/v1/households", params={"region": f.KALI_NILAM, "rt": "002", "limit": 500}
    ).json()["items"]
    assert household["id"] in {h["id"] for h in by_rt}
    assert all(h["rt"] == "002" for h in by_rt)
    other_rt = regency.get("/v1/households", params={"region": f.KALI_NILAM, "rt": "777"})
    assert other_rt.json()["items"] == []


def test_cursor_pagination_visits_every_household_once(client_for, operator):
    for _ in range(3):
        operator.post("/v1/households", json=f.couple())
    regency = client_for("regency_officer", "61.04")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = regency.get("/v1/households", params=params).json()
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = regency.get("/v1/households", params={"limit": 500}).json()["items"]
    assert seen == [h["id"] for h in everything]
    assert len(seen) == len(set(seen)) >= 4


def test_masked_without_right_or_purpose(client_for, family):
    body, household = family
    nik = body["members"][1]["nik"]
    for masked_caller in (
        client_for("village_operator", f.KALI_NILAM, pii=False),
        client_for("village_operator", f.KALI_NILAM, pii=True, purpose=None),
    ):
        r = masked_caller.get(f"/v1/households/{household['id']}")
        assert r.status_code == 200
        assert "x-kkb-audit" not in r.headers
        shown = r.json()
        assert shown["masked"] is True
        assert shown["kk_number"] == body["kk_number"][:4] + "•" * 8 + body["kk_number"][-4:]
        wife = next(m for m in shown["members"] if m["relationship"] == 3)
        assert wife["nik"] == nik[:4] + "•" * 8 + nik[-4:]
        assert wife["full_name"] == "S. S."
        assert wife["birth_date"] == body["members"][1]["birth_date"][:4]
        assert nik not in r.text and "Sari" not in r.text


def test_unmasked_read_is_marked_for_audit(operator, family):
    body, household = family
    r = operator.get(f"/v1/households/{household['id']}")
    shown = r.json()
    assert shown["masked"] is False and shown["kk_number"] == body["kk_number"]
    audit = json.loads(r.headers["x-kkb-audit"])
    assert audit["unmasked"] is True and audit["record_type"] == "household"
    assert audit["record_ids"] == [household["id"]]
    assert set(audit["subject_ids"]) == {m["id"] for m in household["members"]}
    person = operator.get(f"/v1/persons/{household['members'][1]['id']}")
    assert json.loads(person.headers["x-kkb-audit"])["subject_ids"] == [
        household["members"][1]["id"]
    ]


def test_identifiers_never_in_urls_search_is_a_post(operator, family):
    body, household = family
    nik = body["members"][1]["nik"]
    by_nik = operator.post("/v1/search/persons", json={"nik": nik}).json()["items"]
    assert [p["id"] for p in by_nik] == [household["members"][1]["id"]]
    by_kk = operator.post("/v1/search/persons", json={"kk_number": body["kk_number"]}).json()
    assert {p["id"] for p in by_kk["items"]} == {m["id"] for m in household["members"]}
    assert operator.get("/v1/search/persons", params={"nik": nik}).status_code == 405


def test_every_read_route_hides_other_regions(operator, client_for, registry_url, family):
    """Walks the registry's OpenAPI: every GET with a record id answers 404 out of region."""
    _, household = family
    person = household["members"][1]
    event = operator.post(
        f"/v1/persons/{person['id']}/life-events",
        json={"kind": "contraception", "method": "pill", "start_date": f.today().isoformat()},
    )
    assert event.status_code == 201, event.text
    regency = client_for("regency_officer", "61.04")
    site = regency.post(
        "/v1/sites",
        json={
            "village_code": f.KALI_NILAM,
            "name": "Kampung KB Uji",
            "established_on": "2020-01-01",
        },
    )
    ids = {
        "household_id": household["id"],
        "person_id": person["id"],
        "event_id": event.json()["id"],
        "site_id": site.json()["id"],
    }
    paths = httpx.get(f"{registry_url}/openapi.json").json()["paths"]
    checked = []
    insider = client_for("admin", "61.04")
    outsider = client_for("admin", "61.71")
    for path, methods in paths.items():
        params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        if "get" not in methods or not params or not set(params) <= set(ids):
            continue
        url = path
        for name in params:
            url = url.replace("{" + name + "}", ids[name])
        assert insider.get(url).status_code == 200, url
        assert outsider.get(url).status_code == 404, url
        checked.append(path)
    assert len(checked) >= 7, checked


def test_roles_outside_the_matrix_are_refused(client_for, family):
    _, household = family
    analyst = client_for("analyst", "61.04")
    assert analyst.get(f"/v1/households/{household['id']}").status_code == 403
    assert analyst.post("/v1/households", json=f.couple()).status_code == 403
    cadre = client_for("tpk_cadre", f.KALI_NILAM)
    assert cadre.post("/v1/households", json=f.couple()).status_code == 403
    shown = cadre.get(f"/v1/households/{household['id']}")
    assert shown.status_code == 200
