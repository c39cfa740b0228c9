"""Access-token issuing and verification, keys and rotation, refresh tokens."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from common.identity import Role, Sector
from gateway.auth.keys import (
    KeyRing,
    SigningKey,
    VerificationKey,
    generate_signing_key,
    jwk_thumbprint,
    jwks_document,
)
from gateway.auth.tokens import (
    AccessClaims,
    AlgorithmNotAllowed,
    BadSignature,
    InvalidClaim,
    MalformedToken,
    MissingClaim,
    RefreshTokenError,
    RefreshTokenExpired,
    RefreshTokenReused,
    TokenExpired,
    TokenNotYetValid,
    TrustedIssuer,
    UnknownKey,
    WrongAudience,
    WrongIssuer,
    issue_access_token,
    issue_refresh_token,
    openid_configuration,
    rotate_refresh_token,
    verify_token,
    verify_with_any,
)

ISSUER = "https://kkb.ketapangkab.go.id"
AUDIENCE = "kkb-api"
OPERATOR = AccessClaims(role=Role.VILLAGE_OPERATOR, region="61.04.16.2007", pii=True)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_json(obj: dict) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key("ES256")


@pytest.fixture(scope="module")
def trusted(key: SigningKey) -> TrustedIssuer:
    return TrustedIssuer(ISSUER, AUDIENCE, jwks_document([key.verification_key]))


def issue(key: SigningKey, **kwargs) -> str:
    args = {"subject": "user-1", "claims": OPERATOR, "issuer": ISSUER, "audience": AUDIENCE}
    return issue_access_token(key, **(args | kwargs)).token


def test_valid_token_round_trip(key: SigningKey, trusted: TrustedIssuer) -> None:
    issued = issue_access_token(
        key, subject="user-1", claims=OPERATOR, issuer=ISSUER, audience=AUDIENCE
    )
    payload = verify_token(issued.token, trusted)
    assert payload["sub"] == "user-1"
    assert payload["role"] == "village_operator"
    assert payload["region"] == "61.04.16.2007"
    assert payload["pii"] is True
    assert payload["jti"] == issued.jti
    assert payload["exp"] - payload["iat"] == 600
    assert payload["nbf"] == payload["iat"]
    assert issued.expires_in == 600
    assert jwt.get_unverified_header(issued.token)["kid"] == key.kid
    claims = AccessClaims.from_payload(payload)
    assert claims == OPERATOR


def test_expired(key: SigningKey, trusted: TrustedIssuer) -> None:
    token = issue(key, now=datetime.now(UTC) - timedelta(minutes=11))
    with pytest.raises(TokenExpired):
        verify_token(token, trusted)


def test_not_yet_valid(key: SigningKey, trusted: TrustedIssuer) -> None:
    token = issue(key, now=datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(TokenNotYetValid):
        verify_token(token, trusted)


def test_within_leeway_is_accepted(key: SigningKey, trusted: TrustedIssuer) -> None:
    token = issue(key, now=datetime.now(UTC) + timedelta(seconds=10))
    assert verify_token(token, trusted)["sub"] == "user-1"


def test_wrong_issuer(key: SigningKey, trusted: TrustedIssuer) -> None:
    token = issue(key, issuer="https://evil.example")
    with pytest.raises(WrongIssuer):
        verify_token(token, trusted)
    with pytest.raises(WrongIssuer):
        verify_with_any(token, [trusted])


def test_wrong_audience(key: SigningKey, trusted: TrustedIssuer) -> None:
    with pytest.raises(WrongAudience):
        verify_token(issue(key, audience="other-api"), trusted)


def test_signature_by_another_key_under_our_kid(key: SigningKey, trusted: TrustedIssuer) -> None:
    forger = generate_signing_key("ES256")
    payload = jwt.decode(issue(key), options={"verify_signature": False})
    token = jwt.encode(payload, forger.private_key, algorithm="ES256", headers={"kid": key.kid})
    with pytest.raises(BadSignature):
        verify_token(token, trusted)


def test_alg_none_is_refused(key: SigningKey, trusted: TrustedIssuer) -> None:
    payload = jwt.decode(issue(key), options={"verify_signature": False})
    for alg in ("none", "None", "NONE"):
        token = f"{b64url_json({'alg': alg, 'kid': key.kid})}.{b64url_json(payload)}."
        with pytest.raises(AlgorithmNotAllowed):
            verify_token(token, trusted)


def test_hs256_signed_with_public_key_is_refused(key: SigningKey, trusted: TrustedIssuer) -> None:
    # The classic confusion: HMAC keyed with the issuer's public key, which anyone has.
    public_pem = key.verification_key.to_pem()
    payload = jwt.decode(issue(key), options={"verify_signature": False})
    payload["role"] = "admin"
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(mac)}"
    with pytest.raises(AlgorithmNotAllowed):
        verify_token(token, trusted)


def test_hmac_algorithms_cannot_be_trusted(key: SigningKey) -> None:
    jwks = jwks_document([key.verification_key])
    for algs in (("HS256",), ("ES256", "HS256"), ("none",), ()):
        with pytest.raises(ValueError):
            TrustedIssuer(ISSUER, AUDIENCE, jwks, algorithms=algs)


def test_allowed_alg_that_does_not_fit_the_key(key: SigningKey, trusted: TrustedIssuer) -> None:
    # RS256 is in the allowlist, but the kid names an EC key.
    payload = jwt.decode(issue(key), options={"verify_signature": False})
    rsa_key = generate_signing_key("RS256", rsa_bits=2048)
    token = jwt.encode(payload, rsa_key.private_key, algorithm="RS256", headers={"kid": key.kid})
    with pytest.raises(AlgorithmNotAllowed):
        verify_token(token, trusted)


def test_valid_signature_with_alg_outside_allowlist() -> None:
    # The JWK carries no "alg", so only the issuer's allowlist stands between a PS256
    # token (correctly signed) and acceptance.
    rsa_key = generate_signing_key("RS256", rsa_bits=2048)
    jwk = {k: v for k, v in rsa_key.verification_key.jwk().items() if k != "alg"}
    trusted = TrustedIssuer(ISSUER, AUDIENCE, {"keys": [jwk]}, algorithms=("RS256",))
    payload = jwt.decode(issue(rsa_key), options={"verify_signature": False})
    ps256 = jwt.encode(
        payload, rsa_key.private_key, algorithm="PS256", headers={"kid": rsa_key.kid}
    )
    with pytest.raises(AlgorithmNotAllowed):
        verify_token(ps256, trusted)
    assert verify_token(issue(rsa_key), trusted)["sub"] == "user-1"


def test_unknown_and_missing_kid(key: SigningKey, trusted: TrustedIssuer) -> None:
    payload = jwt.decode(issue(key), options={"verify_signature": False})
    unknown = jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": "nope"})
    with pytest.raises(UnknownKey):
        verify_token(unknown, trusted)
    missing = jwt.encode(payload, key.private_key, algorithm="ES256")
    with pytest.raises(UnknownKey):
        verify_token(missing, trusted)


def test_tampered_claims(key: SigningKey, trusted: TrustedIssuer) -> None:
    header, body, signature = issue(key).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(role="admin", region="")
    with pytest.raises(BadSignature):
        verify_token(f"{header}.{b64url_json(payload)}.{signature}", trusted)


def test_missing_required_claim(key: SigningKey, trusted: TrustedIssuer) -> None:
    now = int(datetime.now(UTC).timestamp())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    token = jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    with pytest.raises(MissingClaim):
        verify_token(token, trusted)


def test_malformed(trusted: TrustedIssuer) -> None:
    for token in ("", "abc", "a.b.c", "ey.ey"):
        with pytest.raises(MalformedToken):
            verify_token(token, trusted)


def test_custom_claims_are_validated() -> None:
    base = {"iss": ISSUER, "sub": "x"}
    bad = [
        {"role": "analyst", "region": "61", "pii": True},  # analysts never see personal data
        {"role": "sector_officer", "region": "61.04"},  # no sector
        {"role": "village_operator", "region": "61.0"},  # malformed region
        {"role": "village_operator", "region": "61"},  # too wide for the role
        {"role": "service", "region": ""},  # internal only
        {"role": "superuser", "region": ""},
    ]
    for claims in bad:
        with pytest.raises(InvalidClaim):
            AccessClaims.from_payload(base | claims)
    ok = AccessClaims.from_payload(
        base | {"role": "sector_officer", "region": "61.04", "sector": "public_works"}
    )
    assert ok.sector is Sector.PUBLIC_WORKS
    assert ok.pii is False


def test_claims_become_identity() -> None:
    identity = OPERATOR.identity(sub="user-1", request_id="r1", lang="id", purpose="verification")
    assert identity.role is Role.VILLAGE_OPERATOR
    assert identity.region == "61.04.16.2007"
    assert identity.may_unmask


# --- keys -------------------------------------------------------------------------------


def test_rfc7638_thumbprint_example() -> None:
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",  # noqa: E501
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_kid_is_thumbprint_of_published_jwk(key: SigningKey) -> None:
    jwk = key.verification_key.jwk()
    assert jwk["kid"] == key.kid
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in jwk
    members = json.dumps({m: jwk[m] for m in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    assert key.kid == b64url(hashlib.sha256(members.encode()).digest())


def test_pem_round_trip(key: SigningKey) -> None:
    created = datetime(2025, 1, 1, tzinfo=UTC)
    plain = SigningKey.from_pem(key.to_pem(), created_at=created)
    assert plain.kid == key.kid
    sealed = key.to_pem(password=b"correct horse")
    assert b"ENCRYPTED" in sealed
    assert SigningKey.from_pem(sealed, created_at=created, password=b"correct horse").kid == key.kid
    with pytest.raises(ValueError):
        SigningKey.from_pem(sealed, created_at=created, password=b"wrong")
    assert VerificationKey.from_pem(key.verification_key.to_pem()).kid == key.kid


def test_unsupported_curve_is_refused() -> None:
    with pytest.raises(ValueError):
        SigningKey(ec.generate_private_key(ec.SECP384R1()), datetime.now(UTC))


def test_rs256_keys_issue_verifiable_tokens() -> None:
    rsa_key = generate_signing_key("RS256", rsa_bits=2048)
    jwk = rsa_key.verification_key.jwk()
    assert (jwk["kty"], jwk["alg"]) == ("RSA", "RS256")
    trusted = TrustedIssuer(ISSUER, AUDIENCE, jwks_document([rsa_key.verification_key]))
    assert verify_token(issue(rsa_key), trusted)["role"] == "village_operator"


def test_rotation_keeps_old_tokens_valid_until_they_expire() -> None:
    t0 = datetime.now(UTC)
    old = generate_signing_key("ES256", now=t0 - timedelta(days=30))
    new = generate_signing_key("ES256", now=t0)
    ring = KeyRing(old).rotate(new, now=t0, keep_for=timedelta(minutes=11))
    assert ring.active is new
    old_token = issue(old)

    during = TrustedIssuer(ISSUER, AUDIENCE, jwks_document(ring.published(t0)))
    assert {k["kid"] for k in during.jwks["keys"]} == {old.kid, new.kid}
    assert verify_token(old_token, during)["sub"] == "user-1"
    assert verify_token(issue(ring.active), during)["sub"] == "user-1"

    later = t0 + timedelta(minutes=11, seconds=1)
    after = TrustedIssuer(ISSUER, AUDIENCE, jwks_document(ring.published(later)))
    assert [k["kid"] for k in after.jwks["keys"]] == [new.kid]
    with pytest.raises(UnknownKey):
        verify_token(old_token, after)
    assert ring.pruned(later).retired == ()


def test_second_rotation_drops_expired_retired_keys() -> None:
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    k1, k2, k3 = (generate_signing_key("ES256", now=t0) for _ in range(3))
    ring = KeyRing(k1).rotate(k2, now=t0, keep_for=timedelta(minutes=15))
    ring = ring.rotate(k3, now=t0 + timedelta(hours=1), keep_for=timedelta(minutes=15))
    assert [r.key.kid for r in ring.retired] == [k2.kid]


def test_jwks_skips_encryption_and_kidless_keys(key: SigningKey) -> None:
    jwk = key.verification_key.jwk()
    jwks = {
        "keys": [
            {**jwk, "use": "enc"},
            {k: v for k, v in jwk.items() if k != "kid"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        ]
    }
    trusted = TrustedIssuer(ISSUER, AUDIENCE, jwks)
    with pytest.raises(UnknownKey):
        verify_token(issue(key), trusted)


def test_verify_with_any_picks_the_issuer(key: SigningKey, trusted: TrustedIssuer) -> None:
    other_key = generate_signing_key("ES256")
    keycloak = TrustedIssuer(
        "https://sso.kalbarprov.go.id/realms/kkb",
        "kkb-api",
        jwks_document([other_key.verification_key]),
    )
    token = issue(other_key, issuer=keycloak.issuer)
    chosen, payload = verify_with_any(token, [trusted, keycloak])
    assert chosen is keycloak
    assert payload["iss"] == keycloak.issuer
    # Our kid presented under the other issuer's name: its JWKS does not have it.
    forged = issue(key, issuer=keycloak.issuer)
    with pytest.raises(UnknownKey):
        verify_with_any(forged, [trusted, keycloak])


# --- refresh tokens ---------------------------------------------------------------------


def test_refresh_rotation() -> None:
    t0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    first = issue_refresh_token("user-1", "web", now=t0, lifetime=timedelta(hours=8))
    assert first.token not in first.record.token_hash
    assert len(first.token) >= 43  # 32 random bytes, base64url
    assert first.record.token_hash == hashlib.sha256(first.token.encode()).hexdigest()

    t1 = t0 + timedelta(hours=1)
    rotation = rotate_refresh_token(first.token, first.record, client_id="web", now=t1)
    assert rotation.used.used_at == t1
    second = rotation.successor
    assert second.token != first.token
    assert second.record.family_id == first.record.family_id
    assert second.record.subject == "user-1"
    assert second.record.expires_at == t1 + timedelta(hours=8)

    # The used token presented again: theft signal, the whole family must be revoked.
    with pytest.raises(RefreshTokenReused) as reused:
        rotate_refresh_token(first.token, rotation.used, client_id="web", now=t1)
    assert reused.value.family_id == first.record.family_id

    third = rotate_refresh_token(second.token, second.record, client_id="web", now=t1).successor
    assert third.token not in {first.token, second.token}


def test_refresh_refusals() -> None:
    t0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    issued = issue_refresh_token("user-1", "web", now=t0, lifetime=timedelta(hours=8))
    with pytest.raises(RefreshTokenExpired):
        rotate_refresh_token(
            issued.token, issued.record, client_id="web", now=t0 + timedelta(hours=8)
        )
    with pytest.raises(RefreshTokenError):
        rotate_refresh_token("guess", issued.record, client_id="web", now=t0)
    with pytest.raises(RefreshTokenError):
        rotate_refresh_token(issued.token, issued.record, client_id="other-app", now=t0)


def test_openid_configuration() -> None:
    doc = openid_configuration(ISSUER, signing_algorithms=["ES256"], scopes_supported=["fhir:read"])
    assert doc["issuer"] == ISSUER
    assert doc["token_endpoint"] == ISSUER + "/v1/auth/token"
    assert doc["jwks_uri"] == ISSUER + "/.well-known/jwks.json"
    assert set(doc["grant_types_supported"]) == {"password", "client_credentials", "refresh_token"}
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert doc["scopes_supported"] == ["fhir:read"]
    assert "none" not in doc["id_token_signing_alg_values_supported"]
