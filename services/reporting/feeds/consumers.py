"""The two feed consumers of the reporting service, and the rebuild from position zero."""

import asyncio
from dataclasses import dataclass

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.app import start_background
from common.feed import FeedEvent
from common.feed_consumer import ApplyBatch, FeedConsumer
from common.http import service_client
from services.reporting.feeds.interventions import apply_interventions_batch
from services.reporting.feeds.registry import apply_registry_batch

log = structlog.get_logger()

REGISTRY_FEED = "registry"
INTERVENTIONS_FEED = "interventions"
APPLY: dict[str, ApplyBatch] = {
    REGISTRY_FEED: apply_registry_batch,
    INTERVENTIONS_FEED: apply_interventions_batch,
}
# Everything the feeds build; publications are not rebuilt, they are frozen.
READ_MODELS = (
    "person",
    "person_residence",
    "person_target_window",
    "household",
    "krs_assessment",
    "krs_status",
    "measurement",
    "growth_child_period",
    "growth_village_period",
    "growth_status",
    "delivery",
    "referral",
    "referral_transition",
    "tpk_visit",
    "site",
    "site_level",
    "lokus",
)


def source_clients(
    registry_url: str, interventions_url: str, secret: str, timeout_s: float
) -> dict[str, httpx.AsyncClient]:
    return {
        REGISTRY_FEED: service_client(
            registry_url, caller="reporting", secret=secret, timeout_s=timeout_s
        ),
        INTERVENTIONS_FEED: service_client(
            interventions_url, caller="reporting", secret=secret, timeout_s=timeout_s
        ),
    }


async def start_consumers(app: FastAPI) -> None:
    settings = app.state.settings
    common = app.state.common
    app.state.feed_clients = source_clients(
        settings.registry_url,
        settings.interventions_url,
        common.internal_secret,
        common.service_timeout_s,
    )
    app.state.consumers = {}
    if not settings.consume_feeds:
        return
    for name, apply in APPLY.items():
        consumer = FeedConsumer(
            name,
            app.state.feed_clients[name],
            app.state.sessionmaker,
            apply,
            batch_size=settings.feed_batch_size,
            idle_sleep_s=settings.feed_poll_s,
        )
        app.state.consumers[name] = consumer
        start_background(app, _keep_running(consumer, app.state.stop))


async def stop_consumers(app: FastAPI) -> None:
    for client in getattr(app.state, "feed_clients", {}).values():
        await client.aclose()


async def _keep_running(consumer: FeedConsumer, stop: asyncio.Event) -> None:
    """A batch that fails to apply (a bug, the database away) must not end the task:
    the consumer would silently stop and the figures go stale."""
    while not stop.is_set():
        try:
            await consumer.run(stop)
        except Exception as exc:  # noqa: BLE001
            consumer.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("feed_apply_failed", feed=consumer.name, error=consumer.last_error)
            try:
                await asyncio.wait_for(stop.wait(), timeout=2.0)
            except TimeoutError:
                pass


@dataclass(frozen=True)
class RebuildResult:
    events: dict[str, int]
    positions: dict[str, str]


async def _fetch(client: httpx.AsyncClient, after: str, limit: int) -> dict:
    resp = await client.get("/internal/feed", params={"after": after, "limit": limit})
    resp.raise_for_status()
    return resp.json()


async def rebuild(
    sessionmaker: async_sessionmaker[AsyncSession],
    clients: dict[str, httpx.AsyncClient],
    *,
    batch_size: int = 5000,
) -> RebuildResult:
    """Empty the read models, reset the cursors and replay both feeds to their heads, in
    one transaction: readers keep seeing the old figures until the new ones are complete
    (DELETE, not TRUNCATE, which would block them), and running consumers wait on the
    cursor lock, then find the cursor moved and go on from there."""
    counts = dict.fromkeys(APPLY, 0)
    positions = dict.fromkeys(APPLY, "")
    async with sessionmaker() as session, session.begin():
        for name in APPLY:
            await session.execute(
                text("INSERT INTO feed_cursor (feed) VALUES (:f) ON CONFLICT DO NOTHING"),
                {"f": name},
            )
        await session.execute(
            text("SELECT feed FROM feed_cursor WHERE feed = ANY(:f) FOR UPDATE"),
            {"f": list(APPLY)},
        )
        for table in READ_MODELS:
            await session.execute(text(f"DELETE FROM {table}"))
        for name, apply in APPLY.items():
            after = ""
            last_at = None
            while True:
                page = await _fetch(clients[name], after, batch_size)
                events = [FeedEvent.from_json(e) for e in page["events"]]
                if events:
                    await apply(session, events)
                    counts[name] += len(events)
                    last_at = events[-1].occurred_at
                after = page["next"]
                if not page["has_more"]:
                    break
            positions[name] = after
            await session.execute(
                text(
                    "UPDATE feed_cursor SET position = :p, events_applied = :n,"
                    " last_event_at = :at, updated_at = now() WHERE feed = :f"
                ),
                {"p": after, "n": counts[name], "at": last_at, "f": name},
            )
        # The planner's statistics describe the emptied tables until autovacuum comes
        # round; the coverage pass plans badly without them.
        for table in READ_MODELS:
            await session.execute(text(f"ANALYZE {table}"))
    log.info("reporting_rebuilt", events=counts, positions=positions)
    return RebuildResult(events=counts, positions=positions)
