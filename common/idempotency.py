"""``Idempotency-Key`` on POST: the same key with the same body replays the first answer;
the same key with another body is 422; a retry while the first is still running is 409.

Village connections drop mid-request; a client that retries with the same key must
never create a second delivery or registration. Keys are per caller and kept 24 hours.
"""

import hashlib
from datetime import timedelta

import orjson
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import ProblemError, problem_body
from common.http import IDENTITY_HEADER
from common.identity import IdentityError, decode_identity

IDEMPOTENCY_DDL = [
    """
    CREATE TABLE idempotency_key (
        principal text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status integer,
        content_type text,
        body bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (principal, key)
    )
    """,
]
IDEMPOTENCY_DROP = ["DROP TABLE idempotency_key"]
KEY_TTL = timedelta(hours=24)

_CLAIM = text(
    """
    WITH expired AS (
        DELETE FROM idempotency_key
        WHERE principal = :p AND key = :k AND created_at < now() - CAST(:ttl AS interval)
    )
    INSERT INTO idempotency_key (principal, key, request_hash) VALUES (:p, :k, :h)
    ON CONFLICT DO NOTHING RETURNING 1
    """
)
_LOOKUP = text(
    "SELECT request_hash, status, content_type, body FROM idempotency_key"
    " WHERE principal = :p AND key = :k"
)
_STORE = text(
    "UPDATE idempotency_key SET status = :s, content_type = :ct, body = :b"
    " WHERE principal = :p AND key = :k"
)
_RELEASE = text("DELETE FROM idempotency_key WHERE principal = :p AND key = :k")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if not key or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if len(key) > 255:
            await _send_problem(
                send,
                ProblemError(
                    400,
                    "invalid_idempotency_key",
                    detail={
                        "en": "Idempotency-Key must be at most 255 characters.",
                        "id": "Idempotency-Key paling banyak 255 karakter.",
                    },
                ),
            )
            return
        state = scope["app"].state
        principal = _principal(scope, state.common.internal_secret)
        if principal is None:
            await self.app(scope, receive, send)  # the route itself answers 401
            return

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request_hash = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        params = {"p": principal, "k": key}
        engine = state.engine
        async with engine.begin() as conn:
            claimed = (
                await conn.execute(_CLAIM, {**params, "h": request_hash, "ttl": KEY_TTL})
            ).first()
            existing = None if claimed else (await conn.execute(_LOOKUP, params)).first()

        if existing is not None:
            if existing.request_hash != request_hash:
                await _send_problem(
                    send,
                    ProblemError(
                        422,
                        "idempotency_key_reused",
                        detail={
                            "en": "This Idempotency-Key was already used with a different "
                            "request; use a new key for a new request.",
                            "id": "Idempotency-Key ini sudah dipakai untuk permintaan lain; "
                            "gunakan kunci baru.",
                        },
                    ),
                )
            elif existing.status is None:
                await _send_problem(
                    send,
                    ProblemError(
                        409,
                        "idempotency_in_progress",
                        detail={
                            "en": "The first request with this key is still being processed.",
                            "id": "Permintaan pertama dengan kunci ini masih diproses.",
                        },
                        headers={"Retry-After": "1"},
                    ),
                )
            else:
                await _replay(send, existing.status, existing.content_type, existing.body)
            return

        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        captured: dict = {"status": 500, "content_type": None, "chunks": []}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"content-type":
                        captured["content_type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            async with engine.begin() as conn:
                if captured["status"] >= 500:
                    await conn.execute(_RELEASE, params)  # a server fault may be retried
                else:
                    await conn.execute(
                        _STORE,
                        {
                            **params,
                            "s": captured["status"],
                            "ct": captured["content_type"],
                            "b": b"".join(captured["chunks"]),
                        },
                    )


def _principal(scope: Scope, secret: str) -> str | None:
    token = _header(scope, IDENTITY_HEADER.lower().encode())
    if not token:
        return None
    try:
        identity = decode_identity(token, secret)
    except IdentityError:
        return None
    return identity.client_id or identity.sub


async def _replay(send: Send, status: int, content_type: str | None, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_problem(send: Send, problem: ProblemError) -> None:
    payload = orjson.dumps(problem_body(problem))
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
