"""API models of the public event feed and of webhook subscriptions."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.pii import PURPOSE_CODES


class EventSubject(BaseModel):
    type: str = Field(examples=["person"])
    id: UUID


class PublicEvent(BaseModel):
    """One change, as published to other systems (and as a webhook body)."""

    id: UUID = Field(description="Event id: the same on every retry; deduplicate on it")
    type: str = Field(examples=["measurement.recorded"])
    occurred_at: datetime
    region_code: str = Field(examples=["61.04.16.2007"])
    subject: EventSubject
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[PublicEvent]
    next_cursor: str = Field(description="Pass as `after` to continue; keep it to resume later")
    has_more: bool = Field(description="More events are ready now; a page may be short or empty")
    unavailable_sources: list[str] = Field(
        default_factory=list, description="Sources that did not answer; read again later"
    )


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, examples=["https://dinkes.example.go.id/hooks/kkb"])
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description='Exact types, families ("measurement.*") or "*" for all you may read',
    )
    description: str | None = Field(default=None, max_length=500)
    purpose: str | None = Field(
        default=None,
        description="With the pii:read scope: the purpose code that unmasks birth dates",
    )

    @model_validator(mode="after")
    def _known_purpose(self) -> "SubscriptionCreate":
        if self.purpose is not None and self.purpose not in PURPOSE_CODES:
            raise ValueError(f"purpose must be one of {sorted(PURPOSE_CODES)}")
        return self


class PauseReason(BaseModel):
    code: str
    message: dict[str, str]


class SubscriptionRead(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    description: str | None
    purpose: str | None
    status: Literal["active", "paused"]
    paused_reason: PauseReason | None
    paused_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    pending_deliveries: int
    failed_deliveries: int
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="Signing secret, shown once: store it now")


class RedeliverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: UUID | None = None
    since: datetime | None = Field(default=None, description="Events that occurred from then")

    @model_validator(mode="after")
    def _one_of(self) -> "RedeliverRequest":
        if (self.event_id is None) == (self.since is None):
            raise ValueError("give exactly one of event_id or since")
        return self


class RedeliverResult(BaseModel):
    requeued: int
    status: Literal["active", "paused"]


class DeliveryRead(BaseModel):
    event_id: UUID
    event_type: str
    occurred_at: datetime
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
