"""How far each feed consumer is behind its source."""

import asyncio
from datetime import UTC, datetime

import httpx
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import text

from common.auth import require
from common.db import Session
from services.reporting.feeds.consumers import APPLY

router = APIRouter(prefix="/v1/reporting", tags=["reporting"])


class ConsumerFreshness(BaseModel):
    """``events_behind`` counts the events the source serves after ``position``;
    None (with ``source_error``) when the source did not answer."""

    feed: str
    position: str
    events_applied: int
    last_event_at: datetime | None
    seconds_since_last_event: float | None
    updated_at: datetime | None
    source_head: str | None
    events_behind: int | None
    caught_up: bool
    source_error: str | None
    consumer_error: str | None


async def _head(client: httpx.AsyncClient | None, after: str) -> tuple[dict | None, str | None]:
    if client is None:
        return None, "no client"
    try:
        resp = await client.get("/internal/feed/head", params={"after": after}, timeout=3.0)
        resp.raise_for_status()
        return resp.json(), None
    except (httpx.HTTPError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


@router.get(
    "/freshness",
    summary="How far each consumer is behind each feed.",
    dependencies=[Depends(require("reporting.indicator.read"))],
)
async def freshness(request: Request, session: Session) -> list[ConsumerFreshness]:
    rows = await session.execute(
        text(
            "SELECT feed, position, events_applied, last_event_at, updated_at FROM feed_cursor"
            " ORDER BY feed"
        )
    )
    cursors = {r["feed"]: dict(r) for r in rows.mappings()}
    feeds = sorted(set(APPLY) | set(cursors))
    clients = getattr(request.app.state, "feed_clients", {})
    consumers = getattr(request.app.state, "consumers", {})
    heads = await asyncio.gather(
        *(_head(clients.get(f), cursors.get(f, {}).get("position", "")) for f in feeds)
    )
    now = datetime.now(UTC)
    out = []
    for feed, (head, error) in zip(feeds, heads, strict=True):
        cursor = cursors.get(feed, {})
        last = cursor.get("last_event_at")
        behind = head["behind"] if head else None
        consumer = consumers.get(feed)
        out.append(
            ConsumerFreshness(
                feed=feed,
                position=cursor.get("position", ""),
                events_applied=cursor.get("events_applied", 0),
                last_event_at=last,
                seconds_since_last_event=(now - last).total_seconds() if last else None,
                updated_at=cursor.get("updated_at"),
                source_head=head["head"] if head else None,
                events_behind=behind,
                caught_up=behind == 0,
                source_error=error,
                consumer_error=consumer.last_error if consumer else None,
            )
        )
    return out
