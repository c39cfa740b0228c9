"""API models of the subject projection."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

Text = dict[str, str]


class SubjectRead(BaseModel):
    """A person or household as this service knows it from the registry feed."""

    id: UUID
    kind: str
    household_id: UUID | None
    village_code: str
    sex: int | None
    birth_date: str | None = Field(description="Year only unless you may see personal data")
    alive: bool
    active: bool
    target_groups: list[dict[str, Any]]
    krs: dict[str, Any] | None
    growth: dict[str, Any] | None
    welfare_decile: int | None
    has_birth_certificate: bool | None
    has_nik: bool | None
    merged_into: UUID | None
    source: str = Field(description="feed, or lookup when fetched before the feed brought it")
    projected_at: datetime
    masked: bool


class EligibilityRead(BaseModel):
    code: str
    version: int
    name: Text
    eligible: bool
    reasons: Text
    missing_data: list[str]
    eligible_periods: list[tuple[date, date]]


class ProjectionStatus(BaseModel):
    feed: str
    position: str
    events_applied: int
    last_event_at: datetime | None
    updated_at: datetime | None
    lag_s: float | None = Field(description="Now minus the time of the last applied event")
    running: bool
    last_error: str | None
