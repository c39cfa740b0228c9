"""A child's growth chart: the child's points over the WHO 2006 median and ±2/±3 SD
curves of one indicator for the child's sex (matplotlib, Agg; no pyplot state).

Curves come from the LMS tables: the value at z is M·(1 + L·S·z)^(1/L). Output is
byte-for-byte repeatable (fixed SVG hash salt, no dates or versions in the metadata).
"""

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from services.registry.growth.age import DAYS_PER_MONTH
from services.registry.growth.who_tables import LmsTable, WhoTables, load_who_tables

ChartFormat = Literal["svg", "png"]
Indicator = Literal["lhfa", "wfa", "wflh", "bmi", "hcfa", "acfa"]
Lang = Literal["id", "en"]
MEDIA_TYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}

# Below 24 months a chart spans 0-24 months (as the WHO charts for under-twos do).
YOUNG_CHART_MONTHS = 24.0
FULL_CHART_MONTHS = 60.0
CURVE_Z = (-3.0, -2.0, 0.0, 2.0, 3.0)


@dataclass(frozen=True)
class ChartSpec:
    table: str  # WhoTables field for age-based indicators
    title: dict[str, str]
    y_label: dict[str, str]


SPECS: dict[str, ChartSpec] = {
    "lhfa": ChartSpec(
        "len",
        {"id": "Panjang/tinggi badan menurut umur", "en": "Length/height-for-age"},
        {"id": "Panjang/tinggi badan (cm)", "en": "Length/height (cm)"},
    ),
    "wfa": ChartSpec(
        "wei",
        {"id": "Berat badan menurut umur", "en": "Weight-for-age"},
        {"id": "Berat badan (kg)", "en": "Weight (kg)"},
    ),
    "wflh": ChartSpec(
        "wfl",
        {"id": "Berat badan menurut panjang/tinggi badan", "en": "Weight-for-length/height"},
        {"id": "Berat badan (kg)", "en": "Weight (kg)"},
    ),
    "bmi": ChartSpec(
        "bmi",
        {"id": "IMT menurut umur", "en": "BMI-for-age"},
        {"id": "IMT (kg/m²)", "en": "BMI (kg/m²)"},
    ),
    "hcfa": ChartSpec(
        "hc",
        {"id": "Lingkar kepala menurut umur", "en": "Head circumference-for-age"},
        {"id": "Lingkar kepala (cm)", "en": "Head circumference (cm)"},
    ),
    "acfa": ChartSpec(
        "ac",
        {"id": "LiLA menurut umur", "en": "Arm circumference-for-age"},
        {"id": "LiLA (cm)", "en": "Arm circumference (cm)"},
    ),
}
_TEXT = {
    "age": {"id": "Umur (bulan)", "en": "Age (months)"},
    "length": {"id": "Panjang badan (cm)", "en": "Length (cm)"},
    "height": {"id": "Tinggi badan (cm)", "en": "Height (cm)"},
    "sex": {1: {"id": "Laki-laki", "en": "Boys"}, 2: {"id": "Perempuan", "en": "Girls"}},
    "source": {"id": "Standar WHO 2006", "en": "WHO 2006 standards"},
    "no_data": {"id": "belum ada pengukuran", "en": "no measurement yet"},
}
_COLOURS = {0.0: "#2e7d32", 2.0: "#c62828", 3.0: "#212121"}
_POINT = "#1f5f8b"
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "kkb-growth",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_DPI = 100
# rcParams are process-global; renders from worker threads must not interleave.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class ChartPoint:
    x: float  # age in months, or length/height in cm for weight-for-length/height
    y: float
    flagged: bool = False


@dataclass(frozen=True)
class Curves:
    x: np.ndarray
    by_z: dict[float, np.ndarray]


def value_at_z(z: float, l: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:  # noqa: E741
    """The measurement at z-score ``z``: M·(1 + L·S·z)^(1/L)."""
    return m * (1.0 + l * s * z) ** (1.0 / l)


def curves(table: LmsTable, sex: int, x_scale: float, x_max: float | None = None) -> Curves:
    """Reference curves of one table for one sex; x is the table index / ``x_scale``
    (days -> months, or tenths of a cm -> cm), cut at ``x_max``."""
    index = np.arange(table.start, table.stop + 1)
    x = index / x_scale
    keep = x <= x_max if x_max is not None else np.ones(len(x), dtype=bool)
    row = sex - 1
    l, m, s = table.l[row][keep], table.m[row][keep], table.s[row][keep]  # noqa: E741
    return Curves(x=x[keep], by_z={z: value_at_z(z, l, m, s) for z in CURVE_Z})


def wflh_table(age_days: int) -> Literal["wfl", "wfh"]:
    """Weight-for-length below 731 days, weight-for-height from 731 days (as the engine)."""
    return "wfl" if age_days < 731 else "wfh"


def chart_curves(
    indicator: str, sex: int, latest_age_days: int | None, tables: WhoTables | None = None
) -> Curves:
    tables = tables or load_who_tables()
    if indicator == "wflh":
        name = wflh_table(latest_age_days or 0)
        return curves(getattr(tables, name), sex, 10.0)
    months = latest_age_days / DAYS_PER_MONTH if latest_age_days is not None else 0.0
    x_max = YOUNG_CHART_MONTHS if months < YOUNG_CHART_MONTHS - 1 else FULL_CHART_MONTHS
    return curves(getattr(tables, SPECS[indicator].table), sex, DAYS_PER_MONTH, x_max)


def _x_label(indicator: str, latest_age_days: int | None) -> dict[str, str]:
    if indicator != "wflh":
        return _TEXT["age"]
    return _TEXT["length" if wflh_table(latest_age_days or 0) == "wfl" else "height"]


def growth_chart(
    indicator: Indicator,
    sex: int,
    points: Sequence[ChartPoint],
    *,
    latest_age_days: int | None,
    lang: Lang = "id",
    child_name: str | None = None,
    fmt: ChartFormat = "svg",
    tables: WhoTables | None = None,
) -> bytes:
    """The chart as SVG or PNG bytes. ``child_name`` goes into the title only when given
    (callers pass it only to those who may see it unmasked)."""
    spec = SPECS[indicator]
    reference = chart_curves(indicator, sex, latest_age_days, tables)
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure = Figure(figsize=(7.0, 4.6), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        title = spec.title[lang] + (f" — {child_name}" if child_name else "")
        axes.set_title(title, loc="left")
        sex_label = _TEXT["sex"][sex][lang]  # type: ignore[index]
        figure.suptitle(f"{sex_label} · {_TEXT['source'][lang]}", x=0.99, ha="right", fontsize=8)
        for z, values in reference.by_z.items():
            colour = _COLOURS[abs(z)]
            style = "--" if abs(z) == 3.0 else "-"
            axes.plot(reference.x, values, color=colour, linestyle=style, linewidth=1.2)
            label = "0" if z == 0 else f"{z:+.0f}"
            axes.annotate(
                label,
                (reference.x[-1], values[-1]),
                textcoords="offset points",
                xytext=(3, -3),
                color=colour,
                fontsize=8,
            )
        shown = [p for p in points if reference.x[0] <= p.x <= reference.x[-1]]
        if shown:
            axes.plot(
                [p.x for p in shown],
                [p.y for p in shown],
                color=_POINT,
                marker="o",
                linewidth=1.5,
                markersize=5,
            )
            flagged = [p for p in shown if p.flagged]
            if flagged:
                axes.plot(
                    [p.x for p in flagged],
                    [p.y for p in flagged],
                    linestyle="none",
                    marker="o",
                    markersize=9,
                    markerfacecolor="none",
                    markeredgecolor="#c62828",
                )
        else:
            axes.text(
                0.5,
                0.5,
                _TEXT["no_data"][lang],
                transform=axes.transAxes,
                ha="center",
                color="#8a8a8a",
            )
        axes.set_xlim(reference.x[0], reference.x[-1])
        axes.set_xlabel(_x_label(indicator, latest_age_days)[lang])
        axes.set_ylabel(spec.y_label[lang])
        axes.grid(alpha=0.3)
        buffer = io.BytesIO()
        if fmt == "png":
            figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
        else:
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        return buffer.getvalue()
