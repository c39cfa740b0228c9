"""Operator commands as subprocesses against the test database: ``kkb users add``,
``kkb clients add`` and ``kkb keys rotate`` (with the key-rotation behaviour it causes)."""

import os
import re
import subprocess
import sys
import time
import uuid

import httpx
import jwt

from kkb import database
from tests.gateway.conftest import start_gateway, wait_for


def kkb(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run ``kkb`` the way an operator would: DATABASE_URL names the server, --db the
    database."""
    server = database.with_database(db_url, "postgres")
    env = {**os.environ, "DATABASE_URL": server, "KKB_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "kkb", *args, "--db", database.database_of(db_url)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _token(gateway_url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{gateway_url}/v1/auth/token", data=form)


def test_users_add_reads_the_password_from_stdin(stack, db_url, gateway_url):
    name = f"cadre-{uuid.uuid4().hex[:8]}"
    done = kkb(
        db_url,
        "users",
        "add",
        name,
        "--role",
        "tpk_cadre",
        "--scope",
        "61.04.16.2007",
        stdin="cadre-password-123\n",
    )
    assert done.returncode == 0, done.stderr
    assert name in done.stdout
    assert "cadre-password-123" not in done.stdout + done.stderr

    token = _token(gateway_url, grant_type="password", username=name, password="cadre-password-123")
    assert token.status_code == 200, token.text
    me = httpx.get(
        f"{gateway_url}/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    ).json()
    assert (me["role"], me["region"], me["pii"]) == ("tpk_cadre", "61.04.16.2007", True)

    again = kkb(
        db_url,
        "users",
        "add",
        name,
        "--role",
        "tpk_cadre",
        "--scope",
        "61.04.16.2007",
        stdin="cadre-password-123\n",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_users_add_refuses_bad_input(stack, db_url):
    short = kkb(
        db_url, "users", "add", "x-short", "--role", "analyst", "--scope", "61", stdin="short\n"
    )
    assert short.returncode == 2
    # A village operator cannot be scoped to a whole province.
    too_wide = kkb(
        db_url,
        "users",
        "add",
        f"op-{uuid.uuid4().hex[:6]}",
        "--role",
        "village_operator",
        "--scope",
        "61",
        stdin="long-enough-password\n",
    )
    assert too_wide.returncode != 0
    assert "too wide" in too_wide.stderr
    no_such_role = kkb(
        db_url,
        "users",
        "add",
        "y",
        "--role",
        "emperor",
        "--scope",
        "61",
        stdin="long-enough-password\n",
    )
    assert no_such_role.returncode == 2


def test_clients_add_prints_the_secret_once_and_it_works(stack, db_url, gateway_url):
    done = kkb(
        db_url,
        "clients",
        "add",
        "dinkes kalbar",
        "--scopes",
        "growth:read,registry:read",
        "--region",
        "61",
    )
    assert done.returncode == 0, done.stderr
    client_id = re.search(r"client_id:\s+(\S+)", done.stdout).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", done.stdout).group(1)

    basic = httpx.post(
        f"{gateway_url}/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert basic.status_code == 200, basic.text
    claims = jwt.decode(basic.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "system"
    assert claims["scopes"] == ["growth:read", "registry:read"]
    assert claims["region"] == "61"
    assert claims["pii"] is False  # no pii:read scope (SCENARIOS 8: no NIKs)

    wrong = _token(
        gateway_url,
        grant_type="client_credentials",
        client_id=client_id,
        client_secret=secret + "x",
    )
    assert wrong.status_code == 401
    unknown = kkb(db_url, "clients", "add", "x", "--scopes", "everything", "--region", "61")
    assert unknown.returncode != 0
    assert "unknown scopes" in unknown.stderr


def _kids(gateway: str) -> list[str]:
    return [k["kid"] for k in httpx.get(f"{gateway}/.well-known/jwks.json").json()["keys"]]


def test_key_rotation_old_tokens_live_until_expiry(stack, db_url, gateway_logs):
    """Rotation with `kkb keys rotate` on a gateway whose tokens live 15 s and whose
    retired keys stay published 1 s longer: before rotation a token is signed with K1;
    after it new tokens carry K2, the JWKS lists both, both tokens work; once K1's
    tokens have all expired, K1 leaves the JWKS and its token is refused."""
    gateway = start_gateway(
        stack,
        db_url,
        gateway_logs,
        GATEWAY_ISSUER="",
        GATEWAY_ACCESS_TOKEN_TTL_S="15",
        GATEWAY_KEY_RETIRE_GRACE_S="1",
        GATEWAY_SECURITY_REFRESH_S="0.5",
    )
    url = gateway.url("gateway")
    try:
        name = f"rotator-{uuid.uuid4().hex[:8]}"
        assert (
            kkb(
                db_url,
                "users",
                "add",
                name,
                "--role",
                "analyst",
                "--scope",
                "61",
                stdin="rotation-password-1\n",
            ).returncode
            == 0
        )

        def login() -> str:
            resp = _token(url, grant_type="password", username=name, password="rotation-password-1")
            assert resp.status_code == 200, resp.text
            return resp.json()["access_token"]

        def works(token: str) -> bool:
            me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"})
            return me.status_code == 200

        old = login()
        k1 = jwt.get_unverified_header(old)["kid"]
        assert _kids(url)[0] == k1

        before_rotation = time.monotonic()
        rotated = kkb(db_url, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        k2 = re.search(r"new signing key ([A-Za-z0-9_-]+)", rotated.stdout).group(1)
        assert k2 != k1

        wait_for(lambda: _kids(url)[:1] == [k2], timeout_s=5, what="the gateway to load K2")
        assert k1 in _kids(url)
        new = login()
        assert jwt.get_unverified_header(new)["kid"] == k2
        assert works(old), "a token signed before the rotation must keep working"
        assert works(new)
        # The shared gateway signs with K2 too once it reloads; its own tokens are fine.
        wait_for(
            lambda: _kids(stack.url("gateway"))[:1] == [k2],
            timeout_s=10,
            what="the shared gateway to load K2",
        )

        # K1 is published for ttl (15 s) + grace (1 s) after its retirement.
        wait_for(lambda: k1 not in _kids(url), timeout_s=30, what="K1 to leave the JWKS")
        # Retired after before_rotation, so published at least until 16 s after it.
        assert time.monotonic() - before_rotation >= 15.5
        assert not works(old)
        assert works(login())
    finally:
        gateway.stop()
