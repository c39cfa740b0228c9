"""Authentication, identity forwarding, rate limits and audit for every forwarded call."""

import asyncio
import base64
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import orjson
import structlog
from fastapi import FastAPI, Request
from starlette.responses import Response

from common.audit_header import AUDIT_HEADER
from common.errors import ProblemError
from common.i18n import negotiate
from common.identity import Identity
from common.middleware import UPLOAD_SUFFIXES  # one list for body limits and timeouts
from common.permissions import allowed
from common.pii import PURPOSE_CODES
from gateway import store
from gateway.audit.chain import Outcome
from gateway.audit.writer import AuditWriter
from gateway.auth.keys import (
    KeyRing,
    RetiredKey,
    SigningKey,
    VerificationKey,
    generate_signing_key,
    jwks_document,
)
from gateway.auth.token_cache import TokenCache, VerifiedToken
from gateway.auth.tokens import (
    DEFAULT_LEEWAY,
    AccessClaims,
    TokenError,
    TrustedIssuer,
    UnknownKey,
    verify_with_any,
)
from gateway.authz.roles import default_lang
from gateway.ratelimit import RateLimit, RateLimiter
from gateway.settings import GatewaySettings

log = structlog.get_logger()

PURPOSE_HEADER = "x-kkb-purpose"

KEYS_LOCK = 0x4B4B424B  # serialises creating the first signing key across replicas
# An unknown kid makes the gateway look for new keys at most this often.
KEY_RELOAD_MIN_S = 2.0


class SecurityState:
    """What the gateway keeps in memory: keys, trusted issuers, revocations, rate buckets."""

    def __init__(self, settings: GatewaySettings, key_password: bytes) -> None:
        self.settings = settings
        self.key_password = key_password
        self.keyring: KeyRing | None = None
        self.key_marks: tuple[tuple[str, datetime | None], ...] = ()
        self.keys_loaded_at = 0.0
        self.external: TrustedIssuer | None = None
        self.external_loaded_at = 0.0
        self.inactive_users: set[str] = set()
        self.revoked_clients: set[str] = set()
        self.limiter = RateLimiter(RateLimit(settings.rate_limit_per_s, settings.rate_limit_burst))
        self.tokens = TokenCache(time.time)
        self._issuers: list[TrustedIssuer] = []
        self._published: tuple[str, ...] = ()

    def issuers(self) -> list[TrustedIssuer]:
        return self._issuers

    def set_keyring(self, ring: KeyRing, marks: tuple[tuple[str, datetime | None], ...]) -> None:
        self.keyring, self.key_marks = ring, marks
        self.keys_loaded_at = time.monotonic()
        self.rebuild_issuers()

    def set_external(self, issuer: TrustedIssuer) -> None:
        self.external = issuer
        self.external_loaded_at = time.monotonic()
        self.rebuild_issuers()

    def published_kids(self) -> tuple[str, ...]:
        assert self.keyring is not None
        return tuple(k.kid for k in self.keyring.published(datetime.now(UTC)))

    def rebuild_issuers(self) -> None:
        """Trusted issuers as of now; verified tokens are forgotten with the old keys."""
        if self.keyring is None:
            return
        published = self.keyring.published(datetime.now(UTC))
        own = TrustedIssuer(
            issuer=self.settings.issuer_url,
            audience=self.settings.audience,
            jwks=jwks_document(published),
        )
        self._issuers = [own, self.external] if self.external else [own]
        self._published = tuple(k.kid for k in published)
        self.tokens.clear()

    def publication_changed(self) -> bool:
        return self.keyring is not None and self.published_kids() != self._published


async def startup(app: FastAPI) -> None:
    settings: GatewaySettings = app.state.settings
    state = SecurityState(settings, base64.b64decode(app.state.common.pii_key))
    app.state.security = state
    app.state.audit_writer = audit_writer(app)
    try:
        await refresh_security(app)
    except Exception as exc:  # noqa: BLE001 - readiness reports the database problem
        log.error("security_state_not_loaded", error=str(exc))
    if settings.oidc_issuer and settings.oidc_jwks_url:
        await load_external_issuer(app)

    async def keep_fresh() -> None:
        while not app.state.stop.is_set():
            await asyncio.sleep(settings.security_refresh_s)
            try:
                await refresh_security(app)
                if settings.oidc_issuer and settings.oidc_jwks_url:
                    age = time.monotonic() - state.external_loaded_at
                    if state.external is None or age > settings.oidc_jwks_refresh_s:
                        await load_external_issuer(app)
            except Exception as exc:  # noqa: BLE001
                log.warning("security_refresh_failed", error=str(exc))

    app.state.background.append(asyncio.create_task(keep_fresh()))


def _marks(rows: Iterable[dict]) -> tuple[tuple[str, datetime | None], ...]:
    return tuple((r["kid"], r["retired_at"]) for r in rows)


async def refresh_security(app: FastAPI) -> None:
    """Revocations, and keys when they changed (a rotation by another replica or by
    ``kkb keys rotate``), in one round of the refresh loop."""
    state: SecurityState = app.state.security
    async with app.state.sessionmaker() as session:
        users, clients = await store.inactive_subjects(session)
        marks = _marks(await store.signing_key_marks(session))
    state.inactive_users, state.revoked_clients = users, clients
    if state.keyring is None or marks != state.key_marks:
        await load_keys(app)
    elif state.publication_changed():
        state.rebuild_issuers()


async def load_keys(app: FastAPI) -> None:
    """The newest unretired key signs; retired keys stay published while their tokens live."""
    state: SecurityState = app.state.security
    async with app.state.sessionmaker() as session, session.begin():
        rows = await store.signing_keys(session)
        if not any(r["retired_at"] is None for r in rows):
            await store.lock(session, KEYS_LOCK)
            rows = await store.signing_keys(session)
        if not any(r["retired_at"] is None for r in rows):
            key = generate_signing_key()
            await store.add_signing_key(
                session,
                kid=key.kid,
                private_key_enc=key.to_pem(state.key_password).decode(),
                public_jwk=key.verification_key.jwk(),
                retire_others=False,
            )
            rows = await store.signing_keys(session)
    active_row = next(r for r in rows if r["retired_at"] is None)
    active = SigningKey.from_pem(
        active_row["private_key_enc"],
        created_at=active_row["created_at"],
        password=state.key_password,
    )
    keep = timedelta(seconds=state.settings.access_token_ttl_s + state.settings.key_retire_grace_s)
    now = datetime.now(UTC)
    retired = tuple(
        RetiredKey(VerificationKey(jwt.PyJWK(r["public_jwk"]).key), r["retired_at"] + keep)
        for r in rows
        if r["retired_at"] is not None and r["retired_at"] + keep > now
    )
    state.set_keyring(KeyRing(active, retired), _marks(rows))


async def rotate_keys(app: FastAPI) -> str:
    state: SecurityState = app.state.security
    async with app.state.sessionmaker() as session, session.begin():
        kid = await rotate_signing_key(session, state.key_password)
    await load_keys(app)
    return kid


async def rotate_signing_key(session, key_password: bytes) -> str:
    """Make a new key the signing key; earlier keys keep only their public half."""
    key = generate_signing_key()
    await store.add_signing_key(
        session,
        kid=key.kid,
        private_key_enc=key.to_pem(key_password).decode(),
        public_jwk=key.verification_key.jwk(),
        retire_others=True,
    )
    return key.kid


async def load_external_issuer(app: FastAPI) -> None:
    settings: GatewaySettings = app.state.settings
    state: SecurityState = app.state.security
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            jwks = (await client.get(settings.oidc_jwks_url)).raise_for_status().json()
        state.set_external(
            TrustedIssuer(
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience or settings.audience,
                jwks=jwks,
            )
        )
    except (httpx.HTTPError, ValueError) as exc:
        # Try again no sooner than the minimum interval (see keep_fresh and authenticate).
        state.external_loaded_at = time.monotonic()
        log.error("external_jwks_unavailable", issuer=settings.oidc_issuer, error=str(exc))


def unauthorized(reason: str, code: str = "unauthorized") -> ProblemError:
    return ProblemError(
        401,
        code,
        detail={"en": f"Authentication failed: {reason}.", "id": f"Autentikasi gagal: {reason}."},
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def _reload_for_unknown_key(app: FastAPI, token: str) -> bool:
    """Fetch the keys of the token's issuer again, at most every few seconds; True if
    that was done, so the token is worth verifying once more."""
    state: SecurityState = app.state.security
    settings: GatewaySettings = app.state.settings
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return False
    now = time.monotonic()
    if issuer == settings.issuer_url and now - state.keys_loaded_at > KEY_RELOAD_MIN_S:
        await load_keys(app)
        return True
    external = settings.oidc_issuer and settings.oidc_jwks_url
    if external and issuer == settings.oidc_issuer:
        if now - state.external_loaded_at > settings.oidc_jwks_min_reload_s:
            await load_external_issuer(app)
            return True
    return False


async def _verify(request: Request, token: str) -> VerifiedToken:
    """Verify a token not seen before; an unknown kid may mean keys rotated elsewhere."""
    state: SecurityState = request.app.state.security
    for attempt in range(2):
        try:
            _, payload = verify_with_any(token, state.issuers())
            claims = AccessClaims.from_payload(payload)
            break
        except UnknownKey as exc:
            if attempt > 0 or not await _reload_for_unknown_key(request.app, token):
                raise unauthorized(str(exc), exc.code) from exc
        except TokenError as exc:
            raise unauthorized(str(exc), exc.code) from exc
    verified = VerifiedToken(
        payload["sub"], claims, payload["exp"] + DEFAULT_LEEWAY.total_seconds()
    )
    state.tokens.put(token, verified)
    return verified


async def authenticate(request: Request) -> Identity:
    """Verify the bearer token and build the identity forwarded to services."""
    state: SecurityState = request.app.state.security
    if state.keyring is None:
        raise ProblemError(503, "auth_unavailable", detail="Signing keys are not loaded yet.")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("no bearer token", "token_missing")
    if state.publication_changed():
        # A retired key's window just closed: its tokens stop now, not at the next refresh.
        state.rebuild_issuers()
    verified = state.tokens.get(token) or await _verify(request, token)
    claims = verified.claims
    if verified.sub in state.inactive_users or (
        claims.client_id and claims.client_id in state.revoked_clients
    ):
        raise unauthorized("the account or client was revoked", "token_revoked")
    purpose = request.headers.get(PURPOSE_HEADER)
    if purpose is not None and purpose not in PURPOSE_CODES:
        raise ProblemError(
            400,
            "unknown_purpose",
            detail={
                "en": f"X-KKB-Purpose must be one of {sorted(PURPOSE_CODES)}.",
                "id": f"X-KKB-Purpose harus salah satu dari {sorted(PURPOSE_CODES)}.",
            },
        )
    lang = negotiate(request.headers.get("accept-language"), default_lang(claims.role))
    return claims.identity(
        sub=verified.sub, request_id=request.state.request_id, lang=lang, purpose=purpose
    )


def rate_limit(request: Request, key: str) -> None:
    decision = request.app.state.security.limiter.hit(key)
    if not decision.allowed:
        raise ProblemError(
            429,
            detail={
                "en": "Too many requests; slow down.",
                "id": "Terlalu banyak permintaan; mohon perlambat.",
            },
            headers={"Retry-After": decision.retry_after_header},
        )


def may(identity: Identity, operation: str) -> bool:
    """The matrix decides; an operation the matrix does not know is left to the service."""
    try:
        return allowed(identity.role, operation, sector=identity.sector, scopes=identity.scopes)
    except ValueError:
        return True


def forbidden(operation: str) -> ProblemError:
    return ProblemError(
        403,
        "forbidden",
        detail={
            "en": f"Your role may not perform {operation}.",
            "id": f"Peran Anda tidak boleh melakukan {operation}.",
        },
        extra={"operation": operation},
    )


async def authorise_and_forward(request: Request, service: str) -> Response:
    identity = await authenticate(request)
    rate_limit(request, identity.client_id or identity.sub)
    operations = await request.app.state.service_docs.operations(
        service, request.method, request.scope["path"]
    )
    operation = operations[0] if operations else f"{service}:{request.method}"
    refused = next((op for op in operations or () if not may(identity, op)), None)
    if refused is not None:
        if request.method != "GET":
            await audit(request, identity, refused, 403, {})
        raise forbidden(refused)
    settings: GatewaySettings = request.app.state.settings
    timeout = (
        settings.upload_timeout_s
        if request.scope["path"].endswith(UPLOAD_SUFFIXES)
        else settings.default_timeout_s
    )
    token = request.app.state.identity_signer.sign(identity)
    response = await request.app.state.forwarder.forward(
        service,
        request.app.state.service_urls[service],
        request,
        identity_token=token,
        timeout_s=timeout,
    )
    audit_info = response.headers.get(AUDIT_HEADER)
    if audit_info is not None:
        del response.headers[AUDIT_HEADER]
    details = orjson.loads(audit_info) if audit_info else {}
    if request.method != "GET" or details.get("unmasked"):
        await audit(request, identity, operation, response.status_code, details)
    return response


def audit_entry(
    request: Request, identity: Identity, operation: str, status: int, details: dict
) -> dict:
    kind = (
        Outcome.ALLOWED
        if status < 400
        else Outcome.DENIED
        if status in (401, 403, 404)
        else Outcome.ERROR
    )
    return {
        "at": datetime.now(UTC),
        "actor": identity.sub,
        "role": str(identity.role),
        "client_id": identity.client_id,
        "operation": operation,
        "method": request.method,
        "route": request.scope["path"],
        "record_type": details.get("record_type"),
        "record_ids": [str(x) for x in details.get("record_ids", [])],
        "subject_ids": [str(x) for x in details.get("subject_ids", [])],
        "fields": list(details.get("fields", [])) if details.get("unmasked") else [],
        "purpose": identity.purpose,
        "request_id": identity.request_id,
        "outcome": status,
        "outcome_kind": kind.value,
    }


async def audit(
    request: Request, identity: Identity, operation: str, status: int, details: dict
) -> None:
    """Record one access, committed before this returns (the call itself happened
    elsewhere); concurrent requests share the transaction (gateway/audit/writer.py)."""
    await request.app.state.audit_writer.append(
        audit_entry(request, identity, operation, status, details)
    )


def audit_writer(app: FastAPI) -> AuditWriter:
    async def append_batch(entries: list[dict]) -> None:
        async with app.state.sessionmaker() as session, session.begin():
            await store.append_audit(session, entries)

    return AuditWriter(append_batch)
