"""API models of persons (members of a household)."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.registry.codelists import (
    EDUCATION,
    MARITAL_STATUS,
    OCCUPATION,
    RELATIONSHIP,
    RELIGION,
    SEX,
)
from services.registry.persons.codes import coded

Sex = coded(int, SEX)
Relationship = coded(int, RELATIONSHIP)
MaritalStatus = coded(int, MARITAL_STATUS)
Religion = coded(int, RELIGION)
Education = coded(int, EDUCATION)
Occupation = coded(int, OCCUPATION)
NikField = Field(
    min_length=1,
    max_length=32,
    description="16-digit NIK; checked against birth date and sex",
    examples=["6104164507990001"],
)


class PersonFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=1, max_length=200)
    sex: Sex = Field(description="1 male (LAKI-LAKI), 2 female (PEREMPUAN)")  # type: ignore[valid-type]
    birth_date: date
    birth_place: str | None = Field(default=None, max_length=200)
    marital_status: MaritalStatus | None = None  # type: ignore[valid-type]
    marital_status_since: date | None = None
    religion: Religion | None = None  # type: ignore[valid-type]
    education: Education | None = None  # type: ignore[valid-type]
    occupation: Occupation | None = None  # type: ignore[valid-type]
    has_birth_certificate: bool = False
    mother_name: str | None = Field(default=None, max_length=200)


class MemberCreate(PersonFields):
    """A new person; without a NIK the registry gives a provisional id."""

    nik: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="16-digit NIK; checked against birth date and sex",
        examples=["6104164507990001"],
    )
    relationship: Relationship = Field(description="SIAK STAT_HBKEL: 1 head, 3 wife, 4 child…")  # type: ignore[valid-type]


class MemberAdd(MemberCreate):
    """A birth (with ``mother_id``) or another person joining the household."""

    mother_id: UUID | None = None
    joined_on: date | None = Field(
        default=None, description="Defaults to the birth date for a birth, else today"
    )


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    sex: Sex | None = None  # type: ignore[valid-type]
    birth_date: date | None = None
    birth_place: str | None = Field(default=None, max_length=200)
    marital_status: MaritalStatus | None = None  # type: ignore[valid-type]
    marital_status_since: date | None = None
    religion: Religion | None = None  # type: ignore[valid-type]
    education: Education | None = None  # type: ignore[valid-type]
    occupation: Occupation | None = None  # type: ignore[valid-type]
    has_birth_certificate: bool | None = None
    mother_name: str | None = Field(default=None, max_length=200)
    mother_id: UUID | None = None


class NikAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nik: str = NikField


class PersonMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: UUID
    relationship: Relationship  # type: ignore[valid-type]
    moved_on: date | None = Field(default=None, description="Defaults to today")


class PersonDeath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    death_date: date


class TargetGroupRead(BaseModel):
    group: str
    label: dict[str, str]
    start: date | None
    end: date | None


class PersonRead(BaseModel):
    """NIK, name, birth date (year only) and mother's name are masked unless you hold
    the personal-data right and state a purpose (``masked`` says which)."""

    id: UUID
    nik: str | None
    provisional_id: str | None
    full_name: str
    sex: int
    birth_date: str
    birth_place: str | None
    religion: int | None
    education: int | None
    occupation: int | None
    marital_status: int | None
    marital_status_since: date | None
    has_birth_certificate: bool
    mother_id: UUID | None
    mother_name: str | None
    alive: bool
    death_date: date | None
    household_id: UUID | None
    relationship: int | None
    village_code: str
    merged_into: UUID | None
    version: int
    as_of: date
    target_groups: list[TargetGroupRead]
    masked: bool


class MembershipRead(BaseModel):
    household_id: UUID
    village_code: str
    relationship: int
    start_date: date
    end_date: date | None
    end_reason: str | None


class IdentifierRead(BaseModel):
    kind: str
    value: str | None
    valid_until: datetime
    reason: str


class PersonDetail(PersonRead):
    memberships: list[MembershipRead]
    identifier_history: list[IdentifierRead]
    life_events: list[dict[str, Any]]
