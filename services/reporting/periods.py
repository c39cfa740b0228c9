"""Reporting periods: months, quarters, years and the national weighing months.

Notation (``Period.code``; parsing is case-insensitive and ignores surrounding blanks):

- month ``2026-03``
- quarter ``2026-Q1``
- year ``2026``
- weighing month ``2026-BPB-02`` / ``2026-BPB-08``: BPB is Bulan Penimbangan Balita, the
  national under-five weighing held in February and August. It covers the same dates as
  the month ``2026-02`` but is a series of its own: the period before ``2026-BPB-02`` is
  ``2025-BPB-08``, which makes half-yearly comparisons of the weighing rounds direct.

Every period is a closed date range (``start_date`` to ``end_date`` inclusive).
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import total_ordering

from services.reporting.indicators.catalogue import Lang, ReportingError

MIN_YEAR = 1900
MAX_YEAR = 2999
WEIGHING_MONTHS = (2, 8)
DEFAULT_MAX_PERIODS = 240

_MONTH_NAMES: dict[Lang, tuple[str, ...]] = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
_MONTH_ABBREVIATIONS: dict[Lang, tuple[str, ...]] = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
_ROMAN = ("I", "II", "III", "IV")

_NOTATION_HELP = {
    "id": "Gunakan 2026-03 (bulan), 2026-Q1 (triwulan), 2026 (tahun) atau 2026-BPB-02 / "
    "2026-BPB-08 (bulan penimbangan balita).",
    "en": "Use 2026-03 (month), 2026-Q1 (quarter), 2026 (year) or 2026-BPB-02 / 2026-BPB-08 "
    "(national weighing month).",
}
_PATTERN = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})|-Q(?P<quarter>\d)|-BPB-(?P<weighing>\d{2}))?"
)


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    WEIGHING = "weighing"


_PER_YEAR = {
    PeriodKind.MONTH: 12,
    PeriodKind.QUARTER: 4,
    PeriodKind.YEAR: 1,
    PeriodKind.WEIGHING: len(WEIGHING_MONTHS),
}


def _error(code: str, id_text: str, en_text: str) -> ReportingError:
    return ReportingError(code, {"id": id_text, "en": en_text})


@total_ordering
@dataclass(frozen=True)
class Period:
    """``number`` is the month (1–12), the quarter (1–4), the weighing month (2 or 8), or
    1 for a year."""

    kind: PeriodKind
    year: int
    number: int = 1

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise _error(
                "period_year_out_of_range",
                f"Tahun {self.year} di luar rentang {MIN_YEAR}–{MAX_YEAR}.",
                f"Year {self.year} is outside {MIN_YEAR}–{MAX_YEAR}.",
            )
        if not self._number_is_valid():
            raise self._number_error()

    def _number_is_valid(self) -> bool:
        match self.kind:
            case PeriodKind.MONTH:
                return 1 <= self.number <= 12
            case PeriodKind.QUARTER:
                return 1 <= self.number <= 4
            case PeriodKind.YEAR:
                return self.number == 1
            case PeriodKind.WEIGHING:
                return self.number in WEIGHING_MONTHS

    def _number_error(self) -> ReportingError:
        match self.kind:
            case PeriodKind.MONTH:
                return _error(
                    "period_month_invalid",
                    f"Bulan {self.number} tidak ada; bulan 01 sampai 12.",
                    f"There is no month {self.number}; months run 01 to 12.",
                )
            case PeriodKind.QUARTER:
                return _error(
                    "period_quarter_invalid",
                    f"Triwulan {self.number} tidak ada; triwulan Q1 sampai Q4.",
                    f"There is no quarter {self.number}; quarters run Q1 to Q4.",
                )
            case PeriodKind.WEIGHING:
                return _error(
                    "period_weighing_month_invalid",
                    f"Bulan {self.number:02d} bukan bulan penimbangan; hanya 02 (Februari) "
                    "dan 08 (Agustus).",
                    f"Month {self.number:02d} is not a weighing month; only 02 (February) "
                    "and 08 (August).",
                )
            case _:
                return _error("period_invalid", "Tahun tidak bernomor.", "A year has no number.")

    @classmethod
    def containing(cls, day: date, kind: PeriodKind) -> "Period":
        if kind is PeriodKind.MONTH:
            return cls(kind, day.year, day.month)
        if kind is PeriodKind.QUARTER:
            return cls(kind, day.year, (day.month - 1) // 3 + 1)
        if kind is PeriodKind.YEAR:
            return cls(kind, day.year)
        if day.month not in WEIGHING_MONTHS:
            raise _error(
                "period_not_weighing_month",
                f"{day.isoformat()} tidak jatuh pada bulan penimbangan (Februari atau Agustus).",
                f"{day.isoformat()} is not in a weighing month (February or August).",
            )
        return cls(kind, day.year, day.month)

    @property
    def code(self) -> str:
        match self.kind:
            case PeriodKind.MONTH:
                return f"{self.year:04d}-{self.number:02d}"
            case PeriodKind.QUARTER:
                return f"{self.year:04d}-Q{self.number}"
            case PeriodKind.YEAR:
                return f"{self.year:04d}"
            case PeriodKind.WEIGHING:
                return f"{self.year:04d}-BPB-{self.number:02d}"

    @property
    def start_date(self) -> date:
        return date(self.year, self._first_month, 1)

    @property
    def end_date(self) -> date:
        last_month = self._first_month + self._months - 1
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    @property
    def _first_month(self) -> int:
        if self.kind is PeriodKind.QUARTER:
            return 3 * (self.number - 1) + 1
        return 1 if self.kind is PeriodKind.YEAR else self.number

    @property
    def _months(self) -> int:
        return {PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}.get(self.kind, 1)

    @property
    def _ordinal(self) -> int:
        """Position in the kind's own sequence, so that neighbours differ by one."""
        index = (
            WEIGHING_MONTHS.index(self.number)
            if self.kind is PeriodKind.WEIGHING
            else (self.number - 1)
        )
        return self.year * _PER_YEAR[self.kind] + index

    @classmethod
    def _from_ordinal(cls, kind: PeriodKind, ordinal: int) -> "Period":
        year, index = divmod(ordinal, _PER_YEAR[kind])
        number = WEIGHING_MONTHS[index] if kind is PeriodKind.WEIGHING else index + 1
        return cls(kind, year, number)

    def previous(self) -> "Period":
        return self._from_ordinal(self.kind, self._ordinal - 1)

    def next(self) -> "Period":
        return self._from_ordinal(self.kind, self._ordinal + 1)

    def contains(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date

    def label(self, lang: Lang, *, short: bool = False) -> str:
        """A human label: ``Maret 2026`` / ``March 2026``; short forms for chart axes."""
        names = _MONTH_ABBREVIATIONS[lang] if short else _MONTH_NAMES[lang]
        match self.kind:
            case PeriodKind.MONTH:
                return f"{names[self.number - 1]} {self.year}"
            case PeriodKind.QUARTER:
                if lang == "id":
                    prefix = "TW" if short else "Triwulan"
                    return f"{prefix} {_ROMAN[self.number - 1]} {self.year}"
                return f"Q{self.number} {self.year}"
            case PeriodKind.YEAR:
                return str(self.year)
            case PeriodKind.WEIGHING:
                month = f"{names[self.number - 1]} {self.year}"
                if lang == "id":
                    return f"BPB {month}" if short else f"Bulan Penimbangan Balita {month}"
                return f"{month} weighing" if short else f"Weighing month {month}"

    def __str__(self) -> str:
        return self.code

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period) or other.kind is not self.kind:
            return NotImplemented
        return self._ordinal < other._ordinal


def parse_period(text: str) -> Period:
    match = _PATTERN.fullmatch(text.strip().upper())
    if match is None:
        raise ReportingError(
            "period_invalid",
            {
                "id": f"Periode '{text}' tidak dikenali. {_NOTATION_HELP['id']}",
                "en": f"Period '{text}' is not recognised. {_NOTATION_HELP['en']}",
            },
        )
    year = int(match["year"])
    if match["month"]:
        return Period(PeriodKind.MONTH, year, int(match["month"]))
    if match["quarter"]:
        return Period(PeriodKind.QUARTER, year, int(match["quarter"]))
    if match["weighing"]:
        return Period(PeriodKind.WEIGHING, year, int(match["weighing"]))
    return Period(PeriodKind.YEAR, year)


def periods_between(
    first: Period, last: Period, *, max_periods: int = DEFAULT_MAX_PERIODS
) -> list[Period]:
    """Every period from ``first`` to ``last`` inclusive, in order (a time series' axis)."""
    if first.kind is not last.kind:
        raise _error(
            "period_kind_mismatch",
            f"{first.code} dan {last.code} bukan jenis periode yang sama.",
            f"{first.code} and {last.code} are not the same kind of period.",
        )
    if last < first:
        raise _error(
            "period_range_reversed",
            f"Periode akhir {last.code} mendahului periode awal {first.code}.",
            f"The last period {last.code} comes before the first {first.code}.",
        )
    count = last._ordinal - first._ordinal + 1
    if count > max_periods:
        raise _error(
            "period_range_too_long",
            f"Rentang {first.code}–{last.code} berisi {count} periode; paling banyak "
            f"{max_periods}.",
            f"The range {first.code}–{last.code} holds {count} periods; at most {max_periods}.",
        )
    return [Period._from_ordinal(first.kind, first._ordinal + i) for i in range(count)]
