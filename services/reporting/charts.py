"""Charts of indicators as PNG or SVG bytes (matplotlib, Agg; no pyplot state).

Output is byte-for-byte repeatable: SVG ids derive from a caller-given salt, no dates
or tool versions go into the metadata, and text stays text in SVG (``svg.fonttype``
none) so the charts are small and searchable when embedded in the scorecard.
"""

import io
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from services.reporting.indicators.catalogue import (
    Bilingual,
    Direction,
    IndicatorDefinition,
    Lang,
    Unit,
)
from services.reporting.indicators.formulas import format_number
from services.reporting.suppression import SUPPRESSED_LABEL

ChartFormat = Literal["png", "svg"]

_RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,  # region names may contain "$"; never read them as TeX
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# rcParams are process-global; renders from worker threads must not interleave.
_RENDER_LOCK = threading.Lock()

_SALT = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_SVG_TAG = re.compile(r"<[^>]+>")
_SVG_ID = re.compile(r'(\sid=")([^"]+)"')
_SVG_REFERENCE = re.compile(r'(href="#|url\(#)')

_COLOUR = "#1f5f8b"
_TARGET_COLOUR = "#c0392b"
_MUTED = "#8a8a8a"
_DPI = 100

_TEXT: dict[str, Bilingual] = {
    "period": {"id": "Periode", "en": "Period"},
    "target": {"id": "Target", "en": "Target"},
    "no_data": {"id": "tidak ada data", "en": "no data"},
    "coverage": {"id": "Cakupan intervensi", "en": "Intervention coverage"},
    "intervention": {"id": "Intervensi", "en": "Intervention"},
}
_AXIS_LABELS: dict[Unit, Bilingual] = {
    Unit.PERCENT: {"id": "Persen (%)", "en": "Percent (%)"},
    Unit.COUNT: {"id": "Jumlah", "en": "Count"},
    Unit.DAYS: {"id": "Hari", "en": "Days"},
}


@dataclass(frozen=True)
class TrendPoint:
    label: str
    value: float | None


@dataclass(frozen=True)
class RankedBar:
    label: str
    value: float | None
    suppressed: bool = False


@dataclass(frozen=True)
class CoverageBar:
    label: str
    value: float | None
    target: float | None = None


def _shown(value: float | None, unit: Unit, decimals: int, lang: Lang) -> str:
    number = format_number(value, decimals, lang)
    return f"{number}%" if unit is Unit.PERCENT and value is not None else number


def _value_axis_top(values: Sequence[float], unit: Unit) -> float:
    top = max(values, default=0.0)
    if unit is Unit.PERCENT:
        return min(100.0, max(10.0, top * 1.2)) if top < 100 else 105.0
    return max(1.0, top * 1.2)


def _render(figure: Figure, fmt: ChartFormat, salt: str) -> bytes:
    if not _SALT.fullmatch(salt):
        raise ValueError(f"chart salt {salt!r} must be letters, digits and hyphens")
    buffer = io.BytesIO()
    if fmt == "png":
        figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
        return buffer.getvalue()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})

    # Element ids ("figure_1", "axes_1") repeat in every chart; prefixing them with the
    # salt keeps ids unique when several charts are inlined in one HTML page. Only tags
    # are rewritten, never text, and attribute values cannot hold a raw ">".
    def prefix(tag: re.Match[str]) -> str:
        marked = _SVG_ID.sub(lambda m: f'{m[1]}{salt}-{m[2]}"', tag[0])
        return _SVG_REFERENCE.sub(lambda m: f"{m[1]}{salt}-", marked)

    svg = _SVG_TAG.sub(prefix, buffer.getvalue().decode("utf-8"))
    return svg.replace("<svg ", f'<svg id="{salt}" ', 1).encode("utf-8")


def _new_figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _no_data(axes: Axes, lang: Lang) -> None:
    axes.text(0.5, 0.5, _TEXT["no_data"][lang], transform=axes.transAxes, ha="center", color=_MUTED)


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    definition: IndicatorDefinition,
    lang: Lang = "id",
    target: float | None = None,
    subtitle: str | None = None,
    fmt: ChartFormat = "png",
    salt: str = "trend",
) -> bytes:
    """A line with markers over periods; missing values break the line; optional target.

    ``salt`` names the SVG and prefixes its element ids: give charts that share an HTML
    page distinct salts (letters, digits and hyphens).
    """
    unit, decimals = definition.unit, definition.decimals
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure, axes = _new_figure(6.4, 3.4)
        axes.set_title(_heading(definition.name[lang], subtitle), loc="left")
        positions = list(range(len(points)))
        values = [math.nan if p.value is None else p.value for p in points]
        axes.plot(positions, values, color=_COLOUR, marker="o", linewidth=2)
        present = [v for v in values if not math.isnan(v)]
        if not present:
            _no_data(axes, lang)
        if len(points) <= 12:
            for x, point in zip(positions, points, strict=True):
                if point.value is not None:
                    axes.annotate(
                        _shown(point.value, unit, decimals, lang),
                        (x, point.value),
                        textcoords="offset points",
                        xytext=(0, 6),
                        ha="center",
                        fontsize=8,
                    )
        if target is not None:
            axes.axhline(target, color=_TARGET_COLOUR, linestyle="--", linewidth=1)
            axes.annotate(
                f"{_TEXT['target'][lang]} {_shown(target, unit, decimals, lang)}",
                (1, target),
                xycoords=("axes fraction", "data"),
                textcoords="offset points",
                xytext=(0, 3),
                ha="right",
                color=_TARGET_COLOUR,
                fontsize=8,
            )
        axes.set_xticks(positions, [p.label for p in points], rotation=45 if len(points) > 6 else 0)
        axes.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
        references = [*present, *([target] if target is not None else [])]
        axes.set_ylim(0, _value_axis_top(references, unit))
        axes.set_xlabel(_TEXT["period"][lang])
        axes.set_ylabel(_AXIS_LABELS[unit][lang])
        axes.grid(axis="y", alpha=0.3)
        return _render(figure, fmt, salt)


def ranking_chart(
    bars: Sequence[RankedBar],
    *,
    definition: IndicatorDefinition,
    lang: Lang = "id",
    target: float | None = None,
    subtitle: str | None = None,
    fmt: ChartFormat = "png",
    salt: str = "ranking",
) -> bytes:
    """Horizontal bars, worst first; withheld and missing entries listed last, unbarred."""
    unit, decimals = definition.unit, definition.decimals
    shown = [b for b in bars if b.value is not None and not b.suppressed]
    hidden = [b for b in bars if b.value is None or b.suppressed]
    best_first = definition.direction is Direction.HIGHER_IS_BETTER
    shown.sort(key=lambda b: ((b.value or 0.0) * (1 if best_first else -1), b.label))
    ordered = [*shown, *sorted(hidden, key=lambda b: b.label)]
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure, axes = _new_figure(6.4, 1.2 + 0.28 * max(len(ordered), 1))
        axes.set_title(_heading(definition.name[lang], subtitle), loc="left")
        positions = list(range(len(ordered)))
        lengths = [0.0 if b.suppressed or b.value is None else b.value for b in ordered]
        axes.barh(positions, lengths, color=_COLOUR, height=0.6)
        top = _value_axis_top([*lengths, *([target] if target is not None else [])], unit)
        for y, bar, length in zip(positions, ordered, lengths, strict=True):
            if bar.suppressed:
                note, colour = SUPPRESSED_LABEL[lang], _MUTED
            elif bar.value is None:
                note, colour = _TEXT["no_data"][lang], _MUTED
            else:
                note, colour = _shown(bar.value, unit, decimals, lang), "black"
            axes.text(
                length,
                y,
                f" {note}",
                va="center",
                fontsize=8,
                color=colour,
                style="italic" if colour == _MUTED else "normal",
            )
        if target is not None:
            axes.axvline(target, color=_TARGET_COLOUR, linestyle="--", linewidth=1)
            axes.annotate(
                f"{_TEXT['target'][lang]} {_shown(target, unit, decimals, lang)}",
                (target, 1),
                xycoords=("data", "axes fraction"),
                textcoords="offset points",
                xytext=(0, 2),
                ha="center",
                va="bottom",
                color=_TARGET_COLOUR,
                fontsize=8,
            )
        if not ordered:
            _no_data(axes, lang)
        axes.set_yticks(positions, [b.label for b in ordered])
        axes.invert_yaxis()
        axes.set_xlim(0, top * 1.12)
        axes.set_xlabel(_AXIS_LABELS[unit][lang])
        axes.grid(axis="x", alpha=0.3)
        return _render(figure, fmt, salt)


def coverage_chart(
    bars: Sequence[CoverageBar],
    *,
    lang: Lang = "id",
    subtitle: str | None = None,
    fmt: ChartFormat = "png",
    salt: str = "coverage",
) -> bytes:
    """Coverage (%) per intervention as bars, each with its target as a marker."""
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure, axes = _new_figure(max(4.0, 1.5 + 0.55 * len(bars)), 3.4)
        axes.set_title(_heading(_TEXT["coverage"][lang], subtitle), loc="left")
        positions = list(range(len(bars)))
        axes.bar(positions, [b.value or 0.0 for b in bars], color=_COLOUR, width=0.6)
        for x, bar in zip(positions, bars, strict=True):
            if bar.value is None:
                axes.text(
                    x,
                    1,
                    _TEXT["no_data"][lang],
                    ha="center",
                    va="bottom",
                    rotation=90,
                    fontsize=8,
                    color=_MUTED,
                    style="italic",
                )
            else:
                note = _shown(bar.value, Unit.PERCENT, 1, lang)
                axes.text(x, bar.value, note, ha="center", va="bottom", fontsize=8)
        targeted = [(x, b.target) for x, b in zip(positions, bars, strict=True) if b.target]
        if targeted:
            axes.scatter(
                [x for x, _ in targeted],
                [t for _, t in targeted],
                marker="_",
                s=600,
                linewidths=2.5,
                color=_TARGET_COLOUR,
                label=_TEXT["target"][lang],
                zorder=3,
            )
            figure.legend(loc="outside upper right", frameon=False)
        if not bars:
            _no_data(axes, lang)
        axes.set_xticks(positions, [b.label for b in bars])
        axes.set_ylim(0, 105)
        axes.set_xlabel(_TEXT["intervention"][lang])
        axes.set_ylabel(_AXIS_LABELS[Unit.PERCENT][lang])
        axes.grid(axis="y", alpha=0.3)
        return _render(figure, fmt, salt)


def _heading(title: str, subtitle: str | None) -> str:
    return f"{title}\n{subtitle}" if subtitle else title
