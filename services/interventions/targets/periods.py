"""Reporting periods: a year, quarter or month by name, or explicit dates."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from services.interventions.catalogue.rules import Violation

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<q>[1-4])|(?P<m>0[1-9]|1[0-2])))?$")
MAX_SPAN_DAYS = 5 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    def as_of(self, today: date) -> date:
        """The day progress is measured on: the period's end, or today while it runs."""
        return max(self.start, min(self.end, today))


def _v(code: str, id_: str, en: str, loc: str) -> Violation:
    return Violation(code, {"id": id_, "en": en}, loc)


def quarter_of(day: date) -> Period:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    end = first + relativedelta(months=3) - timedelta(days=1)
    return Period(first, end, f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def parse_period(
    name: str | None, start: date | None, end: date | None, today: date
) -> Period | Violation:
    """``2026``, ``2026-Q1``, ``2026-03``, or ``from``/``to``; the current quarter when
    nothing is given."""
    if name is not None:
        if start is not None or end is not None:
            return _v(
                "period_conflict",
                "Isi period atau from/to, tidak keduanya",
                "Give period or from/to, not both",
                "period",
            )
        match = _PERIOD.match(name)
        if not match:
            return _v(
                "invalid_period",
                "Periode harus YYYY, YYYY-Qn atau YYYY-MM",
                "period must be YYYY, YYYY-Qn or YYYY-MM",
                "period",
            )
        year = int(match["year"])
        if match["q"]:
            return quarter_of(date(year, 3 * int(match["q"]) - 2, 1))
        if match["m"]:
            first = date(year, int(match["m"]), 1)
            return Period(first, first + relativedelta(months=1) - timedelta(days=1), name)
        return Period(date(year, 1, 1), date(year, 12, 31), name)
    if start is None and end is None:
        return quarter_of(today)
    if start is None or end is None:
        return _v(
            "period_incomplete",
            "from dan to wajib berpasangan",
            "Give both from and to",
            "from" if start is None else "to",
        )
    if end < start:
        return _v("period_reversed", "to sebelum from", "to is before from", "to")
    if (end - start).days > MAX_SPAN_DAYS:
        return _v("period_too_long", "Periode paling lama 5 tahun", "At most 5 years", "to")
    return Period(start, end, f"{start}..{end}")
