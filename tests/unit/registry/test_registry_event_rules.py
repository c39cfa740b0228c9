from datetime import date, timedelta

import pytest

from services.registry.events.rules import (
    ContraceptionUse,
    Delivery,
    LifeEvents,
    MarriagePlan,
    Pregnancy,
    validate_contraception,
    validate_delivery,
    validate_marriage_plan,
    validate_pregnancy,
)
from services.registry.persons.rules import PersonFacts

TODAY = date(2025, 7, 1)
WOMAN = PersonFacts(birth_date=date(1998, 3, 5), sex=2, marital_status=2)
MAN = PersonFacts(birth_date=date(1996, 8, 20), sex=1, marital_status=2)
START = date(2025, 1, 26)


def codes(result) -> tuple[str, ...]:
    return result.error_codes


# --- pregnancy -----------------------------------------------------------------------------


def test_a_plain_open_pregnancy_is_valid() -> None:
    pregnancy = Pregnancy(START, START + timedelta(days=280))
    assert validate_pregnancy(WOMAN, pregnancy, [], TODAY).valid


def test_pregnancy_only_for_women() -> None:
    assert codes(validate_pregnancy(MAN, Pregnancy(START), [], TODAY)) == ("pregnancy_not_female",)


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        (date(2010, 6, 14), False),  # 9 years old
        (date(2010, 6, 15), True),  # tenth birthday
        (date(2025, 6, 14), True),  # 55
        (date(2025, 6, 15), False),  # 56th birthday
    ],
)
def test_pregnancy_age_10_to_55_at_the_start(start: date, ok: bool) -> None:
    young = PersonFacts(birth_date=date(2000, 6, 15), sex=2)
    old = PersonFacts(birth_date=date(1969, 6, 15), sex=2)
    person = young if start.year == 2010 else old
    found = codes(validate_pregnancy(person, Pregnancy(start), [], TODAY))
    assert found == (() if ok else ("pregnancy_age_out_of_range",))


def test_pregnancy_start_not_in_the_future() -> None:
    assert codes(validate_pregnancy(WOMAN, Pregnancy(date(2025, 7, 2)), [], TODAY)) == (
        "pregnancy_start_in_future",
    )


@pytest.mark.parametrize(
    ("days", "code"),
    [(0, "edd_not_after_start"), (-5, "edd_not_after_start"), (315, None), (316, "edd_too_late")],
)
def test_expected_delivery_after_start_and_within_45_weeks(days: int, code: str | None) -> None:
    pregnancy = Pregnancy(START, START + timedelta(days=days))
    assert codes(validate_pregnancy(WOMAN, pregnancy, [], TODAY)) == ((code,) if code else ())


def test_one_open_pregnancy_at_a_time() -> None:
    open_one = Pregnancy(date(2024, 12, 1))
    assert codes(validate_pregnancy(WOMAN, Pregnancy(START), [open_one], TODAY)) == (
        "pregnancy_already_open",
    )


def test_pregnancies_may_not_overlap() -> None:
    earlier = Pregnancy(date(2024, 3, 1), outcome="live_birth", outcome_date=date(2024, 12, 1))
    assert validate_pregnancy(WOMAN, Pregnancy(date(2024, 12, 1)), [earlier], TODAY).valid
    assert codes(validate_pregnancy(WOMAN, Pregnancy(date(2024, 11, 30)), [earlier], TODAY)) == (
        "pregnancy_overlaps",
    )
    # a closed pregnancy entered later, inside an earlier recorded one
    inside = Pregnancy(date(2024, 4, 1), outcome="miscarriage", outcome_date=date(2024, 5, 1))
    assert codes(validate_pregnancy(WOMAN, inside, [earlier], TODAY)) == ("pregnancy_overlaps",)


@pytest.mark.parametrize(
    ("outcome", "outcome_date", "expected"),
    [
        ("live_birth", None, ("outcome_incomplete",)),
        (None, date(2025, 6, 1), ("outcome_incomplete",)),
        ("twins", date(2025, 6, 1), ("outcome_unknown",)),
        ("live_birth", START - timedelta(days=1), ("outcome_before_start",)),
        ("live_birth", START + timedelta(days=316), ("outcome_too_late", "outcome_in_future")),
        ("stillbirth", date(2025, 7, 2), ("outcome_in_future",)),
        ("live_birth", date(2025, 7, 1), ()),
        ("miscarriage", START + timedelta(weeks=10), ()),
    ],
)
def test_outcome_rules(outcome, outcome_date, expected) -> None:
    pregnancy = Pregnancy(START, outcome=outcome, outcome_date=outcome_date)
    assert codes(validate_pregnancy(WOMAN, pregnancy, [], TODAY)) == expected


def test_delivery_before_20_weeks_warns() -> None:
    early = Pregnancy(START, outcome="live_birth", outcome_date=START + timedelta(days=139))
    result = validate_pregnancy(WOMAN, early, [], TODAY)
    assert result.valid and result.warning_codes == ("outcome_gestation_short",)
    at_20 = Pregnancy(START, outcome="live_birth", outcome_date=START + timedelta(weeks=20))
    assert validate_pregnancy(WOMAN, at_20, [], TODAY).warnings == ()


def test_no_pregnancy_events_after_death() -> None:
    died = PersonFacts(birth_date=date(1998, 3, 5), sex=2, death_date=date(2025, 5, 1))
    assert codes(validate_pregnancy(died, Pregnancy(date(2025, 5, 2)), [], TODAY)) == (
        "person_deceased",
    )
    late_outcome = Pregnancy(START, outcome="live_birth", outcome_date=date(2025, 5, 2))
    assert codes(validate_pregnancy(died, late_outcome, [], TODAY)) == ("person_deceased",)
    # a maternal death on the day of delivery stays recordable
    same_day = Pregnancy(START, outcome="live_birth", outcome_date=date(2025, 5, 1))
    assert validate_pregnancy(died, same_day, [], TODAY).valid


# --- delivery ------------------------------------------------------------------------------


def test_delivery_rules() -> None:
    assert validate_delivery(WOMAN, Delivery(date(2025, 6, 1)), TODAY).valid
    assert codes(validate_delivery(MAN, Delivery(date(2025, 6, 1)), TODAY)) == (
        "delivery_not_female",
    )
    assert codes(validate_delivery(WOMAN, Delivery(date(2025, 6, 1), "miscarriage"), TODAY)) == (
        "delivery_outcome_invalid",
    )
    assert codes(validate_delivery(WOMAN, Delivery(date(2025, 7, 2)), TODAY)) == (
        "delivery_in_future",
    )
    girl = PersonFacts(birth_date=date(2016, 1, 1), sex=2)
    assert codes(validate_delivery(girl, Delivery(date(2025, 6, 1)), TODAY)) == (
        "delivery_age_out_of_range",
    )


def test_life_events_list_each_delivery_once() -> None:
    events = LifeEvents(
        pregnancies=(
            Pregnancy(date(2023, 1, 1), outcome="live_birth", outcome_date=date(2023, 10, 1)),
            Pregnancy(date(2024, 3, 1), outcome="miscarriage", outcome_date=date(2024, 5, 1)),
        ),
        deliveries=(Delivery(date(2023, 10, 1)), Delivery(date(2025, 2, 1), "stillbirth")),
    )
    assert events.delivery_dates() == [date(2023, 10, 1), date(2025, 2, 1)]


# --- marriage plan -------------------------------------------------------------------------


def test_marriage_plan_rules() -> None:
    single = PersonFacts(birth_date=date(2000, 1, 1), sex=2, marital_status=1)
    assert validate_marriage_plan(single, MarriagePlan(TODAY), TODAY).valid
    assert codes(validate_marriage_plan(single, MarriagePlan(date(2025, 6, 30)), TODAY)) == (
        "marriage_date_in_past",
    )
    dead = PersonFacts(birth_date=date(2000, 1, 1), sex=1, death_date=date(2025, 6, 1))
    assert codes(validate_marriage_plan(dead, MarriagePlan(date(2025, 9, 1)), TODAY)) == (
        "person_deceased",
    )


def test_marriage_under_19_needs_a_dispensation() -> None:
    teen = PersonFacts(birth_date=date(2006, 9, 2), sex=2, marital_status=1)
    before = validate_marriage_plan(teen, MarriagePlan(date(2025, 9, 1)), TODAY)
    assert before.valid and before.warning_codes == ("below_legal_marriage_age",)
    on_birthday = validate_marriage_plan(teen, MarriagePlan(date(2025, 9, 2)), TODAY)
    assert on_birthday.valid and on_birthday.warnings == ()


def test_already_married_woman_refused_man_warned() -> None:
    plan = MarriagePlan(date(2025, 9, 1))
    assert codes(validate_marriage_plan(WOMAN, plan, TODAY)) == ("already_married",)
    man = validate_marriage_plan(MAN, plan, TODAY)
    assert man.valid and man.warning_codes == ("already_married",)


# --- contraception -------------------------------------------------------------------------


def test_contraception_for_a_married_woman() -> None:
    assert validate_contraception(WOMAN, ContraceptionUse("implant", date(2025, 1, 1)), TODAY).valid


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        (date(2013, 6, 14), False),  # 14
        (date(2013, 6, 15), True),  # 15
        (date(2048, 6, 14), True),  # 49
        (date(2048, 6, 15), False),  # 50
    ],
)
def test_contraception_age_15_to_49_for_women(start: date, ok: bool) -> None:
    person = PersonFacts(birth_date=date(1998, 6, 15), sex=2, marital_status=2)
    found = codes(validate_contraception(person, ContraceptionUse("pill", start), date(2050, 1, 1)))
    assert found == (() if ok else ("contraception_age_out_of_range",))


def test_contraception_for_men() -> None:
    older_man = PersonFacts(birth_date=date(1965, 1, 1), sex=1, marital_status=2)
    assert validate_contraception(older_man, ContraceptionUse("mop", date(2025, 1, 1)), TODAY).valid
    assert codes(
        validate_contraception(MAN, ContraceptionUse("pill", date(2025, 1, 1)), TODAY)
    ) == ("contraception_method_sex",)
    assert validate_contraception(
        MAN, ContraceptionUse("traditional", date(2025, 1, 1)), TODAY
    ).valid
    boy = PersonFacts(birth_date=date(2011, 1, 1), sex=1, marital_status=2)
    assert codes(
        validate_contraception(boy, ContraceptionUse("condom", date(2025, 1, 1)), TODAY)
    ) == ("contraception_age_out_of_range",)


def test_contraception_only_when_married() -> None:
    single = PersonFacts(birth_date=date(1998, 3, 5), sex=2, marital_status=1)
    assert codes(
        validate_contraception(single, ContraceptionUse("pill", date(2025, 1, 1)), TODAY)
    ) == ("contraception_not_married",)
    married_later = PersonFacts(
        birth_date=date(1998, 3, 5), sex=2, marital_status=2, marital_status_since=date(2025, 2, 1)
    )
    use = ContraceptionUse("pill", date(2025, 1, 1))
    assert codes(validate_contraception(married_later, use, TODAY)) == (
        "contraception_not_married",
    )


def test_contraception_dates_and_method() -> None:
    assert codes(
        validate_contraception(WOMAN, ContraceptionUse("mop", date(2025, 1, 1)), TODAY)
    ) == ("contraception_method_sex",)
    assert codes(
        validate_contraception(WOMAN, ContraceptionUse("herbs", date(2025, 1, 1)), TODAY)
    ) == ("contraception_method_unknown",)
    backwards = ContraceptionUse("pill", date(2025, 1, 1), date(2024, 12, 31))
    assert codes(validate_contraception(WOMAN, backwards, TODAY)) == (
        "contraception_end_before_start",
    )
    assert codes(
        validate_contraception(WOMAN, ContraceptionUse("pill", date(2025, 7, 2)), TODAY)
    ) == ("contraception_start_in_future",)


def test_contraception_in_use_on() -> None:
    use = ContraceptionUse("pill", date(2025, 1, 1), date(2025, 3, 31))
    events = LifeEvents(contraception=(use,))
    assert events.contraception_on(date(2025, 3, 31)) == (use,)
    assert events.contraception_on(date(2025, 4, 1)) == ()
    assert events.contraception_on(date(2024, 12, 31)) == ()


def test_pregnant_until_the_day_before_the_outcome() -> None:
    closed = Pregnancy(START, outcome="live_birth", outcome_date=date(2025, 10, 20))
    assert not closed.pregnant_on(START - timedelta(days=1))
    assert closed.pregnant_on(START)
    assert closed.pregnant_on(date(2025, 10, 19))
    assert not closed.pregnant_on(date(2025, 10, 20))
    assert closed.delivery_date == date(2025, 10, 20)
    assert not closed.is_open and Pregnancy(START).is_open
    lost = Pregnancy(START, outcome="miscarriage", outcome_date=date(2025, 3, 1))
    assert lost.delivery_date is None
