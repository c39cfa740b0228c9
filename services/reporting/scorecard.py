"""The one-page regency scorecard for the annual review, as self-contained HTML.

Everything is inline (CSS, SVG charts) so the file prints and mails as is. All text
coming from data passes through ``html.escape``; chart SVG is produced by matplotlib,
which escapes its own text.
"""

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.reporting.charts import RankedBar, TrendPoint, ranking_chart, trend_chart
from services.reporting.indicators.catalogue import (
    Bilingual,
    IndicatorDefinition,
    Lang,
    Unit,
)
from services.reporting.indicators.formulas import (
    Assessment,
    Change,
    Trend,
    change,
    format_number,
    largest_gaps,
)
from services.reporting.periods import Period
from services.reporting.suppression import SUPPRESSED_LABEL


@dataclass(frozen=True)
class ReportedValue:
    """A published figure, or the fact that it was withheld (small-cell suppression)."""

    value: float | None
    suppressed: bool = False

    def __post_init__(self) -> None:
        if self.suppressed and self.value is not None:
            raise ValueError("a withheld figure must not carry its value")


@dataclass(frozen=True)
class Headline:
    """A regency-level indicator: this period, the one before, its trend and target."""

    definition: IndicatorDefinition
    current: float | None
    previous: float | None
    trend: Sequence[TrendPoint] = ()
    target: float | None = None


@dataclass(frozen=True)
class VillageRow:
    """A lokus village's figures, keyed by indicator code."""

    village_code: str
    village_name: str
    district_name: str
    current: Mapping[str, ReportedValue]
    previous: Mapping[str, ReportedValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ScorecardData:
    regency_code: str
    regency_name: str
    period: Period
    data_cutoff: datetime
    headlines: Sequence[Headline]
    village_columns: Sequence[IndicatorDefinition]
    villages: Sequence[VillageRow]
    gap_indicator: IndicatorDefinition
    gap_reference: float
    gap_count: int = 3
    min_denominator: int | None = None


_TEXT: dict[str, Bilingual] = {
    "title": {"id": "Kartu Skor Konvergensi Stunting", "en": "Stunting Convergence Scorecard"},
    "compared": {"id": "dibanding", "en": "compared with"},
    "headlines": {"id": "Indikator utama", "en": "Headline indicators"},
    "trends": {"id": "Tren", "en": "Trends"},
    "lokus": {"id": "Desa lokus stunting", "en": "Stunting-priority (lokus) villages"},
    "village": {"id": "Desa/Kelurahan", "en": "Village"},
    "district": {"id": "Kecamatan", "en": "District"},
    "change": {"id": "perubahan", "en": "change"},
    "gaps": {"id": "Kesenjangan terbesar", "en": "Largest gaps"},
    "gap": {"id": "kesenjangan", "en": "gap"},
    "reference": {"id": "acuan", "en": "reference"},
    "no_gaps": {
        "id": "Tidak ada desa lokus di bawah acuan.",
        "en": "No lokus village falls short of the reference.",
    },
    "no_villages": {"id": "Tidak ada desa lokus.", "en": "No lokus villages."},
    "target": {"id": "Target", "en": "Target"},
    "cutoff": {"id": "Data sampai", "en": "Data as of"},
    "versions": {"id": "Versi indikator", "en": "Indicator versions"},
    "suppression": {
        "id": "Angka dengan penyebut kurang dari {n} disembunyikan, beserta angka pelengkapnya.",
        "en": "Figures with a denominator below {n} are withheld, with their complements.",
    },
    "points": {"id": "poin", "en": "pts"},
    "days": {"id": "hari", "en": "days"},
}
_ASSESSMENT_TEXT: dict[Assessment, Bilingual] = {
    Assessment.BETTER: {"id": "membaik", "en": "better"},
    Assessment.WORSE: {"id": "memburuk", "en": "worse"},
    Assessment.UNCHANGED: {"id": "tetap", "en": "unchanged"},
    Assessment.NOT_RATED: {"id": "", "en": ""},
}
_ARROWS = {Trend.UP: "▲", Trend.DOWN: "▼", Trend.FLAT: "►"}

_STYLE = """
@page { size: A4; margin: 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #222;
       margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 2pt; color: #1f5f8b; }
h2 { font-size: 11pt; margin: 10pt 0 4pt; border-bottom: 1px solid #ccc; }
.sub { color: #555; margin: 0 0 6pt; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6pt; }
.card { border: 1px solid #ddd; border-radius: 4pt; padding: 5pt; }
.card .name { font-size: 8pt; color: #444; min-height: 2.4em; }
.card .value { font-size: 15pt; font-weight: bold; }
.card .meta { font-size: 8pt; color: #555; }
.better { color: #1e7b34; } .worse { color: #b03a2e; } .unchanged, .not_rated { color: #666; }
.charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: 6pt; }
.charts svg, .wide svg { width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 2pt 4pt; text-align: left; }
td.num, th.num { text-align: right; white-space: nowrap; }
.withheld { color: #888; font-style: italic; }
footer { margin-top: 10pt; font-size: 7.5pt; color: #666; border-top: 1px solid #ccc; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _value(value: float | None, definition: IndicatorDefinition, lang: Lang) -> str:
    number = format_number(value, definition.decimals, lang)
    if value is None:
        return number
    if definition.unit is Unit.PERCENT:
        return f"{number}%"
    if definition.unit is Unit.DAYS:
        return f"{number} {_TEXT['days'][lang]}"
    return number


def _difference(amount: float, definition: IndicatorDefinition, lang: Lang) -> str:
    """A difference in the indicator's unit: percentages differ by points, not percent."""
    number = format_number(amount, definition.decimals, lang)
    unit = {Unit.PERCENT: _TEXT["points"], Unit.DAYS: _TEXT["days"]}.get(definition.unit)
    return f"{number} {unit[lang]}" if unit else number


def _delta(moved: Change, definition: IndicatorDefinition, lang: Lang) -> str:
    sign = "+" if moved.absolute > 0 else "−" if moved.absolute < 0 else "±"
    return sign + _difference(abs(moved.absolute), definition, lang)


def _change_html(
    current: float | None, previous: float | None, definition: IndicatorDefinition, lang: Lang
) -> str:
    moved = change(current, previous, direction=definition.direction, decimals=definition.decimals)
    if moved is None:
        return ""
    verdict = _ASSESSMENT_TEXT[moved.assessment][lang]
    return (
        f'<span class="{moved.assessment.value}">{_ARROWS[moved.trend]} '
        f"{_e(_delta(moved, definition, lang))}{' (' + _e(verdict) + ')' if verdict else ''}"
        "</span>"
    )


def _inline_svg(svg: bytes) -> str:
    """The ``<svg>`` element alone: no XML prolog or doctype, no RDF metadata block."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start == -1 or end == -1:
        return text
    return text[:start] + text[end + len("</metadata>") :]


def _headline_card(headline: Headline, data: ScorecardData, lang: Lang) -> str:
    definition = headline.definition
    previous_label = data.period.previous().label(lang, short=True)
    target = (
        f" · {_e(_TEXT['target'][lang])} {_e(_value(headline.target, definition, lang))}"
        if headline.target is not None
        else ""
    )
    return (
        '<div class="card">'
        f'<div class="name">{_e(definition.name[lang])}</div>'
        f'<div class="value">{_e(_value(headline.current, definition, lang))}</div>'
        f'<div class="meta">{_change_html(headline.current, headline.previous, definition, lang)}'
        "</div>"
        f'<div class="meta">{_e(previous_label)}: '
        f"{_e(_value(headline.previous, definition, lang))}{target}</div>"
        "</div>"
    )


def _reported(
    reported: ReportedValue | None, definition: IndicatorDefinition, lang: Lang
) -> tuple[str, float | None]:
    if reported is not None and reported.suppressed:
        return f'<span class="withheld">{_e(SUPPRESSED_LABEL[lang])}</span>', None
    value = reported.value if reported is not None else None
    return _e(_value(value, definition, lang)), value


def _village_table(data: ScorecardData, lang: Lang) -> str:
    if not data.villages:
        return f"<p>{_e(_TEXT['no_villages'][lang])}</p>"
    head = "".join(
        f'<th class="num">{_e(d.name[lang])}</th><th class="num">{_e(_TEXT["change"][lang])}</th>'
        for d in data.village_columns
    )
    body = []
    for row in sorted(data.villages, key=lambda r: (r.district_name, r.village_name)):
        cells = []
        for definition in data.village_columns:
            shown, now = _reported(row.current.get(definition.code), definition, lang)
            _, before = _reported(row.previous.get(definition.code), definition, lang)
            cells.append(
                f'<td class="num">{shown}</td>'
                f'<td class="num">{_change_html(now, before, definition, lang)}</td>'
            )
        body.append(
            f"<tr><td>{_e(row.village_name)}</td><td>{_e(row.district_name)}</td>"
            f"{''.join(cells)}</tr>"
        )
    return (
        f"<table><thead><tr><th>{_e(_TEXT['village'][lang])}</th>"
        f"<th>{_e(_TEXT['district'][lang])}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _gap_values(data: ScorecardData) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for row in data.villages:
        reported = row.current.get(data.gap_indicator.code)
        values[row.village_code] = (
            None if reported is None or reported.suppressed else reported.value
        )
    return values


def _gaps(data: ScorecardData, lang: Lang) -> str:
    definition = data.gap_indicator
    gaps = largest_gaps(
        _gap_values(data),
        data.gap_reference,
        direction=definition.direction,
        decimals=definition.decimals,
        limit=data.gap_count,
    )
    reference = _value(data.gap_reference, definition, lang)
    heading = (
        f"{_TEXT['gaps'][lang]}: {definition.name[lang]} ({_TEXT['reference'][lang]} {reference})"
    )
    if not gaps:
        return f"<h2>{_e(heading)}</h2><p>{_e(_TEXT['no_gaps'][lang])}</p>"
    rows = {row.village_code: row for row in data.villages}
    items = "".join(
        f"<tr><td>{rank}</td><td>{_e(rows[gap.key].village_name)}</td>"
        f"<td>{_e(rows[gap.key].district_name)}</td>"
        f'<td class="num">{_e(_value(gap.value, definition, lang))}</td>'
        f'<td class="num">{_e(_difference(gap.gap, definition, lang))}</td></tr>'
        for rank, gap in enumerate(gaps, start=1)
    )
    return (
        f"<h2>{_e(heading)}</h2><table><thead><tr><th>#</th>"
        f"<th>{_e(_TEXT['village'][lang])}</th><th>{_e(_TEXT['district'][lang])}</th>"
        f'<th class="num">{_e(definition.name[lang])}</th>'
        f'<th class="num">{_e(_TEXT["gap"][lang])}</th></tr></thead><tbody>{items}</tbody></table>'
    )


def _charts(data: ScorecardData, lang: Lang) -> str:
    trends = [
        _inline_svg(
            trend_chart(
                headline.trend,
                definition=headline.definition,
                lang=lang,
                target=headline.target,
                fmt="svg",
                salt=f"scorecard-trend-{index}",
            )
        )
        for index, headline in enumerate(data.headlines)
        if headline.trend
    ]
    parts = [f'<div class="charts">{"".join(f"<div>{svg}</div>" for svg in trends)}</div>']
    if data.villages:
        bars = []
        for row in data.villages:
            reported = row.current.get(data.gap_indicator.code)
            bars.append(
                RankedBar(
                    label=row.village_name,
                    value=reported.value if reported is not None else None,
                    suppressed=reported is not None and reported.suppressed,
                )
            )
        ranking = ranking_chart(
            bars,
            definition=data.gap_indicator,
            lang=lang,
            target=data.gap_reference,
            subtitle=_TEXT["lokus"][lang],
            fmt="svg",
            salt="scorecard-ranking",
        )
        parts.append(f'<div class="wide">{_inline_svg(ranking)}</div>')
    return "".join(parts)


def _footer(data: ScorecardData, lang: Lang) -> str:
    definitions = [h.definition for h in data.headlines] + [
        *data.village_columns,
        data.gap_indicator,
    ]
    keys = sorted({d.key for d in definitions})
    moment = data.data_cutoff
    # Naive timestamps are UTC by the project's convention.
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    cutoff = f"{utc:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"{_e(_TEXT['cutoff'][lang])}: {_e(cutoff)}",
        f"{_e(_TEXT['versions'][lang])}: {_e(', '.join(keys))}",
    ]
    if data.min_denominator is not None:
        lines.append(_e(_TEXT["suppression"][lang].format(n=data.min_denominator)))
    return "<footer>" + "<br>".join(lines) + "</footer>"


def render_scorecard(data: ScorecardData, lang: Lang = "id") -> str:
    """The scorecard as one HTML document (UTF-8 text)."""
    title = f"{_TEXT['title'][lang]} — {data.regency_name}"
    subtitle = (
        f"{data.regency_name} ({data.regency_code}) · {data.period.label(lang)} "
        f"{_TEXT['compared'][lang]} {data.period.previous().label(lang)}"
    )
    cards = "".join(_headline_card(h, data, lang) for h in data.headlines)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{_e(_TEXT["title"][lang])}</h1><p class="sub">{_e(subtitle)}</p>'
        f'<h2>{_e(_TEXT["headlines"][lang])}</h2><div class="cards">{cards}</div>'
        f"<h2>{_e(_TEXT['trends'][lang])}</h2>{_charts(data, lang)}"
        f"<h2>{_e(_TEXT['lokus'][lang])}</h2>{_village_table(data, lang)}"
        f"{_gaps(data, lang)}{_footer(data, lang)}</body></html>\n"
    )
