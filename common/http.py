"""HTTP clients for service-to-service calls: pooled, with timeouts, identity attached."""

import uuid

import httpx

from common.identity import IDENTITY_HEADER, encode_identity, service_identity

__all__ = ["IDENTITY_HEADER", "service_client", "service_token"]


def service_token(caller: str, secret: str, request_id: str | None = None) -> str:
    identity = service_identity(caller, request_id=request_id or uuid.uuid4().hex)
    return encode_identity(identity, secret)


def service_client(
    base_url: str, *, caller: str, secret: str, timeout_s: float = 10.0
) -> httpx.AsyncClient:
    """A client that authenticates as service ``caller`` on every request."""

    async def attach_identity(request: httpx.Request) -> None:
        rid = request.headers.get("x-request-id")
        request.headers[IDENTITY_HEADER] = service_token(caller, secret, rid)

    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        event_hooks={"request": [attach_identity]},
    )
