from dataclasses import replace
from datetime import date

import pytest

from services.registry.events.rules import LifeEvents, Pregnancy
from services.registry.events.target_groups import HouseholdMember
from services.registry.persons.rules import PersonFacts
from services.registry.risk.rules import (
    KRS_2024_1,
    KRS_RULE_SETS,
    Criterion,
    HouseholdConditions,
    KrsRuleSet,
    assess_krs,
    check_rule_sets,
    rule_set_for,
)

C = Criterion
ON = date(2025, 6, 2)
SAFE = HouseholdConditions(
    water_source="piped",
    sanitation="own_septic",
    house_condition="fit",
    welfare_decile=6,
    smoker_in_house=False,
)
CONFIRMED = {
    C.UNSAFE_WATER,
    C.UNSAFE_SANITATION,
    C.TERLALU_MUDA,
    C.TERLALU_TUA,
    C.TERLALU_DEKAT,
    C.TERLALU_BANYAK,
}
EXTRAS = {C.POOR_DECILE, C.LOW_MATERNAL_EDUCATION, C.SMOKER_IN_HOUSE, C.UNFIT_HOUSING}
ALL_ON = replace(KRS_2024_1, version="test-all", enabled=frozenset(CONFIRMED | EXTRAS))


def person(birth: date, sex: int, marital_status: int = 2, **kwargs) -> PersonFacts:
    return PersonFacts(birth_date=birth, sex=sex, marital_status=marital_status, **kwargs)


def kid(member_id: str, birth: date, **kwargs) -> HouseholdMember:
    return HouseholdMember(member_id, person(birth, 1, 1), 4, **kwargs)


def family(
    wife_birth: date = date(2000, 1, 10),
    children: tuple[HouseholdMember, ...] = (),
    **wife_kwargs,
) -> list[HouseholdMember]:
    """Husband heading the family, his wife (25 by default), the given children."""
    return [
        HouseholdMember("h", person(date(1995, 1, 1), 1), 1),
        HouseholdMember("w", person(wife_birth, 2), 3, education=5, **wife_kwargs),
        *children,
    ]


BABY = kid("c1", date(2024, 4, 2))  # 14 months on ON


def test_target_family_without_risk() -> None:
    result = assess_krs(SAFE, family(children=(BABY,)), ON)
    assert result.is_target_family and result.is_krs is False
    assert result.criteria_met == ()
    assert result.rule_set_version == "krs-2024.1"
    assert result.reason == {
        "id": "Keluarga sasaran tanpa faktor risiko stunting.",
        "en": "Target family with no stunting risk factor.",
    }


def test_every_criterion_is_reported_with_its_switch() -> None:
    result = assess_krs(SAFE, family(children=(BABY,)), ON)
    assert [c.criterion for c in result.criteria] == list(Criterion)
    assert {c.criterion for c in result.criteria if c.enabled} == CONFIRMED
    assert all(c.value is False for c in result.criteria)
    assert all(set(c.label) == {"id", "en"} for c in result.criteria)


@pytest.mark.parametrize(
    ("water", "unsafe"),
    [
        ("bottled_refill", False),
        ("piped", False),
        ("bore_well_pump", False),
        ("protected_well", False),
        ("protected_spring", False),
        ("unprotected_well", True),
        ("unprotected_spring", True),
        ("surface_water", True),
        ("rainwater", True),
        ("other", True),
    ],
)
def test_unsafe_water(water: str, unsafe: bool) -> None:
    result = assess_krs(replace(SAFE, water_source=water), family(children=(BABY,)), ON)
    assert result.value(C.UNSAFE_WATER) is unsafe
    assert result.is_krs is unsafe


@pytest.mark.parametrize(
    ("sanitation", "unsafe"),
    [
        ("own_septic", False),
        ("shared_septic", False),
        ("latrine_no_septic", True),
        ("latrine_no_gooseneck", True),
        ("no_latrine", True),
        ("other", True),
    ],
)
def test_unsafe_sanitation(sanitation: str, unsafe: bool) -> None:
    result = assess_krs(replace(SAFE, sanitation=sanitation), family(children=(BABY,)), ON)
    assert result.value(C.UNSAFE_SANITATION) is unsafe
    assert result.is_krs is unsafe


@pytest.mark.parametrize(
    ("wife_birth", "young", "old"),
    [
        (date(2005, 6, 3), True, False),  # 19
        (date(2005, 6, 2), False, False),  # 20 today
        (date(1990, 6, 3), False, False),  # 34
        (date(1990, 6, 2), False, True),  # 35 today
        (date(1984, 6, 3), False, True),  # 40, 41 tomorrow
        (date(1984, 6, 2), False, False),  # 41 today
    ],
)
def test_terlalu_muda_and_terlalu_tua(wife_birth: date, young: bool, old: bool) -> None:
    result = assess_krs(SAFE, family(wife_birth, children=(BABY,)), ON)
    assert result.value(C.TERLALU_MUDA) is young
    assert result.value(C.TERLALU_TUA) is old
    assert result.is_krs is (young or old)


def test_terlalu_tua_upper_age_is_a_setting() -> None:
    to_49 = replace(KRS_2024_1, old_wife_ages=(35, 49))
    result = assess_krs(SAFE, family(date(1984, 6, 2), children=(BABY,)), ON, to_49)
    assert result.value(C.TERLALU_TUA) is True


@pytest.mark.parametrize(
    ("births", "close"),
    [
        ((date(2023, 6, 10), date(2025, 6, 1)), True),  # 23 months 22 days
        ((date(2023, 6, 1), date(2025, 6, 1)), False),  # exactly 24 months
        ((date(2024, 4, 2), date(2024, 4, 2)), False),  # twins
        ((date(2024, 4, 2), date(2024, 4, 3)), False),  # twins across midnight
        ((date(2015, 1, 1), date(2016, 1, 1), date(2024, 4, 2)), True),  # an older pair
        ((date(2020, 1, 1), date(2025, 6, 3)), False),  # the second not yet born
    ],
)
def test_terlalu_dekat(births: tuple[date, ...], close: bool) -> None:
    children = tuple(kid(f"c{i}", b) for i, b in enumerate(births))
    result = assess_krs(SAFE, family(children=children), ON)
    assert result.value(C.TERLALU_DEKAT) is close
    assert result.is_krs is close


def test_terlalu_dekat_counts_births_of_children_who_died() -> None:
    died = HouseholdMember("c0", person(date(2023, 9, 1), 1, 1, death_date=date(2024, 1, 1)), 4)
    result = assess_krs(SAFE, family(children=(died, BABY)), ON)
    assert result.value(C.TERLALU_DEKAT) is True


def test_terlalu_dekat_looks_within_one_mother() -> None:
    # a grandchild of a married daughter, and the head couple's own baby
    daughter = HouseholdMember("d", person(date(2003, 1, 1), 2), 4)
    grandchild = HouseholdMember("g", person(date(2024, 1, 1), 1, 1), 6, mother_id="d")
    result = assess_krs(SAFE, family(children=(daughter, grandchild, BABY)), ON)
    assert result.value(C.TERLALU_DEKAT) is False
    # the same two births linked to one mother are too close
    linked = replace(grandchild, mother_id="w")
    result = assess_krs(SAFE, family(children=(daughter, linked, BABY)), ON)
    assert result.value(C.TERLALU_DEKAT) is True


def test_terlalu_dekat_ignores_members_without_a_known_mother() -> None:
    nephew = HouseholdMember("n", person(date(2024, 1, 1), 1, 1), 9)
    result = assess_krs(SAFE, family(children=(nephew, BABY)), ON)
    assert result.value(C.TERLALU_DEKAT) is False


def _spaced_children(n: int, **kwargs) -> tuple[HouseholdMember, ...]:
    return tuple(kid(f"c{i}", date(2010 + 3 * i, 1, 1), **kwargs) for i in range(n))


def test_terlalu_banyak_more_than_3_living_children() -> None:
    three = assess_krs(SAFE, family(date(1990, 7, 1), children=(*_spaced_children(3), BABY)), ON)
    assert three.value(C.TERLALU_BANYAK) is True  # 3 + the baby = 4
    assert three.is_krs is True
    only_three = assess_krs(SAFE, family(date(1990, 7, 1), children=_spaced_children(3)), ON)
    assert only_three.value(C.TERLALU_BANYAK) is False


def test_terlalu_banyak_counts_living_children_only() -> None:
    dead = HouseholdMember("x", person(date(2005, 1, 1), 1, 1, death_date=date(2006, 1, 1)), 4)
    result = assess_krs(SAFE, family(date(1990, 7, 1), children=(dead, *_spaced_children(3))), ON)
    assert result.value(C.TERLALU_BANYAK) is False


def test_terlalu_banyak_from_the_wifes_reported_children() -> None:
    reported = family(date(1990, 7, 1), children=(BABY,), living_children_reported=4)
    assert assess_krs(SAFE, reported, ON).value(C.TERLALU_BANYAK) is True
    three = family(date(1990, 7, 1), children=(BABY,), living_children_reported=3)
    assert assess_krs(SAFE, three, ON).value(C.TERLALU_BANYAK) is False


@pytest.mark.parametrize(
    ("change", "criterion"),
    [
        ({"welfare_decile": 2}, C.POOR_DECILE),
        ({"smoker_in_house": True}, C.SMOKER_IN_HOUSE),
        ({"house_condition": "unfit"}, C.UNFIT_HOUSING),
    ],
)
def test_household_extras_are_reported_but_off_by_default(change: dict, criterion: C) -> None:
    conditions = replace(SAFE, **change)
    default = assess_krs(conditions, family(children=(BABY,)), ON)
    assert default.value(criterion) is True
    assert default.is_krs is False and default.criteria_met == ()
    switched_on = assess_krs(conditions, family(children=(BABY,)), ON, ALL_ON)
    assert switched_on.is_krs is True and switched_on.criteria_met == (criterion,)


def test_poor_decile_boundary() -> None:
    assert assess_krs(replace(SAFE, welfare_decile=1), family(), ON).value(C.POOR_DECILE)
    assert assess_krs(replace(SAFE, welfare_decile=3), family(), ON).value(C.POOR_DECILE) is False


@pytest.mark.parametrize(("education", "low"), [(1, True), (3, True), (4, False), (None, None)])
def test_low_maternal_education(education: int | None, low: bool | None) -> None:
    members = family(children=(BABY,))
    members[1] = replace(members[1], education=education)
    default = assess_krs(SAFE, members, ON)
    assert default.value(C.LOW_MATERNAL_EDUCATION) is low
    assert default.is_krs is False
    assert assess_krs(SAFE, members, ON, ALL_ON).is_krs is low


def test_missing_data_leaves_the_answer_open() -> None:
    unknown_water = replace(SAFE, water_source=None)
    result = assess_krs(unknown_water, family(children=(BABY,)), ON)
    assert result.value(C.UNSAFE_WATER) is None
    assert result.is_krs is None
    assert result.reason["en"] == "Cannot be determined yet, data missing: unsafe drinking water."
    assert result.reason["id"] == (
        "Belum dapat ditentukan, data belum lengkap: sumber air minum tidak layak."
    )
    # a criterion that holds settles it despite the gap
    risky = replace(unknown_water, sanitation="no_latrine")
    assert assess_krs(risky, family(children=(BABY,)), ON).is_krs is True
    # missing extras do not matter while they are off
    no_extras = HouseholdConditions(water_source="piped", sanitation="own_septic")
    assert assess_krs(no_extras, family(children=(BABY,)), ON).is_krs is False
    assert assess_krs(no_extras, family(children=(BABY,)), ON, ALL_ON).is_krs is None


def test_reason_lists_every_criterion_met() -> None:
    conditions = replace(SAFE, water_source="rainwater", sanitation="no_latrine")
    result = assess_krs(conditions, family(date(2006, 1, 1), children=(BABY,)), ON)
    assert result.criteria_met == (C.UNSAFE_WATER, C.UNSAFE_SANITATION, C.TERLALU_MUDA)
    assert result.reason == {
        "id": "Keluarga berisiko stunting: sumber air minum tidak layak; jamban tidak layak; "
        "terlalu muda (istri di bawah 20 tahun).",
        "en": "Family at risk of stunting: unsafe drinking water; unsafe sanitation; "
        "too young (wife under 20).",
    }


def test_not_a_target_family_is_never_krs() -> None:
    older = [
        HouseholdMember("h", person(date(1965, 1, 1), 1), 1),
        HouseholdMember("w", person(date(1968, 1, 1), 2), 3),
        kid("c", date(2008, 1, 1)),
    ]
    result = assess_krs(replace(SAFE, water_source="surface_water"), older, ON)
    assert not result.is_target_family and result.is_krs is False
    assert result.value(C.UNSAFE_WATER) is True
    assert result.reason == {"id": "Bukan keluarga sasaran.", "en": "Not a target family."}


def test_female_head_is_the_wife() -> None:
    members = [
        HouseholdMember("m", person(date(2006, 1, 1), 2, 4), 1),
        kid("c", date(2025, 1, 1)),
    ]
    result = assess_krs(SAFE, members, ON)
    assert result.is_target_family and result.value(C.TERLALU_MUDA) is True


def test_a_young_couple_in_the_parents_kk() -> None:
    daughter_in_law = HouseholdMember("dl", person(date(2006, 9, 1), 2), 5)
    son = HouseholdMember("s", person(date(2003, 1, 1), 1), 4, spouse_id="dl")
    grandchild = HouseholdMember("g", person(date(2025, 3, 1), 1, 1), 6, mother_id="dl")
    members = [
        HouseholdMember("h", person(date(1970, 1, 1), 1), 1),
        HouseholdMember("w", person(date(1976, 1, 1), 2), 3),  # 49: PUS, not 35-40
        son,
        daughter_in_law,
        grandchild,
    ]
    result = assess_krs(SAFE, members, ON)
    assert result.target_family.child_0_23_months
    assert result.value(C.TERLALU_MUDA) is True  # the daughter-in-law is 18
    assert result.value(C.TERLALU_TUA) is False


def test_pregnant_wife_alone_makes_a_target_family() -> None:
    events = LifeEvents(pregnancies=(Pregnancy(date(2025, 3, 1)),))
    members = family(date(1989, 1, 1), events=events)  # 36: terlalu tua
    members[1] = replace(members[1], person=replace(members[1].person, marital_status=1))
    result = assess_krs(SAFE, members, ON)
    assert result.target_family.pregnant_wife and not result.target_family.pus_wife
    assert result.is_krs is True and result.criteria_met == (C.TERLALU_TUA,)


# --- versioning ----------------------------------------------------------------------------


def test_default_rule_set() -> None:
    assert KRS_RULE_SETS == (KRS_2024_1,)
    assert KRS_2024_1.version == "krs-2024.1"
    assert KRS_2024_1.valid_from == date(2024, 1, 1) and KRS_2024_1.valid_to is None
    assert KRS_2024_1.enabled == CONFIRMED
    check_rule_sets(KRS_RULE_SETS)


def test_rule_set_for_a_date() -> None:
    assert rule_set_for(date(2024, 1, 1)) is KRS_2024_1
    assert rule_set_for(date(2030, 12, 31)) is KRS_2024_1
    with pytest.raises(LookupError):
        rule_set_for(date(2023, 12, 31))
    with pytest.raises(LookupError):
        assess_krs(SAFE, family(), date(2023, 12, 31))


def test_a_later_version_takes_over_on_its_first_day() -> None:
    old = replace(KRS_2024_1, valid_to=date(2025, 6, 30))
    new = KrsRuleSet(
        version="krs-2025.2",
        valid_from=date(2025, 7, 1),
        valid_to=None,
        enabled=frozenset(CONFIRMED | {C.POOR_DECILE}),
    )
    sets = (old, new)
    check_rule_sets(sets)
    assert rule_set_for(date(2025, 6, 30), sets).version == "krs-2024.1"
    assert rule_set_for(date(2025, 7, 1), sets).version == "krs-2025.2"

    poor = replace(SAFE, welfare_decile=2)
    members = family(children=(kid("c", date(2024, 12, 1)),))
    before = assess_krs(poor, members, date(2025, 6, 30), rule_set_for(date(2025, 6, 30), sets))
    after = assess_krs(poor, members, date(2025, 7, 1), rule_set_for(date(2025, 7, 1), sets))
    assert (before.rule_set_version, before.is_krs) == ("krs-2024.1", False)
    assert (after.rule_set_version, after.is_krs) == ("krs-2025.2", True)


def test_overlapping_or_duplicate_rule_sets_are_refused() -> None:
    later = replace(KRS_2024_1, version="krs-2025.1", valid_from=date(2025, 1, 1))
    with pytest.raises(ValueError, match="overlap"):
        check_rule_sets((KRS_2024_1, later))
    closed = replace(KRS_2024_1, valid_to=date(2025, 1, 1))
    with pytest.raises(ValueError, match="overlap"):
        check_rule_sets((closed, later))
    with pytest.raises(ValueError, match="duplicate"):
        check_rule_sets((KRS_2024_1, replace(KRS_2024_1, valid_from=date(2030, 1, 1))))
