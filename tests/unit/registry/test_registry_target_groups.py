from datetime import date

import pytest

from services.registry.events.rules import Delivery, LifeEvents, MarriagePlan, Pregnancy
from services.registry.events.target_groups import (
    TARGET_GROUP_LABELS,
    HouseholdMember,
    Membership,
    PusCouple,
    TargetGroup,
    family_wives,
    pus_couples,
    target_family,
    target_groups,
)
from services.registry.persons.rules import PersonFacts

G = TargetGroup
NO_EVENTS = LifeEvents()


def groups(person: PersonFacts, on: date, events: LifeEvents = NO_EVENTS) -> set[TargetGroup]:
    return {m.group for m in target_groups(person, events, on)}


def window(person: PersonFacts, on: date, group: TargetGroup, events=NO_EVENTS) -> Membership:
    return next(m for m in target_groups(person, events, on) if m.group == group)


def child(birth: date, sex: int = 1, **kwargs) -> PersonFacts:
    return PersonFacts(birth_date=birth, sex=sex, marital_status=1, **kwargs)


def woman(birth: date, marital_status: int = 2, **kwargs) -> PersonFacts:
    return PersonFacts(birth_date=birth, sex=2, marital_status=marital_status, **kwargs)


# --- children ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2023, 3, 15), {G.BADUTA, G.BALITA}),  # day of birth
        (date(2025, 3, 14), {G.BADUTA, G.BALITA}),  # 23 months
        (date(2025, 3, 15), {G.BALITA}),  # 24 months
        (date(2028, 3, 14), {G.BALITA}),  # 59 months
        (date(2028, 3, 15), set()),  # 60 months
        (date(2023, 3, 14), set()),  # not born yet
    ],
)
def test_baduta_and_balita_boundaries(on: date, expected: set[TargetGroup]) -> None:
    assert groups(child(date(2023, 3, 15)), on) == expected


def test_child_windows() -> None:
    son = child(date(2023, 3, 15))
    assert window(son, date(2024, 1, 1), G.BADUTA) == Membership(
        G.BADUTA, date(2023, 3, 15), date(2025, 3, 14)
    )
    assert window(son, date(2024, 1, 1), G.BALITA) == Membership(
        G.BALITA, date(2023, 3, 15), date(2028, 3, 14)
    )


def test_leap_day_child_turns_24_months_on_28_february() -> None:
    leap = child(date(2020, 2, 29))
    assert G.BADUTA in groups(leap, date(2022, 2, 27))
    assert G.BADUTA not in groups(leap, date(2022, 2, 28))


def test_death_ends_every_window() -> None:
    died = child(date(2023, 3, 15), death_date=date(2024, 1, 10))
    assert groups(died, date(2024, 1, 10)) == set()
    assert window(died, date(2024, 1, 9), G.BADUTA).end == date(2024, 1, 9)


# --- women ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "is_pus"),
    [
        (date(2015, 6, 14), False),  # 14
        (date(2015, 6, 15), True),  # 15
        (date(2050, 6, 14), True),  # 49
        (date(2050, 6, 15), False),  # 50
    ],
)
def test_pus_is_a_married_woman_aged_15_to_49(on: date, is_pus: bool) -> None:
    assert (G.PUS in groups(woman(date(2000, 6, 15)), on)) is is_pus


def test_pus_window_and_marriage_date() -> None:
    since = woman(date(2000, 6, 15), marital_status_since=date(2020, 1, 1))
    assert G.PUS not in groups(since, date(2019, 12, 31))
    assert window(since, date(2020, 1, 1), G.PUS) == Membership(
        G.PUS, date(2020, 1, 1), date(2050, 6, 14)
    )
    unknown_since = woman(date(2000, 6, 15))
    assert window(unknown_since, date(2025, 1, 1), G.PUS).start is None


def test_pus_is_counted_by_the_wife_not_the_husband() -> None:
    husband = PersonFacts(birth_date=date(1995, 1, 1), sex=1, marital_status=2)
    assert G.PUS not in groups(husband, date(2025, 1, 1))
    for status in (1, 3, 4):
        assert G.PUS not in groups(woman(date(2000, 6, 15), status), date(2025, 1, 1))


@pytest.mark.parametrize(
    ("on", "is_remaja"),
    [
        (date(2020, 6, 14), False),  # 9
        (date(2020, 6, 15), True),  # 10
        (date(2030, 6, 14), True),  # 19
        (date(2030, 6, 15), False),  # 20
    ],
)
def test_remaja_putri_is_a_girl_aged_10_to_19(on: date, is_remaja: bool) -> None:
    girl = child(date(2010, 6, 15), sex=2)
    assert (G.REMAJA_PUTRI in groups(girl, on)) is is_remaja
    assert G.REMAJA_PUTRI not in groups(child(date(2010, 6, 15), sex=1), on)


def test_pregnancy_until_the_outcome_then_42_days_postpartum() -> None:
    mother = woman(date(1998, 3, 5))
    events = LifeEvents(
        pregnancies=(
            Pregnancy(
                date(2024, 8, 1),
                date(2025, 5, 8),
                outcome="live_birth",
                outcome_date=date(2025, 5, 1),
            ),
        )
    )
    assert window(mother, date(2024, 8, 1), G.IBU_HAMIL, events) == Membership(
        G.IBU_HAMIL, date(2024, 8, 1), date(2025, 4, 30)
    )
    assert G.IBU_HAMIL not in groups(mother, date(2024, 7, 31), events)
    on_delivery = groups(mother, date(2025, 5, 1), events)
    assert G.IBU_HAMIL not in on_delivery and G.IBU_PASCA_PERSALINAN in on_delivery
    assert window(mother, date(2025, 6, 12), G.IBU_PASCA_PERSALINAN, events) == Membership(
        G.IBU_PASCA_PERSALINAN, date(2025, 5, 1), date(2025, 6, 12)
    )
    assert G.IBU_PASCA_PERSALINAN not in groups(mother, date(2025, 6, 13), events)


def test_open_pregnancy_lapses_45_weeks_after_its_start() -> None:
    mother = woman(date(1998, 3, 5))
    events = LifeEvents(pregnancies=(Pregnancy(date(2024, 1, 1)),))
    assert window(mother, date(2024, 11, 5), G.IBU_HAMIL, events).end is None  # day 309
    assert G.IBU_HAMIL in groups(mother, date(2024, 11, 11), events)  # day 315
    assert G.IBU_HAMIL not in groups(mother, date(2024, 11, 12), events)  # day 316


def test_miscarriage_is_not_a_delivery_but_a_stand_alone_delivery_is() -> None:
    mother = woman(date(1998, 3, 5))
    lost = LifeEvents(
        pregnancies=(
            Pregnancy(date(2025, 1, 1), outcome="miscarriage", outcome_date=date(2025, 3, 1)),
        )
    )
    assert groups(mother, date(2025, 3, 2), lost) == {G.PUS}
    born = LifeEvents(deliveries=(Delivery(date(2025, 3, 1)),))
    assert G.IBU_PASCA_PERSALINAN in groups(mother, date(2025, 3, 2), born)


@pytest.mark.parametrize(
    ("on", "is_catin"),
    [
        (date(2025, 6, 14), False),  # more than 3 months ahead
        (date(2025, 6, 15), True),  # exactly 3 months ahead
        (date(2025, 9, 15), True),  # the wedding day
        (date(2025, 9, 16), False),
    ],
)
def test_catin_within_3_months_before_the_marriage(on: date, is_catin: bool) -> None:
    groom = PersonFacts(birth_date=date(1999, 1, 1), sex=1, marital_status=1)
    events = LifeEvents(marriage_plans=(MarriagePlan(date(2025, 9, 15)),))
    assert (G.CATIN in groups(groom, on, events)) is is_catin
    if is_catin:
        assert window(groom, on, G.CATIN, events) == Membership(
            G.CATIN, date(2025, 6, 15), date(2025, 9, 15)
        )


# --- household -----------------------------------------------------------------------------

ON = date(2025, 6, 2)


def member(member_id: str, person: PersonFacts, relationship: int, **kwargs) -> HouseholdMember:
    return HouseholdMember(member_id, person, relationship, **kwargs)


HUSBAND = PersonFacts(birth_date=date(1995, 1, 1), sex=1, marital_status=2)


def test_target_family_flags() -> None:
    adults = [member("h", HUSBAND, 1), member("w", woman(date(1970, 1, 1)), 3)]
    assert not target_family(adults, ON).is_target_family

    with_pus = [member("h", HUSBAND, 1), member("w", woman(date(1998, 1, 1)), 3)]
    test = target_family(with_pus, ON)
    assert test.pus_wife and test.is_target_family and not test.pregnant_wife

    toddler = [*adults, member("c", child(date(2023, 1, 1)), 4)]  # 29 months
    test = target_family(toddler, ON)
    assert test.child_24_59_months and not test.child_0_23_months and test.is_target_family

    baby = [*adults, member("c", child(date(2024, 6, 3)), 4)]  # 11 months
    test = target_family(baby, ON)
    assert test.child_0_23_months and not test.child_24_59_months


def test_unmarried_pregnant_daughter_makes_a_target_family() -> None:
    daughter = woman(date(2007, 1, 1), marital_status=1)
    events = LifeEvents(pregnancies=(Pregnancy(date(2025, 3, 1)),))
    family = [
        member("h", HUSBAND, 1),
        member("w", woman(date(1970, 1, 1)), 3),
        member("d", daughter, 4, events=events),
    ]
    test = target_family(family, ON)
    assert test.pregnant_wife and test.is_target_family
    assert [m.member_id for m in family_wives(family, ON)] == ["w", "d"]


def test_family_wives() -> None:
    family = [
        member("d", woman(date(2004, 1, 1)), 4),  # married daughter
        member("s", woman(date(2006, 1, 1), marital_status=1), 4),  # unmarried daughter
        member("h", HUSBAND, 1),
        member("w", woman(date(1975, 1, 1)), 3),
        member("g", woman(date(1950, 1, 1), 4, death_date=date(2024, 1, 1)), 7),
    ]
    assert [m.member_id for m in family_wives(family, ON)] == ["w", "d"]
    widow_head = [member("m", woman(date(1990, 1, 1), marital_status=4), 1)]
    assert [m.member_id for m in family_wives(widow_head, ON)] == ["m"]


def test_pus_couples() -> None:
    family = [
        member("h", HUSBAND, 1),
        member("w", woman(date(1998, 1, 1)), 3),
        member("d", woman(date(2004, 1, 1)), 4, spouse_id="m"),
        member("m", PersonFacts(birth_date=date(2002, 1, 1), sex=1, marital_status=2), 5),
        member("x", woman(date(2003, 1, 1)), 4),  # married, husband elsewhere
    ]
    assert pus_couples(family, ON) == [
        PusCouple("w", "h"),
        PusCouple("d", "m"),
        PusCouple("x", None),
    ]
    female_head = [
        member("w", woman(date(1998, 1, 1)), 1),
        member("h", HUSBAND, 2),
    ]
    assert pus_couples(female_head, ON) == [PusCouple("w", "h")]
    dead_husband = PersonFacts(
        birth_date=date(1995, 1, 1), sex=1, marital_status=2, death_date=date(2025, 1, 1)
    )
    widowed_on_paper = [member("h", dead_husband, 1), member("w", woman(date(1998, 1, 1)), 3)]
    assert pus_couples(widowed_on_paper, ON) == [PusCouple("w", None)]


def test_every_group_has_labels_in_both_languages() -> None:
    assert set(TARGET_GROUP_LABELS) == set(TargetGroup)
    assert all(set(label) == {"id", "en"} for label in TARGET_GROUP_LABELS.values())
