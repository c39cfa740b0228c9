from datetime import date

import pytest

from services.registry.persons.rules import (
    Age,
    PersonFacts,
    ValidationResult,
    add_months,
    age_in_days,
    age_on,
    check_birth_date,
    check_death_date,
    check_mother,
    check_mother_age,
    check_not_deceased,
    completed_months,
    completed_years,
    issue,
    validate_move,
    validate_person,
)

TODAY = date(2025, 6, 2)


def woman(birth: date, **kwargs) -> PersonFacts:
    return PersonFacts(birth_date=birth, sex=2, **kwargs)


# --- calendar arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2025, 5, 31), -3, date(2025, 2, 28)),
        (date(2024, 11, 15), 2, date(2025, 1, 15)),
        (date(2020, 2, 29), 24, date(2022, 2, 28)),
        (date(2020, 2, 29), 48, date(2024, 2, 29)),
        (date(2025, 3, 15), -15, date(2023, 12, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_completed_months_at_month_ends() -> None:
    assert completed_months(date(2024, 1, 31), date(2024, 2, 28)) == 0
    assert completed_months(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert completed_months(date(2023, 1, 31), date(2023, 2, 28)) == 1
    assert completed_months(date(2024, 4, 2), date(2025, 6, 1)) == 13
    assert completed_months(date(2024, 4, 2), date(2025, 6, 2)) == 14


def test_completed_years_for_a_leap_day_birth() -> None:
    birth = date(2020, 2, 29)
    assert completed_years(birth, date(2021, 2, 27)) == 0
    assert completed_years(birth, date(2021, 2, 28)) == 1
    assert completed_years(birth, date(2024, 2, 28)) == 3
    assert completed_years(birth, date(2024, 2, 29)) == 4


def test_age_breakdown_and_days() -> None:
    assert age_on(date(2024, 4, 2), date(2025, 6, 2)) == Age(1, 2, 0)
    assert age_on(date(2024, 4, 2), date(2025, 6, 1)) == Age(1, 1, 30)
    assert age_on(date(2001, 1, 10), date(2025, 6, 2)) == Age(24, 4, 23)
    assert age_in_days(date(2024, 4, 2), date(2025, 6, 2)) == 426
    assert age_in_days(date(2024, 4, 2), date(2024, 4, 2)) == 0


def test_ages_before_birth_are_refused() -> None:
    with pytest.raises(ValueError):
        completed_months(date(2024, 4, 2), date(2024, 4, 1))
    with pytest.raises(ValueError):
        age_in_days(date(2024, 4, 2), date(2024, 4, 1))


# --- validations ---------------------------------------------------------------------------


def test_birth_date_not_in_the_future() -> None:
    assert check_birth_date(TODAY, TODAY) is None
    assert check_birth_date(date(2025, 6, 3), TODAY).code == "birth_date_in_future"


def test_death_date_rules() -> None:
    birth = date(1990, 1, 1)
    assert check_death_date(birth, None, TODAY) == []
    assert check_death_date(birth, birth, TODAY) == []
    assert [i.code for i in check_death_date(birth, date(1989, 12, 31), TODAY)] == [
        "death_before_birth"
    ]
    assert [i.code for i in check_death_date(birth, date(2025, 6, 3), TODAY)] == [
        "death_date_in_future"
    ]


def test_validate_person_collects_every_error() -> None:
    person = PersonFacts(
        birth_date=date(2025, 7, 1), sex=3, marital_status=9, death_date=date(2025, 6, 30)
    )
    assert set(validate_person(person, TODAY).error_codes) == {
        "birth_date_in_future",
        "death_before_birth",
        "death_date_in_future",
        "sex_unknown",
        "marital_status_unknown",
    }
    assert validate_person(woman(date(1998, 3, 5), marital_status=2), TODAY).valid


def test_mother_at_least_10_at_the_birth() -> None:
    mother_birth = date(2000, 6, 15)
    assert check_mother_age(mother_birth, date(2010, 6, 15)) is None
    assert check_mother_age(mother_birth, date(2010, 6, 14)).code == "mother_too_young"
    assert check_mother_age(mother_birth, date(1999, 1, 1)).code == "mother_too_young"


def test_mother_must_be_a_woman_alive_at_the_birth() -> None:
    father = PersonFacts(birth_date=date(1990, 1, 1), sex=1)
    assert [i.code for i in check_mother(father, date(2020, 1, 1))] == ["mother_not_female"]
    died = woman(date(1990, 1, 1), death_date=date(2019, 12, 31))
    assert [i.code for i in check_mother(died, date(2020, 1, 1))] == ["mother_died_before_birth"]
    died_in_childbirth = woman(date(1990, 1, 1), death_date=date(2020, 1, 1))
    assert check_mother(died_in_childbirth, date(2020, 1, 1)) == []


def test_deceased_person_cannot_move_or_get_later_events() -> None:
    alive = woman(date(1990, 1, 1))
    dead = woman(date(1990, 1, 1), death_date=date(2025, 1, 10))
    assert validate_move(alive).valid
    assert validate_move(dead).error_codes == ("person_deceased",)
    assert check_not_deceased(dead, date(2025, 1, 10)) is None
    assert check_not_deceased(dead, date(2025, 1, 11)).code == "person_deceased"
    assert check_not_deceased(alive, date(2025, 1, 11)) is None


def test_marital_status_since() -> None:
    married = woman(date(1990, 1, 1), marital_status=2, marital_status_since=date(2015, 5, 1))
    assert not married.married_on(date(2015, 4, 30))
    assert married.married_on(date(2015, 5, 1))
    assert woman(date(1990, 1, 1), marital_status=2).married_on(date(2000, 1, 1))
    assert not woman(date(1990, 1, 1), marital_status=4).married_on(TODAY)


def test_results_merge_errors_and_warnings() -> None:
    first = ValidationResult(errors=(issue("a", "A", "A"),))
    second = ValidationResult(warnings=(issue("b", "B", "B"),))
    merged = first.merged(second)
    assert merged.error_codes == ("a",) and merged.warning_codes == ("b",)
    assert not merged.valid and second.valid
