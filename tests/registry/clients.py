"""HTTP clients that call the registry directly with a signed identity, as the gateway
would, for any role, region and personal-data right."""

import uuid
from collections.abc import Callable

import httpx

from common.http import IDENTITY_HEADER
from common.identity import Identity, encode_identity, service_identity
from common.settings import CommonSettings

ClientFactory = Callable[..., httpx.Client]


def identity_client(base_url: str, identity_for: Callable[[], Identity]) -> httpx.Client:
    secret = CommonSettings().internal_secret

    def sign(request: httpx.Request) -> None:
        # A fresh token per request: they live 60 seconds.
        request.headers[IDENTITY_HEADER] = encode_identity(identity_for(), secret)

    return httpx.Client(base_url=base_url, timeout=30.0, event_hooks={"request": [sign]})


def caller(
    base_url: str,
    role: str = "village_operator",
    region: str = "61.04.16.2007",
    *,
    pii: bool = True,
    purpose: str | None = "service_delivery",
    sector: str | None = None,
) -> httpx.Client:
    sub = f"test:{role}:{region or 'national'}"

    def identity() -> Identity:
        return Identity(
            sub=sub,
            role=role,
            region=region,
            pii=pii,
            purpose=purpose if pii else None,
            sector=sector,
            request_id=uuid.uuid4().hex,
            lang="en",
        )

    return identity_client(base_url, identity)


def service(base_url: str, name: str = "reporting") -> httpx.Client:
    return identity_client(base_url, lambda: service_identity(name, request_id=uuid.uuid4().hex))
