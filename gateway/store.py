"""All SQL of the gateway schema: users, API clients, signing keys, refresh tokens, audit."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.ids import uuid7
from gateway.audit.chain import AuditEntry, Outcome, entry_hash
from gateway.authz.scope import prefix_range

Conn = AsyncConnection | AsyncSession

# --- users --------------------------------------------------------------------------------


async def user_by_name(conn: Conn, username: str) -> dict | None:
    row = (
        (await conn.execute(text("SELECT * FROM app_user WHERE username = :u"), {"u": username}))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def user_by_id(conn: Conn, user_id: str) -> dict | None:
    row = (
        (
            await conn.execute(
                text("SELECT * FROM app_user WHERE id = CAST(:i AS uuid)"), {"i": user_id}
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def create_user(
    conn: Conn,
    *,
    username: str,
    password_hash: str,
    role: str,
    region: str,
    sector: str | None,
    pii: bool,
    lang: str,
) -> dict:
    row = (
        (
            await conn.execute(
                text(
                    """
        INSERT INTO app_user (id, username, password_hash, role, region, sector, pii, lang)
        VALUES (:id, :u, :h, :r, :g, :s, :p, :l)
        ON CONFLICT (username) DO NOTHING
        RETURNING id, username, role, region, sector, pii, lang, active, created_at
        """
                ),
                {
                    "id": uuid7(),
                    "u": username,
                    "h": password_hash,
                    "r": role,
                    "g": region,
                    "s": sector,
                    "p": pii,
                    "l": lang,
                },
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else {}


_IN_SCOPE = 'region COLLATE "C" >= :lo AND region COLLATE "C" < :hi'


async def list_users(conn: Conn, after: str | None, limit: int, *, scope: str) -> list[dict]:
    """Users whose region lies within ``scope`` (see ``authz.scope.prefix_range``)."""
    lo, hi = prefix_range(scope)
    rows = await conn.execute(
        text(
            "SELECT id, username, role, region, sector, pii, lang, active, locked_until, created_at"
            f" FROM app_user WHERE username > :a AND {_IN_SCOPE} ORDER BY username LIMIT :n"
        ),
        {"a": after or "", "n": limit, "lo": lo, "hi": hi},
    )
    return [dict(r) for r in rows.mappings()]


async def update_user(conn: Conn, username: str, changes: dict[str, Any]) -> dict | None:
    allowed = {"role", "region", "sector", "pii", "lang", "active", "password_hash"}
    sets = ", ".join(f"{k} = :{k}" for k in changes if k in allowed)
    if not sets:
        return await user_by_name(conn, username)
    row = (
        (
            await conn.execute(
                text(
                    f"UPDATE app_user SET {sets}, version = version + 1, updated_at = now()"
                    " WHERE username = :username RETURNING *"
                ),
                {**{k: v for k, v in changes.items() if k in allowed}, "username": username},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def record_login(
    conn: Conn,
    user_id,
    *,
    failures: int,
    first_failure_at: datetime | None,
    locked_until: datetime | None,
) -> None:
    await conn.execute(
        text(
            "UPDATE app_user SET failed_attempts = :f, first_failure_at = :ff, locked_until = :lu"
            " WHERE id = :id"
        ),
        {"f": failures, "ff": first_failure_at, "lu": locked_until, "id": user_id},
    )


async def inactive_subjects(conn: Conn) -> tuple[set[str], set[str]]:
    """Deactivated users and revoked clients: their unexpired tokens must stop working."""
    users = {
        r[0] for r in await conn.execute(text("SELECT id::text FROM app_user WHERE NOT active"))
    }
    clients = {
        r[0] for r in await conn.execute(text("SELECT client_id FROM api_client WHERE NOT active"))
    }
    return users, clients


# --- API clients --------------------------------------------------------------------------


async def create_client(
    conn: Conn,
    *,
    client_id: str,
    name: str,
    secret_hash: str,
    scopes: list[str],
    region: str,
    sector: str | None,
) -> dict:
    row = (
        (
            await conn.execute(
                text(
                    """
        INSERT INTO api_client (id, client_id, name, secret_hash, scopes, region, sector)
        VALUES (:id, :c, :n, :h, :s, :r, :sec)
        RETURNING id, client_id, name, scopes, region, sector, active, created_at
        """
                ),
                {
                    "id": uuid7(),
                    "c": client_id,
                    "n": name,
                    "h": secret_hash,
                    "s": scopes,
                    "r": region,
                    "sec": sector,
                },
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def client_by_id(conn: Conn, client_id: str) -> dict | None:
    row = (
        (
            await conn.execute(
                text("SELECT * FROM api_client WHERE client_id = :c"), {"c": client_id}
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_clients(conn: Conn, after: str | None, limit: int, *, scope: str) -> list[dict]:
    lo, hi = prefix_range(scope)
    rows = await conn.execute(
        text(
            "SELECT id, client_id, name, scopes, region, sector, active, created_at, revoked_at"
            f" FROM api_client WHERE client_id > :a AND {_IN_SCOPE} ORDER BY client_id LIMIT :n"
        ),
        {"a": after or "", "n": limit, "lo": lo, "hi": hi},
    )
    return [dict(r) for r in rows.mappings()]


async def update_client(conn: Conn, client_id: str, changes: dict[str, Any]) -> dict:
    allowed = {"scopes", "region", "sector"}
    values = {k: v for k, v in changes.items() if k in allowed}
    sets = ", ".join(f"{k} = :{k}" for k in values) or "client_id = client_id"
    row = (
        (
            await conn.execute(
                text(
                    f"UPDATE api_client SET {sets} WHERE client_id = :client_id"
                    " RETURNING client_id, name, scopes, region, sector, active"
                ),
                {**values, "client_id": client_id},
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def revoke_client(conn: Conn, client_id: str) -> bool:
    result = await conn.execute(
        text(
            "UPDATE api_client SET active = false, revoked_at = now()"
            " WHERE client_id = :c AND active"
        ),
        {"c": client_id},
    )
    return result.rowcount > 0


# --- signing keys -------------------------------------------------------------------------


async def signing_keys(conn: Conn) -> list[dict]:
    rows = await conn.execute(
        text(
            "SELECT kid, private_key_enc, public_jwk, created_at, retired_at FROM signing_key"
            " ORDER BY created_at DESC"
        )
    )
    return [dict(r) for r in rows.mappings()]


async def signing_key_marks(conn: Conn) -> list[dict]:
    """Just enough to notice a rotation elsewhere: kid and retirement, newest first."""
    rows = await conn.execute(
        text("SELECT kid, retired_at FROM signing_key ORDER BY created_at DESC")
    )
    return [dict(r) for r in rows.mappings()]


async def lock(conn: Conn, key: int) -> None:
    """A transaction-scoped advisory lock: one holder at a time across all replicas."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def add_signing_key(
    conn: Conn, *, kid: str, private_key_enc: str, public_jwk: dict, retire_others: bool
) -> None:
    if retire_others:
        # A retired key only verifies: its private half is deleted, so a copy of this
        # table can no longer mint tokens with it.
        await conn.execute(
            text(
                "UPDATE signing_key SET retired_at = clock_timestamp(), private_key_enc = ''"
                " WHERE retired_at IS NULL"
            )
        )
    await conn.execute(
        text(
            "INSERT INTO signing_key (kid, private_key_enc, public_jwk, created_at)"
            " VALUES (:k, :p, CAST(:j AS jsonb), clock_timestamp()) ON CONFLICT DO NOTHING"
        ),
        {"k": kid, "p": private_key_enc, "j": json.dumps(public_jwk)},
    )


# --- refresh tokens -----------------------------------------------------------------------


async def store_refresh(conn: Conn, record) -> None:
    await conn.execute(
        text(
            "INSERT INTO refresh_token (token_hash, family_id, subject, client_id, issued_at,"
            " expires_at) VALUES (:h, :f, :s, :c, :i, :e)"
        ),
        {
            "h": record.token_hash,
            "f": record.family_id,
            "s": record.subject,
            "c": record.client_id,
            "i": record.issued_at,
            "e": record.expires_at,
        },
    )


async def refresh_by_hash(conn: Conn, token_hash: str) -> dict | None:
    row = (
        (
            await conn.execute(
                text("SELECT * FROM refresh_token WHERE token_hash = :h"), {"h": token_hash}
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def mark_refresh_used(conn: Conn, token_hash: str, at: datetime) -> bool:
    """Conditional: of two concurrent exchanges of one token, only one succeeds."""
    result = await conn.execute(
        text("UPDATE refresh_token SET used_at = :at WHERE token_hash = :h AND used_at IS NULL"),
        {"h": token_hash, "at": at},
    )
    return result.rowcount == 1


async def revoke_refresh_family(conn: Conn, family_id: str) -> None:
    await conn.execute(
        text(
            "UPDATE refresh_token SET revoked_at = now() WHERE family_id = :f"
            " AND revoked_at IS NULL"
        ),
        {"f": family_id},
    )


# --- audit --------------------------------------------------------------------------------


def audit_record_id(record_ids: list[str], subject_ids: list[str]) -> str:
    """What the chain hash covers of the record and subject ids."""
    return "|".join(record_ids) + "#" + "|".join(subject_ids)


async def append_audit(conn: Conn, entries: list[dict]) -> None:
    """Append after the head, each entry chained to the previous, in the caller's
    transaction. The head row's lock serialises appends so the chain has one order."""
    head = (await conn.execute(text("SELECT seq, hash FROM audit_head FOR UPDATE"))).one()
    seq, prev = head.seq, head.hash
    rows = []
    for e in entries:
        entry = AuditEntry(
            actor=e["actor"],
            role=e["role"],
            client_id=e["client_id"],
            operation=e["operation"],
            record_type=e["record_type"],
            record_id=audit_record_id(e["record_ids"], e["subject_ids"]),
            fields=tuple(e["fields"]),
            purpose=e["purpose"],
            request_id=e["request_id"],
            outcome=Outcome(e["outcome_kind"]),
            at=e["at"],
        )
        digest = entry_hash(prev, entry)
        seq += 1
        rows.append({**e, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    await conn.execute(
        text(
            """
        INSERT INTO audit_entry (seq, at, actor, role, client_id, operation, method, route,
            record_type, record_ids, subject_ids, fields, purpose, request_id, outcome,
            outcome_kind, prev_hash, hash)
        VALUES (:seq, :at, :actor, :role, :client_id, :operation, :method, :route,
            :record_type, :record_ids, CAST(:subject_ids AS uuid[]), :fields, :purpose,
            :request_id, :outcome, :outcome_kind, :prev_hash, :hash)
        """
        ),
        rows,
    )
    await conn.execute(
        text(
            "UPDATE audit_head SET seq = :seq, hash = :hash, entries = entries + :n,"
            " updated_at = now()"
        ),
        {"seq": seq, "hash": prev, "n": len(rows)},
    )


async def audit_head(conn: Conn) -> dict | None:
    row = (await conn.execute(text("SELECT seq, hash, entries FROM audit_head"))).mappings().first()
    return dict(row) if row else None


async def audit_entries(
    conn: Conn,
    *,
    actor: str | None,
    subject_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after_seq: int,
    limit: int,
) -> list[dict]:
    rows = await conn.execute(
        text(
            """
        SELECT seq, at, actor, role, client_id, operation, method, route, record_type,
               record_ids, subject_ids, fields, purpose, request_id, outcome, outcome_kind,
               prev_hash, hash
        FROM audit_entry
        WHERE seq > :after
          AND (CAST(:actor AS text) IS NULL OR actor = :actor)
          AND (CAST(:subject AS uuid) IS NULL OR subject_ids @> ARRAY[CAST(:subject AS uuid)])
          AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
          AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
        ORDER BY seq LIMIT :n
        """
        ),
        {
            "after": after_seq,
            "actor": actor,
            "subject": subject_id,
            "since": since,
            "until": until,
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def all_audit_entries(conn: Conn, after_seq: int, limit: int) -> list[dict]:
    rows = await conn.execute(
        text("SELECT * FROM audit_entry WHERE seq > :a ORDER BY seq LIMIT :n"),
        {"a": after_seq, "n": limit},
    )
    return [dict(r) for r in rows.mappings()]
