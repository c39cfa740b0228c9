"""The gateway's own routes: tokens and discovery, admin of users and clients, audit."""

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Session
from common.errors import ProblemError
from common.identity import Identity, Role, Sector
from common.pagination import Page, PageOut, paginate
from common.permissions import SYSTEM_SCOPES, allowed
from gateway import store
from gateway.audit.verify import verify_audit_chain
from gateway.auth import lockout
from gateway.auth.keys import jwks_document
from gateway.auth.passwords import (
    generate_client_secret,
    hash_client_secret,
    hash_password,
    verify_client_secret,
    verify_password,
)
from gateway.auth.tokens import (
    AccessClaims,
    RefreshRecord,
    RefreshTokenError,
    issue_access_token,
    issue_refresh_token,
    openid_configuration,
    refresh_token_hash,
    rotate_refresh_token,
)
from gateway.authz.roles import default_lang, default_pii, grant_problems
from gateway.authz.scope import can_assign
from gateway.security import (
    audit as audit_access,
)
from gateway.security import (
    audit_entry,
    authenticate,
    forbidden,
    rate_limit,
    rotate_keys,
)
from gateway.settings import GatewaySettings


def caller_with(operation: str) -> Callable[[Request], Awaitable[Identity]]:
    """Dependency: an authenticated caller whose role may perform ``operation``."""

    async def dependency(request: Request) -> Identity:
        identity = await authenticate(request)
        rate_limit(request, identity.client_id or identity.sub)
        if not allowed(identity.role, operation, sector=identity.sector, scopes=identity.scopes):
            if request.method != "GET":
                await audit_access(request, identity, operation, 403, {})
            raise forbidden(operation)
        return identity

    # Published as x-kkb-operation in the OpenAPI document, like services' require().
    dependency.operation = operation  # type: ignore[attr-defined]
    return dependency


async def audit_here(
    session: AsyncSession,
    request: Request,
    caller: Identity,
    operation: str,
    *,
    status: int,
    record_type: str,
    record_ids: list[str],
) -> None:
    """Audit a gateway write in the transaction that makes it: both or neither."""
    details = {"record_type": record_type, "record_ids": record_ids}
    await store.append_audit(session, [audit_entry(request, caller, operation, status, details)])


# --- tokens and discovery ------------------------------------------------------------------

auth = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


def oauth_error(
    error: str, description: str, status: int = 400, headers: dict | None = None
) -> ProblemError:
    # RFC 6749 §5.2 names the error; problem+json carries it as ``error``.
    return ProblemError(
        status,
        error,
        detail=description,
        extra={"error": error, "error_description": description},
        headers=headers,
    )


@auth.post(
    "/v1/auth/token",
    summary="OAuth2 token endpoint (password, client_credentials, "
    "refresh_token grants; form encoded).",
)
async def issue_token(
    request: Request,
    session: Session,
    grant_type: Annotated[str, Form()],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    settings: GatewaySettings = request.app.state.settings
    rate_limit(request, f"token:{request.client.host if request.client else '?'}")
    if grant_type == "password":
        return await _password_grant(request, session, settings, username, password)
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        cid, secret = basic if basic else (client_id, client_secret)
        return await _client_grant(request, session, settings, cid, secret)
    if grant_type == "refresh_token":
        return await _refresh_grant(request, session, settings, refresh_token)
    raise oauth_error(
        "unsupported_grant_type", "grant_type must be password, client_credentials or refresh_token"
    )


def locked(retry_after_s: int) -> ProblemError:
    message = lockout.LOCKED_MESSAGE
    return ProblemError(
        429,
        lockout.LOCKED_CODE,
        detail={
            "en": f"{message['en']} Try again in {retry_after_s} s.",
            "id": f"{message['id']} Coba lagi dalam {retry_after_s} detik.",
        },
        extra={"error": lockout.LOCKED_CODE, "error_description": message["en"]},
        headers={"Retry-After": str(retry_after_s)},
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    import base64

    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        cid, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return cid, secret


def _issue(
    request: Request, settings: GatewaySettings, subject: str, claims: AccessClaims
) -> tuple[str, int]:
    key = request.app.state.security.keyring.active
    issued = issue_access_token(
        key,
        subject=subject,
        claims=claims,
        issuer=settings.issuer_url,
        audience=settings.audience,
        lifetime=timedelta(seconds=settings.access_token_ttl_s),
    )
    return issued.token, issued.expires_in


def _user_claims(user: dict) -> AccessClaims:
    return AccessClaims(
        role=user["role"], region=user["region"], sector=user["sector"], pii=user["pii"]
    )


async def _password_grant(request, session, settings, username, password) -> TokenResponse:
    if not username or not password:
        raise oauth_error("invalid_request", "username and password are required")
    user = await store.user_by_name(session, username)
    now = datetime.now(UTC)
    policy = lockout.LockoutPolicy(
        max_failures=settings.lockout_failures,
        lock_duration=timedelta(minutes=settings.lockout_minutes),
    )
    if user is None or not user["active"]:
        verify_password(None, password)  # same work whether or not the user exists
        raise oauth_error("invalid_grant", "wrong username or password", 400)
    state = lockout.LockoutState(
        user["failed_attempts"], user["first_failure_at"], user["locked_until"]
    )
    decision = lockout.check(state, now)
    if decision.locked:
        raise locked(decision.retry_after_seconds)
    check = verify_password(user["password_hash"], password)
    if not check.ok:
        outcome = lockout.on_failure(state, now, policy)
        await store.record_login(
            session,
            user["id"],
            failures=outcome.state.failures,
            first_failure_at=outcome.state.first_failure_at,
            locked_until=outcome.state.locked_until,
        )
        await session.commit()
        if outcome.decision.locked:  # this failure was the one that locked the account
            raise locked(outcome.decision.retry_after_seconds)
        raise oauth_error("invalid_grant", "wrong username or password", 400)
    await store.record_login(
        session, user["id"], failures=0, first_failure_at=None, locked_until=None
    )
    if check.new_hash:
        await store.update_user(session, username, {"password_hash": check.new_hash})
    token, expires_in = _issue(request, settings, str(user["id"]), _user_claims(user))
    refresh = issue_refresh_token(
        str(user["id"]), "password", lifetime=timedelta(seconds=settings.refresh_token_ttl_s)
    )
    await store.store_refresh(session, refresh.record)
    return TokenResponse(access_token=token, expires_in=expires_in, refresh_token=refresh.token)


async def _client_grant(request, session, settings, cid, secret) -> TokenResponse:
    if not cid or not secret:
        raise oauth_error("invalid_client", "client_id and client_secret are required", 401)
    client = await store.client_by_id(session, cid)
    if (
        client is None
        or not client["active"]
        or not verify_client_secret(secret, client["secret_hash"])
    ):
        raise oauth_error("invalid_client", "unknown, revoked or wrong client credentials", 401)
    claims = AccessClaims(
        role=Role.SYSTEM,
        region=client["region"],
        sector=client["sector"],
        scopes=tuple(client["scopes"]),
        pii="pii:read" in client["scopes"],
        client_id=client["client_id"],
    )
    token, expires_in = _issue(request, settings, f"client:{client['client_id']}", claims)
    return TokenResponse(
        access_token=token, expires_in=expires_in, scope=" ".join(client["scopes"])
    )


async def _refresh_grant(request, session, settings, presented) -> TokenResponse:
    if not presented:
        raise oauth_error("invalid_request", "refresh_token is required")
    row = await store.refresh_by_hash(session, refresh_token_hash(presented))
    if row is None:
        raise oauth_error("invalid_grant", "unknown refresh token")
    record = RefreshRecord(
        **{
            k: row[k]
            for k in (
                "token_hash",
                "family_id",
                "subject",
                "client_id",
                "issued_at",
                "expires_at",
                "used_at",
                "revoked_at",
            )
        }
    )
    try:
        rotation = rotate_refresh_token(
            presented,
            record,
            client_id=record.client_id,
            lifetime=timedelta(seconds=settings.refresh_token_ttl_s),
        )
    except RefreshTokenError as exc:
        if exc.code == "refresh_token_reused":
            await store.revoke_refresh_family(session, record.family_id)
            await session.commit()
        raise oauth_error("invalid_grant", str(exc)) from exc
    if not await store.mark_refresh_used(session, record.token_hash, rotation.used.used_at):
        raise oauth_error("invalid_grant", "refresh token already used")
    user = await store.user_by_id(session, record.subject)
    if user is None or not user["active"]:
        raise oauth_error("invalid_grant", "account no longer active")
    await store.store_refresh(session, rotation.successor.record)
    token, expires_in = _issue(request, settings, record.subject, _user_claims(user))
    return TokenResponse(
        access_token=token, expires_in=expires_in, refresh_token=rotation.successor.token
    )


@auth.get("/.well-known/jwks.json", summary="Public keys of the built-in issuer.")
async def jwks(request: Request) -> dict:
    return jwks_document(request.app.state.security.keyring.published(datetime.now(UTC)))


@auth.get("/.well-known/openid-configuration", summary="OpenID discovery document.")
async def openid_config(request: Request) -> dict:
    return openid_configuration(
        request.app.state.settings.issuer_url, scopes_supported=sorted(SYSTEM_SCOPES)
    )


@auth.get("/v1/me", summary="Who am I: the verified identity and what it may do.")
async def me(request: Request) -> dict:
    from common.permissions import operations_for

    identity = await authenticate(request)
    return {
        **identity.model_dump(mode="json", exclude={"request_id"}),
        "operations": [
            str(o)
            for o in operations_for(identity.role, sector=identity.sector, scopes=identity.scopes)
        ],
    }


# --- admin: users and clients --------------------------------------------------------------

admin = APIRouter(prefix="/v1/admin", tags=["admin"])


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    password: str = Field(min_length=10, max_length=256)
    role: Role
    region: str = Field(description="Kemendagri code prefix; '' for national")
    sector: Sector | None = None
    pii: bool | None = Field(default=None, description="Defaults by role")
    lang: Literal["id", "en"] | None = None


class UserRead(BaseModel):
    id: UUID
    username: str
    role: Role
    region: str
    sector: Sector | None
    pii: bool
    lang: str
    active: bool


class UserUpdate(BaseModel):
    role: Role | None = None
    region: str | None = None
    sector: Sector | None = None
    pii: bool | None = None
    active: bool | None = None


def _check_grant(caller: Identity, role: Role, region: str, sector, pii: bool) -> None:
    problems = grant_problems(role, region, sector=sector, pii=pii)
    if role is Role.SERVICE:
        problems = [*problems, None]
    if problems:
        raise ProblemError(
            422,
            "invalid_grant_request",
            detail={
                "en": "; ".join(p.message["en"] for p in problems if p) or "role not grantable",
                "id": "; ".join(p.message["id"] for p in problems if p)
                or "peran tidak dapat diberikan",
            },
        )
    if not can_assign(caller.region, region):
        raise ProblemError(
            403,
            "region_out_of_scope",
            detail={
                "en": f"You cannot grant region {region or 'national'} from scope "
                f"{caller.region or 'national'}.",
                "id": f"Anda tidak dapat memberi wilayah {region or 'nasional'} dari cakupan "
                f"{caller.region or 'nasional'}.",
            },
        )


@admin.post("/users", status_code=201, summary="Create a user (admin).")
async def create_user(
    body: UserCreate,
    request: Request,
    session: Session,
    caller: Annotated[Identity, Depends(caller_with("admin.users"))],
) -> UserRead:
    pii = default_pii(body.role) if body.pii is None else body.pii
    _check_grant(caller, body.role, body.region, body.sector, pii)
    row = await store.create_user(
        session,
        username=body.username,
        password_hash=hash_password(body.password),
        role=body.role,
        region=body.region,
        sector=body.sector,
        pii=pii,
        lang=body.lang or default_lang(body.role),
    )
    if not row:
        raise ProblemError(
            409,
            "username_taken",
            detail={
                "en": f"User {body.username} already exists.",
                "id": f"Pengguna {body.username} sudah ada.",
            },
        )
    await audit_here(
        session,
        request,
        caller,
        "admin.users",
        status=201,
        record_type="user",
        record_ids=[str(row["id"])],
    )
    return UserRead(**row)


@admin.get("/users", summary="List users (admin).")
async def list_users(
    session: Session, page: Page, caller: Annotated[Identity, Depends(caller_with("admin.users"))]
) -> PageOut[UserRead]:
    rows = await store.list_users(
        session, page.after[0] if page.after else None, page.limit + 1, scope=caller.region
    )
    return paginate([UserRead(**r) for r in rows], page, key=lambda u: [u.username])


@admin.patch("/users/{username}", summary="Change role, scope or rights; deactivate (admin).")
async def update_user(
    username: str,
    body: UserUpdate,
    request: Request,
    session: Session,
    caller: Annotated[Identity, Depends(caller_with("admin.users"))],
) -> UserRead:
    current = await store.user_by_name(session, username)
    if current is None or not can_assign(caller.region, current["region"]):
        raise ProblemError(404, detail={"en": "User not found.", "id": "Pengguna tidak ditemukan."})
    if username == caller.sub or str(current["id"]) == caller.sub:
        if body.role is not None or body.region is not None or body.pii is not None:
            raise ProblemError(
                403,
                "self_grant",
                detail={
                    "en": "You cannot change your own role, scope or rights.",
                    "id": "Anda tidak dapat mengubah peran, cakupan atau hak Anda sendiri.",
                },
            )
    changes = body.model_dump(exclude_none=True)
    merged = {**current, **changes}
    _check_grant(caller, Role(merged["role"]), merged["region"], merged["sector"], merged["pii"])
    row = await store.update_user(session, username, changes)
    await audit_here(
        session,
        request,
        caller,
        "admin.users",
        status=200,
        record_type="user",
        record_ids=[str(current["id"])],
    )
    if body.active is not None:
        inactive = request.app.state.security.inactive_users
        (inactive.discard if body.active else inactive.add)(str(current["id"]))
    return UserRead(**row)


class ClientCreate(BaseModel):
    name: str = Field(min_length=3, max_length=100)
    scopes: list[str] = Field(min_length=1)
    region: str
    sector: Sector | None = None


class ClientCreated(BaseModel):
    client_id: str
    client_secret: str = Field(description="Shown once; store it now.")
    scopes: list[str]
    region: str


def _check_scopes(scopes: list[str]) -> None:
    unknown = sorted(set(scopes) - set(SYSTEM_SCOPES))
    if unknown:
        raise ProblemError(
            422,
            "unknown_scope",
            detail={
                "en": f"Unknown scopes {unknown}; known: {sorted(SYSTEM_SCOPES)}.",
                "id": f"Scope tidak dikenal {unknown}; yang dikenal: {sorted(SYSTEM_SCOPES)}.",
            },
        )


@admin.post("/clients", status_code=201, summary="Register a system client (admin).")
async def create_client(
    body: ClientCreate,
    request: Request,
    session: Session,
    caller: Annotated[Identity, Depends(caller_with("admin.clients"))],
) -> ClientCreated:
    _check_scopes(body.scopes)
    _check_grant(caller, Role.SYSTEM, body.region, body.sector, "pii:read" in body.scopes)
    client_id = f"kkb-{secrets.token_hex(6)}"
    secret = generate_client_secret()
    try:
        await store.create_client(
            session,
            client_id=client_id,
            name=body.name,
            secret_hash=hash_client_secret(secret),
            scopes=body.scopes,
            region=body.region,
            sector=body.sector,
        )
    except IntegrityError as exc:  # pragma: no cover - 48 random bits
        raise ProblemError(409, detail="client id collision; retry") from exc
    await audit_here(
        session,
        request,
        caller,
        "admin.clients",
        status=201,
        record_type="client",
        record_ids=[client_id],
    )
    return ClientCreated(
        client_id=client_id, client_secret=secret, scopes=body.scopes, region=body.region
    )


@admin.get("/clients", summary="List system clients (admin).")
async def list_clients(
    session: Session, page: Page, caller: Annotated[Identity, Depends(caller_with("admin.clients"))]
) -> PageOut[dict]:
    rows = await store.list_clients(
        session, page.after[0] if page.after else None, page.limit + 1, scope=caller.region
    )
    return paginate(rows, page, key=lambda r: [r["client_id"]])


class ClientUpdate(BaseModel):
    scopes: list[str] | None = Field(default=None, min_length=1)
    region: str | None = None
    sector: Sector | None = None


class ClientRead(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    region: str
    sector: Sector | None
    active: bool


@admin.patch(
    "/clients/{client_id}",
    summary="Change a client's scopes, region or sector (admin). Tokens already issued "
    "keep their rights until they expire; revoke the client to stop them at once.",
)
async def update_client(
    client_id: str,
    body: ClientUpdate,
    request: Request,
    session: Session,
    caller: Annotated[Identity, Depends(caller_with("admin.clients"))],
) -> ClientRead:
    client = await store.client_by_id(session, client_id)
    if client is None or not can_assign(caller.region, client["region"]):
        raise ProblemError(404, detail={"en": "Client not found.", "id": "Klien tidak ditemukan."})
    changes = body.model_dump(exclude_unset=True)
    merged = {**client, **changes}
    _check_scopes(merged["scopes"])
    _check_grant(
        caller, Role.SYSTEM, merged["region"], merged["sector"], "pii:read" in merged["scopes"]
    )
    row = await store.update_client(session, client_id, changes)
    await audit_here(
        session,
        request,
        caller,
        "admin.clients",
        status=200,
        record_type="client",
        record_ids=[client_id],
    )
    return ClientRead(**row)


@admin.post("/clients/{client_id}/revoke", summary="Revoke a client: its tokens stop working.")
async def revoke_client(
    client_id: str,
    request: Request,
    session: Session,
    caller: Annotated[Identity, Depends(caller_with("admin.clients"))],
) -> dict:
    client = await store.client_by_id(session, client_id)
    if client is None or not can_assign(caller.region, client["region"]):
        raise ProblemError(404, detail={"en": "Client not found.", "id": "Klien tidak ditemukan."})
    await store.revoke_client(session, client_id)
    await audit_here(
        session,
        request,
        caller,
        "admin.clients",
        status=200,
        record_type="client",
        record_ids=[client_id],
    )
    # This replica at once; the others within GATEWAY_SECURITY_REFRESH_S.
    request.app.state.security.revoked_clients.add(client_id)
    return {"client_id": client_id, "active": False}


@admin.post("/keys/rotate", summary="Rotate the token-signing key (admin, national).")
async def rotate(
    request: Request, caller: Annotated[Identity, Depends(caller_with("admin.users"))]
) -> dict:
    if caller.region != "":
        raise ProblemError(
            403,
            "national_admin_only",
            detail={
                "en": "Only a national admin rotates signing keys.",
                "id": "Hanya admin nasional yang dapat mengganti kunci penanda tangan.",
            },
        )
    kid = await rotate_keys(request.app)
    await audit_access(
        request, caller, "admin.keys", 200, {"record_type": "signing_key", "record_ids": [kid]}
    )
    return {"kid": kid}


# --- audit ---------------------------------------------------------------------------------

audit = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditRead(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    client_id: str | None
    operation: str
    method: str
    route: str
    record_type: str | None
    record_ids: list[str]
    subject_ids: list[UUID]
    fields: list[str]
    purpose: str | None
    request_id: str
    outcome: int


@audit.get("/entries", summary="Query the audit log by user, person and time (auditor).")
async def list_audit(
    session: Session,
    page: Page,
    caller: Annotated[Identity, Depends(caller_with("audit.read"))],
    actor: str | None = None,
    person_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> PageOut[AuditRead]:
    rows = await store.audit_entries(
        session,
        actor=actor,
        subject_id=str(person_id) if person_id else None,
        since=since,
        until=until,
        after_seq=page.after[0] if page.after else 0,
        limit=page.limit + 1,
    )
    return paginate([AuditRead(**r) for r in rows], page, key=lambda r: [r.seq])


@audit.get("/subjects/{person_id}", summary="Who saw this person's data, when and why.")
async def subject_report(
    person_id: UUID,
    session: Session,
    caller: Annotated[Identity, Depends(caller_with("audit.read"))],
    since: Annotated[datetime | None, Query()] = None,
) -> dict:
    rows = await store.audit_entries(
        session,
        actor=None,
        subject_id=str(person_id),
        since=since,
        until=None,
        after_seq=0,
        limit=10000,
    )
    return {
        "person_id": str(person_id),
        "accesses": [
            {
                "at": r["at"],
                "actor": r["actor"],
                "role": r["role"],
                "client_id": r["client_id"],
                "purpose": r["purpose"],
                "fields": r["fields"],
                "method": r["method"],
                "outcome": r["outcome"],
                "request_id": r["request_id"],
            }
            for r in rows
        ],
    }


@audit.get("/verify", summary="Verify the audit hash chain (auditor).")
async def verify(
    session: Session, caller: Annotated[Identity, Depends(caller_with("audit.read"))]
) -> dict:
    return (await verify_audit_chain(session)).as_dict()


def routers() -> list[APIRouter]:
    from gateway.exports.routes import router as exports  # imports caller_with
    from gateway.integration.routes import router as integration  # imports caller_with

    return [auth, admin, audit, integration(), exports]
