import functools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from services.reporting.charts import TrendPoint
from services.reporting.indicators.catalogue import CATALOGUE
from services.reporting.periods import parse_period
from services.reporting.scorecard import (
    Headline,
    ReportedValue,
    ScorecardData,
    VillageRow,
    render_scorecard,
)

STUNTING = CATALOGUE.resolve("stunting_prevalence")
KRS = CATALOGUE.resolve("krs_share")
CONVERGENCE = CATALOGUE.resolve("convergence")
MEDIAN = CATALOGUE.resolve("referral_median_days")
HOSTILE = '<script>alert("x")</script> & Co'


def village(code: str, name: str, district: str, **current: ReportedValue) -> VillageRow:
    return VillageRow(code, name, district, current)


def data(**overrides: object) -> ScorecardData:
    trend = [
        TrendPoint(str(y), v) for y, v in [(2022, 27.0), (2023, 25.2), (2024, 24.1), (2025, 21.4)]
    ]
    fields: dict[str, object] = {
        "regency_code": "61.04",
        "regency_name": "Kabupaten Ketapang",
        "period": parse_period("2025"),
        "data_cutoff": datetime(2026, 1, 15, 8, 0, tzinfo=UTC),
        "headlines": [
            Headline(STUNTING, 21.4, 24.1, trend, target=14.0),
            Headline(KRS, 31.2, 33.0),
            Headline(CONVERGENCE, 48.5, 41.0, target=90.0),
            Headline(MEDIAN, 12.5, 14.0),
        ],
        "village_columns": [STUNTING, KRS, CONVERGENCE],
        "villages": [
            VillageRow(
                "61.04.16.2007",
                "Kali Nilam",
                "Delta Pawan",
                {
                    "stunting_prevalence": ReportedValue(22.5),
                    "krs_share": ReportedValue(40.0),
                    "convergence": ReportedValue(35.0),
                },
                {"convergence": ReportedValue(30.0)},
            ),
            village(
                "61.04.16.2001",
                HOSTILE,
                "Delta Pawan",
                stunting_prevalence=ReportedValue(None, suppressed=True),
                convergence=ReportedValue(55.0),
            ),
            # Withheld: would be the worst gap, must not be listed or charted with a value.
            village(
                "61.04.10.2001",
                "Sungai Awan Kiri",
                "Muara Pawan",
                convergence=ReportedValue(None, suppressed=True),
            ),
            village(
                "61.04.10.2002", "Tanjung Pura", "Muara Pawan", convergence=ReportedValue(80.0)
            ),
            village("61.04.10.2003", "Sukamaju", "Muara Pawan", convergence=ReportedValue(95.0)),
        ],
        "gap_indicator": CONVERGENCE,
        "gap_reference": 90.0,
        "min_denominator": 10,
    }
    fields.update(overrides)
    return ScorecardData(**fields)  # type: ignore[arg-type]


@functools.cache
def rendered(lang: str) -> str:
    return render_scorecard(data(), lang)  # type: ignore[arg-type]


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Collector:
    collector = Collector()
    collector.feed(page)
    return collector


def page_text(page: str) -> str:
    """Visible text outside the embedded SVGs, entities decoded."""
    return " ".join(parsed(re.sub(r"<svg.*?</svg>", "", page, flags=re.S)).text)


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def test_headlines_show_current_previous_and_direction() -> None:
    text = page_text(rendered("id"))
    assert "Kabupaten Ketapang (61.04) · 2025 dibanding 2024" in text
    assert "21,4%" in text and "2024: 24,1%" in text and "Target 14,0%" in text
    assert "▼ −2,7 poin (membaik)" in text  # stunting fell 24.1 → 21.4
    assert "▲ +7,5 poin (membaik)" in text  # convergence rose 41.0 → 48.5
    assert "▼ −1,5 hari (membaik)" in text  # median days 14.0 → 12.5
    assert "12,5 hari" in text


def test_english_version() -> None:
    text = page_text(rendered("en"))
    assert "Stunting Convergence Scorecard" in text
    assert "2025 compared with 2024" in text
    assert "▼ −2.7 pts (better)" in text and "21.4%" in text


def test_direction_marks_worsening() -> None:
    page = render_scorecard(data(headlines=[Headline(STUNTING, 25.0, 24.1)]), "en")
    assert '<span class="worse">▲ +0.9 pts (worse)</span>' in page


def test_lokus_table_has_every_village_with_withheld_cells_marked() -> None:
    text = page_text(rendered("id"))
    table = section(text, "Desa lokus stunting", "Kesenjangan terbesar")
    for name in ("Kali Nilam", HOSTILE, "Sungai Awan Kiri", "Tanjung Pura", "Sukamaju"):
        assert name in table
    assert table.count("disembunyikan") == 2
    assert "22,5%" in table and "40,0%" in table
    assert "▲ +5,0 poin (membaik)" in table  # Kali Nilam convergence 30 → 35


def test_worst_gaps_are_the_three_furthest_below_the_reference() -> None:
    text = page_text(rendered("id"))
    gaps = section(text, "Kesenjangan terbesar", "Data sampai")
    assert "acuan 90,0%" in gaps
    # 90 − 35 = 55, 90 − 55 = 35, 90 − 80 = 10; Sukamaju is above; the withheld one is out.
    order = [gaps.index(name) for name in ("Kali Nilam", HOSTILE, "Tanjung Pura")]
    assert order == sorted(order)
    assert "55,0 poin" in gaps and "35,0 poin" in gaps and "10,0 poin" in gaps
    assert "Sungai Awan Kiri" not in gaps and "Sukamaju" not in gaps


def test_text_is_escaped() -> None:
    page = rendered("id")
    assert "<script" not in page
    assert "script" not in parsed(page).tags
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert HOSTILE in page_text(page)  # shown to the reader as typed


def test_regency_name_is_escaped_in_title_and_heading() -> None:
    page = render_scorecard(data(regency_name="Kab. <i>Ketapang</i>"))
    assert "<i>" not in page
    assert "Kab. &lt;i&gt;Ketapang&lt;/i&gt;" in page


def test_charts_are_embedded_svg_with_unique_ids() -> None:
    page = rendered("id")
    for external in ("<img", "<link", "<script", " src=", 'href="http', "@import", "url(http"):
        assert external not in page  # nothing to fetch: the page stands alone
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) == 2  # one trend (the only headline with a trend) and the ranking
    ids: list[str] = []
    for svg in svgs:
        root = ET.fromstring(svg)
        ids += [e.get("id") for e in root.iter() if e.get("id")]  # type: ignore[misc]
    assert len(ids) == len(set(ids))
    assert "disembunyikan" in svgs[1]  # the withheld village appears without a bar


def test_footer_has_cutoff_versions_and_suppression_note() -> None:
    footer = page_text(rendered("id")).split("Data sampai")[1]
    assert "2026-01-15 08:00 UTC" in footer
    assert "convergence@v1, krs_share@v1, referral_median_days@v1, stunting_prevalence@v1" in footer
    assert "kurang dari 10 disembunyikan" in footer


def test_cutoff_in_another_zone_is_shown_in_utc() -> None:
    wib = timezone(timedelta(hours=7))
    page = render_scorecard(data(data_cutoff=datetime(2026, 1, 15, 15, 0, tzinfo=wib)))
    assert "2026-01-15 08:00 UTC" in page


def test_no_villages_and_no_gaps() -> None:
    empty = render_scorecard(data(villages=[]), "en")
    assert "No lokus villages." in empty
    met = render_scorecard(
        data(villages=[village("a", "Sukamaju", "X", convergence=ReportedValue(95.0))]), "en"
    )
    assert "No lokus village falls short of the reference." in met


def test_a_withheld_value_cannot_carry_its_figure() -> None:
    with pytest.raises(ValueError):
        ReportedValue(12.0, suppressed=True)
