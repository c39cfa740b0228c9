import functools
import io
import xml.etree.ElementTree as ET

import matplotlib.image
import pytest

from services.reporting.charts import (
    CoverageBar,
    RankedBar,
    TrendPoint,
    coverage_chart,
    ranking_chart,
    trend_chart,
)
from services.reporting.indicators.catalogue import CATALOGUE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
STUNTING = CATALOGUE.resolve("stunting_prevalence")
CONVERGENCE = CATALOGUE.resolve("convergence")

POINTS = [
    TrendPoint("TW I 2025", 24.1),
    TrendPoint("TW II 2025", 23.4),
    TrendPoint("TW III 2025", None),
    TrendPoint("TW IV 2025", 21.0),
]
BARS = [
    RankedBar("Kali Nilam", 45.0),
    RankedBar("Sukaharja", None, suppressed=True),
    RankedBar("Mulia Baru", 62.5),
    RankedBar("Desa <b>$x$ & co", 30.1),
]
COVERAGE = [CoverageBar("S1", 72.3, 90.0), CoverageBar("S2", 55.0, 80.0), CoverageBar("N2", None)]


def svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def render_all(fmt: str, lang: str = "id") -> list[bytes]:
    return [
        trend_chart(POINTS, definition=STUNTING, target=14.0, lang=lang, fmt=fmt),  # type: ignore[arg-type]
        ranking_chart(BARS, definition=CONVERGENCE, target=90.0, lang=lang, fmt=fmt),  # type: ignore[arg-type]
        coverage_chart(COVERAGE, lang=lang, fmt=fmt),  # type: ignore[arg-type]
    ]


@functools.cache
def charts(fmt: str, lang: str = "id") -> list[bytes]:
    """Rendered once per module: a chart takes a few tenths of a second."""
    return render_all(fmt, lang)


def test_png_is_a_decodable_image() -> None:
    for png in charts("png"):
        assert png.startswith(PNG_MAGIC)
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert b"tIME" not in png and b"Software" not in png


def test_svg_parses_as_xml_without_dates_or_versions() -> None:
    for svg in charts("svg"):
        svg_text(svg)
        assert b"<dc:date>" not in svg
        assert b"Matplotlib v" not in svg


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_output_is_repeatable(fmt: str) -> None:
    assert render_all(fmt) == charts(fmt)


def test_labels_follow_the_language() -> None:
    trend_id, ranking_id, coverage_id = (svg_text(s) for s in charts("svg", "id"))
    trend_en, ranking_en, coverage_en = (svg_text(s) for s in charts("svg", "en"))
    assert "Prevalensi stunting" in trend_id and "Periode" in trend_id
    assert "Stunting prevalence" in trend_en and "Period" in trend_en
    assert "Target 14,0%" in trend_id and "Target 14.0%" in trend_en
    assert "24,1%" in trend_id and "24.1%" in trend_en
    assert "disembunyikan" in ranking_id and "suppressed" in ranking_en
    assert "Cakupan intervensi" in coverage_id and "Intervention coverage" in coverage_en
    assert "tidak ada data" in coverage_id and "no data" in coverage_en


def test_ranking_puts_the_worst_first_and_withheld_last() -> None:
    text = svg_text(ranking_chart(BARS, definition=CONVERGENCE, lang="en", fmt="svg"))
    order = [text.index(name) for name in ("Desa <b>$x$", "Kali Nilam", "Mulia Baru", "Sukaharja")]
    assert order == sorted(order)
    stunting = svg_text(
        ranking_chart(
            [RankedBar("low", 10.0), RankedBar("high", 30.0)],
            definition=STUNTING,
            lang="en",
            fmt="svg",
        )
    )
    assert stunting.index("high") < stunting.index("low")  # higher prevalence is worse


def test_names_are_text_not_markup_or_mathtext() -> None:
    svg = ranking_chart(BARS, definition=CONVERGENCE, fmt="svg")
    assert "Desa <b>$x$ & co" in svg_text(svg)
    assert b"<b>" not in svg


def test_empty_inputs_still_render() -> None:
    for chart in (
        trend_chart([], definition=STUNTING, fmt="svg"),
        trend_chart([TrendPoint("2026", None)], definition=STUNTING, fmt="svg"),
        ranking_chart([], definition=CONVERGENCE, fmt="svg"),
        coverage_chart([], fmt="svg"),
    ):
        assert "tidak ada data" in svg_text(chart)


def test_salt_sets_the_svg_id_so_charts_can_share_a_page() -> None:
    one = trend_chart(POINTS, definition=STUNTING, fmt="svg", salt="one")
    two = trend_chart(POINTS, definition=STUNTING, fmt="svg", salt="two")
    assert ET.fromstring(one).get("id") == "one" and ET.fromstring(two).get("id") == "two"
    ids_one = {e.get("id") for e in ET.fromstring(one).iter() if e.get("id")}
    ids_two = {e.get("id") for e in ET.fromstring(two).iter() if e.get("id")}
    assert ids_one.isdisjoint(ids_two)
