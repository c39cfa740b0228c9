"""Services' OpenAPI documents: fetched lazily, once, cached, retried after failures."""

import asyncio

import httpx

from common.identity import decode_identity
from gateway.service_docs import ServiceDocs

SECRET = "a-test-internal-secret-that-is-long-enough-0123"
DOC = {
    "openapi": "3.1.0",
    "paths": {"/v1/regions/{code}": {"get": {"x-kkb-operation": "registry.region.read"}}},
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Service:
    """A stand-in service answering /openapi.json, or failing while ``down``."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.down = False

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        await asyncio.sleep(0.01)
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=DOC)


def make(service: Service, clock: Clock) -> ServiceDocs:
    client = httpx.AsyncClient(transport=httpx.MockTransport(service.handle))
    return ServiceDocs(
        client, {"registry": "http://registry"}, SECRET, ttl_s=300, retry_s=10, clock=clock
    )


async def test_fetched_once_for_concurrent_callers_with_service_identity() -> None:
    service, clock = Service(), Clock()
    docs = make(service, clock)
    results = await asyncio.gather(
        *(docs.operations("registry", "GET", "/v1/regions/61") for _ in range(20))
    )
    assert results == [("registry.region.read",)] * 20
    assert len(service.calls) == 1
    identity = decode_identity(service.calls[0].headers["x-kkb-identity"], SECRET)
    assert identity.service == "gateway"


async def test_unreachable_service_is_retried_only_after_retry_interval() -> None:
    service, clock = Service(), Clock()
    service.down = True
    docs = make(service, clock)
    assert await docs.operations("registry", "GET", "/v1/regions/61") is None
    assert await docs.document("registry") is None
    assert len(service.calls) == 1
    service.down = False
    clock.now = 9.9
    assert await docs.document("registry") is None
    clock.now = 10.1
    assert await docs.document("registry") == DOC
    assert len(service.calls) == 2


async def test_stale_copy_served_while_refreshing_and_kept_if_refresh_fails() -> None:
    service, clock = Service(), Clock()
    docs = make(service, clock)
    assert await docs.document("registry") == DOC
    clock.now = 301
    service.down = True
    assert await docs.document("registry") == DOC  # stale, refresh started
    await asyncio.sleep(0.05)
    assert len(service.calls) == 2
    assert await docs.operations("registry", "GET", "/v1/regions/61") == ("registry.region.read",)


async def test_a_request_does_not_wait_long_for_a_slow_first_fetch() -> None:
    class Slow(Service):
        async def handle(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.3)
            return await super().handle(request)

    service = Slow()
    client = httpx.AsyncClient(transport=httpx.MockTransport(service.handle))
    docs = ServiceDocs(client, {"registry": "http://registry"}, SECRET, request_wait_s=0.05)
    started = asyncio.get_running_loop().time()
    assert await docs.operations("registry", "GET", "/v1/regions/61") is None
    assert asyncio.get_running_loop().time() - started < 0.25
    # The fetch went on; the merged document (no wait limit) gets it.
    assert await docs.document("registry") == DOC
    assert len(service.calls) == 1
    assert await docs.operations("registry", "GET", "/v1/regions/61") == ("registry.region.read",)
