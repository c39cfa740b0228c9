"""Dukcapil tests run against the real stack: registry, gateway and the simulator as a
real HTTP peer (``stack.url("dukcapil_sim")``)."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kkb.bootstrap import as_service
from kkb.stack import DUKCAPIL_SIM, Stack
from tests.registry import clients


@pytest.fixture(scope="session")
def registry_url(stack: Stack) -> str:
    return stack.url("registry")


@pytest.fixture(scope="session")
def sim_url(stack: Stack) -> str:
    return stack.url(DUKCAPIL_SIM)


@pytest.fixture(scope="session")
def client_for(registry_url: str) -> Iterator[clients.ClientFactory]:
    """``client_for(role, region, pii=..., purpose=...)``: the registry called as that
    caller (a signed identity, as the gateway forwards it)."""
    made: list[httpx.Client] = []

    def make(*args: Any, **kwargs: Any) -> httpx.Client:
        client = clients.caller(registry_url, *args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def sim(sim_url: str) -> Iterator[httpx.Client]:
    """The simulator's admin endpoints, reset to normal before and after each test."""
    with httpx.Client(base_url=sim_url, timeout=10) as client:
        client.post("/_sim/reset").raise_for_status()
        yield client
        client.post("/_sim/reset").raise_for_status()


def fetch(db_url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of a query run as the registry role (for checks the API does not expose)."""

    async def run() -> list[dict[str, Any]]:
        async with as_service(db_url, "registry") as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    return asyncio.run(run())
