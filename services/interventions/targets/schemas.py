"""API models of targets and gaps."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

Text = dict[str, str]


class InterventionRef(BaseModel):
    code: str
    version: int
    name: Text
    unit: str
    dose_quantity: float | None
    dose_per: str | None
    dose_schedule: Text | None
    national_target_pct: float | None
    sectors: list[str]


class PeriodRead(BaseModel):
    label: str
    start: date
    end: date
    as_of: date = Field(description="Progress is measured on this day")


class TargetCounts(BaseModel):
    eligible: int
    received_any: int
    no_delivery: int
    complete: int
    on_track: int
    behind: int
    received_total: float
    coverage_pct: float | None = Field(description="complete / eligible × 100")
    national_target_pct: float | None
    listed: int = Field(description="Subjects matching the status filter")


class VillageCounts(BaseModel):
    village_code: str
    eligible: int
    received_any: int
    complete: int
    behind: int


class TargetItem(BaseModel):
    subject_id: UUID
    subject_kind: str
    household_id: UUID | None
    village_code: str
    sex: int | None
    birth_date: str | None = Field(description="Year only unless you may see personal data")
    window_start: date | None = Field(description="Dose window the deliveries count in")
    window_end: date | None
    received: float
    expected_total: float | None
    expected_by_now: float | None
    remaining: float | None
    behind_by: float | None
    percent: float | None
    status: str | None
    status_label: Text | None
    last_delivered_on: date | None
    deliveries: int


class TargetsRead(BaseModel):
    intervention: InterventionRef
    period: PeriodRead
    region: str
    lokus_year: int | None
    evaluation: str = Field(description="sql: rule translated exactly; sql+python otherwise")
    counts: TargetCounts
    by_village: list[VillageCounts] | None = None
    items: list[TargetItem]
    next_cursor: str | None
    masked: bool
