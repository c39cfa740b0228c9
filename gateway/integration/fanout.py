"""Which subscription gets which event, and in what form (pure)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from common.identity import Identity, Role
from common.scoping import in_scope
from gateway.integration.envelope import public_event, subject_person_ids
from gateway.integration.event_types import matches, may_see_type

PII_SCOPE = "pii:read"


@dataclass(frozen=True)
class Subscriber:
    """A subscription with what its owning client may see now."""

    id: uuid.UUID
    client_id: str
    patterns: tuple[str, ...]
    identity: Identity
    purpose: str | None

    @property
    def unmasked(self) -> bool:
        return self.identity.pii and self.purpose is not None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Subscriber":
        scopes = tuple(row["scopes"])
        identity = Identity(
            sub=f"client:{row['client_id']}",
            role=Role.SYSTEM,
            region=row["region"],
            sector=row["sector"],
            scopes=scopes,
            pii=PII_SCOPE in scopes,
            client_id=row["client_id"],
            purpose=row["purpose"],
            request_id="webhook-dispatch",
        )
        return cls(row["id"], row["client_id"], tuple(row["event_types"]), identity, row["purpose"])


@dataclass
class FanOut:
    deliveries: list[dict[str, Any]]
    # Per subscriber shown unmasked data: the event ids and the persons they concern.
    unmasked: dict[uuid.UUID, tuple[list[str], set[str]]]


def fan_out(subscribers: list[Subscriber], events: list[dict[str, Any]]) -> FanOut:
    bodies: dict[tuple[str, bool], str] = {}
    # Whether a subscriber takes a type: decided once per batch, not once per event.
    takes: list[dict[str, bool]] = [{} for _ in subscribers]
    plan = FanOut([], {})
    for event in events:
        kind = event["type"]
        for sub, known in zip(subscribers, takes, strict=True):
            if kind not in known:
                known[kind] = matches(sub.patterns, kind) and may_see_type(sub.identity, kind)
            if not (known[kind] and in_scope(sub.identity.region, event["region_code"])):
                continue
            key = (event["event_id"], sub.unmasked)
            if key not in bodies:
                bodies[key] = orjson.dumps(public_event(event, unmasked=sub.unmasked)).decode()
            plan.deliveries.append(
                {
                    "subscription_id": sub.id,
                    "event_id": event["event_id"],
                    "event_type": event["type"],
                    "occurred_at": datetime.fromisoformat(event["occurred_at"]),
                    "body": bodies[key],
                }
            )
            if sub.unmasked:
                ids, persons = plan.unmasked.setdefault(sub.id, ([], set()))
                ids.append(event["event_id"])
                persons.update(subject_person_ids(event))
    return plan
