"""The subject projection's pure rules: how registry events change a subject (no DB)."""

from datetime import UTC, date, datetime

from services.interventions.subjects.projection import (
    Batch,
    from_lookup,
    merge_groups,
    position_key,
    subject_ids,
)

AT = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 WIB on 10 June 2026
PERSON = "0190aaaa-0000-7000-8000-000000000001"
HOUSE = "0190aaaa-0000-7000-8000-0000000000aa"
OTHER_HOUSE = "0190aaaa-0000-7000-8000-0000000000bb"
VILLAGE = "61.04.16.2007"


def w(group, start, end, **extra):
    return {"group": group, "start": start, "end": end, **extra}


def person_payload(**overrides):
    payload = {
        "person_id": PERSON,
        "household_id": HOUSE,
        "village_code": VILLAGE,
        "sex": 2,
        "birth_date": "2002-05-01",
        "relationship": 3,
        "marital_status": 2,
        "alive": True,
        "death_date": None,
        "has_nik": True,
        "has_birth_certificate": False,
        "target_groups": [],
    }
    payload.update(overrides)
    return payload


def test_positions_sort_by_transaction_then_sequence():
    assert position_key("") < position_key("5.1") < position_key("5.9") < position_key("12.2")
    assert position_key("12.2") < position_key("12.10")


def test_a_group_no_longer_held_ends_the_day_before():
    old = [w("ibu_hamil", "2026-01-01", None)]
    assert merge_groups(old, [], date(2026, 6, 10)) == [w("ibu_hamil", "2026-01-01", "2026-06-09")]


def test_past_windows_and_windows_to_come_are_kept():
    old = [
        w("ibu_pasca_persalinan", "2024-01-01", "2024-02-12"),
        w("catin", "2026-08-01", "2026-11-01"),
    ]
    assert merge_groups(old, [], date(2026, 6, 10)) == sorted(old, key=lambda g: g["group"])


def test_new_window_replaces_the_open_one_and_keeps_an_earlier_pregnancy():
    old = [
        w("ibu_hamil", "2023-02-01", "2023-10-30"),
        w("ibu_hamil", "2026-01-01", None, expected_end="2026-10-08"),
    ]
    new = [{"group": "ibu_hamil", "start": "2026-01-01", "end": None}]
    assert merge_groups(old, new, date(2026, 6, 10)) == [
        w("ibu_hamil", "2023-02-01", "2023-10-30"),
        w("ibu_hamil", "2026-01-01", None, expected_end="2026-10-08"),
    ]


def test_a_window_that_starts_on_the_cutoff_and_is_not_held_disappears():
    old = [w("baduta", "2026-06-10", "2028-06-09")]
    assert merge_groups(old, [], date(2026, 6, 10)) == []


def test_registration_then_marriage_plan_gives_a_catin_window_before_the_registry_does():
    batch = Batch(states={})
    batch.apply("person.registered", person_payload(marital_status=1), "10.1", AT)
    plan = {
        "life_event_id": "e1",
        "person_id": PERSON,
        "household_id": HOUSE,
        "village_code": VILLAGE,
        "kind": "marriage_plan",
        "expected_date": "2026-10-15",
    }
    batch.apply("life_event.recorded", plan, "11.1", AT)
    # The registry's next person.updated does not list catin yet (it starts in July).
    batch.apply("person.updated", person_payload(marital_status=1), "11.2", AT)
    state = batch.states[PERSON]
    assert state["target_groups"] == [w("catin", "2026-07-15", "2026-10-15")]
    assert state["updated_from"] == "11.2"
    assert batch.changed == {PERSON}
    assert batch.households == {HOUSE}


def test_pregnancy_outcome_closes_the_window_on_the_day_before_it():
    batch = Batch(states={})
    held = [{"group": "ibu_hamil", "start": "2025-10-01", "end": None}]
    batch.apply("person.registered", person_payload(target_groups=held), "1.1", AT)
    outcome = {
        "person_id": PERSON,
        "village_code": VILLAGE,
        "kind": "pregnancy",
        "start_date": "2025-10-01",
        "expected_date": "2026-07-08",
        "end_date": "2026-06-01",
        "outcome": "live_birth",
    }
    batch.apply("life_event.updated", outcome, "2.1", AT)
    after = [{"group": "ibu_pasca_persalinan", "start": "2026-06-01", "end": "2026-07-13"}]
    batch.apply("person.updated", person_payload(target_groups=after), "2.2", AT)
    assert batch.states[PERSON]["target_groups"] == [
        w("ibu_hamil", "2025-10-01", "2026-05-31", expected_end="2026-07-08"),
        w("ibu_pasca_persalinan", "2026-06-01", "2026-07-13"),
    ]


def test_an_event_already_applied_changes_nothing():
    batch = Batch(states={})
    batch.apply("person.updated", person_payload(sex=2), "7.3", AT)
    batch.apply("person.updated", person_payload(sex=1), "7.2", AT)
    assert batch.states[PERSON]["sex"] == 2


def test_a_move_refreshes_both_households():
    batch = Batch(states={})
    batch.apply("person.registered", person_payload(), "1.1", AT)
    moved = person_payload(household_id=OTHER_HOUSE, from_household_id=HOUSE)
    batch.apply("person.moved", moved, "2.1", AT)
    assert batch.states[PERSON]["household_id"] == OTHER_HOUSE
    assert batch.households == {HOUSE, OTHER_HOUSE}


def test_death_ends_groups_the_day_before_death():
    batch = Batch(states={})
    held = [{"group": "pus", "start": "2020-01-01", "end": "2051-04-30"}]
    batch.apply("person.registered", person_payload(target_groups=held), "1.1", AT)
    died = person_payload(alive=False, death_date="2026-05-20", target_groups=[])
    batch.apply("person.died", died, "2.1", AT)
    state = batch.states[PERSON]
    assert (state["alive"], state["death_date"]) == (False, "2026-05-20")
    assert state["target_groups"] == [w("pus", "2020-01-01", "2026-05-19")]


def measurement(mid, visit, supersedes=None, wfl="normal"):
    return {
        "measurement_id": mid,
        "person_id": PERSON,
        "household_id": HOUSE,
        "village_code": VILLAGE,
        "visit_date": visit,
        "class_len": "stunted",
        "class_wei": "normal",
        "class_wfl": wfl,
        "class_bmi": "normal",
        "muac_cm": 13.1,
        "oedema": False,
        "supersedes": supersedes,
    }


def test_growth_keeps_the_latest_visit_and_applies_corrections_of_it():
    batch = Batch(states={})
    batch.apply("measurement.recorded", measurement("m2", "2026-05-02"), "1.1", AT)
    batch.apply("measurement.recorded", measurement("m1", "2026-04-02", wfl="wasted"), "1.2", AT)
    growth = batch.states[PERSON]["growth"]
    assert (growth["measurement_id"], growth["latest_class_wfl"]) == ("m2", "normal")
    corrected = measurement("m3", "2026-05-01", supersedes="m2", wfl="severely_wasted")
    batch.apply("measurement.corrected", corrected, "1.3", AT)
    growth = batch.states[PERSON]["growth"]
    assert (growth["measurement_id"], growth["visit_date"]) == ("m3", "2026-05-01")
    assert growth["latest_class_wfl"] == "severely_wasted"
    assert growth["latest_class_len"] == "stunted"


def test_household_conditions_and_krs():
    batch = Batch(states={})
    conditions = {"welfare_decile": 2, "water_source": "unprotected_well"}
    batch.apply(
        "household.registered",
        {"household_id": HOUSE, "village_code": VILLAGE, "conditions": conditions, "active": True},
        "1.1",
        AT,
    )
    krs = {
        "household_id": HOUSE,
        "village_code": VILLAGE,
        "assessed_on": "2026-06-10",
        "rule_set": "krs-2024.1",
        "is_target_family": True,
        "is_krs": True,
        "criteria": {"unsafe_water": True, "unsafe_sanitation": False},
    }
    batch.apply("krs.assessed", krs, "1.2", AT)
    state = batch.states[HOUSE]
    assert (state["kind"], state["household_id"], state["welfare_decile"]) == (
        "household",
        HOUSE,
        2,
    )
    assert state["krs"]["is_krs"] is True and state["krs"]["criteria"]["unsafe_water"] is True


def test_merge_leaves_a_tombstone_and_a_repoint():
    batch = Batch(states={})
    batch.apply("person.registered", person_payload(), "1.1", AT)
    kept = "0190aaaa-0000-7000-8000-000000000002"
    batch.apply(
        "person.merged",
        {"person_id": PERSON, "merged_into": kept, "village_code": VILLAGE},
        "2.1",
        AT,
    )
    assert batch.states[PERSON]["merged_into"] == kept
    assert batch.merges == [(PERSON, kept)]


def test_lokus_designation_and_revocation():
    batch = Batch(states={})
    body = {
        "village_code": VILLAGE,
        "year": 2026,
        "decree_number": "1/2026",
        "decree_date": "2026-01-05",
    }
    batch.apply("lokus.designated", body, "1.1", AT)
    batch.apply("lokus.revoked", body, "1.2", AT)
    assert batch.lokus[(VILLAGE, 2026)]["revoked"] is True
    assert subject_ids("lokus.designated", body) == []


def test_lookup_answer_becomes_a_subject():
    state = from_lookup(
        {
            "kind": "household",
            "id": HOUSE,
            "household_id": HOUSE,
            "village_code": VILLAGE,
            "target_groups": [{"group": "balita", "start": "2024-01-01", "end": "2028-12-31"}],
            "krs": {"is_krs": False, "criteria": {}},
            "welfare_decile": 7,
        }
    )
    assert state["source"] == "lookup" and state["updated_from"] == ""
    assert state["target_groups"] == [w("balita", "2024-01-01", "2028-12-31")]
    assert state["household_id"] == HOUSE
