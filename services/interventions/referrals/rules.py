"""Referral state machine and referral types.

created → accepted → in_progress → completed, driven by the receiving organisation;
the receiver may reject (with a reason) before work starts; the sender may cancel while
the referral is open.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from services.interventions.catalogue.rules import Violation
from services.interventions.eligibility import Text
from services.interventions.sectors import Sector


class ReferralState(StrEnum):
    created = "created"
    accepted = "accepted"
    in_progress = "in_progress"
    completed = "completed"
    rejected = "rejected"
    cancelled = "cancelled"


STATE_LABELS: dict[ReferralState, Text] = {
    ReferralState.created: {"id": "dibuat", "en": "created"},
    ReferralState.accepted: {"id": "diterima", "en": "accepted"},
    ReferralState.in_progress: {"id": "sedang ditangani", "en": "in progress"},
    ReferralState.completed: {"id": "selesai", "en": "completed"},
    ReferralState.rejected: {"id": "ditolak", "en": "rejected"},
    ReferralState.cancelled: {"id": "dibatalkan", "en": "cancelled"},
}

OPEN_STATES = frozenset({ReferralState.created, ReferralState.accepted, ReferralState.in_progress})


class ReferralAction(StrEnum):
    accept = "accept"
    start = "start"
    complete = "complete"
    reject = "reject"
    cancel = "cancel"


# past participles, for "cannot be ..." messages
ACTION_LABELS: dict[ReferralAction, Text] = {
    ReferralAction.accept: {"id": "diterima", "en": "accepted"},
    ReferralAction.start: {"id": "mulai ditangani", "en": "started"},
    ReferralAction.complete: {"id": "diselesaikan", "en": "completed"},
    ReferralAction.reject: {"id": "ditolak", "en": "rejected"},
    ReferralAction.cancel: {"id": "dibatalkan", "en": "cancelled"},
}


class Side(StrEnum):
    sender = "sender"
    receiver = "receiver"


@dataclass(frozen=True)
class TransitionRule:
    action: ReferralAction
    sources: frozenset[ReferralState]
    target: ReferralState
    side: Side
    reason_required: bool = False


TRANSITIONS: dict[ReferralAction, TransitionRule] = {
    rule.action: rule
    for rule in (
        TransitionRule(
            ReferralAction.accept,
            frozenset({ReferralState.created}),
            ReferralState.accepted,
            Side.receiver,
        ),
        TransitionRule(
            ReferralAction.start,
            frozenset({ReferralState.accepted}),
            ReferralState.in_progress,
            Side.receiver,
        ),
        TransitionRule(
            ReferralAction.complete,
            frozenset({ReferralState.in_progress}),
            ReferralState.completed,
            Side.receiver,
        ),
        TransitionRule(
            ReferralAction.reject,
            frozenset({ReferralState.created, ReferralState.accepted}),
            ReferralState.rejected,
            Side.receiver,
            reason_required=True,
        ),
        TransitionRule(ReferralAction.cancel, OPEN_STATES, ReferralState.cancelled, Side.sender),
    )
}


@dataclass(frozen=True)
class ReferralParties:
    """The two sides, as opaque organisation ids in one vocabulary that the caller picks:
    e.g. a sector code for an agency addressed by sector (the feed's ``to_sector``) and a
    team id for a TPK; ``actor_org`` in :func:`transition` uses the same vocabulary."""

    sender_org: str
    receiver_org: str


def _v(code: str, id_: str, en: str, loc: str | None = None) -> Violation:
    return Violation(code, {"id": id_, "en": en}, loc)


def transition(
    current: ReferralState | str,
    action: ReferralAction | str,
    actor_org: str,
    referral: ReferralParties,
    reason: str | None = None,
) -> ReferralState | Violation:
    """The state after ``actor_org`` takes ``action``, or the rule it breaks. The state is
    checked before the actor, so a finished referral always answers illegal_transition."""
    try:
        rule = TRANSITIONS[ReferralAction(action)]
    except ValueError:
        return _v(
            "unknown_action",
            f"Tindakan tidak dikenal: {action}",
            f"Unknown action: {action}",
            "action",
        )
    state = ReferralState(current)
    if state not in rule.sources:
        label = STATE_LABELS[state]
        done = ACTION_LABELS[rule.action]
        return _v(
            "illegal_transition",
            f"Rujukan berstatus {label['id']} tidak dapat {done['id']}",
            f"A referral that is {label['en']} cannot be {done['en']}",
            "action",
        )
    if rule.side == Side.receiver and actor_org != referral.receiver_org:
        return _v(
            "not_receiver",
            "Hanya organisasi penerima rujukan yang dapat melakukan ini",
            "Only the organisation receiving the referral may do this",
        )
    if rule.side == Side.sender and actor_org != referral.sender_org:
        return _v(
            "not_sender",
            "Hanya organisasi pengirim rujukan yang dapat melakukan ini",
            "Only the organisation that sent the referral may do this",
        )
    if rule.reason_required and not (reason and reason.strip()):
        return _v(
            "reason_required",
            "Alasan wajib diisi",
            "A reason is required",
            "reason",
        )
    return rule.target


def allowed_actions(
    current: ReferralState | str, actor_org: str, referral: ReferralParties
) -> list[ReferralAction]:
    """Actions ``actor_org`` may take now (a reason may still be needed)."""
    return [
        action
        for action in ReferralAction
        if not isinstance(transition(current, action, actor_org, referral, "-"), Violation)
    ]


# --- referral types --------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralType:
    code: str
    label: Text
    default_sector: Sector
    due_days: int
    interventions: tuple[str, ...] = ()


# Due days are working defaults, not from any regulation: configure per regency.
DEFAULT_REFERRAL_TYPES: dict[str, ReferralType] = {
    t.code: t
    for t in (
        ReferralType(
            "social_assistance",
            {"id": "bantuan sosial", "en": "social assistance"},
            Sector.SOCIAL_AFFAIRS,
            14,
            ("N8", "N9"),
        ),
        ReferralType(
            "health_insurance",
            {"id": "jaminan kesehatan (PBI JKN)", "en": "health insurance (PBI JKN)"},
            Sector.SOCIAL_AFFAIRS,
            14,
            ("N10",),
        ),
        ReferralType(
            "latrine",
            {"id": "jamban sehat", "en": "latrine"},
            Sector.PUBLIC_WORKS,
            30,
            ("N6",),
        ),
        ReferralType(
            "safe_water",
            {"id": "air minum layak", "en": "safe drinking water"},
            Sector.PUBLIC_WORKS,
            30,
            ("N5",),
        ),
        ReferralType(
            "birth_certificate",
            {"id": "akta kelahiran / NIK", "en": "birth certificate / NIK"},
            Sector.CIVIL_REGISTRY,
            14,
            ("N11",),
        ),
        ReferralType(
            "health_check",
            {"id": "pemeriksaan kesehatan", "en": "health check"},
            Sector.HEALTH,
            7,
            ("S10", "S11", "N3"),
        ),
        ReferralType(
            "nutrition_treatment",
            {"id": "tata laksana gizi", "en": "nutrition treatment"},
            Sector.HEALTH,
            3,
            ("S1", "S6", "S8"),
        ),
        ReferralType(
            "immunisation",
            {"id": "imunisasi", "en": "immunisation"},
            Sector.HEALTH,
            14,
            ("S9",),
        ),
        ReferralType(
            "family_planning",
            {"id": "layanan KB", "en": "family planning"},
            Sector.FAMILY_PLANNING,
            7,
            ("N1",),
        ),
        ReferralType(
            "marriage_guidance",
            {"id": "bimbingan perkawinan", "en": "marriage guidance"},
            Sector.RELIGIOUS_AFFAIRS,
            30,
            ("N4",),
        ),
        ReferralType(
            "home_garden",
            {"id": "pekarangan pangan", "en": "home-garden food"},
            Sector.FOOD_SECURITY,
            30,
            ("N12",),
        ),
        ReferralType(
            "fish_consumption",
            {"id": "gemar makan ikan", "en": "fish consumption"},
            Sector.FISHERIES,
            30,
            ("N13",),
        ),
        ReferralType(
            "parenting_class",
            {"id": "kelas Bina Keluarga Balita", "en": "toddler parenting class"},
            Sector.FAMILY_PLANNING,
            30,
            ("N14",),
        ),
        ReferralType(
            "early_childhood_education",
            {"id": "PAUD", "en": "early-childhood education"},
            Sector.EDUCATION,
            30,
            ("N15",),
        ),
    )
}


def configure_referral_types(
    overrides: Mapping[str, Mapping[str, Any]],
    base: Mapping[str, ReferralType] = DEFAULT_REFERRAL_TYPES,
) -> dict[str, ReferralType]:
    """The referral types with settings applied, e.g. ``{"latrine": {"due_days": 45}}``;
    an unknown code with label, default_sector and due_days adds a type."""
    types = dict(base)
    for code, values in overrides.items():
        fields = dict(values)
        if "default_sector" in fields:
            fields["default_sector"] = Sector(fields["default_sector"])
        if "interventions" in fields:
            fields["interventions"] = tuple(fields["interventions"])
        if code in types:
            types[code] = replace(types[code], **fields)
        else:
            types[code] = ReferralType(code=code, **fields)
        if types[code].due_days < 1:
            raise ValueError(f"due_days of {code} must be at least 1")
    return types


def validate_new_referral(
    sender_org: str,
    receiver_org: str,
    referral_type: str,
    types: Mapping[str, ReferralType] = DEFAULT_REFERRAL_TYPES,
) -> list[Violation]:
    problems = []
    if sender_org == receiver_org:
        problems.append(
            _v(
                "self_referral",
                "Rujukan tidak boleh ditujukan ke organisasi pengirim sendiri",
                "A referral cannot go to the sender's own organisation",
                "receiver_org",
            )
        )
    if referral_type not in types:
        problems.append(
            _v(
                "unknown_referral_type",
                f"Jenis rujukan tidak dikenal: {referral_type}",
                f"Unknown referral type: {referral_type}",
                "referral_type",
            )
        )
    return problems


def due_date(
    created_on: date,
    referral_type: str,
    types: Mapping[str, ReferralType] = DEFAULT_REFERRAL_TYPES,
) -> date:
    return created_on + timedelta(days=types[referral_type].due_days)


def days_overdue(state: ReferralState | str, due_on: date, as_of: date) -> int:
    """Days past the due date of a still-open referral; 0 when on time or closed.
    The due date itself is still on time."""
    if ReferralState(state) not in OPEN_STATES:
        return 0
    return max((as_of - due_on).days, 0)


def is_overdue(state: ReferralState | str, due_on: date, as_of: date) -> bool:
    return days_overdue(state, due_on, as_of) > 0
