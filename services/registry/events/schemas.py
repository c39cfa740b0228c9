"""API models of life events: pregnancy, delivery, planned marriage, contraception."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.registry.codelists import CONTRACEPTION_METHOD, PREGNANCY_OUTCOME
from services.registry.persons.codes import coded
from services.registry.persons.schemas import PersonRead

Outcome = coded(str, PREGNANCY_OUTCOME)
Method = coded(str, CONTRACEPTION_METHOD)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    details: dict[str, Any] = Field(default_factory=dict, max_length=50)


class PregnancyCreate(_Event):
    kind: Literal["pregnancy"]
    start_date: date = Field(description="First day of the last menstrual period (HPHT)")
    expected_date: date | None = Field(default=None, description="Expected delivery (HPL)")
    outcome: Outcome | None = None  # type: ignore[valid-type]
    end_date: date | None = Field(default=None, description="Date of the outcome")


class DeliveryCreate(_Event):
    kind: Literal["delivery"]
    start_date: date = Field(description="Delivery date")
    outcome: Literal["live_birth", "stillbirth"] = "live_birth"


class MarriagePlanCreate(_Event):
    kind: Literal["marriage_plan"]
    expected_date: date = Field(description="Planned marriage date")


class ContraceptionCreate(_Event):
    kind: Literal["contraception"]
    method: Method  # type: ignore[valid-type]
    start_date: date
    end_date: date | None = None


LifeEventCreate = Annotated[
    PregnancyCreate | DeliveryCreate | MarriagePlanCreate | ContraceptionCreate,
    Field(discriminator="kind"),
]


class LifeEventUpdate(BaseModel):
    """Fields that change after recording: a pregnancy's outcome, a method stopped…"""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = None
    expected_date: date | None = None
    end_date: date | None = None
    outcome: Outcome | None = None  # type: ignore[valid-type]
    details: dict[str, Any] | None = Field(default=None, max_length=50)


class LifeEventRead(BaseModel):
    id: UUID
    person_id: UUID
    household_id: UUID | None
    village_code: str
    kind: str
    start_date: date | None
    end_date: date | None
    expected_date: date | None
    outcome: str | None
    details: dict[str, Any]
    version: int
    created_at: datetime


class LifeEventRecorded(LifeEventRead):
    person: PersonRead = Field(description="The person with target groups derived anew")
