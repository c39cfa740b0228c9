from datetime import date

import numpy as np
import pytest
from growth_expect import who_lms

from services.registry.growth.age import (
    age_days_from_dates,
    age_days_from_months,
    is_scored_age,
    lookup_day,
    lookup_days,
)
from services.registry.growth.who_tables import load_who_tables


def test_tables_cover_the_documented_ranges() -> None:
    t = load_who_tables()
    for table in (t.len, t.wei, t.bmi, t.hc):
        assert (table.start, table.stop) == (0, 1826)
    assert (t.ac.start, t.ac.stop) == (91, 1826)
    assert (t.wfl.start, t.wfl.stop) == (450, 1100)
    assert (t.wfh.start, t.wfh.stop) == (650, 1200)
    assert t.len.m.shape == (2, 1827)


@pytest.mark.parametrize(
    ("attr", "file", "sex", "index", "key"),
    [
        ("len", "lenanthro", 1, 0, "0"),
        ("len", "lenanthro", 2, 1826, "1826"),
        ("wei", "weianthro", 2, 731, "731"),
        ("ac", "acanthro", 1, 91, "91"),
        ("wfl", "wflanthro", 2, 703, "70.3"),
        ("wfh", "wfhanthro", 1, 1200, "120"),
    ],
)
def test_table_cells_match_the_csv(attr: str, file: str, sex: int, index: int, key: str) -> None:
    table = getattr(load_who_tables(), attr)
    col = index - table.start
    got = (table.l[sex - 1, col], table.m[sex - 1, col], table.s[sex - 1, col])
    assert got == who_lms(file, sex, key)


def test_tables_are_loaded_once() -> None:
    assert load_who_tables() is load_who_tables()


def test_age_from_dates_counts_leap_days() -> None:
    assert age_days_from_dates(date(2024, 2, 28), date(2024, 3, 1)) == 2
    assert age_days_from_dates(date(2021, 6, 15), date(2026, 6, 15)) == 1826
    assert age_days_from_dates(date(2020, 1, 15), date(2025, 1, 15)) == 1827
    assert age_days_from_dates(date(2025, 1, 2), date(2025, 1, 1)) == -1


def test_months_to_days_uses_30_4375_and_rounds_half_up_for_lookup() -> None:
    assert age_days_from_months(24) == 730.5
    assert lookup_day(age_days_from_months(24)) == 731  # WHO: 24 months is day 731
    assert lookup_day(730.49) == 730
    assert lookup_day(0.5) == 1
    assert lookup_day(age_days_from_months(8)) == 244  # 243.5
    assert lookup_days(np.array([730.5, 730.49, 0.0, np.nan])).tolist() == [731, 730, 0, -1]


def test_scored_ages_follow_who_anthro() -> None:
    # WHO anthro scores while age in months < 60: day 1826 (59.99 mo) is in, 1827 is out.
    assert is_scored_age(0)
    assert is_scored_age(1826)
    assert not is_scored_age(1826.25)  # exactly 60 months
    assert not is_scored_age(1827)
    assert not is_scored_age(-1)
    assert is_scored_age(age_days_from_months(59.99))
    assert not is_scored_age(age_days_from_months(60))
