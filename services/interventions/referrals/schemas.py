"""API models of referrals between agencies."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Text = dict[str, str]


class ReferralCreate(BaseModel):
    """A referral of a person or household to another sector. ``to_sector`` defaults to
    the referral type's sector and ``due_on`` to the type's default delay."""

    model_config = ConfigDict(extra="forbid")

    subject_id: UUID
    referral_type: str = Field(max_length=64, examples=["latrine"])
    to_sector: str | None = Field(default=None, max_length=32, examples=["public_works"])
    from_team_id: UUID | None = Field(default=None, description="The TPK team referring")
    note: str | None = Field(default=None, max_length=2000)
    due_on: date | None = None


class ReferralAct(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class TransitionRead(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    actor_org: str
    reason: str | None
    at: datetime


class ReferralRead(BaseModel):
    id: UUID
    subject_kind: str
    subject_id: UUID
    household_id: UUID | None
    village_code: str
    referral_type: str
    type_label: Text | None
    from_org: str
    to_sector: str
    state: str
    state_label: Text
    note: str | None
    reason: str | None
    created_on: date
    due_on: date
    days_overdue: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    allowed_actions: list[str] = Field(description="What you may do now")


class ReferralDetail(ReferralRead):
    transitions: list[TransitionRead]


class ReferralTypeRead(BaseModel):
    code: str
    label: Text
    default_sector: str
    due_days: int
    interventions: list[str]
