from datetime import date

import pytest

from services.reporting.indicators.catalogue import ReportingError
from services.reporting.periods import Period, PeriodKind, parse_period, periods_between


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026-03", PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-04", PeriodKind.MONTH, date(2026, 4, 1), date(2026, 4, 30)),
        ("2024-02", PeriodKind.MONTH, date(2024, 2, 1), date(2024, 2, 29)),
        ("2100-02", PeriodKind.MONTH, date(2100, 2, 1), date(2100, 2, 28)),
        ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", PeriodKind.QUARTER, date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q3", PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-BPB-02", PeriodKind.WEIGHING, date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-BPB-02", PeriodKind.WEIGHING, date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-BPB-08", PeriodKind.WEIGHING, date(2026, 8, 1), date(2026, 8, 31)),
    ],
)
def test_parse_gives_kind_and_inclusive_dates(
    text: str, kind: PeriodKind, start: date, end: date
) -> None:
    period = parse_period(text)
    assert period.kind is kind
    assert (period.start_date, period.end_date) == (start, end)
    assert period.code == text
    assert period.contains(start) and period.contains(end)


@pytest.mark.parametrize(
    ("text", "code"),
    [(" 2026-q1 ", "2026-Q1"), ("2026-bpb-08", "2026-BPB-08"), ("2026-03\n", "2026-03")],
)
def test_parse_is_lenient_about_case_and_blanks(text: str, code: str) -> None:
    assert parse_period(text).code == code


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2026-01", "2025-12"),
        ("2026-03", "2026-02"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q3", "2026-Q2"),
        ("2026", "2025"),
        ("2026-BPB-02", "2025-BPB-08"),
        ("2026-BPB-08", "2026-BPB-02"),
    ],
)
def test_previous(text: str, previous: str) -> None:
    assert parse_period(text).previous().code == previous


@pytest.mark.parametrize(
    ("text", "following"),
    [("2025-12", "2026-01"), ("2025-Q4", "2026-Q1"), ("2025-BPB-08", "2026-BPB-02")],
)
def test_next(text: str, following: str) -> None:
    assert parse_period(text).next().code == following


def test_previous_of_the_first_supported_year_is_refused() -> None:
    with pytest.raises(ReportingError) as caught:
        parse_period("1900-01").previous()
    assert caught.value.code == "period_year_out_of_range"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026-13", "period_month_invalid"),
        ("2026-00", "period_month_invalid"),
        ("2026-Q0", "period_quarter_invalid"),
        ("2026-Q5", "period_quarter_invalid"),
        ("2026-BPB-03", "period_weighing_month_invalid"),
        ("2026-BPB-12", "period_weighing_month_invalid"),
        ("1899", "period_year_out_of_range"),
        ("26-03", "period_invalid"),
        ("2026-3", "period_invalid"),
        ("2026/03", "period_invalid"),
        ("2026-S1", "period_invalid"),
        ("", "period_invalid"),
        ("Maret 2026", "period_invalid"),
    ],
)
def test_invalid_periods_are_refused_with_code_and_both_languages(text: str, code: str) -> None:
    with pytest.raises(ReportingError) as caught:
        parse_period(text)
    error = caught.value
    assert error.code == code
    assert error.status == 422
    assert error.message("id") and error.message("en")
    assert error.message("id") != error.message("en")


def test_range_crosses_the_year_boundary() -> None:
    series = periods_between(parse_period("2025-11"), parse_period("2026-02"))
    assert [p.code for p in series] == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_range_of_quarters_and_weighing_months() -> None:
    quarters = periods_between(parse_period("2025-Q3"), parse_period("2026-Q2"))
    assert [p.code for p in quarters] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    rounds = periods_between(parse_period("2024-BPB-08"), parse_period("2026-BPB-02"))
    assert [p.code for p in rounds] == ["2024-BPB-08", "2025-BPB-02", "2025-BPB-08", "2026-BPB-02"]


def test_range_of_one_period() -> None:
    assert periods_between(parse_period("2026"), parse_period("2026")) == [parse_period("2026")]


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        ("2026-03", "2026-01", "period_range_reversed"),
        ("2026-03", "2026-Q2", "period_kind_mismatch"),
        ("2026-02", "2026-BPB-02", "period_kind_mismatch"),
    ],
)
def test_bad_ranges(first: str, last: str, code: str) -> None:
    with pytest.raises(ReportingError) as caught:
        periods_between(parse_period(first), parse_period(last))
    assert caught.value.code == code


def test_range_length_is_bounded() -> None:
    with pytest.raises(ReportingError) as caught:
        periods_between(parse_period("2026-01"), parse_period("2026-04"), max_periods=3)
    assert caught.value.code == "period_range_too_long"
    assert (
        len(periods_between(parse_period("2026-01"), parse_period("2026-03"), max_periods=3)) == 3
    )


def test_periods_sort_within_a_kind_and_refuse_to_compare_across_kinds() -> None:
    codes = ["2026-02", "2025-12", "2026-01"]
    assert [p.code for p in sorted(map(parse_period, codes))] == ["2025-12", "2026-01", "2026-02"]
    with pytest.raises(TypeError):
        _ = parse_period("2026-02") < parse_period("2026-BPB-02")


def test_weighing_month_is_its_own_series_not_equal_to_the_month() -> None:
    weighing, month = parse_period("2026-BPB-02"), parse_period("2026-02")
    assert (weighing.start_date, weighing.end_date) == (month.start_date, month.end_date)
    assert weighing != month


@pytest.mark.parametrize(
    ("day", "kind", "code"),
    [
        (date(2026, 5, 15), PeriodKind.MONTH, "2026-05"),
        (date(2026, 5, 15), PeriodKind.QUARTER, "2026-Q2"),
        (date(2026, 12, 31), PeriodKind.QUARTER, "2026-Q4"),
        (date(2026, 5, 15), PeriodKind.YEAR, "2026"),
        (date(2026, 8, 17), PeriodKind.WEIGHING, "2026-BPB-08"),
    ],
)
def test_period_containing_a_day(day: date, kind: PeriodKind, code: str) -> None:
    assert Period.containing(day, kind).code == code


def test_no_weighing_period_outside_february_and_august() -> None:
    with pytest.raises(ReportingError) as caught:
        Period.containing(date(2026, 3, 1), PeriodKind.WEIGHING)
    assert caught.value.code == "period_not_weighing_month"


@pytest.mark.parametrize(
    ("text", "lang", "short", "label"),
    [
        ("2026-03", "id", False, "Maret 2026"),
        ("2026-03", "en", False, "March 2026"),
        ("2026-08", "id", True, "Agu 2026"),
        ("2026-Q1", "id", False, "Triwulan I 2026"),
        ("2026-Q4", "id", True, "TW IV 2026"),
        ("2026-Q1", "en", False, "Q1 2026"),
        ("2026", "id", False, "2026"),
        ("2026-BPB-02", "id", False, "Bulan Penimbangan Balita Februari 2026"),
        ("2026-BPB-08", "en", False, "Weighing month August 2026"),
        ("2026-BPB-08", "id", True, "BPB Agu 2026"),
    ],
)
def test_labels(text: str, lang: str, short: bool, label: str) -> None:
    assert parse_period(text).label(lang, short=short) == label  # type: ignore[arg-type]
