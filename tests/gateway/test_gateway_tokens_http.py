"""Access tokens through real HTTP: every way a token can be wrong is a 401 problem+json;
lockout, refresh rotation with reuse detection, and revocation of clients and users."""

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.auth_helpers import PASSWORD, make_user, password_token
from tests.gateway.conftest import gateway_signing_key, start_gateway, wait_for

PROBLEM = "application/problem+json"


def _claims(gateway_url: str, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": gateway_url,
        "aud": "kkb-api",
        "sub": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "role": "regency_officer",
        "region": "61.04",
        "pii": True,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key, claims: dict, kid: str, alg: str = "ES256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _call(gateway_url: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{gateway_url}/v1/regions/61.04", headers={"Authorization": f"Bearer {token}"}
    )


def _assert_401(resp: httpx.Response, code: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert resp.json()["code"] == code, resp.json()
    assert resp.headers["www-authenticate"].startswith("Bearer")


def test_a_correctly_forged_token_is_accepted(stack, db_url, gateway_url):
    """The control case: the same construction as the refused tokens below works."""
    key = gateway_signing_key(db_url)
    resp = _call(gateway_url, _sign(key.private_key, _claims(gateway_url), key.kid))
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (lambda now: {"exp": now - 120, "iat": now - 900}, "token_expired"),
        (lambda now: {"nbf": now + 600}, "token_not_yet_valid"),
        (lambda now: {"iss": "https://evil.example"}, "token_wrong_issuer"),
        (lambda now: {"aud": "another-api"}, "token_wrong_audience"),
        (lambda now: {"role": "emperor"}, "token_invalid_claim"),
        (
            lambda now: {"region": "61.04.16.2007", "role": "analyst", "pii": True},
            "token_invalid_claim",
        ),
        (lambda now: {"exp": None}, "token_missing_claim"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "wrong-issuer",
        "wrong-audience",
        "unknown-role",
        "analyst-with-pii",
        "no-exp",
    ],
)
def test_bad_claims_are_refused(stack, db_url, gateway_url, overrides, code):
    key = gateway_signing_key(db_url)
    claims = _claims(gateway_url, **overrides(int(time.time())))
    _assert_401(_call(gateway_url, _sign(key.private_key, claims, key.kid)), code)


def test_wrong_signature_unknown_kid_alg_none_and_confusion(stack, db_url, gateway_url):
    key = gateway_signing_key(db_url)
    claims = _claims(gateway_url)
    stranger = ec.generate_private_key(ec.SECP256R1())
    _assert_401(_call(gateway_url, _sign(stranger, claims, key.kid)), "token_bad_signature")
    _assert_401(_call(gateway_url, _sign(stranger, claims, "no-such-kid")), "token_unknown_key")

    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{_b64(claims)}."
    _assert_401(_call(gateway_url, unsigned), "token_algorithm_not_allowed")

    # HS256 keyed with the public key: the classic algorithm-confusion attack.
    public_pem = key.verification_key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    signing_input = f"{header}.{_b64(claims)}".encode()
    import hashlib
    import hmac

    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    confused = signing_input.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    _assert_401(_call(gateway_url, confused), "token_algorithm_not_allowed")

    _assert_401(_call(gateway_url, "not-a-jwt"), "token_malformed")
    no_bearer = httpx.get(f"{gateway_url}/v1/regions/61", headers={"Authorization": "Basic x"})
    _assert_401(no_bearer, "token_missing")


def test_tampered_claims_break_the_signature(stack, db_url, gateway_url):
    username = make_user(db_url, "tpk_cadre", "61.04.16.2007")
    token = password_token(gateway_url, username)
    assert _call(gateway_url, token).status_code == 200
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(role="admin", region="")
    _assert_401(_call(gateway_url, f"{header}.{_b64(claims)}.{signature}"), "token_bad_signature")


def _token_request(gateway_url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{gateway_url}/v1/auth/token", data=form)


def test_lockout_after_five_wrong_passwords(stack, db_url, gateway_url):
    username = make_user(db_url, "village_operator", "61.04.16.2007")
    for _ in range(4):
        wrong = _token_request(
            gateway_url, grant_type="password", username=username, password="wrong-password-1"
        )
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"
    fifth = _token_request(
        gateway_url, grant_type="password", username=username, password="wrong-password-1"
    )
    assert fifth.status_code == 429, fifth.text
    assert fifth.json()["code"] == "account_locked"
    assert fifth.headers["content-type"].startswith(PROBLEM)
    # GATEWAY_LOCKOUT_MINUTES defaults to 15.
    assert 14 * 60 < int(fifth.headers["retry-after"]) <= 15 * 60

    right = _token_request(gateway_url, grant_type="password", username=username, password=PASSWORD)
    assert right.status_code == 429
    assert right.json()["code"] == "account_locked"
    assert "access_token" not in right.json()
    indonesian = httpx.post(
        f"{gateway_url}/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        headers={"Accept-Language": "id"},
    )
    assert "dikunci" in indonesian.json()["detail"]


def test_refresh_rotation_and_reuse_detection(stack, db_url, gateway_url):
    username = make_user(db_url, "health_worker", "61.04.16")
    first = _token_request(gateway_url, grant_type="password", username=username, password=PASSWORD)
    assert first.status_code == 200
    r1 = first.json()["refresh_token"]

    second = _token_request(gateway_url, grant_type="refresh_token", refresh_token=r1)
    assert second.status_code == 200, second.text
    r2 = second.json()["refresh_token"]
    assert r2 != r1
    me = httpx.get(
        f"{gateway_url}/v1/me",
        headers={"Authorization": f"Bearer {second.json()['access_token']}"},
    )
    assert me.json()["role"] == "health_worker"
    assert me.json()["region"] == "61.04.16"

    third = _token_request(gateway_url, grant_type="refresh_token", refresh_token=r2)
    assert third.status_code == 200
    r3 = third.json()["refresh_token"]

    # r1 was already exchanged: someone replays a stolen token. The whole family dies,
    # including r3, which the legitimate client holds.
    replay = _token_request(gateway_url, grant_type="refresh_token", refresh_token=r1)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    after = _token_request(gateway_url, grant_type="refresh_token", refresh_token=r3)
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"
    unknown = _token_request(gateway_url, grant_type="refresh_token", refresh_token="nonsense")
    assert unknown.status_code == 400


def _admin(gateway_url: str, db_url: str, region: str = "61.04") -> httpx.Client:
    username = make_user(db_url, "admin", region)
    token = password_token(gateway_url, username)
    return httpx.Client(
        base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_admin_creates_user_and_deactivation_stops_its_token(stack, db_url, gateway_url):
    with _admin(gateway_url, db_url) as admin:
        name = f"operator-{uuid.uuid4().hex[:8]}"
        created = admin.post(
            "/v1/admin/users",
            json={
                "username": name,
                "password": "a-long-password-1",
                "role": "village_operator",
                "region": "61.04.16.2007",
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["pii"] is True  # the role's default
        token = password_token(gateway_url, name, "a-long-password-1")
        assert _call(gateway_url, token).status_code == 200

        moved = admin.patch(f"/v1/admin/users/{name}", json={"region": "61.04.16.2008"})
        assert moved.status_code == 200
        assert moved.json()["region"] == "61.04.16.2008"
        fresh = password_token(gateway_url, name, "a-long-password-1")
        me = httpx.get(f"{gateway_url}/v1/me", headers={"Authorization": f"Bearer {fresh}"})
        assert me.json()["region"] == "61.04.16.2008"

        assert admin.patch(f"/v1/admin/users/{name}", json={"active": False}).status_code == 200
        _assert_401(_call(gateway_url, fresh), "token_revoked")
        relogin = _token_request(
            gateway_url, grant_type="password", username=name, password="a-long-password-1"
        )
        assert relogin.status_code == 400

        listed = admin.get("/v1/admin/users", params={"limit": 200}).json()["items"]
        assert all(u["region"].startswith("61.04") for u in listed)


def test_revoked_client_token_stops_within_seconds_on_every_replica(
    stack, db_url, gateway_url, gateway_logs
):
    replica = start_gateway(stack, db_url, gateway_logs, GATEWAY_SECURITY_REFRESH_S="1")
    try:
        with _admin(gateway_url, db_url) as admin:
            created = admin.post(
                "/v1/admin/clients",
                json={"name": "dinkes provinsi", "scopes": ["growth:read"], "region": "61.04"},
            )
            assert created.status_code == 201, created.text
            client = created.json()
            issued = _token_request(
                gateway_url,
                grant_type="client_credentials",
                client_id=client["client_id"],
                client_secret=client["client_secret"],
            )
            assert issued.status_code == 200
            token = issued.json()["access_token"]
            assert issued.json()["scope"] == "growth:read"
            assert _call(gateway_url, token).status_code == 200
            assert _call(replica.url("gateway"), token).status_code == 200

            revoked = admin.post(f"/v1/admin/clients/{client['client_id']}/revoke")
            assert revoked.status_code == 200
            revoked_at = time.monotonic()
            _assert_401(_call(gateway_url, token), "token_revoked")
            wait_for(
                lambda: _call(replica.url("gateway"), token).status_code == 401,
                timeout_s=5,
                what="the other replica to learn of the revocation",
            )
            assert time.monotonic() - revoked_at < 5
            again = _token_request(
                gateway_url,
                grant_type="client_credentials",
                client_id=client["client_id"],
                client_secret=client["client_secret"],
            )
            assert again.status_code == 401
            assert again.json()["error"] == "invalid_client"
    finally:
        replica.stop()


def test_admin_changes_client_scopes_for_new_tokens(stack, db_url, gateway_url):
    with _admin(gateway_url, db_url) as admin:
        client = admin.post(
            "/v1/admin/clients",
            json={"name": "puskesmas system", "scopes": ["growth:read"], "region": "61.04.16"},
        ).json()

        def token() -> dict:
            issued = _token_request(
                gateway_url,
                grant_type="client_credentials",
                client_id=client["client_id"],
                client_secret=client["client_secret"],
            )
            assert issued.status_code == 200, issued.text
            return jwt.decode(issued.json()["access_token"], options={"verify_signature": False})

        assert token()["scopes"] == ["growth:read"]
        changed = admin.patch(
            f"/v1/admin/clients/{client['client_id']}",
            json={"scopes": ["growth:read", "registry:read"]},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["scopes"] == ["growth:read", "registry:read"]
        assert token()["scopes"] == ["growth:read", "registry:read"]

        unknown = admin.patch(
            f"/v1/admin/clients/{client['client_id']}", json={"scopes": ["everything"]}
        )
        assert unknown.status_code == 422
        assert unknown.json()["code"] == "unknown_scope"
        wider = admin.patch(f"/v1/admin/clients/{client['client_id']}", json={"region": "61"})
        assert wider.status_code == 403
        assert wider.json()["code"] == "region_out_of_scope"
        assert token()["region"] == "61.04.16"
