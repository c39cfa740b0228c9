"""Forwarding to the services: pooled clients, per-route timeouts, clean failures.

Three interchangeable transports, chosen by ``GATEWAY_PROXY_TRANSPORT``: httpx with its
own pool (slow under concurrency, httpx issue #3215), httpx over the ``httpx-aiohttp``
transport, and aiohttp's client directly. ``bench/bench_gateway.py`` measures them side
by side; the default is the fastest there.

Retries: a connection that was refused never reached the service, so it is retried once
for any method; a timeout after the request was sent is retried only for idempotent
methods, never for POST or PATCH.
"""

from typing import Literal, Protocol

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from yarl import URL

from common.errors import ProblemError
from common.http import IDENTITY_HEADER

Transport = Literal["httpx", "httpx-aiohttp", "aiohttp"]

# Hop-by-hop headers (RFC 9110 §7.6.1) and anything a client could use to pose as
# someone else: identity is only what the gateway itself verified.
_DROP_REQUEST = frozenset(
    {
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
        "x-request-id",  # replaced by the id the gateway settled on
    }
)
_DROP_RESPONSE = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "server",
        "date",
        "x-request-id",  # the gateway sets its own, the same id
    }
)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_BUFFER_LIMIT = 1024 * 1024  # larger answers are streamed through
_CONNECT_TIMEOUT_S = 2.0
_ATTEMPTS = 2


def forward_headers(request: Request, identity_token: str, request_id: str) -> dict[str, str]:
    headers = {
        k: v
        for k, v in request.headers.items()
        if k not in _DROP_REQUEST and not k.startswith("x-kkb-")
    }
    headers[IDENTITY_HEADER] = identity_token
    headers["x-request-id"] = request_id
    return headers


def target_url(base_url: str, request: Request) -> str:
    """The service's URL for this request: the path and query exactly as the client
    sent them (still percent-encoded), so the service decodes them as the gateway did."""
    scope = request.scope
    url = base_url + (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if scope["query_string"]:
        url += "?" + scope["query_string"].decode("latin-1")
    return url


async def request_body(request: Request) -> bytes:
    """The body, skipping the receive channel when the request says it has none."""
    headers = request.headers
    if "content-length" not in headers and "transfer-encoding" not in headers:
        return b""
    return await request.body()


def _response_headers(items) -> dict[str, str]:
    return {k: v for k, v in items if k.lower() not in _DROP_RESPONSE}


class Forwarder(Protocol):
    async def forward(
        self,
        service: str,
        base_url: str,
        request: Request,
        *,
        identity_token: str,
        timeout_s: float,
    ) -> Response: ...

    async def aclose(self) -> None: ...


class HttpxForwarder:
    def __init__(self, *, aiohttp_transport: bool, max_connections: int = 200) -> None:
        self.client = httpx.AsyncClient(
            transport=AiohttpTransport() if aiohttp_transport else None,
            timeout=httpx.Timeout(10.0, connect=_CONNECT_TIMEOUT_S),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def forward(
        self,
        service: str,
        base_url: str,
        request: Request,
        *,
        identity_token: str,
        timeout_s: float,
    ) -> Response:
        outgoing = self.client.build_request(
            request.method,
            target_url(base_url, request),
            headers=forward_headers(request, identity_token, request.state.request_id),
            content=await request_body(request),
            timeout=httpx.Timeout(timeout_s, connect=_CONNECT_TIMEOUT_S),
        )
        for attempt in range(_ATTEMPTS):
            last = attempt + 1 == _ATTEMPTS
            try:
                upstream = await self.client.send(outgoing, stream=True)
                break
            # httpx-aiohttp reports a refused connection as ConnectTimeout, so both mean
            # "not reached"; a read timeout is the only sign the service got the request.
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if last:
                    raise unavailable(service) from exc
            except httpx.TimeoutException as exc:
                if request.method not in _IDEMPOTENT or last:
                    raise timed_out(service, timeout_s) from exc
            except httpx.HTTPError as exc:
                raise unavailable(service) from exc
        headers = _response_headers(upstream.headers.items())
        length = upstream.headers.get("content-length")
        if length is not None and int(length) < _BUFFER_LIMIT:
            try:
                # Raw bytes: the body keeps its content-encoding, like its headers.
                content = b"".join([chunk async for chunk in upstream.aiter_raw()])
            finally:
                await upstream.aclose()
            return Response(content, status_code=upstream.status_code, headers=headers)
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers=headers,
            background=_Close(upstream.aclose),
        )

    async def aclose(self) -> None:
        await self.client.aclose()


class AiohttpForwarder:
    def __init__(self, max_connections: int = 200) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=30),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def forward(
        self,
        service: str,
        base_url: str,
        request: Request,
        *,
        identity_token: str,
        timeout_s: float,
    ) -> Response:
        body = await request_body(request)
        url = target_url(base_url, request)
        headers = forward_headers(request, identity_token, request.state.request_id)
        timeout = aiohttp.ClientTimeout(sock_connect=_CONNECT_TIMEOUT_S, sock_read=timeout_s)
        for attempt in range(_ATTEMPTS):
            last = attempt + 1 == _ATTEMPTS
            try:
                upstream = await self.session.request(
                    request.method,
                    # encoded=True: forward the path exactly as the client sent it.
                    URL(url, encoded=True),
                    headers=headers,
                    data=body or None,
                    timeout=timeout,
                    allow_redirects=False,
                )
                break
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                if last:
                    raise unavailable(service) from exc
            except TimeoutError as exc:
                if request.method not in _IDEMPOTENT or last:
                    raise timed_out(service, timeout_s) from exc
            except aiohttp.ClientError as exc:
                raise unavailable(service) from exc
        headers_out = _response_headers(upstream.headers.items())
        if upstream.content_length is not None and upstream.content_length < _BUFFER_LIMIT:
            try:
                content = await upstream.read()
            except TimeoutError as exc:
                raise timed_out(service, timeout_s) from exc
            except aiohttp.ClientError as exc:
                raise unavailable(service) from exc
            finally:
                upstream.release()
            return Response(content, status_code=upstream.status, headers=headers_out)
        return StreamingResponse(
            upstream.content.iter_chunked(64 * 1024),
            status_code=upstream.status,
            headers=headers_out,
            background=_Close(_release(upstream)),
        )

    async def aclose(self) -> None:
        await self.session.close()


def _release(response: aiohttp.ClientResponse):
    async def release() -> None:
        response.release()

    return release


class _Close:
    def __init__(self, close) -> None:
        self.close = close

    async def __call__(self) -> None:
        await self.close()


def make_forwarder(transport: Transport) -> Forwarder:
    if transport == "aiohttp":
        return AiohttpForwarder()
    return HttpxForwarder(aiohttp_transport=transport == "httpx-aiohttp")


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
