from datetime import date

import pytest

from services.interventions.catalogue.rules import (
    FUNDING_SOURCE_LABELS,
    CatalogueEntry,
    Delivery,
    DoseStatus,
    FundingSource,
    Unit,
    Violation,
    catalogue_in_force,
    deliverable_version,
    dose_progress,
    dose_window,
    retire,
    validate_delivery,
    validate_entry,
    validate_new_entry,
    validate_new_version,
    validate_retirement,
    version_in_force,
)
from services.interventions.catalogue.seed import SEED_CATALOGUE, SEED_VALID_FROM
from services.interventions.eligibility import evaluate
from services.interventions.sectors import Sector

AS_OF = date(2024, 6, 15)
BY_CODE = {e.code: e for e in SEED_CATALOGUE}


def _groups(*items):
    return [{"group": g, "start": s, "end": e} for g, s, e in items]


def person(birth=date(1998, 2, 2), sex="F", groups=(), **extra):
    return {
        "kind": "person",
        "sex": sex,
        "birth_date": birth,
        "target_groups": _groups(*groups),
        **extra,
    }


def house(groups=(), **extra):
    return {"kind": "household", "target_groups": _groups(*groups), **extra}


def krs_house(**criteria):
    return house(krs={"is_krs": any(criteria.values()), "criteria": criteria})


PREGNANT = ("ibu_hamil", date(2024, 3, 1), None)
POSTPARTUM = ("ibu_pasca_persalinan", date(2024, 6, 1), date(2024, 7, 13))
CATIN = ("catin", date(2024, 6, 1), date(2024, 9, 14))
PUS = ("pus", date(2020, 1, 1), None)
BALITA = ("balita", date(2022, 1, 1), date(2026, 12, 31))

# code -> (subjects it applies to, subjects it does not apply to) on AS_OF
CASES: dict[str, tuple[list[dict], list[dict]]] = {
    "S1": (
        [person(groups=[PREGNANT], growth={"muac_cm": 22.0})],
        [person(groups=[PREGNANT], growth={"muac_cm": 24.0})],
    ),
    "S2": ([person(groups=[PREGNANT])], [person(groups=[POSTPARTUM])]),
    "S3": (
        [person(birth=date(2010, 1, 1))],
        [person(birth=date(2010, 1, 1), sex="M"), person(birth=date(2004, 6, 15))],
    ),
    "S4": ([person(birth=date(2024, 1, 15), sex="M")], [person(birth=date(2023, 12, 15))]),
    "S5": ([person(birth=date(2023, 12, 15))], [person(birth=date(2022, 6, 15))]),
    "S6": (
        [
            person(birth=date(2022, 6, 16), growth={"latest_class_wfl": "severely_wasted"}),
            person(birth=date(2023, 6, 1), growth={"latest_class_wfl": "normal", "oedema": True}),
            person(
                birth=date(2023, 6, 1),
                growth={"latest_class_wfl": "normal", "oedema": False, "muac_cm": 11.0},
            ),
        ],
        [
            person(
                birth=date(2023, 6, 1),
                growth={"latest_class_wfl": "wasted", "oedema": False, "muac_cm": 12.5},
            ),
            # MUAC counts only from 6 months
            person(
                birth=date(2024, 2, 1),
                growth={"latest_class_wfl": "normal", "oedema": False, "muac_cm": 11.0},
            ),
            person(birth=date(2019, 6, 15), growth={"latest_class_wfl": "severely_wasted"}),
        ],
    ),
    "S7": ([person(birth=date(2020, 6, 16))], [person(birth=date(2019, 6, 15))]),
    "S8": (
        [person(birth=date(2022, 1, 1), growth={"latest_class_wfl": "wasted"})],
        [person(birth=date(2022, 1, 1), growth={"latest_class_wfl": "severely_wasted"})],
    ),
    "S9": ([person(birth=date(2023, 7, 15))], [person(birth=date(2023, 6, 15))]),
    "S10": (
        [person(birth=date(2009, 3, 3)), person(birth=date(1999, 1, 1), sex="M", groups=[CATIN])],
        [person(birth=date(2009, 3, 3), sex="M")],
    ),
    "S11": ([person(groups=[PREGNANT])], [person(groups=[POSTPARTUM])]),
    "N1": (
        [person(groups=[POSTPARTUM])],
        [person(groups=[("ibu_pasca_persalinan", date(2024, 4, 1), date(2024, 5, 13))])],
    ),
    "N2": ([krs_house(unsafe_water=True)], [krs_house(unsafe_water=False), person()]),
    "N3": ([person(groups=[CATIN])], [person(groups=[PUS])]),
    "N4": ([person(sex="M", groups=[CATIN])], [person(groups=[PUS])]),
    "N5": (
        [krs_house(unsafe_water=True, unsafe_sanitation=False)],
        [krs_house(unsafe_water=False, unsafe_sanitation=True)],
    ),
    "N6": (
        [krs_house(unsafe_water=False, unsafe_sanitation=True)],
        [krs_house(unsafe_water=True, unsafe_sanitation=False)],
    ),
    "N7": ([house()], [person()]),
    "N8": ([house(groups=[PUS], welfare_decile=4)], [house(groups=[PUS], welfare_decile=5)]),
    "N9": (
        [house(groups=[PUS], welfare_decile=5)],
        [house(groups=[PUS], welfare_decile=6), house(groups=[BALITA], welfare_decile=1)],
    ),
    "N10": ([person(welfare_decile=5)], [person(welfare_decile=6)]),
    "N11": (
        [
            person(birth=date(2021, 1, 1), has_birth_certificate=False, has_nik=True),
            person(birth=date(2021, 1, 1), has_birth_certificate=True, has_nik=False),
        ],
        [
            person(birth=date(2021, 1, 1), has_birth_certificate=True, has_nik=True),
            person(birth=date(2006, 6, 15), has_birth_certificate=False, has_nik=False),
        ],
    ),
    "N12": ([krs_house(too_young=True)], [krs_house(too_young=False)]),
    "N13": ([krs_house(too_many=True)], [krs_house(too_many=False)]),
    "N14": ([house(groups=[BALITA, PUS])], [house(groups=[PUS])]),
    "N15": (
        [person(birth=date(2021, 6, 15)), person(birth=date(2017, 6, 16))],
        [person(birth=date(2017, 6, 15)), person(birth=date(2021, 6, 16))],
    ),
}


def test_seed_has_every_intervention_of_the_domain():
    expected = {f"S{n}" for n in range(1, 12)} | {f"N{n}" for n in range(1, 16)}
    assert set(BY_CODE) == expected
    assert len(SEED_CATALOGUE) == 26
    assert all(e.kind == ("specific" if e.code[0] == "S" else "sensitive") for e in SEED_CATALOGUE)


def test_every_seed_entry_has_a_test_case():
    assert set(CASES) == set(BY_CODE)


@pytest.mark.parametrize("code", sorted(CASES))
def test_seed_eligibility(code):
    entry = BY_CODE[code]
    matching, other = CASES[code]
    for subject in matching:
        result = evaluate(entry.eligibility, subject, AS_OF)
        assert result.eligible, (code, subject, result)
    for subject in other:
        result = evaluate(entry.eligibility, subject, AS_OF)
        assert not result.eligible, (code, subject)
        assert result.reasons_id and result.reasons_en


@pytest.mark.parametrize("entry", SEED_CATALOGUE, ids=lambda e: e.code)
def test_seed_entries_are_valid_version_1(entry):
    assert validate_entry(entry) == []
    assert entry.version == 1 and entry.valid_from == SEED_VALID_FROM
    assert entry.name["id"] and entry.name["en"]


@pytest.mark.parametrize(
    ("code", "target", "confirmed"),
    [
        ("S1", 90, True),
        ("S2", 80, True),
        ("S3", 58, True),
        ("S4", 80, False),
        ("S9", 90, False),
        ("S10", None, False),
        ("S11", None, False),
        ("N1", 70, True),
        ("N2", 90, True),
        ("N3", 90, False),
        ("N5", 100, False),
        ("N6", 90, False),
        ("N15", None, False),
    ],
)
def test_national_targets_per_domain_table(code, target, confirmed):
    assert BY_CODE[code].national_target_pct == target
    assert BY_CODE[code].target_confirmed is confirmed


@pytest.mark.parametrize(
    ("code", "quantity", "unit", "confirmed"),
    [("S2", 90, Unit.tablets, True), ("S11", 6, Unit.visits, True), ("S1", 120, Unit.days, False)],
)
def test_doses(code, quantity, unit, confirmed):
    entry = BY_CODE[code]
    assert (entry.dose.quantity, entry.unit, entry.dose.confirmed) == (quantity, unit, confirmed)


@pytest.mark.parametrize(
    ("code", "sectors", "subject_kind"),
    [
        ("S2", (Sector.HEALTH,), "person"),
        ("N1", (Sector.FAMILY_PLANNING,), "person"),
        ("N4", (Sector.RELIGIOUS_AFFAIRS,), "person"),
        ("N5", (Sector.PUBLIC_WORKS,), "household"),
        ("N8", (Sector.SOCIAL_AFFAIRS,), "household"),
        ("N11", (Sector.CIVIL_REGISTRY,), "person"),
        ("N13", (Sector.FISHERIES,), "household"),
        ("N15", (Sector.EDUCATION,), "person"),
    ],
)
def test_sectors_and_subject_kinds(code, sectors, subject_kind):
    assert BY_CODE[code].sectors == sectors
    assert BY_CODE[code].subject_kind == subject_kind


def test_entries_round_trip_as_json():
    for entry in SEED_CATALOGUE:
        assert CatalogueEntry.model_validate_json(entry.model_dump_json()) == entry


# --- catalogue changes -----------------------------------------------------------------


def _codes(problems: list[Violation]) -> list[str]:
    return [p.code for p in problems]


def new_entry(**changes) -> CatalogueEntry:
    return BY_CODE["S2"].model_copy(update={"code": "X1", **changes})


def test_add_new_entry():
    assert validate_new_entry(SEED_CATALOGUE, new_entry()) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"code": "S2"}, "duplicate_code"),
        ({"version": 2}, "invalid_version"),
        ({"code": "s-1"}, "invalid_code"),
        ({"name": {"id": "x", "en": " "}}, "missing_label"),
        ({"sectors": ()}, "no_sector"),
        ({"target_groups": ("ibu_menyusui",)}, "invalid_target_group"),
        ({"eligibility": {"op": "in_group", "group": "nobody"}}, "invalid_rule"),
        ({"eligibility": {"op": "subject_kind", "kind": "household"}}, "subject_kind_mismatch"),
        ({"national_target_pct": 0}, "invalid_target"),
        ({"national_target_pct": 120}, "invalid_target"),
        ({"retired_on": date(2025, 1, 1)}, "invalid_retirement"),
    ],
)
def test_add_new_entry_refused(changes, code):
    assert code in _codes(validate_new_entry(SEED_CATALOGUE, new_entry(**changes)))


def test_invalid_rule_location_points_into_the_rule():
    entry = new_entry(eligibility={"op": "all", "rules": [{"op": "sex", "sex": "W"}]})
    [problem] = validate_new_entry(SEED_CATALOGUE, entry)
    assert problem.loc == "eligibility.rules[0].sex"


def s2_v2(**changes) -> CatalogueEntry:
    return BY_CODE["S2"].model_copy(
        update={"version": 2, "valid_from": date(2025, 1, 1), **changes}
    )


def test_new_version_and_version_in_force():
    assert validate_new_version(SEED_CATALOGUE, s2_v2()) == []
    entries = [*SEED_CATALOGUE, s2_v2()]
    assert version_in_force(entries, "S2", date(2024, 12, 31)).version == 1
    assert version_in_force(entries, "S2", date(2025, 1, 1)).version == 2
    assert version_in_force(entries, "S2", date(2021, 8, 4)) is None
    assert version_in_force(entries, "S2", SEED_VALID_FROM).version == 1
    in_force = catalogue_in_force(entries, date(2025, 6, 1))
    assert len(in_force) == 26
    assert {e.code: e.version for e in in_force}["S2"] == 2


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"version": 3}, "invalid_version"),
        ({"valid_from": SEED_VALID_FROM}, "valid_from_not_after_previous"),
        ({"code": "X9"}, "unknown_intervention"),
        ({"retired_on": date(2026, 1, 1)}, "invalid_retirement"),
    ],
)
def test_new_version_refused(changes, code):
    assert code in _codes(validate_new_version(SEED_CATALOGUE, s2_v2(**changes)))


def test_retirement():
    retire_on = date(2024, 7, 1)
    assert validate_retirement(SEED_CATALOGUE, "N13", retire_on) == []
    retired = retire(SEED_CATALOGUE, "N13", retire_on)
    entries = [e for e in SEED_CATALOGUE if e.code != "N13"] + [retired]
    assert version_in_force(entries, "N13", date(2024, 6, 30)).code == "N13"
    assert version_in_force(entries, "N13", retire_on) is None
    assert "N13" not in {e.code for e in catalogue_in_force(entries, retire_on)}
    refused = deliverable_version(entries, "N13", retire_on)
    assert isinstance(refused, Violation) and refused.code == "intervention_retired"
    assert _codes(validate_retirement(entries, "N13", date(2024, 8, 1))) == ["already_retired"]
    new = retired.model_copy(update={"version": 2, "valid_from": date(2025, 1, 1)})
    assert "intervention_retired" in _codes(validate_new_version(entries, new))


def test_retirement_refused():
    assert _codes(validate_retirement(SEED_CATALOGUE, "N99", AS_OF)) == ["unknown_intervention"]
    assert _codes(validate_retirement(SEED_CATALOGUE, "N13", SEED_VALID_FROM)) == [
        "retire_before_valid_from"
    ]


# --- deliveries ------------------------------------------------------------------------

MOTHER = person(groups=[PREGNANT])


def s2(**changes) -> Delivery:
    values = {
        "code": "S2",
        "delivered_on": date(2024, 6, 10),
        "quantity": 30,
        "unit": "tablets",
        "funding_source": "APBD",
    }
    return Delivery(**{**values, **changes})


def test_valid_delivery():
    assert validate_delivery(SEED_CATALOGUE, s2(), MOTHER, AS_OF) == []
    assert validate_delivery(SEED_CATALOGUE, s2(delivered_on=AS_OF), MOTHER, AS_OF) == []


@pytest.mark.parametrize("source", ["APBN", "APBD", "DAK", "DANA_DESA", "CSR"])
def test_funding_sources(source):
    assert validate_delivery(SEED_CATALOGUE, s2(funding_source=source), MOTHER, AS_OF) == []
    assert FUNDING_SOURCE_LABELS[FundingSource(source)]["id"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"delivered_on": date(2024, 6, 16)}, "delivery_in_future"),
        ({"quantity": 0}, "quantity_not_positive"),
        ({"quantity": -5}, "quantity_not_positive"),
        ({"unit": "visits"}, "unit_mismatch"),
        ({"funding_source": "APBDES"}, "unknown_funding_source"),
        ({"code": "S99"}, "unknown_intervention"),
        ({"delivered_on": date(2021, 8, 4)}, "intervention_not_in_force"),
    ],
)
def test_delivery_refused(changes, code):
    subject = {**MOTHER, "birth_date": date(1990, 1, 1)}
    assert code in _codes(validate_delivery(SEED_CATALOGUE, s2(**changes), subject, AS_OF))


def test_delivery_before_birth():
    baby = person(birth=date(2024, 6, 1), sex="M")
    visit = Delivery("S7", date(2024, 5, 31), 1, "visits", "APBD")
    assert "delivery_before_birth" in _codes(validate_delivery(SEED_CATALOGUE, visit, baby, AS_OF))
    on_birth = Delivery("S7", date(2024, 6, 1), 1, "visits", "APBD")
    assert validate_delivery(SEED_CATALOGUE, on_birth, baby, AS_OF) == []


def test_delivery_to_subject_outside_target_group_says_why():
    problems = validate_delivery(SEED_CATALOGUE, s2(), person(groups=[POSTPARTUM]), AS_OF)
    [problem] = problems
    assert problem.code == "intervention_not_applicable"
    assert problem.message["id"].startswith("Intervensi S2")
    assert "ibu hamil" in problem.message["id"]
    assert "pregnant woman" in problem.message["en"]


def test_delivery_uses_version_in_force_on_delivery_date():
    # version 2 counts iron tablets in packs: a pack is accepted only from 2025
    v2 = s2_v2(unit=Unit.packages)
    entries = [*SEED_CATALOGUE, v2]
    old = s2(delivered_on=date(2024, 12, 31))
    new = s2(delivered_on=date(2025, 1, 2), unit="packages")
    assert validate_delivery(entries, old, MOTHER, date(2025, 2, 1)) == []
    assert validate_delivery(entries, new, MOTHER, date(2025, 2, 1)) == []
    assert "unit_mismatch" in _codes(
        validate_delivery(entries, s2(delivered_on=date(2025, 1, 2)), MOTHER, date(2025, 2, 1))
    )


# --- dose progress ---------------------------------------------------------------------


def tablets(*pairs, code="S2", unit="tablets"):
    return [Delivery(code, d, q, unit, "APBD") for d, q in pairs]


def test_sixty_of_ninety_tablets_is_behind():
    p = dose_progress(BY_CODE["S2"], tablets((date(2024, 3, 1), 30), (date(2024, 4, 1), 30)), AS_OF)
    assert (p.received, p.expected_total, p.status) == (60, 90, DoseStatus.behind)
    assert p.percent == 66.7


def test_ninety_tablets_is_complete():
    p = dose_progress(BY_CODE["S2"], tablets((date(2024, 3, 1), 60), (date(2024, 4, 1), 30)), AS_OF)
    assert p.status == DoseStatus.complete and p.percent == 100.0


def test_progress_within_window_is_prorated():
    # 2024-01-01..2024-10-06 is 280 days; 2024-05-19 is day 140, so 45 tablets are due
    window = (date(2024, 1, 1), date(2024, 10, 6))
    on = date(2024, 5, 19)
    on_track = dose_progress(BY_CODE["S2"], tablets((date(2024, 2, 1), 45)), on, window)
    assert on_track.expected_by_now == 45
    assert on_track.status == DoseStatus.on_track
    behind = dose_progress(BY_CODE["S2"], tablets((date(2024, 2, 1), 44)), on, window)
    assert behind.status == DoseStatus.behind


def test_progress_counts_only_matching_deliveries():
    window = (date(2024, 1, 1), date(2024, 10, 6))
    deliveries = [
        *tablets((date(2023, 12, 31), 30)),  # before the window
        *tablets((date(2024, 2, 1), 30)),
        *tablets((date(2024, 7, 1), 30)),  # after as_of
        *tablets((date(2024, 2, 1), 30), code="S3"),
        *tablets((date(2024, 2, 2), 1), unit="packages"),
    ]
    p = dose_progress(BY_CODE["S2"], deliveries, AS_OF, window)
    assert p.received == 30
    assert p.ignored_deliveries == 1


def test_dose_windows():
    mother = person(groups=[PREGNANT])
    # open pregnancy from 2024-03-01: 280 days end on 2024-12-05
    assert dose_window(BY_CODE["S2"], mother, AS_OF) == (date(2024, 3, 1), date(2024, 12, 5))
    due = person(groups=[("ibu_hamil", "2024-03-01", None)])
    due["target_groups"][0]["expected_end"] = "2024-11-20"
    assert dose_window(BY_CODE["S11"], due, AS_OF) == (date(2024, 3, 1), date(2024, 11, 20))
    assert dose_window(BY_CODE["S2"], person(), AS_OF) is None
    assert dose_window(BY_CODE["S3"], person(), AS_OF) == (date(2024, 1, 1), date(2024, 12, 31))
    assert dose_window(BY_CODE["N2"], house(), AS_OF) == (date(2024, 6, 1), date(2024, 6, 30))
    baby = person(birth=date(2024, 1, 15))
    assert dose_window(BY_CODE["S4"], baby, AS_OF) == (date(2024, 1, 15), date(2024, 7, 14))
    assert dose_window(BY_CODE["N1"], person(), AS_OF) is None
