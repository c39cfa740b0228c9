from datetime import date
from itertools import product

import pytest

from services.interventions.catalogue.rules import Violation
from services.interventions.referrals.rules import (
    DEFAULT_REFERRAL_TYPES,
    ReferralAction,
    ReferralParties,
    ReferralState,
    allowed_actions,
    configure_referral_types,
    days_overdue,
    due_date,
    is_overdue,
    transition,
    validate_new_referral,
)
from services.interventions.sectors import Sector

TPK = "org-tpk-kalinilam"
PUPR = "org-dinas-pupr"
OTHER = "org-dinsos"
REF = ReferralParties(sender_org=TPK, receiver_org=PUPR)

S = ReferralState
A = ReferralAction

# Every legal move, written out from the spec: (from, action) -> (to, who may do it)
LEGAL = {
    (S.created, A.accept): (S.accepted, PUPR),
    (S.accepted, A.start): (S.in_progress, PUPR),
    (S.in_progress, A.complete): (S.completed, PUPR),
    (S.created, A.reject): (S.rejected, PUPR),
    (S.accepted, A.reject): (S.rejected, PUPR),
    (S.created, A.cancel): (S.cancelled, TPK),
    (S.accepted, A.cancel): (S.cancelled, TPK),
    (S.in_progress, A.cancel): (S.cancelled, TPK),
}
ILLEGAL = [pair for pair in product(S, A) if pair not in LEGAL]


def test_there_are_eight_legal_and_twenty_two_illegal_moves():
    assert len(LEGAL) == 8 and len(ILLEGAL) == 22


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
def test_legal_transition(state, action):
    target, actor = LEGAL[(state, action)]
    assert transition(state, action, actor, REF, reason="bukan sasaran") == target


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
@pytest.mark.parametrize("actor", [TPK, PUPR, OTHER])
def test_illegal_transition(state, action, actor):
    result = transition(state, action, actor, REF, reason="x")
    assert isinstance(result, Violation)
    assert result.code == "illegal_transition"
    assert result.message["id"] and result.message["en"]


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
@pytest.mark.parametrize("who", ["other_side", "third_org"])
def test_wrong_side_is_refused(state, action, who):
    _, actor = LEGAL[(state, action)]
    intruder = OTHER if who == "third_org" else (TPK if actor == PUPR else PUPR)
    result = transition(state, action, intruder, REF, reason="x")
    assert isinstance(result, Violation)
    assert result.code == ("not_receiver" if actor == PUPR else "not_sender")


def test_completed_cannot_be_accepted():
    result = transition("completed", "accept", PUPR, REF)
    assert result.code == "illegal_transition"
    assert result.message["en"] == "A referral that is completed cannot be accepted"
    assert result.message["id"] == "Rujukan berstatus selesai tidak dapat diterima"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reject_needs_a_reason(reason):
    result = transition(S.created, A.reject, PUPR, REF, reason=reason)
    assert isinstance(result, Violation) and result.code == "reason_required"


def test_cancel_needs_no_reason():
    assert transition(S.created, A.cancel, TPK, REF) == S.cancelled


def test_unknown_action():
    assert transition(S.created, "approve", PUPR, REF).code == "unknown_action"


@pytest.mark.parametrize(
    ("state", "actor", "expected"),
    [
        (S.created, PUPR, [A.accept, A.reject]),
        (S.created, TPK, [A.cancel]),
        (S.accepted, PUPR, [A.start, A.reject]),
        (S.in_progress, PUPR, [A.complete]),
        (S.in_progress, TPK, [A.cancel]),
        (S.completed, PUPR, []),
        (S.rejected, TPK, []),
        (S.created, OTHER, []),
    ],
)
def test_allowed_actions(state, actor, expected):
    assert allowed_actions(state, actor, REF) == expected


def test_scenario_4_two_referrals_across_agencies():
    latrine = ReferralParties(TPK, PUPR)
    social = ReferralParties(TPK, OTHER)
    assert validate_new_referral(TPK, PUPR, "latrine") == []
    assert validate_new_referral(TPK, OTHER, "social_assistance") == []
    state = transition(S.created, A.accept, PUPR, latrine)
    state = transition(state, A.start, PUPR, latrine)
    assert state == S.in_progress
    state = S.created
    for action in (A.accept, A.start, A.complete):
        state = transition(state, action, OTHER, social)
    assert state == S.completed


def test_referral_to_own_organisation_is_refused():
    [problem] = validate_new_referral(TPK, TPK, "latrine")
    assert problem.code == "self_referral"
    assert problem.loc == "receiver_org"


def test_unknown_referral_type():
    [problem] = validate_new_referral(TPK, PUPR, "jet_ski")
    assert problem.code == "unknown_referral_type"


@pytest.mark.parametrize(
    ("code", "sector"),
    [
        ("social_assistance", Sector.SOCIAL_AFFAIRS),
        ("latrine", Sector.PUBLIC_WORKS),
        ("safe_water", Sector.PUBLIC_WORKS),
        ("birth_certificate", Sector.CIVIL_REGISTRY),
        ("health_check", Sector.HEALTH),
        ("nutrition_treatment", Sector.HEALTH),
        ("family_planning", Sector.FAMILY_PLANNING),
    ],
)
def test_referral_type_default_sectors(code, sector):
    t = DEFAULT_REFERRAL_TYPES[code]
    assert t.default_sector == sector
    assert t.due_days > 0 and t.label["id"] and t.label["en"]


def test_due_date_and_overdue_boundaries():
    # latrine default: 30 days
    due = due_date(date(2024, 6, 1), "latrine")
    assert due == date(2024, 7, 1)
    assert not is_overdue(S.accepted, due, date(2024, 7, 1))
    assert is_overdue(S.accepted, due, date(2024, 7, 2))
    assert days_overdue(S.in_progress, due, date(2024, 7, 11)) == 10
    assert days_overdue(S.created, due, date(2024, 6, 15)) == 0


@pytest.mark.parametrize("state", [S.completed, S.rejected, S.cancelled])
def test_closed_referrals_are_never_overdue(state):
    assert not is_overdue(state, date(2024, 1, 1), date(2024, 12, 31))


def test_referral_types_are_configurable():
    types = configure_referral_types(
        {
            "latrine": {"due_days": 45},
            "school_meal": {
                "label": {"id": "makan sekolah", "en": "school meal"},
                "default_sector": "education",
                "due_days": 10,
            },
        }
    )
    assert due_date(date(2024, 6, 1), "latrine", types) == date(2024, 7, 16)
    assert types["school_meal"].default_sector == Sector.EDUCATION
    assert validate_new_referral(TPK, PUPR, "school_meal", types) == []
    assert DEFAULT_REFERRAL_TYPES["latrine"].due_days == 30
    with pytest.raises(ValueError):
        configure_referral_types({"latrine": {"due_days": 0}})
