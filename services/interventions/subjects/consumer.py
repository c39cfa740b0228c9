"""Keeping the subject projection: the registry feed applied batch by batch, and a
one-off lookup of a subject the feed has not brought yet."""

import asyncio
import uuid

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.app import start_background
from common.feed import FeedEvent
from common.feed_consumer import FeedConsumer
from common.http import service_client
from services.interventions.subjects import repository as repo
from services.interventions.subjects.projection import Batch, State, from_lookup, subject_ids

log = structlog.get_logger()

REGISTRY_FEED = "registry"


async def apply_registry_batch(session: AsyncSession, events: list[FeedEvent]) -> None:
    """Apply a batch set-based: one read of the subjects it touches, the events in feed
    order in memory, then one upsert and one refresh of the households involved."""
    wanted = [i for e in events for i in subject_ids(e.type, e.payload)]
    batch = Batch(states=await repo.load_states(session, wanted))
    for event in events:
        batch.apply(event.type, event.payload, event.position, event.occurred_at)
    await repo.upsert(session, [batch.states[i] for i in sorted(batch.changed)])
    await repo.upsert_lokus(session, batch.lokus.values())
    await repo.repoint_merged(session, batch.merges)
    await repo.refresh_households(session, batch.households)


async def lookup_subject(
    client: httpx.AsyncClient, db: AsyncSession | AsyncConnection, subject_id: uuid.UUID
) -> State | None:
    """Fetch a subject the feed has not delivered yet and keep it; None when the
    registry does not know it. A row the feed wrote meanwhile is left as it is."""
    resp = await client.get(f"/internal/subjects/{subject_id}")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    state = from_lookup(resp.json())
    await repo.upsert(db, [state], overwrite=False)
    return state


def registry_client(app: FastAPI) -> httpx.AsyncClient:
    return service_client(
        app.state.settings.registry_url,
        caller="interventions",
        secret=app.state.common.internal_secret,
        timeout_s=app.state.common.service_timeout_s,
    )


async def start_registry_consumer(app: FastAPI) -> None:
    settings = app.state.settings
    consumer = FeedConsumer(
        REGISTRY_FEED,
        app.state.registry_client,
        app.state.sessionmaker,
        apply_registry_batch,
        batch_size=settings.feed_batch_size,
        idle_sleep_s=settings.feed_poll_s,
    )
    app.state.registry_consumer = consumer
    start_background(app, _run(consumer, app))


async def _run(consumer: FeedConsumer, app: FastAPI) -> None:
    """The consumer retries its source; a failure applying a batch (a bug or the database
    down) must not end the task either, or the projection would silently stop."""
    while not app.state.stop.is_set():
        try:
            await consumer.run(app.state.stop)
        except Exception as exc:  # noqa: BLE001
            consumer.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("registry_feed_apply_failed", error=consumer.last_error)
            try:
                await asyncio.wait_for(app.state.stop.wait(), timeout=2.0)
            except TimeoutError:
                pass
