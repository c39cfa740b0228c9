"""A family that moves village within a period: each child counts once, in the village it
lived in at the end of each period, and the earlier periods keep the old village.

Kabupaten Malinau (65.02): a boy born 2024-05-01 lives with his mother in Long Bisai
(65.02.01.2002, district Mentarang), is measured stunted on the 10th of last month,
then both move today to a household in Batu Lidung (65.02.02.2001, district Malinau
Kota). The registry dates a move by the day it is recorded when the event carries no
``moved_on``, so the move is made today and the periods are chosen around it.
"""

from datetime import timedelta

import pytest

from services.reporting.periods import Period, PeriodKind
from tests.reporting.population import (
    MALE,
    feed_client,
    measure,
    pair,
    position_of,
    register_family,
    today,
    values,
    wait_caught_up,
)

REGENCY = "65.02"
OLD_VILLAGE, OLD_DISTRICT = "65.02.01.2002", "65.02.01"
NEW_VILLAGE, NEW_DISTRICT = "65.02.02.2001", "65.02.02"
BIRTH = today().replace(year=today().year - 2, month=5, day=1)


def _move(admin, person_id: str, household_id: str, relationship: int) -> dict:
    current = admin.get(f"/v1/persons/{person_id}")
    assert current.status_code == 200, current.text
    moved = admin.post(
        f"/v1/persons/{person_id}/move",
        json={"household_id": household_id, "relationship": relationship},
        headers={"If-Match": current.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    return moved.json()


@pytest.fixture(scope="module")
def moved_family(admin, stack) -> dict:
    visit = (today().replace(day=1) - timedelta(days=1)).replace(day=10)
    if visit.year != today().year:
        pytest.skip("the visit month and today must fall in one calendar year")
    old = register_family(admin, OLD_VILLAGE, [("Anak Pindah", MALE, BIRTH)])
    child = old["by_name"]["Anak Pindah"]
    mother = old["by_name"]["Ibu Uji"]
    m = measure(admin, child["id"], visit, weight=10.5, height=78.0)
    assert m["class_len"]["code"] in ("stunted", "severely_stunted"), m
    new = register_family(admin, NEW_VILLAGE, [])
    _move(admin, mother["id"], new["id"], 9)
    moved = _move(admin, child["id"], new["id"], 4)
    assert moved["village_code"] == NEW_VILLAGE
    mark = position_of(feed_client(stack, "registry"), child["id"])
    wait_caught_up(admin, {"registry": mark})
    return {"visit": visit, "child": child["id"]}


def test_month_before_the_move_counts_the_old_village(moved_family, admin):
    month = Period.containing(moved_family["visit"], PeriodKind.MONTH).code
    codes = ["stunting_prevalence", "measurement_coverage"]
    old = values(admin, codes, OLD_VILLAGE, month)
    assert pair(old["stunting_prevalence"]) == (1, 1)
    assert pair(old["measurement_coverage"]) == (1, 1)
    new = values(admin, codes, NEW_VILLAGE, month)
    assert pair(new["stunting_prevalence"]) == (0, 0)
    assert pair(new["measurement_coverage"]) == (0, 0)


def test_period_spanning_the_move_counts_the_new_village_once(moved_family, admin):
    year = str(today().year)
    codes = ["stunting_prevalence", "measurement_coverage", "children_measured"]
    expected = {
        OLD_VILLAGE: (0, 0),
        OLD_DISTRICT: (0, 0),
        NEW_VILLAGE: (1, 1),
        NEW_DISTRICT: (1, 1),
        REGENCY: (1, 1),
    }
    for region, stunting in expected.items():
        got = values(admin, codes, region, year)
        assert pair(got["stunting_prevalence"]) == stunting, region
        assert pair(got["measurement_coverage"]) == stunting, region
        assert got["children_measured"]["value"] == stunting[1], region
