"""Pull another service's change feed over HTTP and apply it exactly once.

The cursor lives in the consumer's own schema (``feed_cursor``). Each batch is applied
in the same transaction that moves the cursor, and the cursor row is locked and
re-checked first, so two running copies of a consumer never apply a batch twice.
"""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import orjson
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.feed import FeedEvent

log = structlog.get_logger()

ApplyBatch = Callable[[AsyncSession, list[FeedEvent]], Awaitable[None]]


class FeedConsumer:
    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        apply: ApplyBatch,
        *,
        batch_size: int = 1000,
        idle_sleep_s: float = 0.5,
    ) -> None:
        self.name = name
        self.client = client
        self.sessionmaker = sessionmaker
        self.apply = apply
        self.batch_size = batch_size
        self.idle_sleep_s = idle_sleep_s
        self.last_error: str | None = None

    async def position(self) -> str:
        async with self.sessionmaker() as session:
            row = (
                await session.execute(
                    text("SELECT position FROM feed_cursor WHERE feed = :f"), {"f": self.name}
                )
            ).first()
        return row.position if row else ""

    async def poll_once(self) -> int:
        """Fetch and apply one batch; returns how many events were applied."""
        after = await self.position()
        resp = await self.client.get(
            "/internal/feed", params={"after": after, "limit": self.batch_size}
        )
        resp.raise_for_status()
        page = orjson.loads(resp.content)
        events = [FeedEvent.from_json(e) for e in page["events"]]
        if not events:
            return 0
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                text("INSERT INTO feed_cursor (feed) VALUES (:f) ON CONFLICT DO NOTHING"),
                {"f": self.name},
            )
            locked = (
                await session.execute(
                    text("SELECT position FROM feed_cursor WHERE feed = :f FOR UPDATE"),
                    {"f": self.name},
                )
            ).scalar_one()
            if locked != after:
                return 0  # another copy of this consumer applied it meanwhile
            await self.apply(session, events)
            await session.execute(
                text(
                    "UPDATE feed_cursor SET position = :p, events_applied = events_applied + :n,"
                    " last_event_at = :at, updated_at = now() WHERE feed = :f"
                ),
                {"p": page["next"], "n": len(events), "at": events[-1].occurred_at, "f": self.name},
            )
        return len(events)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; back off while the source is down, then catch up."""
        backoff = self.idle_sleep_s
        while not stop.is_set():
            try:
                applied = await self.poll_once()
                self.last_error = None
                backoff = self.idle_sleep_s
                if applied == self.batch_size:
                    continue  # behind: fetch the next batch straight away
            except (httpx.HTTPError, OSError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("feed_source_unavailable", feed=self.name, error=self.last_error)
                backoff = min(backoff * 2, 10.0)
            try:
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            except TimeoutError:
                pass
