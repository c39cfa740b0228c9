"""Forwarding behaviour that needs other settings or a service that misbehaves: a
stand-in reporting service (slow, counting requests, declaring its operations), the
permission check before forwarding, request ids end to end, CORS and rate limits."""

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from common.identity import decode_identity
from common.settings import CommonSettings
from tests.auth_helpers import make_user, password_token
from tests.conftest import free_port
from tests.gateway.conftest import FakeService, serve_fake, start_gateway

ALLOWED_ORIGIN = "https://app.example"
_RESPONSES = {"200": {"description": "OK"}}
FAKE_OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "stand-in reporting", "version": "0"},
    "paths": {
        "/v1/reporting/slow": {
            "get": {"x-kkb-operation": "reporting.indicator.read", "responses": _RESPONSES},
            "post": {"x-kkb-operation": "reporting.indicator.read", "responses": _RESPONSES},
        },
        "/v1/reporting/publications/{period}": {
            "post": {"x-kkb-operation": "reporting.publish", "responses": _RESPONSES},
        },
        "/v1/reporting/echo": {
            "get": {"x-kkb-operation": "reporting.indicator.read", "responses": _RESPONSES},
        },
    },
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeService]:
    service = FakeService(FAKE_OPENAPI, delays={"/v1/reporting/slow": 3.0})
    stop = serve_fake(service)
    yield service
    stop()


@pytest.fixture(scope="module")
def variant(stack, db_url, gateway_logs, fake) -> Iterator[str]:
    gateway = start_gateway(
        stack,
        db_url,
        gateway_logs,
        GATEWAY_REPORTING_URL=fake.url,
        GATEWAY_DEFAULT_TIMEOUT_S="1",
        GATEWAY_CORS_ORIGINS=f'["{ALLOWED_ORIGIN}"]',
    )
    # Serving the merged document makes the gateway fetch every service's, so its
    # permission check knows the stand-in's routes before the first test.
    assert httpx.get(gateway.url("gateway") + "/openapi.json", timeout=60).status_code == 200
    yield gateway.url("gateway")
    gateway.stop()


def _client(stack, db_url, base: str, role: str, region: str) -> httpx.Client:
    token = password_token(stack.url("gateway"), make_user(db_url, role, region))
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_slow_post_is_504_and_never_retried(stack, db_url, variant, fake):
    with _client(stack, db_url, variant, "analyst", "61.04") as client:
        started = time.monotonic()
        resp = client.post("/v1/reporting/slow", json={"n": 1})
        elapsed = time.monotonic() - started
        assert resp.status_code == 504, resp.text
        assert resp.json()["code"] == "service_timeout"
        assert resp.json()["service"] == "reporting"
        assert 0.9 < elapsed < 2.5  # GATEWAY_DEFAULT_TIMEOUT_S=1, one attempt
        time.sleep(0.5)
        assert len(fake.requests_to("/v1/reporting/slow", "POST")) == 1

        # A GET is idempotent: after a timeout it is tried once more.
        resp = client.get("/v1/reporting/slow")
        assert resp.status_code == 504
        time.sleep(0.5)
        assert len(fake.requests_to("/v1/reporting/slow", "GET")) == 2


def test_forbidden_operation_is_refused_before_forwarding(stack, db_url, variant, fake):
    path = "/v1/reporting/publications/2026-10"
    with _client(stack, db_url, variant, "village_operator", "61.04.16.2007") as operator:
        refused = operator.post(path, json={})
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
        assert refused.json()["operation"] == "reporting.publish"
        assert fake.requests_to(path) == [], "the gateway must not forward a refused call"
    with _client(stack, db_url, variant, "regency_officer", "61.04") as officer:
        assert officer.post(path, json={}).status_code == 200
        assert len(fake.requests_to(path, "POST")) == 1


def test_request_id_and_identity_reach_the_service(stack, db_url, variant, fake):
    rid = f"trace-{uuid.uuid4().hex[:12]}"
    with _client(stack, db_url, variant, "analyst", "61.04") as client:
        resp = client.get(
            "/v1/reporting/echo",
            headers={"X-Request-ID": rid, "Cookie": "session=abc", "X-KKB-Identity": "forged"},
        )
        assert resp.status_code == 200
        assert resp.headers["x-request-id"] == rid
        seen = fake.requests_to("/v1/reporting/echo")[-1].headers
        assert seen["x-request-id"] == rid
        identity = decode_identity(seen["x-kkb-identity"], CommonSettings().internal_secret)
        assert identity.request_id == rid
        assert (identity.role, identity.region) == ("analyst", "61.04")
        # The caller's own credentials never travel further than the gateway.
        assert "authorization" not in seen
        assert "cookie" not in seen

        generated = client.get("/v1/reporting/echo")
        seen = fake.requests_to("/v1/reporting/echo")[-1].headers
        assert generated.headers["x-request-id"] == seen["x-request-id"]

        # Path and query travel exactly as sent, percent-encoding included.
        client.get("/v1/reporting/echo?q=kali%20nilam&region=61.04&x=%2F")
        assert fake.requests_to("/v1/reporting/echo")[-1].query == (
            "q=kali%20nilam&region=61.04&x=%2F"
        )


def test_request_id_reaches_a_real_service(stack, db_url):
    """The registry's own 404 carries the request id it received from the gateway."""
    token = password_token(stack.url("gateway"), make_user(db_url, "analyst", "61"))
    rid = f"trace-{uuid.uuid4().hex[:12]}"
    resp = httpx.get(
        f"{stack.url('gateway')}/v1/regions/99.99",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": rid},
    )
    assert resp.status_code == 404
    body = resp.json()
    assert body["instance"] == "/v1/regions/99.99"
    assert body["request_id"] == rid
    assert resp.headers["x-request-id"] == rid


def test_cors_allows_only_the_configured_origins(variant):
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{variant}/v1/households",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-kkb-purpose",
            },
        )

    allowed = preflight(ALLOWED_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "x-kkb-purpose" in allowed.headers["access-control-allow-headers"].lower()

    refused = preflight("https://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    simple = httpx.get(f"{variant}/healthz", headers={"Origin": ALLOWED_ORIGIN})
    assert simple.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    other = httpx.get(f"{variant}/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_shared_gateway_without_cors_setting_allows_no_origin(stack):
    resp = httpx.options(
        f"{stack.url('gateway')}/v1/households",
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in resp.headers


@pytest.fixture(scope="module")
def limited(stack, db_url, gateway_logs) -> Iterator[str]:
    gateway = start_gateway(
        stack,
        db_url,
        gateway_logs,
        GATEWAY_RATE_LIMIT_PER_S="2",
        GATEWAY_RATE_LIMIT_BURST="3",
        # Nothing listens there: the merged OpenAPI must say reporting is missing.
        GATEWAY_REPORTING_URL=f"http://127.0.0.1:{free_port()}",
    )
    yield gateway.url("gateway")
    gateway.stop()


def test_rate_limit_per_client_with_retry_after(stack, db_url, limited):
    """Burst 3, 2 per second: of 12 requests sent at once, at most 3 plus what refilled
    while they were answered get through; the others are 429 with Retry-After."""
    tokens = [
        password_token(stack.url("gateway"), make_user(db_url, "analyst", "61")) for _ in range(2)
    ]

    async def burst(token: str, n: int) -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(
            base_url=limited, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            started = time.monotonic()
            answers = await asyncio.gather(*(client.get("/v1/regions/61") for _ in range(n)))
            return list(answers), time.monotonic() - started

    answers, elapsed = asyncio.run(burst(tokens[0], 12))
    ok = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(ok) + len(refused) == 12
    assert 3 <= len(ok) <= 3 + 2 * elapsed + 1, (len(ok), elapsed)
    assert refused, "nothing was rate limited"
    assert refused[0].json()["code"] == "rate_limited"
    assert refused[0].headers["content-type"].startswith("application/problem+json")
    # At 2 per second the next token is under a second away, rounded up.
    assert {a.headers["retry-after"] for a in refused} == {"1"}

    # Another client has a bucket of its own.
    other, _ = asyncio.run(burst(tokens[1], 1))
    assert other[0].status_code == 200
    time.sleep(1)
    again, _ = asyncio.run(burst(tokens[0], 1))
    assert again[0].status_code == 200


def test_merged_document_names_a_service_that_is_down(limited):
    document = httpx.get(f"{limited}/openapi.json", timeout=60).json()
    assert document["info"]["x-kkb-missing-services"] == ["reporting"]
    assert "reporting" in document["info"]["description"]
    assert not any(p.startswith("/v1/reporting") for p in document["paths"])
    assert any(p.startswith("/v1/regions") for p in document["paths"])
    assert "/v1/auth/token" in document["paths"]
