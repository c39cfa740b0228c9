"""Public routes: ``/v1/events`` and ``/v1/webhooks/subscriptions``."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Session
from common.errors import ProblemError, field_error
from common.identity import Identity
from common.ids import uuid7
from common.pagination import Page, PageOut, paginate
from gateway import store
from gateway.integration import repository as repo
from gateway.integration.delivery_rules import pause_message
from gateway.integration.event_types import pattern_known, pattern_permitted
from gateway.integration.feed import read_page
from gateway.integration.schemas import (
    DeliveryRead,
    EventPage,
    PauseReason,
    RedeliverRequest,
    RedeliverResult,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)
from gateway.integration.signing import generate_secret
from gateway.integration.sources import SOURCES
from gateway.integration.ssrf import TargetRefused, check_url
from gateway.integration.state import IntegrationState, integration
from gateway.routes import caller_with
from gateway.security import audit, audit_entry

EVENTS_READ = "events.read"
WEBHOOKS_MANAGE = "webhooks.manage"
MAX_SUBSCRIPTIONS_PER_CLIENT = 20
State = Annotated[IntegrationState, Depends(integration)]
EventsCaller = Annotated[Identity, Depends(caller_with(EVENTS_READ))]
WebhooksCaller = Annotated[Identity, Depends(caller_with(WEBHOOKS_MANAGE))]

events = APIRouter(tags=["events"])
webhooks = APIRouter(prefix="/v1/webhooks/subscriptions", tags=["webhooks"])


@events.get(
    "/v1/events",
    summary="Change events of the registry and interventions in your region, oldest first.",
)
async def list_events(
    request: Request,
    caller: EventsCaller,
    state: State,
    after: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Keep ``next_cursor`` and read again with it; nothing is skipped or repeated."""
    page = await read_page(state.sources, caller, after, limit, state.settings.events_scan_limit)
    if len(page.unavailable) == len(SOURCES):
        raise ProblemError(
            503,
            "event_sources_unavailable",
            detail={
                "en": "The change feeds do not answer; read again later with the same cursor.",
                "id": "Aliran perubahan tidak menjawab; baca lagi nanti dengan cursor yang sama.",
            },
            headers={"Retry-After": "10"},
        )
    if page.unmasked_events:
        details = {
            "record_type": "event",
            "record_ids": page.unmasked_events,
            "subject_ids": page.unmasked_persons,
            "fields": ["birth_date"],
            "unmasked": True,
        }
        await audit(request, caller, EVENTS_READ, 200, details)
    return EventPage(
        items=page.events,
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        unavailable_sources=page.unavailable,
    )


# --- webhooks ------------------------------------------------------------------------------


def _owner(caller: Identity) -> str:
    if caller.client_id is None:
        raise ProblemError(
            403,
            "webhooks_client_only",
            detail={
                "en": "Webhook subscriptions belong to system clients; sign in with client "
                "credentials.",
                "id": "Langganan webhook milik klien sistem; masuk dengan kredensial klien.",
            },
        )
    return caller.client_id


def _not_found() -> ProblemError:
    return ProblemError(
        404,
        "not_found",
        detail={
            "en": "Webhook subscription not found.",
            "id": "Langganan webhook tidak ditemukan.",
        },
    )


def _read(row: dict) -> SubscriptionRead:
    reason = None
    if row["status"] == "paused":
        reason = PauseReason(
            code=row["paused_reason"] or "paused",
            message=pause_message(row["consecutive_failures"], row["last_error"]),
        )
    return SubscriptionRead(**{**row, "paused_reason": reason})


async def _audit_write(
    session: AsyncSession, request: Request, caller: Identity, status: int, record_id: str
) -> None:
    details = {"record_type": "webhook_subscription", "record_ids": [record_id]}
    entry = audit_entry(request, caller, WEBHOOKS_MANAGE, status, details)
    await store.append_audit(session, [entry])


def _check_event_types(caller: Identity, patterns: list[str]) -> None:
    errors = []
    for i, pattern in enumerate(patterns):
        if not pattern_known(pattern):
            errors.append(
                field_error(
                    ["body", "event_types", i],
                    {
                        "en": f"Unknown event type {pattern!r}.",
                        "id": f"Jenis peristiwa {pattern!r} tidak dikenal.",
                    },
                    "unknown_event_type",
                )
            )
        elif not pattern_permitted(caller, pattern):
            errors.append(
                field_error(
                    ["body", "event_types", i],
                    {
                        "en": f"Your scopes do not allow reading {pattern!r} events.",
                        "id": f"Scope Anda tidak mengizinkan membaca peristiwa {pattern!r}.",
                    },
                    "event_type_not_permitted",
                )
            )
    if errors:
        raise ProblemError(
            422,
            "invalid_event_types",
            detail={
                "en": "Some event types cannot be subscribed to.",
                "id": "Sebagian jenis peristiwa tidak dapat dilanggani.",
            },
            errors=errors,
        )


@webhooks.post("", status_code=201, summary="Register an endpoint for signed webhooks.")
async def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    response: Response,
    session: Session,
    caller: WebhooksCaller,
    state: State,
) -> SubscriptionCreated:
    """The signing secret is in this answer only: store it now."""
    client_id = _owner(caller)
    _check_event_types(caller, body.event_types)
    if body.purpose is not None and not caller.pii:
        raise ProblemError(
            422,
            "purpose_needs_pii",
            detail={
                "en": "A purpose unmasks personal data; it needs the pii:read scope.",
                "id": "Tujuan membuka data pribadi; perlu scope pii:read.",
            },
        )
    try:
        await check_url(body.url, state.policy)
    except TargetRefused as exc:
        raise ProblemError(
            422,
            exc.code,
            detail=exc.message(),
            errors=[field_error(["body", "url"], exc.message(), exc.code)],
        ) from exc
    existing = await repo.list_subscriptions(session, client_id, None, MAX_SUBSCRIPTIONS_PER_CLIENT)
    if len(existing) >= MAX_SUBSCRIPTIONS_PER_CLIENT:
        raise ProblemError(
            409,
            "subscription_limit",
            detail={
                "en": f"A client may have at most {MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions.",
                "id": f"Satu klien paling banyak {MAX_SUBSCRIPTIONS_PER_CLIENT} langganan.",
            },
        )
    secret = generate_secret()
    subscription_id = uuid7()
    row = await repo.create_subscription(
        session,
        {
            "id": subscription_id,
            "client_id": client_id,
            "url": body.url,
            "event_types": body.event_types,
            "description": body.description,
            "purpose": body.purpose,
            "secret_enc": state.box.seal(secret),
        },
    )
    await _audit_write(session, request, caller, 201, str(subscription_id))
    response.headers["Location"] = f"{webhooks.prefix}/{subscription_id}"
    return SubscriptionCreated(**_read(row).model_dump(), secret=secret)


@webhooks.get("", summary="Your webhook subscriptions.")
async def list_subscriptions(
    session: Session, page: Page, caller: WebhooksCaller
) -> PageOut[SubscriptionRead]:
    after = uuid.UUID(page.after[0]) if page.after else None
    rows = await repo.list_subscriptions(session, _owner(caller), after, page.limit + 1)
    return paginate([_read(r) for r in rows], page, key=lambda s: [str(s.id)])


@webhooks.get("/{subscription_id}", summary="One subscription: status, pause reason, failures.")
async def get_subscription(
    subscription_id: uuid.UUID, session: Session, caller: WebhooksCaller
) -> SubscriptionRead:
    row = await repo.get_subscription(session, _owner(caller), subscription_id)
    if row is None:
        raise _not_found()
    return _read(row)


@webhooks.delete("/{subscription_id}", status_code=204, summary="Stop and remove a subscription.")
async def delete_subscription(
    subscription_id: uuid.UUID, request: Request, session: Session, caller: WebhooksCaller
) -> Response:
    if not await repo.delete_subscription(session, _owner(caller), subscription_id):
        raise _not_found()
    await _audit_write(session, request, caller, 204, str(subscription_id))
    return Response(status_code=204)


@webhooks.post(
    "/{subscription_id}/resume",
    summary="Resume a paused subscription; what waited is delivered.",
)
async def resume_subscription(
    subscription_id: uuid.UUID,
    request: Request,
    session: Session,
    caller: WebhooksCaller,
    state: State,
) -> SubscriptionRead:
    client_id = _owner(caller)
    if not await repo.resume_subscription(session, client_id, subscription_id):
        raise _not_found()
    await _audit_write(session, request, caller, 200, str(subscription_id))
    row = await repo.get_subscription(session, client_id, subscription_id)
    await session.commit()
    state.notify({subscription_id})
    return _read(row)


@webhooks.post(
    "/{subscription_id}/redeliver",
    status_code=202,
    summary="Deliver again one event, or every event since a time.",
)
async def redeliver(
    subscription_id: uuid.UUID,
    body: RedeliverRequest,
    request: Request,
    session: Session,
    caller: WebhooksCaller,
    state: State,
) -> RedeliverResult:
    """Only events this subscription was sent; for earlier ones read ``/v1/events``."""
    row = await repo.get_subscription(session, _owner(caller), subscription_id)
    if row is None:
        raise _not_found()
    count = await repo.requeue(
        session,
        subscription_id,
        event_id=body.event_id,
        since=body.since,
        window_s=state.settings.webhook_retry_window_s,
    )
    if body.event_id is not None and count == 0:
        raise ProblemError(
            404,
            "delivery_not_found",
            detail={
                "en": "This event was never sent to this subscription.",
                "id": "Peristiwa ini tidak pernah dikirim ke langganan ini.",
            },
        )
    await _audit_write(session, request, caller, 202, str(subscription_id))
    await session.commit()
    state.notify({subscription_id})
    return RedeliverResult(requeued=count, status=row["status"])


@webhooks.get(
    "/{subscription_id}/deliveries", summary="Recent deliveries, newest first, with outcome."
)
async def list_deliveries(
    subscription_id: uuid.UUID,
    session: Session,
    page: Page,
    caller: WebhooksCaller,
    status: Literal["pending", "delivered", "failed"] | None = None,
) -> PageOut[DeliveryRead]:
    if await repo.get_subscription(session, _owner(caller), subscription_id) is None:
        raise _not_found()
    before = int(page.after[0]) if page.after else None
    rows = await repo.list_deliveries(session, subscription_id, status, before, page.limit + 1)
    out = paginate(rows, page, key=lambda r: [r["id"]])
    return PageOut(items=[DeliveryRead(**r) for r in out.items], next_cursor=out.next_cursor)


def router() -> APIRouter:
    combined = APIRouter()
    combined.include_router(events)
    combined.include_router(webhooks)
    return combined
