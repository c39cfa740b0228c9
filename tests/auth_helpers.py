"""Real users and tokens through the real gateway, for tests of any service."""

import asyncio
import uuid

import httpx

from gateway.cli import add_client, add_user
from kkb.database import service_url

PASSWORD = "test-password-123"


def make_user(
    db_url: str, role: str, region: str, sector: str | None = None, pii: bool | None = None
) -> str:
    username = f"{role.replace('_', '')}-{uuid.uuid4().hex[:8]}"
    asyncio.run(
        add_user(service_url(db_url, "gateway"), username, PASSWORD, role, region, sector, pii)
    )
    return username


def password_token(gateway_url: str, username: str, password: str = PASSWORD) -> str:
    resp = httpx.post(
        f"{gateway_url}/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def user_client(
    stack,
    db_url: str,
    role: str,
    region: str,
    sector: str | None = None,
    pii: bool | None = None,
    **headers: str,
) -> httpx.Client:
    """An httpx client for the gateway, signed in as a new user of ``role`` in ``region``."""
    username = make_user(db_url, role, region, sector, pii)
    token = password_token(stack.url("gateway"), username)
    return httpx.Client(
        base_url=stack.url("gateway"),
        timeout=30,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def system_client(stack, db_url: str, scopes: list[str], region: str) -> httpx.Client:
    client_id, secret = asyncio.run(
        add_client(service_url(db_url, "gateway"), "test client", scopes, region, None)
    )
    resp = httpx.post(
        f"{stack.url('gateway')}/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    resp.raise_for_status()
    return httpx.Client(
        base_url=stack.url("gateway"),
        timeout=30,
        headers={"Authorization": f"Bearer {resp.json()['access_token']}"},
    )
