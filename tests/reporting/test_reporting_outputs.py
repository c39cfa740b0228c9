"""The catalogue endpoint and docs, series, charts, the scorecard and freshness, over the
Bulungan population (tests/reporting/bulungan.py)."""

import io
from pathlib import Path

from openpyxl import load_workbook

from services.reporting.indicators_doc import render_markdown
from tests.reporting.bulungan import REGENCY
from tests.reporting.population import VILLAGE_A

DOCS = Path(__file__).resolve().parents[2] / "docs" / "INDICATORS.md"


def test_indicators_doc_is_generated_from_the_catalogue():
    assert DOCS.read_text(encoding="utf-8") == render_markdown()


def test_catalogue_endpoint(analyst):
    resp = analyst.get("/v1/reporting/indicators")
    assert resp.status_code == 200, resp.text
    by_code = {d["code"]: d for d in resp.json()}
    stunting = by_code["stunting_prevalence"]
    assert stunting["key"] == "stunting_prevalence@v1"
    assert stunting["unit"] == "percent" and stunting["direction"] == "lower_is_better"
    assert "−2 SD" in stunting["numerator"]["en"] and stunting["numerator"]["id"]
    assert stunting["denominator"]["id"]
    coverage = by_code["coverage"]
    assert coverage["parameter"]["kind"] == "intervention"
    assert by_code["children_measured"]["denominator"] is None


def test_series_per_indicator(bulungan, admin):
    resp = admin.get(
        "/v1/reporting/series",
        params={
            "indicator": ["stunting_prevalence", "children_measured"],
            "region": REGENCY,
            "from": "2025-11",
            "to": "2026-03",
        },
    )
    assert resp.status_code == 200, resp.text
    series = {s["code"]: s for s in resp.json()}
    stunting = [
        (p["period"]["code"], p["numerator"], p["denominator"])
        for p in series["stunting_prevalence"]["points"]
    ]
    # November: c1 stunted; January: a1, a3 stunted of a1, a3, c2; February: a2 stunted
    # of a2, b1, c1 (a4 flagged); March: a1, b2 normal.
    assert stunting == [
        ("2025-11", 1, 1),
        ("2025-12", 0, 0),
        ("2026-01", 2, 3),
        ("2026-02", 1, 3),
        ("2026-03", 0, 2),
    ]
    measured = [p["value"] for p in series["children_measured"]["points"]]
    assert measured == [1, 0, 3, 4, 2]
    book = admin.get(
        "/v1/reporting/series",
        params={
            "indicator": "stunting_prevalence",
            "region": REGENCY,
            "from": "2026-Q1",
            "to": "2026-Q2",
            "format": "xlsx",
            "lang": "en",
        },
    )
    assert book.status_code == 200, book.text
    workbook = load_workbook(io.BytesIO(book.content))
    assert workbook.sheetnames[1] == "definitions"
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[1][rows[0].index("Period")] == "2026-Q1"
    assert rows[1][rows[0].index("Value")] == 28.6


def test_charts(bulungan, admin):
    trend = admin.get(
        "/v1/reporting/charts/trend",
        params={
            "indicator": "stunting_prevalence",
            "region": REGENCY,
            "from": "2025-Q3",
            "to": "2026-Q2",
            "format": "png",
        },
    )
    assert trend.status_code == 200, trend.text
    assert trend.headers["content-type"] == "image/png"
    assert trend.content.startswith(b"\x89PNG")
    ranking = admin.get(
        "/v1/reporting/charts/ranking",
        params={
            "indicator": "stunting_prevalence",
            "region": "65.01.01",
            "period": "2026-Q1",
            "format": "svg",
            "lang": "en",
        },
    )
    assert ranking.status_code == 200, ranking.text
    assert ranking.headers["content-type"].startswith("image/svg+xml")
    svg = ranking.text
    assert "Tanjung Palas Hulu" in svg and "40.0%" not in svg  # villages, not the district
    assert "66.7%" in svg  # village A: 2 of 3
    coverage = admin.get(
        "/v1/reporting/charts/coverage",
        params={"region": REGENCY, "period": "2026-Q1", "format": "svg", "lang": "en"},
    )
    assert coverage.status_code == 200, coverage.text
    assert "33.3%" in coverage.text  # S7: 3 of 9


def test_scorecard(bulungan, officer, analyst):
    resp = officer.get(
        "/v1/reporting/scorecard", params={"region": REGENCY, "year": 2026, "lang": "en"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    page = resp.text
    assert "Stunting Convergence Scorecard" in page
    assert "Kabupaten Bulungan" in page
    assert "Tanjung Palas Hulu" in page  # the lokus village
    assert "28.6%" in page  # 2026 stunting, regency
    withheld = analyst.get(
        "/v1/reporting/scorecard", params={"region": REGENCY, "year": 2026, "lang": "en"}
    )
    assert withheld.status_code == 200
    assert "suppressed" in withheld.text and "withheld" in withheld.text
    village = officer.get("/v1/reporting/scorecard", params={"region": VILLAGE_A, "year": 2026})
    assert village.status_code == 422


def test_freshness_reports_source_heads(bulungan, analyst):
    feeds = {f["feed"]: f for f in analyst.get("/v1/reporting/freshness").json()}
    assert set(feeds) == {"registry", "interventions"}
    registry = feeds["registry"]
    assert registry["source_error"] is None
    assert registry["events_applied"] > 0
    assert registry["events_behind"] is not None and registry["source_head"]


def test_bad_requests(admin, analyst):
    base = {"indicator": "stunting_prevalence", "region": REGENCY, "period": "2026-Q1"}
    for change, code in (
        ({"indicator": "nope"}, "indicator_unknown"),
        ({"period": "2026-13"}, "period_month_invalid"),
        ({"region": "99.99"}, "region_unknown"),
        ({"indicator": "coverage"}, "indicator_parameter_required"),
        ({"indicator": "coverage:X99"}, "coverage_target_unknown"),
    ):
        resp = admin.get("/v1/reporting/values", params={**base, **change})
        assert resp.status_code == 422, (change, resp.text)
        assert resp.json()["code"] == code
    outside = analyst.get("/v1/reporting/values", params={**base, "region": "61.04"})
    assert outside.status_code == 404
