"""How far each feed consumer is behind its source."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from common.auth import require
from common.db import Session

router = APIRouter(prefix="/v1/reporting", tags=["reporting"])


class ConsumerFreshness(BaseModel):
    feed: str
    position: str
    events_applied: int
    last_event_at: datetime | None
    seconds_since_last_event: float | None
    updated_at: datetime


@router.get(
    "/freshness",
    summary="How far each consumer is behind each feed.",
    dependencies=[Depends(require("reporting.indicator.read"))],
)
async def freshness(session: Session) -> list[ConsumerFreshness]:
    rows = await session.execute(
        text(
            "SELECT feed, position, events_applied, last_event_at, updated_at FROM feed_cursor"
            " ORDER BY feed"
        )
    )
    now = datetime.now(UTC)
    return [
        ConsumerFreshness(
            **r,
            seconds_since_last_event=(now - r["last_event_at"]).total_seconds()
            if r["last_event_at"]
            else None,
        )
        for r in rows.mappings()
    ]
