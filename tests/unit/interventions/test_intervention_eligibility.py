import json
from datetime import date

import pytest

from services.interventions.eligibility import (
    age_in,
    age_months,
    age_years,
    all_of,
    any_of,
    describe_rule,
    evaluate,
    explain_ineligible,
    female,
    flag,
    growth_class,
    household,
    in_group,
    krs,
    krs_criterion,
    measure,
    not_,
    person,
    validate_rule,
    welfare_decile,
)

AS_OF = date(2024, 6, 15)

PREGNANT = all_of(person(), in_group("ibu_hamil"))
KEK_PREGNANT = all_of(person(), in_group("ibu_hamil"), measure("growth.muac_cm", lt=23.5))
ADOLESCENT_GIRL = all_of(person(), female(), age_years(10, 19))
KRS_NO_WATER = all_of(household(), krs(), krs_criterion("unsafe_water"))
STUNTED = all_of(person(), growth_class("len", "stunted", "severely_stunted"))
CHILD_6_23 = all_of(person(), age_months(6, 23))
POOR_PUS = all_of(household(), in_group("pus"), welfare_decile(1, 4))
CHILD_3_6Y = all_of(person(), age_years(3, 6))


def pregnant_woman(**extra):
    return {
        "kind": "person",
        "sex": "F",
        "birth_date": date(2000, 1, 1),
        "target_groups": [{"group": "ibu_hamil", "start": date(2024, 3, 1), "end": None}],
        **extra,
    }


def child(birth: date, **extra):
    return {"kind": "person", "sex": "M", "birth_date": birth, "target_groups": [], **extra}


def test_pregnant_woman():
    assert evaluate(PREGNANT, pregnant_woman(), AS_OF).eligible
    r = evaluate(PREGNANT, {**pregnant_woman(), "target_groups": []}, AS_OF)
    assert not r.eligible
    assert any("ibu hamil" in x for x in r.reasons_id)
    assert any("pregnant woman" in x for x in r.reasons_en)


def test_pregnancy_before_start_does_not_count():
    assert not evaluate(PREGNANT, pregnant_woman(), date(2024, 2, 29)).eligible
    assert evaluate(PREGNANT, pregnant_woman(), date(2024, 3, 1)).eligible


def test_group_end_is_inclusive():
    subject = pregnant_woman(
        target_groups=[{"group": "ibu_hamil", "start": "2024-03-01", "end": "2024-06-15"}]
    )
    assert evaluate(PREGNANT, subject, date(2024, 6, 15)).eligible
    assert not evaluate(PREGNANT, subject, date(2024, 6, 16)).eligible


@pytest.mark.parametrize(("muac", "eligible"), [(22.9, True), (23.4, True), (23.5, False)])
def test_kek_pregnant_woman_threshold(muac, eligible):
    subject = pregnant_woman(growth={"muac_cm": muac})
    assert evaluate(KEK_PREGNANT, subject, AS_OF).eligible is eligible


def test_kek_reason_shows_measured_value_in_both_languages():
    r = evaluate(KEK_PREGNANT, pregnant_woman(growth={"muac_cm": 24.1}), AS_OF)
    assert r.reasons_id == ["tidak memenuhi syarat “LiLA < 23,5 cm” (tercatat: LiLA 24,1 cm)"]
    assert r.reasons_en == ["does not meet “MUAC < 23.5 cm” (recorded: MUAC 24.1 cm)"]


@pytest.mark.parametrize(
    ("birth", "sex", "eligible"),
    [
        (date(2014, 6, 15), "F", True),  # 10th birthday
        (date(2014, 6, 16), "F", False),  # one day short of 10
        (date(2004, 6, 16), "F", True),  # last day aged 19
        (date(2004, 6, 15), "F", False),  # 20th birthday
        (date(2010, 1, 1), "M", False),
        (date(2010, 1, 1), "PEREMPUAN", True),  # Dukcapil label
        (date(2010, 1, 1), 2, True),  # SIAK code, as the registry feed sends it
        (date(2010, 1, 1), 1, False),
    ],
)
def test_adolescent_girl(birth, sex, eligible):
    subject = {"kind": "person", "sex": sex, "birth_date": birth}
    assert evaluate(ADOLESCENT_GIRL, subject, AS_OF).eligible is eligible


def test_krs_household_without_safe_water():
    def house(is_krs, water):
        return {
            "kind": "household",
            "krs": {"is_krs": is_krs, "criteria": {"unsafe_water": water}},
        }

    assert evaluate(KRS_NO_WATER, house(True, True), AS_OF).eligible
    assert not evaluate(KRS_NO_WATER, house(True, False), AS_OF).eligible
    assert not evaluate(KRS_NO_WATER, house(False, False), AS_OF).eligible
    r = evaluate(KRS_NO_WATER, {**house(True, True), "kind": "person"}, AS_OF)
    assert not r.eligible
    assert any("subject is a household" in x for x in r.reasons_en)


@pytest.mark.parametrize(
    ("cls", "eligible"),
    [("stunted", True), ("severely_stunted", True), ("normal", False), ("tall", False)],
)
def test_stunted_child(cls, eligible):
    subject = child(date(2023, 4, 1), growth={"latest_class_len": cls})
    assert evaluate(STUNTED, subject, AS_OF).eligible is eligible


@pytest.mark.parametrize(
    ("birth", "eligible"),
    [
        (date(2023, 12, 15), True),  # exactly 6 months
        (date(2023, 12, 16), False),  # 5 months 30 days
        (date(2022, 6, 16), True),  # last day of 23 months
        (date(2022, 6, 15), False),  # 24 months
    ],
)
def test_children_6_to_23_months(birth, eligible):
    assert evaluate(CHILD_6_23, child(birth), AS_OF).eligible is eligible


def test_month_end_birthdays_use_calendar_months():
    # born 31 Jan: one month old on 29 Feb 2024 (no 31 Feb), not on 28 Feb
    assert age_in(date(2024, 1, 31), date(2024, 2, 28)) == 0
    assert age_in(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert age_in(date(2024, 1, 31), date(2024, 1, 30)) == -1


@pytest.mark.parametrize(("decile", "eligible"), [(1, True), (4, True), (5, False), (10, False)])
def test_poor_pus(decile, eligible):
    subject = {
        "kind": "household",
        "welfare_decile": decile,
        "target_groups": [{"group": "pus", "start": "2015-01-01", "end": None}],
    }
    assert evaluate(POOR_PUS, subject, AS_OF).eligible is eligible


@pytest.mark.parametrize(
    ("birth", "eligible"),
    [
        (date(2021, 6, 15), True),  # 3rd birthday
        (date(2021, 6, 16), False),
        (date(2017, 6, 16), True),  # last day aged 6
        (date(2017, 6, 15), False),  # 7th birthday
    ],
)
def test_children_3_to_6_years(birth, eligible):
    assert evaluate(CHILD_3_6Y, child(birth), AS_OF).eligible is eligible


def test_age_without_birth_date_uses_stated_age():
    assert evaluate(CHILD_6_23, {"kind": "person", "age_months": 10}, AS_OF).eligible
    assert not evaluate(CHILD_6_23, {"kind": "person", "age_months": 24}, AS_OF).eligible


def test_missing_data_is_reported_not_guessed():
    r = evaluate(STUNTED, child(date(2023, 1, 1)), AS_OF)
    assert not r.eligible
    assert r.missing_data == ["growth.latest_class_len"]
    assert r.undetermined
    msg = explain_ineligible(STUNTED, child(date(2023, 1, 1)), AS_OF, code="X")
    assert "growth.latest_class_len" in msg["id"] and "missing data" in msg["en"]


def test_definite_failure_wins_over_missing_data():
    r = evaluate(STUNTED, {"kind": "household"}, AS_OF)
    assert not r.eligible and not r.undetermined
    assert r.reasons_en and "subject is a person" in r.reasons_en[0]


def test_any_is_true_when_one_branch_holds_despite_missing_data():
    rule = any_of(flag("has_birth_certificate", False), flag("has_nik", False))
    assert evaluate(rule, {"has_nik": False}, AS_OF).eligible
    r = evaluate(rule, {"has_nik": True}, AS_OF)
    assert not r.eligible and r.missing_data == ["has_birth_certificate"]


def test_not_of_unknown_stays_unknown():
    r = evaluate(not_(krs()), {"kind": "household"}, AS_OF)
    assert not r.eligible and r.missing_data == ["krs.is_krs"]
    assert evaluate(not_(krs()), {"krs": {"is_krs": False}}, AS_OF).eligible


def test_period_evaluation_finds_the_days_of_eligibility():
    # turns 6 months on 2024-06-15: eligible from that day within May–June
    r = evaluate(CHILD_6_23, child(date(2023, 12, 15)), date(2024, 5, 1), date(2024, 6, 30))
    assert r.eligible
    assert r.eligible_periods == [(date(2024, 6, 15), date(2024, 6, 30))]


def test_period_conditions_must_hold_on_the_same_day():
    # pregnant in May only; aged 19 or under only until 2024-04-09
    subject = {
        "kind": "person",
        "sex": "F",
        "birth_date": date(2004, 4, 10),
        "target_groups": [{"group": "ibu_hamil", "start": "2024-05-01", "end": "2024-05-31"}],
    }
    rule = all_of(in_group("ibu_hamil"), age_years(None, 19))
    r = evaluate(rule, subject, date(2024, 3, 1), date(2024, 6, 30))
    assert not r.eligible
    assert r.reasons_en[0].startswith("conditions do not hold at the same time")
    assert evaluate(rule, subject, date(2024, 3, 1), date(2024, 4, 9)).eligible is False
    subject["target_groups"][0]["start"] = "2024-04-01"
    r = evaluate(rule, subject, date(2024, 3, 1), date(2024, 6, 30))
    assert r.eligible_periods == [(date(2024, 4, 1), date(2024, 4, 9))]


def test_explain_ineligible_names_the_intervention():
    assert explain_ineligible(PREGNANT, pregnant_woman(), AS_OF) is None
    msg = explain_ineligible(
        PREGNANT,
        {"kind": "person", "target_groups": []},
        AS_OF,
        code="S2",
        name={"id": "TTD ibu hamil", "en": "Iron tablets in pregnancy"},
    )
    assert msg["id"].startswith("Intervensi S2 (TTD ibu hamil) tidak berlaku")
    assert msg["en"].startswith("Intervention S2 (Iron tablets in pregnancy) does not apply")
    assert "2024-06-15" in msg["en"]


def test_rules_survive_json_round_trip():
    rule = json.loads(json.dumps(KEK_PREGNANT))
    assert evaluate(rule, pregnant_woman(growth={"muac_cm": 22}), AS_OF).eligible


def test_describe_rule():
    d = describe_rule(KRS_NO_WATER)
    assert d["en"] == (
        "subject is a household and family at risk of stunting (KRS) and unsafe drinking water"
    )
    assert d["id"].startswith("subjek rumah tangga dan keluarga berisiko stunting (KRS)")


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"op": "nope"}, "$.op"),
        ({"op": "all", "rules": []}, "$.rules"),
        ({"op": "in_group", "group": "ibu_menyusui"}, "$.group"),
        ({"op": "age", "unit": "months", "min": 24, "max": 6}, "$"),
        ({"op": "age", "unit": "weeks", "min": 1, "max": 2}, "$.unit"),
        ({"op": "age", "unit": "months", "min": None, "max": None}, "$"),
        ({"op": "measure", "field": "growth.muac_cm", "lt": 23.5, "gt": 1}, "$"),
        ({"op": "measure", "field": "growth.weight", "lt": 1}, "$.field"),
        ({"op": "welfare_decile", "min": 1, "max": 11}, "$.max"),
        ({"op": "growth_class", "index": "len", "classes": ["wasted"]}, "$.classes"),
        ({"op": "krs_criterion", "criterion": "poverty"}, "$.criterion"),
        (all_of(person(), {"op": "sex", "sex": "X"}), "$.rules[1].sex"),
        (not_({"op": "flag", "field": "has_nik", "value": "no"}), "$.rule.value"),
        ("pregnant", "$"),
    ],
)
def test_validate_rule_points_at_the_problem(rule, path):
    issues = validate_rule(rule)
    assert [i.path for i in issues][:1] == [path]
    assert issues[0].message["id"] and issues[0].message["en"]


def test_evaluate_refuses_invalid_rule_and_reversed_period():
    with pytest.raises(ValueError):
        evaluate({"op": "nope"}, {}, AS_OF)
    with pytest.raises(ValueError):
        evaluate(PREGNANT, pregnant_woman(), AS_OF, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("cls", "eligible"), [("severely_underweight", True), ("underweight", True), ("normal", False)]
)
def test_underweight_uses_registry_indicator_names(cls, eligible):
    rule = growth_class("wei", "severely_underweight", "underweight")
    subject = child(date(2023, 4, 1), growth={"latest_class_wei": cls})
    assert evaluate(rule, subject, AS_OF).eligible is eligible
