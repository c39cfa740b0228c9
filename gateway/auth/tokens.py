"""Access tokens (JWT), refresh tokens (opaque, rotated) and the discovery document.

Verification is the same for the built-in issuer and any configured OIDC issuer: a
:class:`TrustedIssuer` holds the issuer URL, the accepted audience, the JWKS (fetched
and cached by the caller) and an allowlist of asymmetric algorithms. Every failure is a
typed :class:`TokenError` with a stable ``code``; the gateway answers 401.

Algorithm confusion is closed three ways: the header ``alg`` must be in the allowlist
(which refuses ``none`` and every HMAC algorithm at construction), the key is chosen by
``kid`` from the JWKS only, and the ``alg`` must fit that key's type, curve and its own
``alg`` member.
"""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from common.identity import REGION_SCOPE_PATTERN, Identity, Role, Sector
from gateway.auth.keys import SigningKey
from gateway.authz.roles import grant_problems

ACCESS_TOKEN_LIFETIME = timedelta(minutes=10)
REFRESH_TOKEN_LIFETIME = timedelta(hours=8)
DEFAULT_LEEWAY = timedelta(seconds=30)
ACCESS_TOKEN_TYPE = "at+jwt"
DEFAULT_ALGORITHMS: tuple[str, ...] = ("ES256", "RS256")
DEFAULT_REQUIRED_CLAIMS: tuple[str, ...] = ("iss", "aud", "sub", "iat", "exp")
GRANT_TYPES = ("password", "client_credentials", "refresh_token")
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

# Asymmetric algorithms a TrustedIssuer may allow, with the key type each needs.
_KEY_TYPE_FOR_ALG = {
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "EdDSA": "OKP",
}
_CURVE_FOR_ALG = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


# --- errors -------------------------------------------------------------------------------


class TokenError(Exception):
    """A token that must not be accepted. ``code`` is stable; the gateway answers 401."""

    code = "token_invalid"
    status = 401
    message = {"id": "Token akses tidak sah.", "en": "The access token is not valid."}

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message["en"])
        self.detail = detail


class MalformedToken(TokenError):
    code = "token_malformed"
    message = {"id": "Token akses rusak.", "en": "The access token is malformed."}


class TokenExpired(TokenError):
    code = "token_expired"
    message = {
        "id": "Token akses sudah kedaluwarsa; minta token baru.",
        "en": "The access token has expired; request a new one.",
    }


class TokenNotYetValid(TokenError):
    code = "token_not_yet_valid"
    message = {
        "id": "Token akses belum berlaku; periksa jam perangkat.",
        "en": "The access token is not valid yet; check the device clock.",
    }


class WrongIssuer(TokenError):
    code = "token_wrong_issuer"
    message = {
        "id": "Token akses diterbitkan oleh pihak yang tidak dipercaya.",
        "en": "The access token comes from an untrusted issuer.",
    }


class WrongAudience(TokenError):
    code = "token_wrong_audience"
    message = {
        "id": "Token akses bukan untuk API ini.",
        "en": "The access token is not meant for this API.",
    }


class BadSignature(TokenError):
    code = "token_bad_signature"
    message = {
        "id": "Tanda tangan token akses tidak cocok.",
        "en": "The access token signature does not verify.",
    }


class AlgorithmNotAllowed(TokenError):
    code = "token_algorithm_not_allowed"
    message = {
        "id": "Algoritma tanda tangan token tidak diizinkan.",
        "en": "The token signing algorithm is not allowed.",
    }


class UnknownKey(TokenError):
    code = "token_unknown_key"
    message = {
        "id": "Kunci penanda tangan token tidak dikenal.",
        "en": "The token signing key is unknown.",
    }


class MissingClaim(TokenError):
    code = "token_missing_claim"
    message = {
        "id": "Token akses tidak lengkap.",
        "en": "The access token lacks a required claim.",
    }


class InvalidClaim(TokenError):
    code = "token_invalid_claim"
    message = {
        "id": "Isi token akses tidak sah.",
        "en": "The access token carries an invalid claim.",
    }


# --- access claims ------------------------------------------------------------------------


class AccessClaims(BaseModel):
    """The project's custom claims: who the caller is allowed to be."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Role
    region: str = Field(pattern=REGION_SCOPE_PATTERN)
    sector: Sector | None = None
    scopes: tuple[str, ...] = ()
    pii: bool = False
    client_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "AccessClaims":
        problems = grant_problems(self.role, self.region, sector=self.sector, pii=self.pii)
        if problems:
            raise ValueError(", ".join(p.code for p in problems))
        return self

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> "AccessClaims":
        try:
            return cls.model_validate(dict(payload))
        except ValidationError as exc:
            raise InvalidClaim(_first_error(exc)) from exc

    def identity(
        self, *, sub: str, request_id: str, lang: str, purpose: str | None = None
    ) -> Identity:
        """The identity forwarded to services for one request."""
        return Identity(
            sub=sub,
            role=self.role,
            region=self.region,
            sector=self.sector,
            scopes=self.scopes,
            pii=self.pii,
            client_id=self.client_id,
            purpose=purpose,
            request_id=request_id,
            lang=lang,
        )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'claims'}: {err['msg']}"


# --- issuing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime
    # Seconds of validity from issue, for the token response's ``expires_in``.
    expires_in: int


def issue_access_token(
    key: SigningKey,
    *,
    subject: str,
    claims: AccessClaims,
    issuer: str,
    audience: str,
    lifetime: timedelta = ACCESS_TOKEN_LIFETIME,
    now: datetime | None = None,
) -> IssuedToken:
    issued = now or datetime.now(UTC)
    expires = issued + lifetime
    jti = uuid.uuid4().hex
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": jti,
        **claims.model_dump(mode="json", exclude_none=True),
    }
    token = jwt.encode(
        payload,
        key.private_key,
        algorithm=key.alg,
        headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE},
    )
    return IssuedToken(token, jti, expires.replace(microsecond=0), int(lifetime.total_seconds()))


# --- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _PublishedKey:
    kty: str
    alg: str | None
    crv: str | None
    key: Any


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens the gateway accepts, with its JWKS already fetched."""

    issuer: str
    audience: str | tuple[str, ...]
    jwks: Mapping[str, Any]
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    _keys: dict[str, _PublishedKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        refused = [a for a in self.algorithms if a not in _KEY_TYPE_FOR_ALG]
        if refused or not self.algorithms:
            raise ValueError(f"only asymmetric algorithms may be trusted, not {refused}")
        object.__setattr__(self, "_keys", _parse_jwks(self.jwks))

    def key_for(self, kid: str) -> _PublishedKey | None:
        return self._keys.get(kid)


def _parse_jwks(jwks: Mapping[str, Any]) -> dict[str, _PublishedKey]:
    """Signing keys by kid; keys for encryption, without kid or unusable are skipped."""
    keys: dict[str, _PublishedKey] = {}
    for jwk in jwks.get("keys", []):
        kid, kty = jwk.get("kid"), jwk.get("kty")
        if not isinstance(kid, str) or kid in keys or jwk.get("use", "sig") != "sig":
            continue
        if kty not in set(_KEY_TYPE_FOR_ALG.values()):
            continue
        try:
            parsed = jwt.PyJWK(dict(jwk))
        except jwt.PyJWTError:
            continue
        keys[kid] = _PublishedKey(kty, jwk.get("alg"), jwk.get("crv"), parsed.key)
    return keys


def verify_token(
    token: str,
    trusted: TrustedIssuer,
    *,
    leeway: timedelta = DEFAULT_LEEWAY,
    required_claims: Sequence[str] = DEFAULT_REQUIRED_CLAIMS,
) -> dict[str, Any]:
    """The verified payload, or a :class:`TokenError` saying why not."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise MalformedToken(str(exc)) from exc
    alg = header.get("alg")
    if alg not in trusted.algorithms:
        raise AlgorithmNotAllowed(f"alg {alg!r} is not in {list(trusted.algorithms)}")
    kid = header.get("kid")
    published = trusted.key_for(kid) if isinstance(kid, str) else None
    if published is None:
        raise UnknownKey(f"kid {kid!r} is not in the issuer's JWKS")
    if not _alg_fits_key(alg, published):
        raise AlgorithmNotAllowed(f"alg {alg!r} does not fit key {kid!r}")
    try:
        return jwt.decode(
            token,
            key=published.key,
            algorithms=[alg],
            audience=trusted.audience,
            issuer=trusted.issuer,
            leeway=leeway,
            options={"require": list(required_claims)},
        )
    except jwt.PyJWTError as exc:
        raise _typed(exc) from exc


def verify_with_any(
    token: str,
    issuers: Iterable[TrustedIssuer],
    *,
    leeway: timedelta = DEFAULT_LEEWAY,
) -> tuple[TrustedIssuer, dict[str, Any]]:
    """Pick the trusted issuer named by the token's ``iss``, then verify fully with it.

    Reading ``iss`` before the signature is checked is safe: it only selects which keys
    the signature must match.
    """
    try:
        claimed = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise MalformedToken(str(exc)) from exc
    for trusted in issuers:
        if trusted.issuer == claimed:
            return trusted, verify_token(token, trusted, leeway=leeway)
    raise WrongIssuer(f"issuer {claimed!r} is not trusted")


def _alg_fits_key(alg: str, key: _PublishedKey) -> bool:
    if key.alg is not None and key.alg != alg:
        return False
    if _KEY_TYPE_FOR_ALG.get(alg) != key.kty:
        return False
    return alg not in _CURVE_FOR_ALG or _CURVE_FOR_ALG[alg] == key.crv


def _typed(exc: jwt.PyJWTError) -> TokenError:
    # Subclasses before their bases: InvalidSignatureError is a DecodeError.
    mapping: tuple[tuple[type[jwt.PyJWTError], type[TokenError]], ...] = (
        (jwt.ExpiredSignatureError, TokenExpired),
        (jwt.ImmatureSignatureError, TokenNotYetValid),
        (jwt.InvalidIssuerError, WrongIssuer),
        (jwt.InvalidAudienceError, WrongAudience),
        (jwt.InvalidSignatureError, BadSignature),
        (jwt.MissingRequiredClaimError, MissingClaim),
        (jwt.InvalidAlgorithmError, AlgorithmNotAllowed),
        (jwt.DecodeError, MalformedToken),
    )
    for source, target in mapping:
        if isinstance(exc, source):
            return target(str(exc))
    return InvalidClaim(str(exc))


# --- refresh tokens -----------------------------------------------------------------------


class RefreshTokenError(TokenError):
    code = "refresh_token_invalid"
    status = 400  # RFC 6749 section 5.2: invalid_grant
    message = {
        "id": "Token penyegar tidak sah; silakan masuk kembali.",
        "en": "The refresh token is not valid; sign in again.",
    }


class RefreshTokenExpired(RefreshTokenError):
    code = "refresh_token_expired"
    message = {
        "id": "Token penyegar sudah kedaluwarsa; silakan masuk kembali.",
        "en": "The refresh token has expired; sign in again.",
    }


class RefreshTokenReused(RefreshTokenError):
    """A token already exchanged was presented again: treat the family as stolen.

    The caller must revoke every token of ``family_id``.
    """

    code = "refresh_token_reused"
    message = {
        "id": "Token penyegar sudah pernah dipakai; semua sesi terkait dicabut.",
        "en": "The refresh token was already used; all related sessions are revoked.",
    }

    def __init__(self, family_id: str) -> None:
        super().__init__(f"family {family_id} reused")
        self.family_id = family_id


@dataclass(frozen=True)
class RefreshRecord:
    """What the database keeps about a refresh token (never the token itself)."""

    token_hash: str
    family_id: str
    subject: str
    client_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class RefreshToken:
    """A newly issued refresh token: ``token`` goes to the client once, ``record`` to the DB."""

    token: str
    record: RefreshRecord


@dataclass(frozen=True)
class RefreshRotation:
    used: RefreshRecord
    successor: RefreshToken


def refresh_token_hash(token: str) -> str:
    """SHA-256 hex: the token has 256 random bits, so a fast hash is safe to store."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(
    subject: str,
    client_id: str,
    *,
    now: datetime | None = None,
    lifetime: timedelta = REFRESH_TOKEN_LIFETIME,
    family_id: str | None = None,
) -> RefreshToken:
    issued = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    record = RefreshRecord(
        token_hash=refresh_token_hash(token),
        family_id=family_id or uuid.uuid4().hex,
        subject=subject,
        client_id=client_id,
        issued_at=issued,
        expires_at=issued + lifetime,
    )
    return RefreshToken(token, record)


def rotate_refresh_token(
    presented: str,
    record: RefreshRecord,
    *,
    client_id: str,
    now: datetime | None = None,
    lifetime: timedelta = REFRESH_TOKEN_LIFETIME,
) -> RefreshRotation:
    """Exchange ``presented`` (found by its hash as ``record``) for a successor.

    The caller stores ``used`` only if its ``used_at`` was still empty (a conditional
    UPDATE), so two concurrent exchanges of one token cannot both succeed.
    """
    at = now or datetime.now(UTC)
    if not hmac.compare_digest(refresh_token_hash(presented), record.token_hash):
        raise RefreshTokenError("token does not match the record")
    if record.client_id != client_id:
        raise RefreshTokenError("token belongs to another client")
    if record.revoked_at is not None:
        raise RefreshTokenError("token revoked")
    if record.used_at is not None:
        raise RefreshTokenReused(record.family_id)
    if record.expires_at <= at:
        raise RefreshTokenExpired()
    successor = issue_refresh_token(
        record.subject, client_id, now=at, lifetime=lifetime, family_id=record.family_id
    )
    return RefreshRotation(replace(record, used_at=at), successor)


# --- discovery ----------------------------------------------------------------------------


def openid_configuration(
    issuer: str,
    *,
    token_endpoint: str | None = None,
    jwks_uri: str | None = None,
    signing_algorithms: Sequence[str] = ("ES256",),
    scopes_supported: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``/.well-known/openid-configuration`` document of the built-in issuer.

    There is no authorization endpoint (no browser redirects), hence no response types.
    """
    base = issuer.rstrip("/")
    return {
        "issuer": issuer,
        "token_endpoint": token_endpoint or f"{base}/v1/auth/token",
        "jwks_uri": jwks_uri or f"{base}/.well-known/jwks.json",
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": list(TOKEN_ENDPOINT_AUTH_METHODS),
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(signing_algorithms),
        "scopes_supported": list(scopes_supported),
        "claims_supported": [
            "iss",
            "aud",
            "sub",
            "iat",
            "nbf",
            "exp",
            "jti",
            "role",
            "region",
            "sector",
            "scopes",
            "pii",
            "client_id",
        ],
    }
