"""The change feed: no event skipped when transactions commit out of order, none applied
twice, aborted transactions never visible — proven with concurrent writers and a real
consumer pulling over HTTP."""

import asyncio
import random
import uuid

from sqlalchemy import text

from common.db import make_engine, make_sessionmaker
from common.feed import Position, emit, read_feed
from common.feed_consumer import FeedConsumer
from common.http import service_client
from common.settings import CommonSettings
from kkb.bootstrap import as_service
from kkb.database import service_url

WRITERS = 40
EVENTS_PER_WRITER = 10


async def test_concurrent_writers_every_event_exactly_once(db_url, stack):
    async with as_service(db_url, "interventions") as conn:
        await conn.execute("CREATE TABLE test_feed_seen (event_id uuid, position text)")

    writer_engine = make_engine(service_url(db_url, "registry"), "registry", pool_size=WRITERS)
    consumer_engine = make_engine(service_url(db_url, "interventions"), "interventions")
    committed: set[str] = set()
    rng = random.Random(7)

    async def writer(n: int) -> None:
        async with writer_engine.connect() as conn:
            tx = await conn.begin()
            ids = []
            for _ in range(EVENTS_PER_WRITER):
                ids.append(await emit(conn, "test.happened", "test", uuid.uuid4(), {"w": n}))
                # Random delays make transactions that started later commit earlier.
                await asyncio.sleep(rng.random() * 0.05)
            if n % 10 == 3:
                await tx.rollback()  # aborted work must never reach consumers
            else:
                await tx.commit()
                committed.update(str(i) for i in ids)

    mine: list[int] = []  # test events applied; the stack's other tests share this feed

    async def apply(session, events) -> None:
        rows = [{"e": e.event_id, "p": e.position} for e in events if e.type == "test.happened"]
        if rows:
            await session.execute(
                text("INSERT INTO test_feed_seen (event_id, position) VALUES (:e, :p)"), rows
            )
        mine.append(len(rows))

    client = service_client(
        stack.url("registry"), caller="interventions", secret=CommonSettings().internal_secret
    )
    consumer = FeedConsumer(
        "test-registry", client, make_sessionmaker(consumer_engine), apply, batch_size=7
    )
    writers = asyncio.gather(*(writer(n) for n in range(WRITERS)))
    while not writers.done():
        await consumer.poll_once()
        await asyncio.sleep(0.003)
    await writers
    # The horizon is cluster-wide: another database's long writing transaction (say, a
    # bulk import) delays the feed without losing anything, so wait for the tail.
    deadline = asyncio.get_running_loop().time() + 120
    while sum(mine) < len(committed) and asyncio.get_running_loop().time() < deadline:
        if not await consumer.poll_once():
            await asyncio.sleep(0.05)
    while await consumer.poll_once():
        pass

    async with consumer_engine.connect() as conn:
        seen = [
            str(r[0])
            for r in await conn.execute(
                text("SELECT event_id FROM test_feed_seen ORDER BY position")
            )
        ]
    await client.aclose()
    await writer_engine.dispose()
    await consumer_engine.dispose()

    assert len(committed) == WRITERS * EVENTS_PER_WRITER * 9 // 10
    assert len(seen) == len(set(seen)), "an event was applied twice"
    assert set(seen) == committed, "events skipped or aborted events delivered"


async def test_feed_holds_back_events_behind_an_open_transaction(db_url):
    """A later transaction's event is not served while an earlier one is still open."""
    engine = make_engine(service_url(db_url, "registry"), "registry")
    async with engine.connect() as slow, engine.connect() as fast, engine.connect() as reader:
        head = Position.decode(None).encode()
        while True:  # the current head, once nothing else is in flight
            page = await read_feed(reader, head, 100000)
            await reader.commit()
            if not page["events"]:
                break
            head = page["next"]
        slow_tx = await slow.begin()
        await emit(slow, "test.slow", "test", uuid.uuid4(), {})
        async with fast.begin():
            await emit(fast, "test.fast", "test", uuid.uuid4(), {})
        page = await read_feed(reader, head, 100)
        await reader.commit()
        assert page["events"] == [], "served an event past an in-progress transaction"
        await slow_tx.commit()
        for _ in range(600):  # other databases' writers may still hold the horizon back
            page = await read_feed(reader, head, 100)
            await reader.commit()
            if len(page["events"]) >= 2:
                break
            await asyncio.sleep(0.1)
        mine = [e["type"] for e in page["events"] if e["type"].startswith("test.")]
        assert mine == ["test.slow", "test.fast"]
    await engine.dispose()


def test_position_cursor_round_trip():
    assert Position.decode(Position(123, 45).encode()) == Position(123, 45)
    assert Position.decode(None) == Position(0, 0)


async def test_feed_order_is_numeric_across_a_digit_boundary(db_url):
    """Transaction ids grow from 9,999 to 10,000 on a young server: the feed must serve
    xid 9 before xid 10 (text order would put "10" first and skip "9" for good)."""
    engine = make_engine(service_url(db_url, "registry"), "registry")
    async with engine.begin() as conn:
        for xid in (9, 10):
            await conn.execute(
                text(
                    "INSERT INTO outbox_event (xid, event_id, type, aggregate_type,"
                    " aggregate_id, payload)"
                    " VALUES (CAST(CAST(:x AS text) AS xid8), :e, 'test.ordered', 'test', :a,"
                    " '{}')"
                ),
                {"x": str(xid), "e": uuid.uuid4(), "a": uuid.uuid4()},
            )
    async with engine.connect() as reader:
        first = await read_feed(reader, "8.0", 1)
        second = await read_feed(reader, first["next"], 1)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM outbox_event WHERE type = 'test.ordered'"))
    await engine.dispose()
    served = [page["events"][0]["position"].split(".")[0] for page in (first, second)]
    assert served == ["9", "10"]
