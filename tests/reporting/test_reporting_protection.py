"""Small-cell protection for callers without the personal-data right, per-child rows only
for those with it, and exports that keep withheld cells empty.

Kabupaten Paser (64.01), district Batu Sopang (64.01.01): ten children measured in
Samurangau (64.01.01.2009), three of them stunted, and two in Busui (64.01.01.2010), one
stunted; all boys born 2024-01-10, measured on 2026-02-15. By hand, for 2026-Q1 with a
threshold of 10: Busui (2) is withheld (primary); Samurangau is the only other village
of the district with children, so it is withheld too (complementary), else Busui would
be the district minus Samurangau. The district (12), regency and province stay shown.
"""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.auth_helpers import user_client
from tests.reporting.population import (
    MALE,
    PURPOSE,
    VILLAGE_A,
    feed_client,
    measure,
    pair,
    position_of,
    register_family,
    values,
    wait_caught_up,
)

PROVINCE, REGENCY, DISTRICT = "64", "64.01", "64.01.01"
BIG, SMALL = "64.01.01.2009", "64.01.01.2010"
BIRTH, VISIT = date(2024, 1, 10), date(2026, 2, 15)
STUNTED_CM, NORMAL_CM = 80.0, 86.0


@pytest.fixture(scope="module")
def paser(stack, db_url) -> str:
    with user_client(stack, db_url, "admin", PROVINCE, **PURPOSE) as admin:
        last = ""
        for village, heights in (
            (BIG, [STUNTED_CM] * 3 + [NORMAL_CM] * 7),
            (SMALL, [STUNTED_CM, NORMAL_CM]),
        ):
            for i, height in enumerate(heights):
                family = register_family(admin, village, [(f"Anak {i}", MALE, BIRTH)])
                child = family["by_name"][f"Anak {i}"]["id"]
                last = measure(admin, child, VISIT, weight=11.5, height=height)["id"]
        wait_caught_up(admin, {"registry": position_of(feed_client(stack, "registry"), last)})
    return DISTRICT


@pytest.fixture(scope="module")
def analyst_wide(stack, db_url):
    """An analyst of province 64."""
    with user_client(stack, db_url, "analyst", PROVINCE) as client:
        yield client


def _children(client, region: str, code: str = "stunting_prevalence") -> dict[str, dict]:
    resp = client.get(
        "/v1/reporting/values",
        params={"indicator": code, "region": region, "period": "2026-Q1", "breakdown": "children"},
    )
    assert resp.status_code == 200, resp.text
    (item,) = resp.json()["indicators"]
    return {"self": item, **{c["region"]["code"]: c for c in item["children"]}}


def test_analyst_sees_small_cells_withheld_with_their_complement(paser, analyst_wide):
    district = _children(analyst_wide, DISTRICT)
    assert district["self"]["suppressed"] is None
    assert pair(district["self"]) == (4, 12)
    assert district[SMALL]["suppressed"] == "primary"
    assert district[BIG]["suppressed"] == "complementary"
    for cell in (district[SMALL], district[BIG]):
        assert (cell["numerator"], cell["denominator"], cell["value"]) == (None, None, None)
        assert cell["change"] is None
    # An untouched village describes nobody: nothing to hide.
    assert pair(district["64.01.01.2011"]) == (0, 0)
    # Asked alone, Samurangau is withheld the same way: answers cannot be combined.
    alone = values(analyst_wide, ["stunting_prevalence"], BIG, "2026-Q1")
    assert alone["stunting_prevalence"]["suppressed"] == "complementary"
    regency = values(analyst_wide, ["stunting_prevalence", "children_measured"], REGENCY, "2026-Q1")
    assert pair(regency["stunting_prevalence"]) == (4, 12)
    assert regency["children_measured"]["value"] == 12


def test_officer_with_personal_data_right_sees_every_cell(paser, stack, db_url):
    with user_client(stack, db_url, "regency_officer", REGENCY) as officer:
        district = _children(officer, DISTRICT)
    assert pair(district[SMALL]) == (1, 2)
    assert pair(district[BIG]) == (3, 10)
    assert district[BIG]["value"] == 30.0


def test_small_population_is_withheld_for_the_analyst(bulungan, analyst):
    got = values(analyst, ["stunting_prevalence", "children_measured"], VILLAGE_A, "2026-Q1")
    assert got["stunting_prevalence"]["suppressed"] == "primary"
    assert got["children_measured"]["suppressed"] == "primary"
    assert got["children_measured"]["value"] is None
    # Sites are not people: never withheld.
    sites = values(analyst, ["kampung_kb_sites:dasar"], "65.01", "2025-Q4")
    assert sites["kampung_kb_sites:dasar"]["value"] == 1


def test_exports_keep_withheld_cells_empty(paser, analyst_wide):
    resp = analyst_wide.get(
        "/v1/reporting/values",
        params={
            "indicator": "stunting_prevalence",
            "region": DISTRICT,
            "period": "2026-Q1",
            "breakdown": "children",
            "format": "csv",
            "lang": "en",
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    rows = {
        r["Region code"]: r for r in csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig")))
    }
    assert rows[DISTRICT]["Numerator"] == "4" and rows[DISTRICT]["Denominator"] == "12"
    assert rows[DISTRICT]["Value"] == "33.3"
    assert rows[SMALL]["Value"] == "" and rows[SMALL]["Note"] == "suppressed"
    assert rows[BIG]["Numerator"] == "" and rows[BIG]["Note"] == "suppressed"

    book = analyst_wide.get(
        "/v1/reporting/exports",
        params={
            "indicator": ["stunting_prevalence"],
            "region": DISTRICT,
            "period": "2026-Q1",
            "lang": "id",
        },
    )
    assert book.status_code == 200, book.text
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    header = table[0]
    by_region = {r[header.index("Kode wilayah")]: r for r in table[1:]}
    assert by_region[DISTRICT][header.index("Penyebut")] == 12
    assert by_region[SMALL][header.index("Nilai")] is None


def test_per_child_rows_need_drilldown_right_and_personal_data(
    bulungan, officer, analyst, stack, db_url
):
    params = {"indicator": "stunting_prevalence", "region": VILLAGE_A, "period": "2026-Q1"}
    denied = analyst.get("/v1/reporting/drilldown", params=params)
    assert denied.status_code == 403
    with user_client(stack, db_url, "district_officer", "65.01.01", pii=False) as no_pii:
        refused = no_pii.get("/v1/reporting/drilldown", params=params)
    assert refused.status_code == 403
    assert refused.json()["code"] == "personal_data_right_required"
    rows = officer.get("/v1/reporting/drilldown", params=params)
    assert rows.status_code == 200, rows.text
    children = rows.json()["items"]
    assert len(children) == 4  # a1..a4 were measured in Q1
    assert sum(c["in_denominator"] for c in children) == 3  # a4's length is flagged
    assert sum(c["in_numerator"] for c in children) == 2
    ids = {c["person_id"] for c in children}
    assert ids == {bulungan["people"][k] for k in ("a1", "a2", "a3", "a4")}
    # With a stated purpose the birth date is shown in full.
    assert {len(c["birth_date"]) for c in children} == {10}
