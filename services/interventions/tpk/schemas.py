"""API models of TPK teams, visits and catin screenings."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.interventions.tpk.rules import VisitGroup

Text = dict[str, str]
VillageCode = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["61.04.16.2007"])


class TeamMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: str = Field(min_length=1, max_length=255, description="The member's user id")
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(examples=["midwife"], description="midwife, pkk_cadre or kb_cadre")


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    region_code: str = Field(
        pattern=r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$", description="Home region (district)"
    )
    members: list[TeamMemberIn] = Field(max_length=10)
    villages: list[str] = Field(min_length=1, max_length=50)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    members: list[TeamMemberIn] | None = Field(default=None, max_length=10)
    villages: list[str] | None = Field(default=None, min_length=1, max_length=50)
    active: bool | None = None


class TeamRead(BaseModel):
    id: UUID
    name: str
    region_code: str
    members: list[dict[str, Any]]
    villages: list[str]
    active: bool
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class VisitReferral(BaseModel):
    """A referral raised during the visit (from the team)."""

    model_config = ConfigDict(extra="forbid")

    referral_type: str = Field(max_length=64)
    to_sector: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=2000)


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: UUID
    subject_id: UUID
    target_group: VisitGroup
    visited_on: date
    answers: dict[str, Any] = Field(max_length=50)
    advice: list[str] = Field(default_factory=list, max_length=20)
    referrals: list[VisitReferral] = Field(default_factory=list, max_length=10)


class ScreeningCreate(BaseModel):
    """Catin (Elsimil) screening: the catin checklist, the planned marriage date, and
    whether the bride is already pregnant."""

    model_config = ConfigDict(extra="forbid")

    team_id: UUID
    subject_id: UUID
    visited_on: date
    marriage_date: date
    answers: dict[str, Any] = Field(max_length=50)
    pregnant: bool = False
    advice: list[str] = Field(default_factory=list, max_length=20)
    referrals: list[VisitReferral] = Field(default_factory=list, max_length=10)
    funding_source: str = Field(
        default="DAK", max_length=16, description="Budget of the N3 delivery it records"
    )


class VisitRead(BaseModel):
    id: UUID
    team_id: UUID
    subject_id: UUID
    subject_kind: str
    household_id: UUID | None
    village_code: str
    target_group: str
    visited_on: date
    answers: dict[str, Any]
    advice: list[Any]
    referral_ids: list[UUID]
    at_risk: bool | None
    screening: dict[str, Any] | None
    recorded_by: str
    recorded_at: datetime


class ScreeningRead(VisitRead):
    delivery_id: UUID | None = Field(description="The N3 delivery recorded with it")
    delivery_note: Text | None = Field(description="Why no N3 delivery was recorded")


class SlotRead(BaseModel):
    number: int
    start: date
    end: date
    status: str
    status_label: Text
    visited_on: date | None


class ScheduleItem(BaseModel):
    subject_id: UUID
    subject_kind: str
    household_id: UUID | None
    village_code: str
    target_group: str
    window_start: date
    window_end: date | None
    due: int
    overdue: int
    next_due: date | None
    slots: list[SlotRead]


class ScheduleRead(BaseModel):
    team_id: UUID
    as_of: date
    since: date
    items: list[ScheduleItem]
