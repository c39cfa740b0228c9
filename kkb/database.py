"""Which PostgreSQL to use, and the databases, roles and schemas on it.

With ``DATABASE_URL`` set, that server is used (it names an administrator connection,
used only for set-up and migrations). Without it, an embedded PostgreSQL (the
``pgserver`` wheel) is started with its data in ``.data/pg``.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg

from common.db import plain_url
from common.reference_data import REPO_ROOT

SERVICES = ("registry", "interventions", "reporting", "gateway")
DEFAULT_DATA_DIR = REPO_ROOT / ".data"


def role_name(service: str) -> str:
    return f"kkb_{service}"


def role_password(service: str) -> str:
    return os.environ.get(f"KKB_DB_PASSWORD_{service.upper()}", f"kkb-{service}-dev")


@dataclass
class Server:
    admin_url: str
    embedded: object | None = None  # the pgserver handle, stopped by ``stop``

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.cleanup()
            self.embedded = None


def start_server(data_dir: Path = DEFAULT_DATA_DIR) -> Server:
    url = os.environ.get("DATABASE_URL")
    if url:
        return Server(admin_url=plain_url(url))
    import pgserver  # imported lazily: only the embedded default needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    handle = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    return Server(admin_url=handle.get_uri("postgres"), embedded=handle)


def default_db_name() -> str:
    url = os.environ.get("DATABASE_URL")
    return database_of(url) if url else "kkb"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user)}:{quote(password)}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def service_url(admin_db_url: str, service: str) -> str:
    return with_user(admin_db_url, role_name(service), role_password(service))


def asyncpg_dsn(url: str) -> tuple[str, dict]:
    """asyncpg does not understand ``?host=/socket/dir``: pass it as a keyword."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    kwargs = {}
    if "host" in query:
        kwargs["host"] = query.pop("host")
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    return dsn, kwargs


async def connect(url: str) -> asyncpg.Connection:
    dsn, kwargs = asyncpg_dsn(url)
    return await asyncpg.connect(dsn, **kwargs)


_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


async def create_database(server_url: str, name: str) -> None:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    conn = await connect(with_database(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    conn = await connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def provision(db_url: str) -> None:
    """One login role and one schema per service; each role owns its schema and nothing else."""
    conn = await connect(db_url)
    try:
        dbname = await conn.fetchval("SELECT current_database()")
        for service in SERVICES:
            role, password = role_name(service), role_password(service)
            try:
                await conn.execute(f"CREATE ROLE {role} LOGIN")
            except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                pass  # roles are cluster-wide: another database (or worker) made it
            # Password literal: asyncpg cannot bind parameters in utility statements.
            escaped = password.replace("'", "''")
            await conn.execute(f"ALTER ROLE {role} LOGIN PASSWORD '{escaped}'")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {service} AUTHORIZATION {role}")
            await conn.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{dbname}" TO {role}')
            # Migrations run as the administrator with SET ROLE, so it must be a member.
            current = await conn.fetchval("SELECT current_user")
            is_super = await conn.fetchval(
                "SELECT rolsuper FROM pg_roles WHERE rolname = $1", current
            )
            if not is_super:
                await conn.execute(f"GRANT {role} TO {current}")
        # No service may create objects in public.
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await conn.close()
