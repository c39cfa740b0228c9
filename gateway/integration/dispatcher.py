"""The dispatcher: reads the merged feed with its own cursor and queues each event for
every subscription that may see it, in the transaction that moves the cursor.

Queued deliveries are rows of ``webhook_delivery``; the senders take it from there. The
cursor row is locked and re-checked before a batch is queued, so two gateway replicas
never queue a batch twice (and the unique (subscription, event) key would refuse it).
"""

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import store
from gateway.integration import repository as repo
from gateway.integration.cursor import CompositeCursor
from gateway.integration.fanout import FanOut, Subscriber, fan_out
from gateway.integration.merge import merge_pages
from gateway.integration.settings import IntegrationSettings
from gateway.integration.sources import FeedSources

log = structlog.get_logger()

CURSOR_NAME = "webhooks"
PURGE_EVERY_S = 3600.0


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sources: FeedSources,
        settings: IntegrationSettings,
        notify: Callable[[set[uuid.UUID]], None],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.sources = sources
        self.settings = settings
        self.notify = notify

    async def poll_once(self) -> bool:
        """Queue one batch; True when more events are ready at once."""
        async with self.sessionmaker() as session:
            position = await repo.cursor_position(session, CURSOR_NAME)
        cursor = CompositeCursor.decode(position)
        limit = self.settings.events_scan_limit
        fetched = await self.sources.fetch(cursor, limit)
        merged = merge_pages(
            fetched.pages, scan_limit=sum(len(p.events) for p in fetched.pages.values())
        )
        if not merged.moves:
            return False
        events = [event for _, event in merged.scanned]
        touched: set[uuid.UUID] = set()
        async with self.sessionmaker() as session, session.begin():
            if await repo.lock_cursor(session, CURSOR_NAME) != position:
                return True  # another replica queued this batch meanwhile
            subscribers = [Subscriber.from_row(r) for r in await repo.dispatch_targets(session)]
            plan = fan_out(subscribers, events)
            await repo.insert_deliveries(
                session, plan.deliveries, self.settings.webhook_retry_window_s
            )
            await self._audit_unmasked(session, subscribers, plan)
            await repo.move_cursor(
                session, CURSOR_NAME, cursor.advanced(merged.moves).encode(), len(events)
            )
            touched = {d["subscription_id"] for d in plan.deliveries}
        if touched:
            self.notify(touched)
        return merged.has_more

    async def _audit_unmasked(
        self, session: AsyncSession, subscribers: list[Subscriber], plan: FanOut
    ) -> None:
        """Unmasked personal data sent to a subscriber is an unmasked read: audited."""
        by_id = {s.id: s for s in subscribers}
        entries = []
        for subscription_id, (event_ids, persons) in plan.unmasked.items():
            sub = by_id[subscription_id]
            entries.append(
                {
                    "at": datetime.now(UTC),
                    "actor": sub.identity.sub,
                    "role": str(sub.identity.role),
                    "client_id": sub.client_id,
                    "operation": "events.read",
                    "method": "POST",
                    "route": f"webhook:{subscription_id}",
                    "record_type": "event",
                    "record_ids": event_ids,
                    "subject_ids": sorted(persons),
                    "fields": ["birth_date"],
                    "purpose": sub.purpose,
                    "request_id": f"webhook-{uuid.uuid4().hex}",
                    "outcome": 200,
                    "outcome_kind": "allowed",
                }
            )
        if entries:
            await store.append_audit(session, entries)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``; back off while sources or the database are down."""
        idle = self.settings.webhook_poll_s
        backoff = idle
        purged_at = 0.0
        while not stop.is_set():
            try:
                more = await self.poll_once()
                backoff = idle
                if time.monotonic() - purged_at > PURGE_EVERY_S:
                    async with self.sessionmaker() as session, session.begin():
                        await repo.purge(session, self.settings.webhook_retention_days)
                    purged_at = time.monotonic()
                if more:
                    continue
            except Exception as exc:  # noqa: BLE001 - keep dispatching after any fault
                log.warning("webhook_dispatch_failed", error=f"{type(exc).__name__}: {exc}")
                backoff = min(backoff * 2, 10.0)
            try:
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            except TimeoutError:
                pass
