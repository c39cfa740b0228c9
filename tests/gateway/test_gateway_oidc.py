"""A second, external OIDC issuer: its JWKS served over HTTP on a free local port, its
tokens signed by a key generated here. The gateway accepts them and nothing else."""

import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from tests.auth_helpers import make_user, password_token
from tests.gateway.conftest import serve_json, start_gateway

ISSUER = "https://sso.kalbarprov.example/realms/kkb"
AUDIENCE = "kkb-api"
KID = "idp-rsa-2026"
JWKS_PATH = "/realms/kkb/protocol/openid-connect/certs"


@pytest.fixture(scope="module")
def idp_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def published(key: rsa.RSAPrivateKey, kid: str) -> dict:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig"}


@pytest.fixture(scope="module")
def idp_documents(idp_key) -> dict:
    """What the identity provider serves; tests may change it (key rotation)."""
    return {JWKS_PATH: {"keys": [published(idp_key, KID)]}}


@pytest.fixture(scope="module")
def oidc_gateway(stack, db_url, gateway_logs, idp_documents) -> Iterator[str]:
    url, stop_idp = serve_json(idp_documents)
    gateway = start_gateway(
        stack,
        db_url,
        gateway_logs,
        GATEWAY_OIDC_ISSUER=ISSUER,
        GATEWAY_OIDC_AUDIENCE=AUDIENCE,
        GATEWAY_OIDC_JWKS_URL=url + JWKS_PATH,
        GATEWAY_OIDC_JWKS_MIN_RELOAD_S="1",
    )
    try:
        yield gateway.url("gateway")
    finally:
        gateway.stop()
        stop_idp()


def idp_token(key, *, kid: str = KID, alg: str = "RS256", **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": f"sso|{uuid.uuid4()}",
        "iat": now,
        "exp": now + 300,
        "role": "health_worker",
        "region": "61.04.16",
        "pii": True,
        **overrides,
    }
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None},
        key,
        algorithm=alg,
        headers={"kid": kid},
    )


def _get(gateway: str, path: str, token: str) -> httpx.Response:
    return httpx.get(f"{gateway}{path}", headers={"Authorization": f"Bearer {token}"})


def test_external_tokens_are_accepted_and_forwarded(oidc_gateway, idp_key):
    token = idp_token(idp_key)
    me = _get(oidc_gateway, "/v1/me", token)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "health_worker"
    assert me.json()["region"] == "61.04.16"
    assert me.json()["sub"].startswith("sso|")
    assert "registry.measurement.write" in me.json()["operations"]
    region = _get(oidc_gateway, "/v1/regions/61.04.16", token)
    assert region.status_code == 200, region.text
    assert region.json()["name"]


def test_the_built_in_issuer_still_works_beside_it(stack, db_url, oidc_gateway):
    token = password_token(stack.url("gateway"), make_user(db_url, "analyst", "61"))
    assert _get(oidc_gateway, "/v1/me", token).json()["role"] == "analyst"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda k: idp_token(k, iss="https://sso.other.example/realms/kkb"), "token_wrong_issuer"),
        (lambda k: idp_token(k, aud="another-api"), "token_wrong_audience"),
        (
            lambda k: idp_token(k, exp=int(time.time()) - 120, iat=int(time.time()) - 600),
            "token_expired",
        ),
        (lambda k: idp_token(rsa.generate_private_key(65537, 2048)), "token_bad_signature"),
        (
            lambda k: idp_token(rsa.generate_private_key(65537, 2048), kid="unknown"),
            "token_unknown_key",
        ),
        (
            lambda k: idp_token(ec.generate_private_key(ec.SECP256R1()), alg="ES256"),
            "token_algorithm_not_allowed",
        ),
        (lambda k: idp_token(k, role="tpk_cadre", region="61"), "token_invalid_claim"),
        (lambda k: idp_token(k, role=None), "token_invalid_claim"),
    ],
    ids=[
        "other-issuer",
        "wrong-audience",
        "expired",
        "signed-by-another-key",
        "unknown-kid",
        "alg-does-not-fit-the-key",
        "region-too-wide-for-role",
        "no-role",
    ],
)
def test_other_tokens_are_refused(oidc_gateway, idp_key, make, code):
    resp = _get(oidc_gateway, "/v1/me", make(idp_key))
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == code


def test_a_key_the_provider_adds_later_is_fetched_on_first_sight(oidc_gateway, idp_documents):
    """The provider rotates: its JWKS gains a key, the gateway learns of it when a token
    names that kid, without waiting for its periodic refresh."""
    newer = rsa.generate_private_key(65537, 2048)
    token = idp_token(newer, kid="idp-rsa-2027")
    time.sleep(1.1)  # GATEWAY_OIDC_JWKS_MIN_RELOAD_S=1 since the last fetch
    assert _get(oidc_gateway, "/v1/me", token).status_code == 401
    idp_documents[JWKS_PATH]["keys"].append(published(newer, "idp-rsa-2027"))
    time.sleep(1.1)
    me = _get(oidc_gateway, "/v1/me", token)
    assert me.status_code == 200, me.text


def test_the_shared_gateway_does_not_trust_the_external_issuer(stack, idp_key):
    resp = _get(stack.url("gateway"), "/v1/me", idp_token(idp_key))
    assert resp.status_code == 401
    assert resp.json()["code"] == "token_wrong_issuer"
