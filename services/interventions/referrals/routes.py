"""Referrals between agencies: created by the sender, moved along by the receiving
sector (accept, start, complete or reject), cancelled by the sender. Each move is kept
with who and when; two officers moving the same referral at once: one wins, one gets 409."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, not_found
from common.etag import required_version, set_etag, stale
from common.feed import emit
from common.identity import Identity, Role
from common.pagination import Page, PageOut, paginate
from common.permissions import identity_allowed, sector_allows
from services.interventions.catalogue.rules import Violation
from services.interventions.orgs import bound_sector, caller_org
from services.interventions.problems import raise_violations, violation_problem
from services.interventions.referrals import repository as repo
from services.interventions.referrals.rules import (
    STATE_LABELS,
    TRANSITIONS,
    ReferralAction,
    ReferralParties,
    ReferralState,
    ReferralType,
    Side,
    days_overdue,
    transition,
)
from services.interventions.referrals.schemas import (
    ReferralAct,
    ReferralCreate,
    ReferralDetail,
    ReferralRead,
    ReferralTypeRead,
    TransitionRead,
)
from services.interventions.referrals.service import check_new, event_payload, open_referral
from services.interventions.subjects.service import require_subject

router = APIRouter(prefix="/v1/interventions", tags=["referrals"])

REFERRAL = {"en": "Referral", "id": "Rujukan"}
_READ = [Depends(require("interventions.referral.read"))]
RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", description="Only under this code"),
]
StateQuery = Annotated[
    Literal[
        "open", "closed", "created", "accepted", "in_progress", "completed", "rejected", "cancelled"
    ]
    | None,
    Query(description="open = created, accepted or in progress"),
]
_CLOSED = ("completed", "rejected", "cancelled")


def referral_types(request: Request) -> dict[str, ReferralType]:
    return request.app.state.referral_types


def _acting_org(
    caller: Identity, org: str, referral: dict[str, Any], action: ReferralAction
) -> str:
    """Receivers act for the referral's sector when their sector allows; the sender's own
    organisation, or an office not bound to a sector, acts for the sender."""
    if TRANSITIONS[action].side == Side.receiver:
        return referral["to_sector"] if sector_allows(caller, referral["to_sector"]) else org
    unbound = bound_sector(caller) is None and caller.role != Role.TPK_CADRE
    return referral["from_org"] if org == referral["from_org"] or unbound else org


def _parties(referral: dict[str, Any]) -> ReferralParties:
    return ReferralParties(sender_org=referral["from_org"], receiver_org=referral["to_sector"])


def _view(
    referral: dict[str, Any], caller: Identity, org: str, types: dict[str, ReferralType]
) -> dict[str, Any]:
    actions: list[str] = []
    if identity_allowed(caller, "interventions.referral.transition"):
        for action in ReferralAction:
            actor = _acting_org(caller, org, referral, action)
            if not isinstance(
                transition(referral["state"], action, actor, _parties(referral), "-"), Violation
            ):
                actions.append(action.value)
    kind = types.get(referral["referral_type"])
    return {
        **referral,
        "type_label": kind.label if kind else None,
        "state_label": STATE_LABELS[ReferralState(referral["state"])],
        "days_overdue": days_overdue(referral["state"], referral["due_on"], today()),
        "allowed_actions": actions,
    }


@router.get(
    "/referral-types",
    summary="Referral types with their default sector and due delay.",
    dependencies=[Depends(require("interventions.catalogue.read"))],
)
async def list_referral_types(request: Request) -> list[ReferralTypeRead]:
    return [
        ReferralTypeRead(
            code=t.code,
            label=t.label,
            default_sector=t.default_sector.value,
            due_days=t.due_days,
            interventions=list(t.interventions),
        )
        for t in referral_types(request).values()
    ]


@router.post(
    "/referrals",
    status_code=201,
    summary="Refer a person or household to another sector.",
    dependencies=[Depends(require("interventions.referral.create"))],
)
async def create_referral(
    body: ReferralCreate, request: Request, session: Session, caller: Caller, response: Response
) -> ReferralRead:
    types = referral_types(request)
    org = await caller_org(session, caller, body.from_team_id)
    on = today()
    to_sector, found = check_new(org, body.referral_type, body.to_sector, body.due_on, types, on)
    raise_violations(found)
    assert to_sector is not None
    subject = await require_subject(request, session, caller, body.subject_id)
    stored = await open_referral(
        session,
        caller,
        subject,
        org=org,
        referral_type=body.referral_type,
        to_sector=to_sector,
        note=body.note,
        due_on=body.due_on,
        types=types,
        on=on,
    )
    set_etag(response, stored["version"])
    return ReferralRead(**_view(stored, caller, org, types))


async def _list(
    request: Request,
    session: Session,
    caller: Identity,
    page: Page,
    filters: dict[str, Any],
) -> PageOut[ReferralRead]:
    types = referral_types(request)
    org = await caller_org(session, caller)
    rows = await repo.list_referrals(
        session, caller.region, filters, today(), page.after, page.limit + 1
    )
    return paginate(
        [ReferralRead(**_view(r, caller, org, types)) for r in rows],
        page,
        key=lambda r: [r.due_on.isoformat(), str(r.id)],
    )


def _states(state: str | None) -> tuple[str, ...] | None:
    if state == "open":
        return repo.OPEN
    if state == "closed":
        return _CLOSED
    return (state,) if state else None


def _inbox_sector(caller: Identity, sector: str | None) -> str | None:
    mine = bound_sector(caller)
    if mine is not None:
        if sector is not None and sector != mine.value:
            raise ProblemError(
                403,
                "not_your_sector",
                detail={
                    "en": f"You can open the inbox of your own sector ({mine.value}) only.",
                    "id": f"Anda hanya dapat membuka kotak masuk sektor Anda ({mine.value}).",
                },
            )
        return mine.value
    return sector


@router.get(
    "/referrals", summary="Referrals in your region, most urgent first.", dependencies=_READ
)
async def list_referrals(
    request: Request,
    session: Session,
    caller: Caller,
    page: Page,
    to_sector: Annotated[str | None, Query(max_length=32)] = None,
    from_org: Annotated[str | None, Query(max_length=64)] = None,
    state: StateQuery = None,
    overdue: bool = False,
    subject_id: uuid.UUID | None = None,
    region: RegionQuery = None,
) -> PageOut[ReferralRead]:
    filters = {
        "to_sector": to_sector,
        "from_org": from_org,
        "states": _states(state),
        "overdue": overdue,
        "subject_id": subject_id,
        "within": region,
    }
    return await _list(request, session, caller, page, filters)


@router.get(
    "/referrals/incoming",
    summary="Inbox: open referrals to your sector (or to ?sector= when you are not bound "
    "to one), most urgent first.",
    dependencies=_READ,
)
async def list_incoming_referrals(
    request: Request,
    session: Session,
    caller: Caller,
    page: Page,
    sector: Annotated[str | None, Query(max_length=32)] = None,
    state: StateQuery = "open",
    region: RegionQuery = None,
) -> PageOut[ReferralRead]:
    filters = {
        "to_sector": _inbox_sector(caller, sector),
        "states": _states(state),
        "within": region,
    }
    return await _list(request, session, caller, page, filters)


@router.get(
    "/referrals/overdue",
    summary="Open referrals to your sector (or ?sector=) past their due date.",
    dependencies=_READ,
)
async def list_overdue_referrals(
    request: Request,
    session: Session,
    caller: Caller,
    page: Page,
    sector: Annotated[str | None, Query(max_length=32)] = None,
    region: RegionQuery = None,
) -> PageOut[ReferralRead]:
    filters = {"to_sector": _inbox_sector(caller, sector), "overdue": True, "within": region}
    return await _list(request, session, caller, page, filters)


@router.get(
    "/referrals/outgoing",
    summary="Referrals your organisation (sector, TPK team or office) sent.",
    dependencies=_READ,
)
async def list_outgoing_referrals(
    request: Request,
    session: Session,
    caller: Caller,
    page: Page,
    team_id: uuid.UUID | None = None,
    state: StateQuery = None,
) -> PageOut[ReferralRead]:
    org = await caller_org(session, caller, team_id)
    filters = {"from_org": org, "states": _states(state)}
    return await _list(request, session, caller, page, filters)


@router.get("/referrals/{referral_id}", summary="One referral with its moves.", dependencies=_READ)
async def get_referral(
    referral_id: uuid.UUID, request: Request, session: Session, caller: Caller, response: Response
) -> ReferralDetail:
    referral = await repo.get(session, referral_id, caller.region)
    if referral is None:
        raise not_found(REFERRAL)
    org = await caller_org(session, caller)
    set_etag(response, referral["version"])
    return ReferralDetail(
        **_view(referral, caller, org, referral_types(request)),
        transitions=[TransitionRead(**t) for t in await repo.transitions(session, referral_id)],
    )


@router.post(
    "/referrals/{referral_id}/{action}",
    summary="Move a referral: accept, start, complete, reject (reason) or cancel. "
    "If-Match (the ETag) is optional; a concurrent move answers 409.",
    dependencies=[Depends(require("interventions.referral.transition"))],
)
async def transition_referral(
    referral_id: uuid.UUID,
    action: Annotated[ReferralAction, Path()],
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
    body: ReferralAct | None = None,
) -> ReferralRead:
    reason = body.reason if body else None
    referral = await repo.get(session, referral_id, caller.region)
    if referral is None:
        raise not_found(REFERRAL)
    if request.headers.get("if-match") and required_version(request) != referral["version"]:
        raise stale()
    org = await caller_org(session, caller)
    actor = _acting_org(caller, org, referral, action)
    outcome = transition(referral["state"], action, actor, _parties(referral), reason)
    if isinstance(outcome, Violation):
        raise violation_problem([outcome])
    moved = await repo.move(session, referral_id, referral["version"], outcome.value, reason)
    if moved is None:
        raise ProblemError(
            409,
            "concurrent_update",
            detail={
                "en": "Someone else moved this referral at the same moment; reload it.",
                "id": "Rujukan ini baru saja diubah orang lain; muat ulang.",
            },
        )
    await repo.add_transition(
        session,
        {
            "referral_id": referral_id,
            "action": action.value,
            "from_state": referral["state"],
            "to_state": outcome.value,
            "actor": caller.sub,
            "actor_role": caller.role.value,
            "actor_org": actor,
            "reason": reason,
        },
    )
    await emit(
        session,
        "referral.transitioned",
        "referral",
        referral_id,
        event_payload(moved, moved["updated_at"]),
        region_code=moved["village_code"],
    )
    set_etag(response, moved["version"])
    return ReferralRead(**_view(moved, caller, org, referral_types(request)))
