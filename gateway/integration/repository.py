"""All SQL of webhooks: subscriptions, deliveries, attempts, the dispatcher's cursor."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Conn = AsyncConnection | AsyncSession

_SUBSCRIPTION_COLUMNS = """
    s.id, s.client_id, s.url, s.event_types, s.description, s.purpose, s.status,
    s.paused_reason, s.paused_at, s.consecutive_failures, s.last_error, s.last_error_at,
    s.last_success_at, s.created_at,
    (SELECT count(*) FROM webhook_delivery d
      WHERE d.subscription_id = s.id AND d.status = 'pending') AS pending_deliveries,
    (SELECT count(*) FROM webhook_delivery d
      WHERE d.subscription_id = s.id AND d.status = 'failed') AS failed_deliveries
"""


async def _mapping(conn: Conn, sql: str, params: dict[str, Any]) -> dict | None:
    row = (await conn.execute(text(sql), params)).mappings().first()
    return dict(row) if row else None


# --- subscriptions ------------------------------------------------------------------------


async def create_subscription(conn: Conn, row: dict[str, Any]) -> dict:
    await conn.execute(
        text(
            """
            INSERT INTO webhook_subscription
                (id, client_id, url, event_types, description, purpose, secret_enc)
            VALUES (:id, :client_id, :url, :event_types, :description, :purpose, :secret_enc)
            """
        ),
        row,
    )
    found = await get_subscription(conn, row["client_id"], row["id"])
    assert found is not None
    return found


async def get_subscription(conn: Conn, client_id: str, subscription_id: uuid.UUID) -> dict | None:
    return await _mapping(
        conn,
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM webhook_subscription s"
        " WHERE s.id = :id AND s.client_id = :c",
        {"id": subscription_id, "c": client_id},
    )


async def list_subscriptions(
    conn: Conn, client_id: str, after: uuid.UUID | None, limit: int
) -> list[dict]:
    rows = await conn.execute(
        text(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM webhook_subscription s"
            " WHERE s.client_id = :c AND (CAST(:after AS uuid) IS NULL OR s.id > :after)"
            " ORDER BY s.id LIMIT :n"
        ),
        {"c": client_id, "after": after, "n": limit},
    )
    return [dict(r) for r in rows.mappings()]


async def delete_subscription(conn: Conn, client_id: str, subscription_id: uuid.UUID) -> bool:
    result = await conn.execute(
        text("DELETE FROM webhook_subscription WHERE id = :id AND client_id = :c"),
        {"id": subscription_id, "c": client_id},
    )
    return result.rowcount > 0


async def resume_subscription(conn: Conn, client_id: str, subscription_id: uuid.UUID) -> bool:
    """Active again, failure count reset, everything waiting due now."""
    result = await conn.execute(
        text(
            "UPDATE webhook_subscription SET status = 'active', consecutive_failures = 0,"
            " paused_reason = NULL, paused_at = NULL, updated_at = now()"
            " WHERE id = :id AND client_id = :c"
        ),
        {"id": subscription_id, "c": client_id},
    )
    if result.rowcount == 0:
        return False
    await conn.execute(
        text(
            "UPDATE webhook_delivery SET next_attempt_at = now()"
            " WHERE subscription_id = :id AND status = 'pending' AND next_attempt_at > now()"
        ),
        {"id": subscription_id},
    )
    return True


async def requeue(
    conn: Conn,
    subscription_id: uuid.UUID,
    *,
    event_id: uuid.UUID | None,
    since: datetime | None,
    window_s: float,
) -> int:
    """Deliver again (a fresh retry window) one event or every event from ``since``."""
    result = await conn.execute(
        text(
            """
            UPDATE webhook_delivery SET status = 'pending', next_attempt_at = now(),
                expires_at = now() + make_interval(secs => :window)
            WHERE subscription_id = :s
              AND (CAST(:event AS uuid) IS NULL OR event_id = :event)
              AND (CAST(:since AS timestamptz) IS NULL OR occurred_at >= :since)
            """
        ),
        {"s": subscription_id, "event": event_id, "since": since, "window": window_s},
    )
    return result.rowcount


async def list_deliveries(
    conn: Conn, subscription_id: uuid.UUID, status: str | None, before: int | None, limit: int
) -> list[dict]:
    """Newest first."""
    rows = await conn.execute(
        text(
            """
            SELECT id, event_id, event_type, occurred_at, status, attempts,
                   CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
                   last_status, last_error, delivered_at
            FROM webhook_delivery
            WHERE subscription_id = :s
              AND (CAST(:status AS text) IS NULL OR status = :status)
              AND (CAST(:before AS bigint) IS NULL OR id < :before)
            ORDER BY id DESC LIMIT :n
            """
        ),
        {"s": subscription_id, "status": status, "before": before, "n": limit},
    )
    return [dict(r) for r in rows.mappings()]


# --- dispatcher ---------------------------------------------------------------------------


async def cursor_position(conn: Conn, name: str) -> str:
    row = await _mapping(conn, "SELECT position FROM webhook_cursor WHERE name = :n", {"n": name})
    return row["position"] if row else ""


async def lock_cursor(conn: Conn, name: str) -> str:
    """The cursor row, locked until the transaction ends: one dispatcher moves it at a time."""
    await conn.execute(
        text("INSERT INTO webhook_cursor (name) VALUES (:n) ON CONFLICT DO NOTHING"), {"n": name}
    )
    return (
        await conn.execute(
            text("SELECT position FROM webhook_cursor WHERE name = :n FOR UPDATE"), {"n": name}
        )
    ).scalar_one()


async def move_cursor(conn: Conn, name: str, position: str, seen: int) -> None:
    await conn.execute(
        text(
            "UPDATE webhook_cursor SET position = :p, events_seen = events_seen + :k,"
            " updated_at = now() WHERE name = :n"
        ),
        {"p": position, "k": seen, "n": name},
    )


async def dispatch_targets(conn: Conn) -> list[dict]:
    """Every subscription of an active client, with what that client may see now."""
    rows = await conn.execute(
        text(
            """
            SELECT s.id, s.client_id, s.event_types, s.purpose,
                   c.scopes, c.region, c.sector
            FROM webhook_subscription s JOIN api_client c ON c.client_id = s.client_id
            WHERE c.active
            """
        )
    )
    return [dict(r) for r in rows.mappings()]


async def insert_deliveries(conn: Conn, rows: list[dict[str, Any]], window_s: float) -> int:
    if not rows:
        return 0
    result = await conn.execute(
        text(
            """
            INSERT INTO webhook_delivery
                (subscription_id, event_id, event_type, occurred_at, body, expires_at)
            SELECT s, e, t, o, b, now() + make_interval(secs => :window)
            FROM unnest(CAST(:s AS uuid[]), CAST(:e AS uuid[]), CAST(:t AS text[]),
                        CAST(:o AS timestamptz[]), CAST(:b AS text[])) AS u(s, e, t, o, b)
            ON CONFLICT (subscription_id, event_id) DO NOTHING
            """
        ),
        {
            "s": [r["subscription_id"] for r in rows],
            "e": [r["event_id"] for r in rows],
            "t": [r["event_type"] for r in rows],
            "o": [r["occurred_at"] for r in rows],
            "b": [r["body"] for r in rows],
            "window": window_s,
        },
    )
    return result.rowcount


async def purge(conn: Conn, days: int) -> int:
    result = await conn.execute(
        text(
            "DELETE FROM webhook_delivery WHERE status <> 'pending'"
            " AND created_at < now() - make_interval(days => :d)"
        ),
        {"d": days},
    )
    return result.rowcount


# --- senders ------------------------------------------------------------------------------


async def subscription_ids(conn: Conn) -> list[uuid.UUID]:
    return list((await conn.execute(text("SELECT id FROM webhook_subscription"))).scalars())


async def due_subscriptions(conn: Conn) -> list[uuid.UUID]:
    """Active subscriptions with a delivery due now (one index probe each)."""
    rows = await conn.execute(
        text(
            """
            SELECT s.id FROM webhook_subscription s
            WHERE s.status = 'active' AND EXISTS (
                SELECT 1 FROM webhook_delivery d
                WHERE d.subscription_id = s.id AND d.status = 'pending'
                  AND d.next_attempt_at <= now())
            """
        )
    )
    return list(rows.scalars())


async def sending_details(conn: Conn, subscription_id: uuid.UUID) -> dict | None:
    return await _mapping(
        conn,
        "SELECT url, secret_enc, status FROM webhook_subscription WHERE id = :id",
        {"id": subscription_id},
    )


async def claim(conn: Conn, subscription_id: uuid.UUID, limit: int, lease_s: float) -> list[dict]:
    """Take up to ``limit`` due deliveries of an active subscription for one attempt each.

    Claiming pushes ``next_attempt_at`` past the attempt's lease, so another gateway
    replica skips them, and a sender that dies leaves them due again when it expires.
    """
    rows = await conn.execute(
        text(
            """
            UPDATE webhook_delivery d
            SET next_attempt_at = now() + make_interval(secs => :lease),
                attempts = d.attempts + 1, last_attempt_at = now()
            WHERE d.id IN (
                SELECT id FROM webhook_delivery
                WHERE subscription_id = :s AND status = 'pending' AND next_attempt_at <= now()
                  AND EXISTS (SELECT 1 FROM webhook_subscription
                              WHERE id = :s AND status = 'active')
                ORDER BY next_attempt_at, id
                LIMIT :n
                FOR UPDATE SKIP LOCKED)
            RETURNING d.id, d.event_id, d.body, d.attempts, d.expires_at
            """
        ),
        {"s": subscription_id, "n": limit, "lease": lease_s},
    )
    return sorted((dict(r) for r in rows.mappings()), key=lambda r: r["id"])


async def record_attempts(conn: Conn, outcomes: list[dict[str, Any]]) -> None:
    """Each delivery moved on (delivered, retried later, or abandoned) and each attempt
    logged, in one statement."""
    if not outcomes:
        return
    cols = {
        k: [o[k] for o in outcomes]
        for k in (
            "delivery_id",
            "attempt",
            "at",
            "status_code",
            "error",
            "duration_ms",
            "state",
            "next_attempt_at",
        )
    }
    await conn.execute(
        text(
            """
            WITH u AS (
                SELECT * FROM unnest(
                    CAST(:delivery_id AS bigint[]), CAST(:attempt AS int[]),
                    CAST(:at AS timestamptz[]), CAST(:status_code AS int[]),
                    CAST(:error AS text[]), CAST(:duration_ms AS int[]),
                    CAST(:state AS text[]), CAST(:next_attempt_at AS timestamptz[]))
                AS u(delivery_id, attempt, at, status_code, error, duration_ms, state, next_at)
            ), moved AS (
                UPDATE webhook_delivery d
                SET status = u.state,
                    next_attempt_at = coalesce(u.next_at, d.next_attempt_at),
                    last_status = u.status_code, last_error = u.error,
                    delivered_at = CASE WHEN u.state = 'delivered' THEN u.at END
                FROM u WHERE d.id = u.delivery_id
                RETURNING d.id
            )
            -- a delivery may have gone with its subscription meanwhile: only those moved
            INSERT INTO webhook_attempt (delivery_id, attempt, at, status_code, error, duration_ms)
            SELECT u.delivery_id, u.attempt, u.at, u.status_code, u.error, u.duration_ms
            FROM u JOIN moved ON moved.id = u.delivery_id
            """
        ),
        cols,
    )


async def lock_subscription_health(conn: Conn, subscription_id: uuid.UUID) -> dict | None:
    return await _mapping(
        conn,
        "SELECT status, consecutive_failures FROM webhook_subscription WHERE id = :id FOR UPDATE",
        {"id": subscription_id},
    )


async def save_subscription_health(
    conn: Conn, subscription_id: uuid.UUID, health: dict[str, Any]
) -> None:
    await conn.execute(
        text(
            """
            UPDATE webhook_subscription SET
                status = :status,
                consecutive_failures = :consecutive_failures,
                paused_reason = CASE WHEN :pause THEN :reason ELSE paused_reason END,
                paused_at = CASE WHEN :pause THEN now() ELSE paused_at END,
                last_error = coalesce(CAST(:last_error AS text), last_error),
                last_error_at = coalesce(CAST(:last_error_at AS timestamptz), last_error_at),
                last_success_at = coalesce(
                    CAST(:last_success_at AS timestamptz), last_success_at),
                updated_at = now()
            WHERE id = :id
            """
        ),
        {**health, "id": subscription_id},
    )
