"""Change feed (transactional outbox) shared by every service.

Each service writes events into ``<schema>.outbox_event`` in the same transaction as the
change. Positions are ``(xid, id)``: the writing transaction's id (``xid8``) and a
sequence. The feed only serves events whose transaction is older than every transaction
still in progress (``pg_snapshot_xmin``), ordered by ``(xid, id)``. Anything at or above
that horizon may still commit, so serving it could let a later-committing event slip
behind a cursor; below it, the set is final. A plain ``bigserial`` cursor skips events
that commit out of order — the concurrency test in tests/foundation proves this one
does not.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.errors import ProblemError
from common.ids import uuid7

OUTBOX_DDL = [
    """
    CREATE TABLE outbox_event (
        id bigint GENERATED ALWAYS AS IDENTITY,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id uuid NOT NULL,
        type text NOT NULL,
        aggregate_type text NOT NULL,
        aggregate_id uuid NOT NULL,
        region_code text NOT NULL DEFAULT '',
        occurred_at timestamptz NOT NULL DEFAULT now(),
        payload jsonb NOT NULL,  -- json since each service's lean_outbox migration
        PRIMARY KEY (xid, id)
    )
    """,
    "CREATE UNIQUE INDEX outbox_event_event_id ON outbox_event (event_id)",
    """
    CREATE TABLE feed_cursor (
        feed text PRIMARY KEY,
        position text NOT NULL DEFAULT '',
        events_applied bigint NOT NULL DEFAULT 0,
        last_event_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
]
OUTBOX_DROP = ["DROP TABLE feed_cursor", "DROP TABLE outbox_event"]


@dataclass(frozen=True)
class Position:
    xid: int
    id: int

    def encode(self) -> str:
        return f"{self.xid}.{self.id}"

    @classmethod
    def decode(cls, cursor: str | None) -> "Position":
        if not cursor:
            return cls(0, 0)
        try:
            xid, _, seq = cursor.partition(".")
            return cls(int(xid), int(seq))
        except ValueError as exc:
            raise ProblemError(
                400,
                "invalid_cursor",
                detail={
                    "en": "Feed cursor must be a value this feed returned.",
                    "id": "Cursor feed harus nilai yang diberikan feed ini.",
                },
            ) from exc


_INSERT = text(
    """
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code, payload)
    VALUES (:event_id, :type, :aggregate_type, :aggregate_id, :region_code, CAST(:payload AS json))
    """
)


async def emit(
    session: AsyncSession | AsyncConnection,
    type_: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    payload: dict[str, Any],
    region_code: str = "",
) -> uuid.UUID:
    """Record an event in the caller's transaction; it is published only if that commits."""
    event_id = uuid7()
    await session.execute(
        _INSERT,
        {
            "event_id": event_id,
            "type": type_,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "region_code": region_code,
            "payload": orjson.dumps(payload, default=str).decode(),
        },
    )
    return event_id


EMIT_MANY_SQL = """
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code, payload)
"""  # followed by a set-based SELECT in bulk paths


_READ = text(
    """
    SELECT xid::text AS xid, id, event_id, type, aggregate_type, aggregate_id, region_code,
           occurred_at, payload::text AS payload
    FROM outbox_event
    WHERE (xid, id) > (CAST(CAST(:xid AS text) AS xid8), :id)
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
    -- Qualified: a bare "xid" here would name the text column above, and order 10 < 9.
    ORDER BY outbox_event.xid, outbox_event.id
    LIMIT :limit
    """
)


async def read_feed(
    conn: AsyncConnection | AsyncSession, after: str | None, limit: int, *, raw: bool = False
) -> dict:
    """A page of the feed after ``after``; ``next`` is the cursor to resume from.

    ``raw`` keeps each payload as the stored JSON text (an ``orjson.Fragment``) for the
    HTTP route, which would otherwise parse and re-serialise every payload.
    """
    pos = Position.decode(after)
    rows = (await conn.execute(_READ, {"xid": str(pos.xid), "id": pos.id, "limit": limit})).all()
    events = [
        {
            "position": f"{r.xid}.{r.id}",
            "event_id": str(r.event_id),
            "type": r.type,
            "aggregate_type": r.aggregate_type,
            "aggregate_id": str(r.aggregate_id),
            "region_code": r.region_code,
            "occurred_at": r.occurred_at,
            "payload": orjson.Fragment(r.payload) if raw else orjson.loads(r.payload),
        }
        for r in rows
    ]
    next_cursor = events[-1]["position"] if events else pos.encode()
    return {"events": events, "next": next_cursor, "has_more": len(events) == limit}


@dataclass
class FeedEvent:
    position: str
    event_id: str
    type: str
    aggregate_type: str
    aggregate_id: str
    region_code: str
    occurred_at: datetime
    payload: dict[str, Any]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "FeedEvent":
        return cls(
            position=raw["position"],
            event_id=raw["event_id"],
            type=raw["type"],
            aggregate_type=raw["aggregate_type"],
            aggregate_id=raw["aggregate_id"],
            region_code=raw["region_code"],
            occurred_at=datetime.fromisoformat(raw["occurred_at"]),
            payload=raw["payload"],
        )
