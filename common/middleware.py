"""One pure-ASGI middleware for what every request needs: request id, language,
body-size limit, access log and Prometheus metrics.

Pure ASGI rather than BaseHTTPMiddleware: the gateway sits on every call and the
per-request overhead matters (see bench/).
"""

import time
import uuid

import orjson
import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import ProblemError, problem_body
from common.i18n import current_lang, negotiate

log = structlog.get_logger()

REQUESTS = Counter("kkb_http_requests_total", "HTTP requests", ["app", "method", "route", "status"])
LATENCY = Histogram(
    "kkb_http_request_duration_seconds",
    "HTTP request latency",
    ["app", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}

# Paths that take files (posyandu CSVs, civil-registry extracts, bulk deliveries) get the
# larger upload limit and, at the gateway, the longer upload timeout.
UPLOAD_SUFFIXES = ("/upload", "/uploads", "/import", "/imports", "/bulk", "/csv", "/zscores")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, app_name: str, body_limit: int, upload_limit: int | None = None
    ) -> None:
        self.app = app
        self.app_name = app_name
        self.default_limit = body_limit
        self.upload_limit = upload_limit or body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id")
        if not rid or len(rid) > 128:
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        lang = negotiate(_header(scope, b"accept-language"), default="en")
        scope["state"]["lang"] = lang
        current_lang.set(lang)
        structlog.contextvars.bind_contextvars(request_id=rid)
        start = time.perf_counter()
        status_holder = {"status": 500}

        limit = (
            self.upload_limit
            if scope.get("path", "").endswith(UPLOAD_SUFFIXES)
            else self.default_limit
        )
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send, rid, limit)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            await self._too_large(scope, send, rid, limit)
            status_holder["status"] = 413
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            status = status_holder["status"]
            REQUESTS.labels(self.app_name, method, route_path, str(status)).inc()
            LATENCY.labels(self.app_name, method, route_path).observe(elapsed)
            if scope.get("path") not in _QUIET_PATHS:
                # The route template, never the concrete path: no identifiers in logs.
                log.info(
                    "request",
                    method=method,
                    route=route_path,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")

    async def _too_large(self, scope: Scope, send: Send, rid: str, limit: int) -> None:
        problem = ProblemError(
            413,
            detail={
                "en": f"Request body exceeds {limit} bytes.",
                "id": f"Isi permintaan melebihi {limit} byte.",
            },
        )
        body = problem_body(problem)
        body["request_id"] = rid
        payload = orjson.dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-request-id", rid.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class _BodyTooLarge(Exception):
    pass
