"""``kkb users …``, ``kkb clients …``, ``kkb audit verify``, ``kkb keys rotate``."""

import argparse
import asyncio
import base64
import secrets
import sys

from common.db import make_engine, make_sessionmaker
from common.identity import Role
from common.permissions import SYSTEM_SCOPES
from common.settings import CommonSettings
from gateway import store
from gateway.audit.verify import ChainReport, verify_audit_chain
from gateway.auth.passwords import generate_client_secret, hash_client_secret, hash_password
from gateway.authz.roles import default_lang, default_pii, grant_problems
from gateway.security import rotate_signing_key
from kkb import database


def _db_url(args) -> tuple[database.Server, str]:
    server = database.start_server()
    name = args.db or database.default_db_name()
    return server, database.service_url(database.with_database(server.admin_url, name), "gateway")


async def add_user(
    url: str,
    username: str,
    password: str,
    role: str,
    scope: str,
    sector: str | None,
    pii: bool | None,
) -> dict:
    role_enum = Role(role)
    pii_value = default_pii(role_enum) if pii is None else pii
    problems = grant_problems(role_enum, scope, sector=sector, pii=pii_value)
    if problems:
        raise SystemExit("; ".join(p.message["en"] for p in problems))
    engine = make_engine(url, "gateway", pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await store.create_user(
                session,
                username=username,
                password_hash=hash_password(password),
                role=role,
                region=scope,
                sector=sector,
                pii=pii_value,
                lang=default_lang(role_enum),
            )
    finally:
        await engine.dispose()


async def add_client(
    url: str, name: str, scopes: list[str], region: str, sector: str | None
) -> tuple[str, str]:
    unknown = set(scopes) - set(SYSTEM_SCOPES)
    if unknown:
        raise SystemExit(f"unknown scopes {sorted(unknown)}; known: {sorted(SYSTEM_SCOPES)}")
    client_id, secret = f"kkb-{secrets.token_hex(6)}", generate_client_secret()
    engine = make_engine(url, "gateway", pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await store.create_client(
                session,
                client_id=client_id,
                name=name,
                secret_hash=hash_client_secret(secret),
                scopes=scopes,
                region=region,
                sector=sector,
            )
    finally:
        await engine.dispose()
    return client_id, secret


async def verify_audit(url: str) -> ChainReport:
    engine = make_engine(url, "gateway", pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await verify_audit_chain(session)
    finally:
        await engine.dispose()


async def rotate_key(url: str) -> str:
    """A new signing key; running gateways pick it up within their refresh interval."""
    password = base64.b64decode(CommonSettings().pii_key)
    engine = make_engine(url, "gateway", pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await rotate_signing_key(session, password)
    finally:
        await engine.dispose()


def cmd_users_add(args) -> int:
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        print("password (read from stdin) must be at least 10 characters", file=sys.stderr)
        return 2
    server, url = _db_url(args)
    try:
        row = asyncio.run(
            add_user(url, args.name, password, args.role, args.scope, args.sector, args.pii)
        )
    finally:
        server.stop()
    if not row:
        print(f"user {args.name} already exists", file=sys.stderr)
        return 1
    print(f"created user {args.name} ({args.role}, scope {args.scope or 'national'})")
    return 0


def cmd_clients_add(args) -> int:
    server, url = _db_url(args)
    try:
        client_id, secret = asyncio.run(
            add_client(url, args.name, args.scopes.split(","), args.region, args.sector)
        )
    finally:
        server.stop()
    print(f"client_id:     {client_id}\nclient_secret: {secret}\n(the secret is shown only once)")
    return 0


def cmd_audit_verify(args) -> int:
    server, url = _db_url(args)
    try:
        result = asyncio.run(verify_audit(url))
    finally:
        server.stop()
    if result.intact:
        print(f"audit chain intact: {result.entries} entries")
        return 0
    print(
        f"audit chain BROKEN at seq {result.first_broken_seq}: {result.reason} "
        f"(after {result.entries} good entries)"
    )
    return 1


def cmd_keys_rotate(args) -> int:
    server, url = _db_url(args)
    try:
        kid = asyncio.run(rotate_key(url))
    finally:
        server.stop()
    print(f"new signing key {kid}; earlier keys verify until their tokens expire")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="add a user; password read from stdin")
    add.add_argument("name")
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role if r not in (Role.SERVICE, Role.SYSTEM)],
    )
    add.add_argument("--scope", required=True, help="Kemendagri code prefix, '' for national")
    add.add_argument("--sector")
    add.add_argument("--pii", action=argparse.BooleanOptionalAction, default=None)
    add.add_argument("--db")
    add.set_defaults(func=cmd_users_add)

    clients = sub.add_parser("clients", help="manage system clients").add_subparsers(
        dest="action", required=True
    )
    cadd = clients.add_parser("add", help="register a client; prints its secret once")
    cadd.add_argument("name")
    cadd.add_argument("--scopes", required=True, help="comma-separated, e.g. growth:read")
    cadd.add_argument("--region", required=True)
    cadd.add_argument("--sector")
    cadd.add_argument("--db")
    cadd.set_defaults(func=cmd_clients_add)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="action", required=True)
    verify = audit.add_parser("verify", help="verify the audit hash chain")
    verify.add_argument("--db")
    verify.set_defaults(func=cmd_audit_verify)

    keys = sub.add_parser("keys", help="token-signing keys").add_subparsers(
        dest="action", required=True
    )
    rotate = keys.add_parser("rotate", help="sign new tokens with a new key (new kid)")
    rotate.add_argument("--db")
    rotate.set_defaults(func=cmd_keys_rotate)
