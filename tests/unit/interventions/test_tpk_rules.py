from datetime import date

import pytest

from services.interventions.tpk.rules import (
    CHECKLISTS,
    DEFAULT_VISIT_SCHEDULES,
    CatinRiskSettings,
    CatinScreening,
    ScheduleKind,
    SlotStatus,
    TeamMember,
    VisitGroup,
    body_mass_index,
    catin_risk,
    configure_visit_schedules,
    due_visits,
    screening_on_time,
    validate_checklist,
    validate_team,
    visit_schedule,
)

# --- team ------------------------------------------------------------------------------


def codes(problems):
    return sorted(p.code for p in problems)


def test_valid_team():
    team = [TeamMember("a", "midwife"), TeamMember("b", "pkk_cadre"), TeamMember("c", "kb_cadre")]
    assert validate_team(team) == []


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([("a", "midwife"), ("b", "pkk_cadre")], ["missing_role", "team_size"]),
        (
            [("a", "midwife"), ("b", "midwife"), ("c", "kb_cadre")],
            ["duplicate_role", "missing_role"],
        ),
        ([("a", "midwife"), ("a", "pkk_cadre"), ("c", "kb_cadre")], ["duplicate_member"]),
        (
            [("a", "midwife"), ("b", "doctor"), ("c", "kb_cadre")],
            ["missing_role", "unknown_role"],
        ),
        (
            [("a", "midwife"), ("b", "pkk_cadre"), ("c", "kb_cadre"), ("d", "kb_cadre")],
            ["duplicate_role", "team_size"],
        ),
    ],
)
def test_invalid_team(members, expected):
    assert codes(validate_team([TeamMember(*m) for m in members])) == expected


# --- checklists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "items"),
    [
        ("catin", {"hb_g_dl", "muac_cm", "height_cm", "weight_kg", "waist_cm", "smoke_exposure"}),
        ("ibu_hamil", {"danger_signs", "hb_g_dl", "muac_cm", "ttd_tablets_taken"}),
        ("ibu_pasca_persalinan", {"danger_signs", "kb_counselling", "breastfeeding"}),
        ("baduta", {"weighed_this_month", "breastfeeding", "immunisation_up_to_date"}),
    ],
)
def test_checklists_hold_the_domain_items(group, items):
    present = {i.code for i in CHECKLISTS[VisitGroup(group)]}
    assert items <= present
    for item in CHECKLISTS[VisitGroup(group)]:
        assert item.label["id"] and item.label["en"]


CATIN_ANSWERS = {
    "height_cm": 155,
    "weight_kg": 45,
    "muac_cm": 22.9,
    "waist_cm": 70,
    "hb_g_dl": 10.2,
    "smoke_exposure": False,
}


def test_complete_catin_checklist():
    assert validate_checklist("catin", CATIN_ANSWERS) == []


@pytest.mark.parametrize(
    ("changes", "code", "loc"),
    [
        ({"hb_g_dl": None}, "answer_required", "hb_g_dl"),
        ({"hb_g_dl": 102}, "out_of_range", "hb_g_dl"),  # typed without the decimal point
        ({"smoke_exposure": "no"}, "invalid_answer", "smoke_exposure"),
        ({"shoe_size": 40}, "unknown_item", "shoe_size"),
        ({"weight_kg": True}, "invalid_answer", "weight_kg"),
    ],
)
def test_catin_checklist_problems(changes, code, loc):
    [problem] = validate_checklist("catin", {**CATIN_ANSWERS, **changes})
    assert (problem.code, problem.loc) == (code, loc)


def test_pregnancy_checklist_counts_tablets_as_whole_numbers():
    answers = {"danger_signs": False, "muac_cm": 24, "ttd_tablets_taken": 30, "anc_visit": True}
    assert validate_checklist("ibu_hamil", answers) == []
    [problem] = validate_checklist("ibu_hamil", {**answers, "ttd_tablets_taken": 2.5})
    assert problem.code == "invalid_answer"


def test_postpartum_kb_method_must_be_a_known_choice():
    answers = {
        "danger_signs": False,
        "kb_counselling": True,
        "breastfeeding": True,
        "postnatal_check": True,
    }
    assert validate_checklist("ibu_pasca_persalinan", {**answers, "kb_method": "implant"}) == []
    [problem] = validate_checklist("ibu_pasca_persalinan", {**answers, "kb_method": "prayer"})
    assert problem.code == "invalid_answer"


BADUTA = {
    "weighed_this_month": True,
    "breastfeeding": True,
    "immunisation_up_to_date": True,
    "illness_or_danger_signs": False,
}


def test_baduta_items_required_by_age():
    [problem] = validate_checklist("baduta", BADUTA, child_age_months=3)
    assert (problem.code, problem.loc) == ("answer_required", "exclusive_breastfeeding")
    [problem] = validate_checklist("baduta", BADUTA, child_age_months=8)
    assert problem.loc == "complementary_feeding"
    assert validate_checklist("baduta", {**BADUTA, "complementary_feeding": True}, 8) == []
    assert validate_checklist("baduta", BADUTA) == []


# --- catin screening -------------------------------------------------------------------


def test_scenario_5_low_hb_and_low_lila_is_at_risk():
    result = catin_risk(CatinScreening(sex="F", hb_g_dl=10.2, muac_cm=22.9))
    assert result.at_risk and result.graded and result.complete
    assert [f.code for f in result.findings] == ["anaemia", "kek"]
    assert result.findings[0].message == {"id": "Hb 10,2 g/dL < 11,0", "en": "Hb 10.2 g/dL < 11.0"}
    assert result.accompaniment_months == 3
    assert any("menunda kehamilan" in a["id"] for a in result.advice)
    assert any("delay pregnancy" in a["en"] for a in result.advice)


@pytest.mark.parametrize(
    ("hb", "muac", "at_risk"),
    [(11.0, 23.5, False), (10.9, 23.5, True), (11.0, 23.4, True), (13.0, 26.0, False)],
)
def test_catin_thresholds(hb, muac, at_risk):
    result = catin_risk(CatinScreening(sex="F", hb_g_dl=hb, muac_cm=muac))
    assert result.at_risk is at_risk
    assert result.accompaniment_months == (3 if at_risk else 0)


def test_missing_measurement_leaves_a_negative_answer_open():
    result = catin_risk(CatinScreening(sex="F", hb_g_dl=12.0))
    assert not result.at_risk and not result.complete and result.missing == ["muac_cm"]
    result = catin_risk(CatinScreening(sex="F", hb_g_dl=9.0))
    assert result.at_risk and result.complete


def test_unconfirmed_rules_are_off_by_default():
    # BMI 45 / 1.6^2 = 17.6; Hb 11.5 is below 12 but not below 11
    screening = CatinScreening(sex="F", hb_g_dl=11.5, muac_cm=24.0, height_cm=160, weight_kg=45)
    assert not catin_risk(screening).at_risk
    on = CatinRiskSettings(use_unconfirmed_rules=True)
    result = catin_risk(screening, on)
    assert result.at_risk
    assert [f.code for f in result.findings] == ["underweight", "anaemia_non_pregnant"]
    pregnant = CatinScreening(
        sex="F", hb_g_dl=11.5, muac_cm=24.0, height_cm=160, weight_kg=60, pregnant=True
    )
    assert not catin_risk(pregnant, on).at_risk


def test_grooms_are_not_graded_by_default():
    result = catin_risk(CatinScreening(sex="M", hb_g_dl=10.0, muac_cm=22.0))
    assert not result.graded and not result.at_risk
    assert catin_risk(
        CatinScreening(sex="L", hb_g_dl=10.0), CatinRiskSettings(sexes=frozenset({"F", "M"}))
    ).at_risk


def test_bmi():
    assert round(body_mass_index(50, 160), 2) == 19.53


def test_screening_at_least_three_months_before_marriage():
    assert screening_on_time(date(2024, 6, 15), date(2024, 9, 15))
    assert not screening_on_time(date(2024, 6, 16), date(2024, 9, 15))


# --- visit schedules -------------------------------------------------------------------


def spans(slots):
    return [(s.start, s.end, s.status) for s in slots]


def test_scenario_5_three_monthly_catin_visits():
    slots = visit_schedule("catin", date(2024, 6, 15), date(2024, 9, 14), [], date(2024, 6, 15))
    assert spans(slots) == [
        (date(2024, 6, 15), date(2024, 7, 14), SlotStatus.due),
        (date(2024, 7, 15), date(2024, 8, 14), SlotStatus.upcoming),
        (date(2024, 8, 15), date(2024, 9, 14), SlotStatus.upcoming),
    ]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2024, 7, 14), [(1, SlotStatus.due)]),
        (date(2024, 7, 15), [(1, SlotStatus.overdue), (2, SlotStatus.due)]),
        (
            date(2024, 9, 15),
            [(1, SlotStatus.overdue), (2, SlotStatus.overdue), (3, SlotStatus.overdue)],
        ),
    ],
)
def test_catin_overdue_at_boundaries(as_of, expected):
    due = due_visits("catin", date(2024, 6, 15), date(2024, 9, 14), [], as_of)
    assert [(s.number, s.status) for s in due] == expected


def test_visits_fill_slots_once():
    visits = [date(2024, 6, 20), date(2024, 6, 25), date(2024, 8, 20)]
    slots = visit_schedule("catin", date(2024, 6, 15), date(2024, 9, 14), visits, date(2024, 8, 20))
    assert [(s.status, s.visited_on) for s in slots] == [
        (SlotStatus.done, date(2024, 6, 20)),
        (SlotStatus.overdue, None),
        (SlotStatus.done, date(2024, 8, 20)),
    ]


def test_visit_after_as_of_is_not_counted():
    slots = visit_schedule("catin", date(2024, 6, 15), None, [date(2024, 6, 20)], date(2024, 6, 18))
    assert slots[0].status == SlotStatus.due


def test_catin_slots_are_cut_at_the_marriage():
    slots = visit_schedule("catin", date(2024, 6, 15), date(2024, 8, 1), [], date(2024, 6, 15))
    assert [(s.start, s.end) for s in slots] == [
        (date(2024, 6, 15), date(2024, 7, 14)),
        (date(2024, 7, 15), date(2024, 8, 1)),
    ]


POSTPARTUM = [
    (date(2024, 6, 2), date(2024, 6, 3)),
    (date(2024, 6, 4), date(2024, 6, 8)),
    (date(2024, 6, 9), date(2024, 6, 29)),
    (date(2024, 6, 30), date(2024, 7, 13)),
]


def test_postpartum_day_windows():
    slots = visit_schedule(
        "ibu_pasca_persalinan", date(2024, 6, 1), date(2024, 7, 13), [], date(2024, 6, 1)
    )
    assert [(s.start, s.end) for s in slots] == POSTPARTUM
    assert {s.status for s in slots} == {SlotStatus.upcoming}


@pytest.mark.parametrize(
    ("as_of", "visits", "expected"),
    [
        (date(2024, 6, 3), [], [(1, SlotStatus.due)]),
        (date(2024, 6, 4), [], [(1, SlotStatus.overdue), (2, SlotStatus.due)]),
        (date(2024, 6, 4), [date(2024, 6, 3)], [(2, SlotStatus.due)]),
        (date(2024, 6, 4), [date(2024, 6, 1)], [(1, SlotStatus.overdue), (2, SlotStatus.due)]),
        (
            date(2024, 7, 14),
            [date(2024, 6, 2), date(2024, 6, 5), date(2024, 6, 20)],
            [(4, SlotStatus.overdue)],
        ),
    ],
)
def test_postpartum_due_and_overdue(as_of, visits, expected):
    due = due_visits("ibu_pasca_persalinan", date(2024, 6, 1), date(2024, 7, 13), visits, as_of)
    assert [(s.number, s.status) for s in due] == expected


def test_open_pregnancy_is_scheduled_up_to_the_current_month():
    start = date(2024, 1, 10)
    slots = visit_schedule("ibu_hamil", start, None, [date(2024, 1, 20)], date(2024, 3, 9))
    assert spans(slots) == [
        (date(2024, 1, 10), date(2024, 2, 9), SlotStatus.done),
        (date(2024, 2, 10), date(2024, 3, 9), SlotStatus.due),
    ]
    slots = visit_schedule("ibu_hamil", start, None, [date(2024, 1, 20)], date(2024, 3, 10))
    assert [s.status for s in slots] == [SlotStatus.done, SlotStatus.overdue, SlotStatus.due]


def test_baduta_monthly_from_birth_with_month_ends():
    birth, end = date(2023, 1, 31), date(2025, 1, 30)
    slots = visit_schedule("baduta", birth, end, [date(2023, 2, 10)], date(2023, 4, 1))
    assert len(slots) == 24
    assert spans(slots[:4]) == [
        (date(2023, 1, 31), date(2023, 2, 27), SlotStatus.done),
        (date(2023, 2, 28), date(2023, 3, 30), SlotStatus.overdue),
        (date(2023, 3, 31), date(2023, 4, 29), SlotStatus.due),
        (date(2023, 4, 30), date(2023, 5, 30), SlotStatus.upcoming),
    ]
    assert (slots[-1].start, slots[-1].end) == (date(2024, 12, 31), date(2025, 1, 30))


def test_schedule_settings_override_defaults():
    settings = configure_visit_schedules({"catin": {"months": 4, "grace_days": 5}})
    assert DEFAULT_VISIT_SCHEDULES[VisitGroup.catin].months == 3
    slots = visit_schedule("catin", date(2024, 6, 15), None, [], date(2024, 7, 19), settings)
    assert slots[0].status == SlotStatus.due  # 5 grace days after 2024-07-14
    slots = visit_schedule("catin", date(2024, 6, 15), None, [], date(2024, 7, 20), settings)
    assert slots[0].status == SlotStatus.overdue
    four = visit_schedule("catin", date(2024, 6, 15), None, [], date(2024, 12, 1), settings)
    assert len(four) == 4
    weekly = configure_visit_schedules(
        {"ibu_pasca_persalinan": {"kind": "day_windows", "day_windows": [[0, 6], [7, 13]]}}
    )
    assert weekly[VisitGroup.ibu_pasca_persalinan].kind == ScheduleKind.day_windows
    with pytest.raises(ValueError):
        configure_visit_schedules({"baduta": {"grace_days": -1}})
    with pytest.raises(ValueError):
        configure_visit_schedules({"ibu_pasca_persalinan": {"day_windows": [[5, 2]]}})
