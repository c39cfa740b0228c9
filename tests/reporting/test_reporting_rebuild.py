"""Replaying the feeds from zero gives the same read models and figures, and a reporting
service that was down while data was written catches up without losing or double
counting anything (SCENARIOS.md 10)."""

import asyncio
from datetime import date

import httpx
import pytest

from kkb.bootstrap import as_service
from kkb.database import service_url
from services.reporting.cli import run_rebuild
from services.reporting.feeds.consumers import READ_MODELS
from tests.reporting.bulungan import REGENCY
from tests.reporting.population import (
    MALE,
    VILLAGE_A,
    feed_client,
    measure,
    pair,
    position_of,
    register_family,
    values,
    wait_caught_up,
)

QUESTIONS = [
    (["stunting_prevalence", "wasting_prevalence", "measurement_coverage"], REGENCY, "2026-Q1"),
    (["krs_share", "coverage:N2", "referral_completion_rate"], REGENCY, "2026"),
    (["convergence", "tpk_visit_coverage:baduta"], VILLAGE_A, "2026-Q1"),
    (["children_measured", "stunting_prevalence"], "65", "2026"),
]


async def _dump(db_url: str) -> dict[str, list[tuple]]:
    tables: dict[str, list[tuple]] = {}
    async with as_service(db_url, "reporting") as conn:
        for table in READ_MODELS:
            rows = await conn.fetch(f"SELECT * FROM {table}")
            tables[table] = sorted(tuple(map(str, r.values())) for r in rows)
    return tables


async def _events_up_to(db_url: str, positions: dict[str, str]) -> dict[str, int]:
    """Events each source has stored up to the position the rebuild stopped at."""
    counts = {}
    for feed, position in positions.items():
        xid, _, seq = position.partition(".")
        async with as_service(db_url, feed) as conn:
            counts[feed] = await conn.fetchval(
                "SELECT count(*) FROM outbox_event WHERE (xid, id) <= ($1::text::xid8, $2)",
                xid,
                int(seq),
            )
    return counts


def _answers(client: httpx.Client) -> list[dict]:
    out = []
    for codes, region, period in QUESTIONS:
        resp = client.get(
            "/v1/reporting/values",
            params={
                "indicator": codes,
                "region": region,
                "period": period,
                "breakdown": "children",
            },
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        body.pop("data_cutoff")
        out.append(body)
    return out


def test_rebuild_gives_identical_results(bulungan, admin, stack, db_url):
    wait_caught_up(admin)
    before_tables = asyncio.run(_dump(db_url))
    before = _answers(admin)
    assert before_tables["measurement"] and before_tables["delivery"]

    result = asyncio.run(
        run_rebuild(
            service_url(db_url, "reporting"), stack.url("registry"), stack.url("interventions")
        )
    )
    assert result.events["registry"] > 0 and result.events["interventions"] > 0
    assert asyncio.run(_events_up_to(db_url, result.positions)) == result.events
    wait_caught_up(admin)
    after_tables = asyncio.run(_dump(db_url))
    differing = {
        table: {
            "only_before": sorted(set(rows) - set(after_tables[table]))[:5],
            "only_after": sorted(set(after_tables[table]) - set(rows))[:5],
        }
        for table, rows in before_tables.items()
        if rows != after_tables[table]
    }
    assert not differing, differing
    assert _answers(admin) == before
    feeds = {f["feed"]: f for f in admin.get("/v1/reporting/freshness").json()}
    assert feeds["registry"]["position"] == result.positions["registry"]


LATE_VILLAGE = "65.03.01.2003"


def test_catch_up_after_downtime(bulungan, admin, stack):
    village = LATE_VILLAGE
    stack.stop_app("reporting")
    try:
        down = admin.get("/v1/reporting/freshness")
        assert down.status_code == 503
        assert down.json()["service"] == "reporting"
        # The posyandu day goes on: registrations and measurements still succeed.
        family = register_family(admin, village, [("Anak Tertinggal", MALE, date(2024, 1, 10))])
        child = family["by_name"]["Anak Tertinggal"]["id"]
        first = measure(admin, child, date(2026, 1, 12), weight=10.8, height=80.0)
        second = measure(admin, child, date(2026, 2, 12), weight=11.2, height=86.0)
    finally:
        stack.start_app("reporting")
        stack.wait_ready(timeout_s=180, only=("reporting",))
    mark = position_of(feed_client(stack, "registry"), second["id"])
    wait_caught_up(admin, {"registry": mark})
    got = values(admin, ["children_measured", "stunting_prevalence"], village, "2026-Q1")
    assert got["children_measured"]["value"] == 1  # two visits, one child
    assert pair(got["stunting_prevalence"]) == (0, 1)  # the February visit counts
    january = values(admin, ["stunting_prevalence"], village, "2026-01")
    assert pair(january["stunting_prevalence"]) == (1, 1)
    assert first["id"] != second["id"]
    _late["child"], _late["january"] = child, first["id"]


_late: dict[str, str] = {}


def test_corrections_and_voids_replace_what_they_correct(admin, stack):
    """The January visit of the child above is corrected (86 cm, normal): January has no
    stunted child any more. An S7 delivery is recorded, then voided: not covered."""
    january = _late.get("january")
    if january is None:
        pytest.skip("needs the catch-up test's child")
    current = admin.get(f"/v1/growth/measurements/{january}")
    corrected = admin.post(
        f"/v1/growth/measurements/{january}/corrections",
        json={
            "visit_date": "2026-01-12",
            "weight_kg": 10.8,
            "height_cm": 86.0,
            "reason": "length typed wrong",
        },
        headers={"If-Match": current.headers["etag"]},
    )
    assert corrected.status_code == 201, corrected.text
    delivered = admin.post(
        "/v1/interventions/deliveries",
        json={
            "subject_id": _late["child"],
            "intervention_code": "S7",
            "delivered_on": "2026-01-12",
            "quantity": 1,
            "funding_source": "APBD",
        },
    )
    assert delivered.status_code == 201, delivered.text
    voided = admin.post(
        f"/v1/interventions/deliveries/{delivered.json()['id']}/void",
        json={"reason": "recorded for the wrong child"},
    )
    assert voided.status_code == 201, voided.text
    wait_caught_up(
        admin,
        {
            "registry": position_of(feed_client(stack, "registry"), corrected.json()["id"]),
            "interventions": position_of(feed_client(stack, "interventions"), voided.json()["id"]),
        },
    )
    got = values(admin, ["stunting_prevalence", "coverage:S7"], LATE_VILLAGE, "2026-01")
    assert pair(got["stunting_prevalence"]) == (0, 1)
    assert pair(got["coverage:S7"]) == (0, 1)
