"""The gateway's fast identity signer produces what services accept, and nothing more."""

import time

import jwt
import pytest

from common.identity import Identity, IdentityError, IdentityExpired, Role, decode_identity
from gateway.identity_signer import IdentitySigner

SECRET = "an-internal-secret-for-tests-0123456789abcdef"
IDENTITY = Identity(
    sub="01935c9e-0000-7000-8000-000000000001",
    role=Role.SECTOR_OFFICER,
    region="61.04",
    sector="health",
    scopes=(),
    pii=True,
    purpose="service_delivery",
    request_id="req-1",
    lang="en",
)


def test_services_decode_it_to_the_same_identity() -> None:
    token = IdentitySigner(SECRET).sign(IDENTITY)
    assert decode_identity(token, SECRET) == IDENTITY
    # A standard JWT: any HS256 implementation reads the same claims.
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="kkb-internal")
    assert claims["iss"] == "kkb-gateway"
    assert claims["exp"] - claims["iat"] == 60
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_another_secret_or_a_changed_claim_is_refused() -> None:
    token = IdentitySigner(SECRET).sign(IDENTITY)
    with pytest.raises(IdentityError):
        decode_identity(token, "another-internal-secret-0123456789abcdefgh")
    header, payload, signature = token.split(".")
    forged = IdentitySigner("another-internal-secret-0123456789abcdefgh").sign(
        IDENTITY.model_copy(update={"role": Role.ADMIN, "sector": None})
    )
    with pytest.raises(IdentityError):
        decode_identity(f"{header}.{forged.split('.')[1]}.{signature}", SECRET)


def test_it_expires_after_a_minute() -> None:
    old = IdentitySigner(SECRET).sign(IDENTITY, now=time.time() - 120)
    with pytest.raises(IdentityExpired):
        decode_identity(old, SECRET)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError):
        IdentitySigner("short")
