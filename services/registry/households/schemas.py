"""API models of households (one Kartu Keluarga each) and their living conditions."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.registry.codelists import HOUSE_CONDITION, SANITATION, WATER_SOURCE
from services.registry.persons.codes import coded
from services.registry.persons.schemas import MemberCreate, PersonRead

KkField = Field(min_length=1, max_length=32, examples=["6104161501200003"])
LocalCode = Field(default=None, max_length=50)


class ConditionsIn(BaseModel):
    """One observation of the household's living conditions (history is kept)."""

    model_config = ConfigDict(extra="forbid")

    water_source: coded(str, WATER_SOURCE) | None = None  # type: ignore[valid-type]
    sanitation: coded(str, SANITATION) | None = None  # type: ignore[valid-type]
    house_condition: coded(str, HOUSE_CONDITION) | None = None  # type: ignore[valid-type]
    welfare_decile: int | None = Field(default=None, ge=1, le=10, description="DTSEN 1 poorest")
    extreme_poverty: bool | None = None
    observed_date: date


class ConditionsRead(ConditionsIn):
    model_config = ConfigDict(extra="ignore")

    recorded_at: datetime | None = None


class HouseholdMemberCreate(MemberCreate):
    mother_index: int | None = Field(
        default=None, ge=0, description="Position of the mother in this members list"
    )


class HouseholdCreate(BaseModel):
    """A Kartu Keluarga with its members; the village must be a desa/kelurahan code."""

    model_config = ConfigDict(extra="forbid")

    kk_number: str = KkField
    village_code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["61.04.16.2007"])
    dusun: str | None = LocalCode
    rw: str | None = LocalCode
    rt: str | None = LocalCode
    address: str | None = Field(default=None, max_length=500)
    conditions: ConditionsIn | None = None
    members: list[HouseholdMemberCreate] = Field(default_factory=list, max_length=40)
    registered_on: date | None = Field(default=None, description="Membership start; today")


class HouseholdUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kk_number: str | None = Field(default=None, min_length=1, max_length=32)
    dusun: str | None = LocalCode
    rw: str | None = LocalCode
    rt: str | None = LocalCode
    address: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class KrsRead(BaseModel):
    assessed_on: date
    rule_set: str
    is_target_family: bool
    is_krs: bool | None
    criteria: dict[str, bool | None]
    criteria_met: list[str]
    reason: dict[str, str]
    assessed_at: datetime


class HouseholdSummary(BaseModel):
    id: UUID
    kk_number: str
    village_code: str
    village_name: str
    dusun: str | None
    rw: str | None
    rt: str | None
    head_name: str | None
    active: bool
    version: int
    masked: bool


class HouseholdRead(HouseholdSummary):
    address: str | None
    conditions: ConditionsRead | None
    condition_history: list[ConditionsRead]
    members: list[PersonRead]
    krs: KrsRead | None


def krs_read(row: dict[str, Any] | None) -> KrsRead | None:
    return None if row is None else KrsRead(**row)
