"""Registry API tests: real HTTP against the registry process of the ``stack`` fixture."""

import asyncio
import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from kkb.bootstrap import as_service
from kkb.stack import Stack
from tests.registry import clients


@pytest.fixture(scope="session")
def registry_url(stack: Stack) -> str:
    return stack.url("registry")


@pytest.fixture(scope="session")
def client_for(registry_url: str) -> Iterator[clients.ClientFactory]:
    """``client_for(role, region, pii=..., purpose=...)``: a client signed as that caller."""
    made: list[httpx.Client] = []

    def make(*args, **kwargs) -> httpx.Client:
        client = clients.caller(registry_url, *args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def operator(client_for) -> httpx.Client:
    """Village operator of Kali Nilam with the personal-data right and a purpose."""
    return client_for("village_operator", "61.04.16.2007")


@pytest.fixture(scope="session")
def feed(registry_url: str) -> Iterator[httpx.Client]:
    client = clients.service(registry_url)
    yield client
    client.close()


class FeedWatch:
    """What the registry committed to its outbox between two moments, in feed order.

    Read from the outbox table itself: the feed serves the same rows but only once
    every older transaction on the whole server has ended, which a long transaction in
    any other database can delay for minutes. test_registry_feed.py proves the feed
    serves these events.
    """

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    async def _query(self, sql: str, *args):
        async with as_service(self.db_url, "registry") as conn:
            return await conn.fetch(sql, *args)

    def position(self) -> tuple[int, int]:
        rows = asyncio.run(
            self._query(
                "SELECT xid::text::bigint AS xid, id FROM outbox_event"
                " ORDER BY xid DESC, id DESC LIMIT 1"
            )
        )
        return (rows[0]["xid"], rows[0]["id"]) if rows else (0, 0)

    def since(self, position: tuple[int, int]) -> list[dict]:
        rows = asyncio.run(
            self._query(
                """
                SELECT xid::text || '.' || id AS position, type, aggregate_id::text,
                       region_code, payload::text AS payload
                FROM outbox_event
                WHERE (xid::text::bigint, id) > ($1, $2) ORDER BY xid, id
                """,
                *position,
            )
        )
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]


@pytest.fixture(scope="session")
def watch(db_url: str) -> FeedWatch:
    return FeedWatch(db_url)


@pytest.fixture(scope="session")
def outbox_size(db_url: str) -> Callable[[], int]:
    """Committed events in the registry outbox, read directly: immediate, unlike the
    feed, which waits for every older transaction on the server to end."""

    async def count() -> int:
        async with as_service(db_url, "registry") as conn:
            return await conn.fetchval("SELECT count(*) FROM outbox_event")

    return lambda: asyncio.run(count())
