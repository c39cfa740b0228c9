"""Reassessing a family's stunting risk whenever one of its inputs changes.

Called inside the writing request's transaction, so the stored assessment never lags
the data it was computed from.
"""

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.feed import emit
from common.ids import uuid7
from services.registry.events import repository as events_repo
from services.registry.events.target_groups import HouseholdMember
from services.registry.households import repository as households_repo
from services.registry.persons import repository as persons_repo
from services.registry.persons.service import person_facts
from services.registry.risk import repository as repo
from services.registry.risk.rules import Criterion, HouseholdConditions, KrsAssessment, assess_krs

# The feed and API name the criteria in English (docs/CONTRACTS.md).
CRITERION_KEYS: dict[Criterion, str] = {
    Criterion.TERLALU_MUDA: "too_young",
    Criterion.TERLALU_TUA: "too_old",
    Criterion.TERLALU_DEKAT: "too_close",
    Criterion.TERLALU_BANYAK: "too_many",
}


def criterion_key(criterion: Criterion) -> str:
    return CRITERION_KEYS.get(criterion, criterion.value)


CRITERION_BY_KEY: dict[str, Criterion] = {criterion_key(c): c for c in Criterion}


def conditions_of(latest: dict[str, Any] | None) -> HouseholdConditions:
    if latest is None:
        return HouseholdConditions()
    return HouseholdConditions(
        water_source=latest["water_source"],
        sanitation=latest["sanitation"],
        house_condition=latest["house_condition"],
        welfare_decile=latest["welfare_decile"],
    )


async def household_members(
    session: AsyncSession, household_id: uuid.UUID
) -> list[HouseholdMember]:
    people = await persons_repo.household_people(session, household_id)
    events = await events_repo.events_of(session, [p["id"] for p in people])
    return [
        HouseholdMember(
            member_id=str(p["id"]),
            person=person_facts(p),
            relationship=p["member_relationship"],
            events=events_repo.to_life_events(events.get(p["id"], [])),
            mother_id=str(p["mother_id"]) if p["mother_id"] else None,
            education=p["education"],
        )
        for p in people
    ]


def assessment_row(
    household_id: uuid.UUID, village_code: str, assessment: KrsAssessment
) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "household_id": household_id,
        "village_code": village_code,
        "assessed_on": assessment.as_of,
        "rule_set": assessment.rule_set_version,
        "is_target_family": assessment.is_target_family,
        "is_krs": assessment.is_krs,
        "criteria": {criterion_key(c.criterion): c.value for c in assessment.criteria},
        "criteria_met": [criterion_key(c) for c in assessment.criteria_met],
        "reason": assessment.reason,
    }


def assessment_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "household_id": str(row["household_id"]),
        "village_code": row["village_code"],
        "assessed_on": row["assessed_on"],
        "rule_set": row["rule_set"],
        "is_target_family": row["is_target_family"],
        "is_krs": row["is_krs"],
        "criteria": row["criteria"],
    }


async def reassess_household(
    session: AsyncSession, household_id: uuid.UUID, as_of: date
) -> dict[str, Any]:
    """Assess the family now, store it as current, and publish ``krs.assessed``."""
    household = await households_repo.get_household(session, household_id, "")
    if household is None:
        raise LookupError(f"household {household_id} does not exist")
    latest = await households_repo.conditions(session, household_id, latest_only=True)
    members = await household_members(session, household_id)
    assessment = assess_krs(conditions_of(latest[0] if latest else None), members, as_of)
    row = assessment_row(household_id, household["village_code"], assessment)
    await repo.insert_assessment(session, row)
    await emit(
        session,
        "krs.assessed",
        "household",
        household_id,
        assessment_payload(row),
        region_code=household["village_code"],
    )
    return row
