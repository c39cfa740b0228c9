"""Forwarding to the services: pooled clients, per-route timeouts, clean failures.

The transport is httpx with the aiohttp transport: httpx's own pool is slow under
concurrency (httpx issue #3215); bench/bench_gateway.py keeps the comparison.
"""

import httpx
from httpx_aiohttp import AiohttpTransport
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from common.errors import ProblemError
from common.http import IDENTITY_HEADER

# Hop-by-hop headers (RFC 9110 §7.6.1) and anything a client could use to pose as
# someone else: identity is only what the gateway itself verified.
_DROP_REQUEST = {
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "authorization",
    "content-length",
    "cookie",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
}
_DROP_RESPONSE = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "server",
    "date",
    "x-request-id",  # the gateway sets its own, the same id
}
_IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


def make_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AiohttpTransport(),
        timeout=httpx.Timeout(10.0, connect=2.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
    )


def forward_headers(request: Request, identity_token: str, request_id: str) -> dict[str, str]:
    headers = {
        k: v
        for k, v in request.headers.items()
        if k not in _DROP_REQUEST and not k.startswith("x-kkb-")
    }
    headers[IDENTITY_HEADER] = identity_token
    headers["x-request-id"] = request_id
    return headers


async def forward(
    client: httpx.AsyncClient,
    service: str,
    base_url: str,
    request: Request,
    *,
    identity_token: str,
    timeout_s: float,
) -> Response:
    body = await request.body()
    url = base_url + request.url.path
    headers = forward_headers(request, identity_token, request.state.request_id)
    outgoing = client.build_request(
        request.method,
        url,
        params=request.url.query or None,
        headers=headers,
        content=body,
        timeout=httpx.Timeout(timeout_s, connect=2.0),
    )
    # A connection refused never reached the service, so one retry is safe for any
    # method; a timeout might have, so only idempotent methods are retried after one.
    attempts = 2
    for attempt in range(attempts):
        try:
            upstream = await client.send(outgoing, stream=True)
            break
        # httpx-aiohttp reports a refused connection as ConnectTimeout, so both mean
        # "not reached"; a read timeout is the only sign the service got the request.
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if attempt + 1 == attempts:
                raise unavailable(service) from exc
        except httpx.TimeoutException as exc:
            if request.method not in _IDEMPOTENT or attempt + 1 == attempts:
                raise timed_out(service, timeout_s) from exc
        except httpx.HTTPError as exc:
            raise unavailable(service) from exc
    headers_out = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE}
    content_length = upstream.headers.get("content-length")
    if content_length is not None and int(content_length) < 1024 * 1024:
        content = await upstream.aread()
        await upstream.aclose()
        return Response(content, status_code=upstream.status_code, headers=headers_out)
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=headers_out,
        background=_Close(upstream),
    )


class _Close:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    async def __call__(self) -> None:
        await self.response.aclose()


def unavailable(service: str) -> ProblemError:
    return ProblemError(
        503,
        "service_unavailable",
        detail={
            "en": f"The {service} service is unavailable; try again shortly.",
            "id": f"Layanan {service} sedang tidak tersedia; coba lagi sebentar lagi.",
        },
        headers={"Retry-After": "5"},
        extra={"service": service},
    )


def timed_out(service: str, timeout_s: float) -> ProblemError:
    return ProblemError(
        504,
        "service_timeout",
        title={"en": "Service timed out", "id": "Layanan tidak menjawab tepat waktu"},
        detail={
            "en": f"The {service} service did not answer within {timeout_s:g}s.",
            "id": f"Layanan {service} tidak menjawab dalam {timeout_s:g} detik.",
        },
        extra={"service": service},
    )
