"""Published figures: frozen with indicator versions and data cut-off, republished as a
new version when data change, never rewritten.

Kabupaten Tana Tidung (65.03), village Tanjungkarang (65.03.01.2001): two boys born
2024-01-10 measured on 2026-02-15, one stunted: 2026-Q1 stunting 1 of 2. A third child,
measured after the first publication, makes it 1 of 3.
"""

import asyncio
from datetime import date

import asyncpg
import pytest

from kkb.bootstrap import as_service
from tests.auth_helpers import user_client
from tests.reporting.population import (
    MALE,
    PURPOSE,
    feed_client,
    measure,
    position_of,
    register_family,
    wait_caught_up,
)

REGENCY, VILLAGE = "65.03", "65.03.01.2001"
BIRTH, VISIT = date(2024, 1, 10), date(2026, 2, 15)


def _child(admin, stack, name: str, height: float) -> None:
    family = register_family(admin, VILLAGE, [(name, MALE, BIRTH)])
    m = measure(admin, family["by_name"][name]["id"], VISIT, weight=11.5, height=height)
    wait_caught_up(admin, {"registry": position_of(feed_client(stack, "registry"), m["id"])})


@pytest.fixture(scope="module")
def tana_tidung(admin, stack) -> None:
    _child(admin, stack, "Anak Satu", 80.0)
    _child(admin, stack, "Anak Dua", 86.0)


@pytest.fixture(scope="module")
def tpps(stack, db_url):
    """The regency officer of Tana Tidung."""
    with user_client(stack, db_url, "regency_officer", REGENCY, **PURPOSE) as client:
        yield client


def _figure(publication: dict, code: str, region: str) -> dict:
    (indicator,) = [i for i in publication["indicators"] if i["code"] == code]
    (figure,) = [f for f in indicator["figures"] if f["region"]["code"] == region]
    return figure


def test_publish_freeze_and_republish(tana_tidung, tpps, admin, analyst, stack, db_url):
    body = {"region": REGENCY, "period": "2026-Q1"}
    first = tpps.post("/v1/reporting/publications", json=body)
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert v1["version"] == 1
    assert "stunting_prevalence@v1" in v1["indicator_keys"]
    assert set(v1["data_cutoff"]["feeds"]) == {"registry", "interventions"}
    stunting = _figure(v1, "stunting_prevalence", VILLAGE)
    assert (stunting["numerator"], stunting["denominator"], stunting["value"]) == (1, 2, 50.0)

    # Nothing changed: publishing again keeps version 1.
    again = tpps.post("/v1/reporting/publications", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == v1["id"]

    # The analyst reads the same publication with the small cells withheld.
    seen = analyst.get(f"/v1/reporting/publications/{v1['id']}")
    assert seen.status_code == 200, seen.text
    withheld = _figure(seen.json(), "stunting_prevalence", VILLAGE)
    assert withheld["value"] is None and withheld["suppressed"] == "primary"

    _child(admin, stack, "Anak Tiga", 86.0)
    second = tpps.post("/v1/reporting/publications", json=body)
    assert second.status_code == 201, second.text
    v2 = second.json()
    assert v2["version"] == 2 and v2["id"] != v1["id"]
    now = _figure(v2, "stunting_prevalence", VILLAGE)
    assert (now["numerator"], now["denominator"]) == (1, 3)
    assert (
        v2["data_cutoff"]["feeds"]["registry"]["position"]
        != (v1["data_cutoff"]["feeds"]["registry"]["position"])
    )

    # Version 1 still shows what was published.
    old = tpps.get(f"/v1/reporting/publications/{v1['id']}").json()
    kept = _figure(old, "stunting_prevalence", VILLAGE)
    assert (kept["numerator"], kept["denominator"]) == (1, 2)
    assert old["fingerprint"] == v1["fingerprint"]
    listed = tpps.get("/v1/reporting/publications", params=body).json()
    assert [p["version"] for p in listed] == [2, 1]

    # Not even the database lets a published row change.
    async def tamper() -> None:
        async with as_service(db_url, "reporting") as conn:
            with pytest.raises(asyncpg.PostgresError, match="frozen"):
                await conn.execute("UPDATE publication SET figures = '{}'")
            with pytest.raises(asyncpg.PostgresError, match="frozen"):
                await conn.execute("DELETE FROM publication")

    asyncio.run(tamper())


def test_who_may_publish(tana_tidung, officer, analyst):
    body = {"region": REGENCY, "period": "2026-Q1"}
    assert analyst.post("/v1/reporting/publications", json=body).status_code == 403
    # The officer of Bulungan cannot publish Tana Tidung.
    other = officer.post("/v1/reporting/publications", json=body)
    assert other.status_code == 403
    assert other.json()["code"] == "region_out_of_scope"
    district = officer.post(
        "/v1/reporting/publications", json={"region": "65.01.01", "period": "2026"}
    )
    assert district.status_code == 422
