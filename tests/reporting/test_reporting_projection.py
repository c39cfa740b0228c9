"""How registry person events become residence history and target-group windows (pure
code, no database). Expected values are worked out by hand from the rules in the module
docstring of services/reporting/feeds/projection.py."""

from datetime import UTC, date, datetime

from services.reporting.feeds.projection import (
    FIRST_DAY,
    LAST_DAY,
    Residence,
    Window,
    apply_life_event,
    apply_person_event,
    merge_windows,
    new_person,
    position_key,
)

# 03:00 UTC is 10:00 in Jakarta: the same calendar day.
AT = datetime(2026, 5, 10, 3, 0, tzinfo=UTC)


def person_payload(village: str, household: str, groups: list[dict], **extra) -> dict:
    return {
        "person_id": "p1",
        "household_id": household,
        "village_code": village,
        "sex": 2,
        "birth_date": "2024-01-10",
        "relationship": 4,
        "death_date": None,
        "has_nik": True,
        "has_birth_certificate": True,
        "target_groups": groups,
        **extra,
    }


def test_positions_order_like_the_feed():
    assert position_key("") < position_key("10.2") < position_key("10.11") < position_key("11.1")


def test_first_event_places_the_person_from_the_beginning():
    state = new_person("p1", "65.01.01.1001")
    assert apply_person_event(
        state, "person.registered", person_payload("65.01.01.1001", "h1", []), "5.1", AT
    )
    assert state.residence == [Residence(FIRST_DAY, "65.01.01.1001", "h1")]
    assert not state.moved


def test_move_keeps_the_earlier_village_until_the_day_before():
    state = new_person("p1", "65.01.01.1001")
    apply_person_event(
        state, "person.registered", person_payload("65.01.01.1001", "h1", []), "5.1", AT
    )
    moved = person_payload("65.02.01.2002", "h2", [], moved_on="2026-03-15")
    assert apply_person_event(state, "person.moved", moved, "6.1", AT)
    assert state.residence == [
        Residence(FIRST_DAY, "65.01.01.1001", "h1"),
        Residence(date(2026, 3, 15), "65.02.01.2002", "h2"),
    ]
    assert state.moved and state.village_code == "65.02.01.2002"


def test_move_without_a_date_counts_from_the_local_day_of_the_event():
    state = new_person("p1", "A")
    apply_person_event(state, "person.registered", person_payload("A", "h1", []), "5.1", AT)
    # 20:00 UTC on 9 May is already 10 May in Jakarta.
    late = datetime(2026, 5, 9, 20, 0, tzinfo=UTC)
    apply_person_event(state, "person.moved", person_payload("B", "h2", []), "6.1", late)
    assert state.residence[-1] == Residence(date(2026, 5, 10), "B", "h2")


def test_an_event_already_applied_changes_nothing():
    state = new_person("p1", "A")
    apply_person_event(state, "person.registered", person_payload("A", "h1", []), "7.3", AT)
    assert not apply_person_event(state, "person.updated", person_payload("B", "h2", []), "7.2", AT)
    assert state.village_code == "A"


def test_windows_history_is_kept_and_current_windows_replaced():
    baduta = Window("baduta", date(2024, 1, 10), date(2026, 1, 9))
    pregnancy = Window("ibu_hamil", date(2025, 1, 1), date(2025, 9, 30))
    catin_later = Window("catin", date(2026, 8, 1), date(2026, 11, 1))
    pus_open = Window("pus", date(2020, 1, 1), date(2040, 1, 1))
    old = [baduta, pregnancy, catin_later, pus_open]
    # On 2026-05-10 the registry lists only a new PUS window and a new pregnancy.
    new_pus = Window("pus", date(2020, 1, 1), date(2041, 1, 1))
    new_pregnancy = Window("ibu_hamil", date(2026, 3, 1), date(2026, 12, 5))
    merged = merge_windows(old, [new_pus, new_pregnancy], date(2026, 5, 10))
    assert merged == sorted(
        [baduta, pregnancy, new_pregnancy, catin_later, new_pus],
        key=lambda w: (w.group, w.start, w.end),
    )


def test_a_window_no_longer_listed_ends_the_day_before():
    open_window = Window("ibu_pasca_persalinan", date(2026, 5, 1), date(2026, 6, 12))
    merged = merge_windows([open_window], [], date(2026, 5, 10))
    assert merged == [Window("ibu_pasca_persalinan", date(2026, 5, 1), date(2026, 5, 9))]


def test_listed_windows_with_open_ends():
    state = new_person("p1", "A")
    groups = [{"group": "pus", "start": None, "end": "2045-05-19"}]
    apply_person_event(state, "person.registered", person_payload("A", "h1", groups), "5.1", AT)
    assert state.windows == [Window("pus", FIRST_DAY, date(2045, 5, 19))]
    open_pregnancy = [{"group": "ibu_hamil", "start": "2026-03-01", "end": None}]
    apply_person_event(
        state, "person.updated", person_payload("A", "h1", open_pregnancy), "5.2", AT
    )
    # Without an outcome a pregnancy is held at most 45 weeks (315 days).
    assert Window("ibu_hamil", date(2026, 3, 1), date(2027, 1, 10)) in state.windows


def test_life_events_open_past_windows():
    state = new_person("p1", "A")
    apply_life_event(
        state,
        {
            "kind": "pregnancy",
            "start_date": "2025-01-01",
            "end_date": "2025-09-20",
            "outcome": "live_birth",
        },
        "9.1",
    )
    assert state.windows == [
        Window("ibu_hamil", date(2025, 1, 1), date(2025, 9, 19)),
        Window("ibu_pasca_persalinan", date(2025, 9, 20), date(2025, 11, 1)),
    ]
    apply_life_event(state, {"kind": "marriage_plan", "expected_date": "2026-09-30"}, "9.2")
    assert Window("catin", date(2026, 6, 30), date(2026, 9, 30)) in state.windows
    # A new plan replaces the overlapping one.
    apply_life_event(state, {"kind": "marriage_plan", "expected_date": "2026-10-15"}, "9.3")
    catin = [w for w in state.windows if w.group == "catin"]
    assert catin == [Window("catin", date(2026, 7, 15), date(2026, 10, 15))]


def test_open_ends_are_the_extremes():
    assert FIRST_DAY < date(1900, 1, 1) and LAST_DAY > date(2999, 1, 1)
