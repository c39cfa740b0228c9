"""The registry subjects as this service knows them, and the state of the projection."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from common.audit_header import mark_audit
from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import not_found
from common.pii import mask_birth_date
from services.interventions.catalogue import repository as catalogue_repo
from services.interventions.catalogue.rules import catalogue_in_force
from services.interventions.eligibility import evaluate
from services.interventions.subjects import repository as repo
from services.interventions.subjects.consumer import REGISTRY_FEED
from services.interventions.subjects.projection import eligibility_subject
from services.interventions.subjects.schemas import (
    EligibilityRead,
    ProjectionStatus,
    SubjectRead,
)
from services.interventions.subjects.service import SUBJECT

router = APIRouter(prefix="/v1/interventions", tags=["subjects"])
_READ = [Depends(require("interventions.target.read"))]


@router.get(
    "/subjects/{subject_id}",
    summary="A person or household as projected from the registry feed.",
    dependencies=_READ,
)
async def get_subject(
    subject_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> SubjectRead:
    row = await repo.get(session, subject_id, caller.region)
    if row is None:
        raise not_found(SUBJECT)
    unmasked = caller.may_unmask
    if unmasked and row["kind"] == "person":
        mark_audit(
            response,
            record_type="intervention_subject",
            record_ids=[str(subject_id)],
            subject_ids=[str(subject_id)],
            fields=["birth_date", "target_groups", "growth"],
            unmasked=True,
        )
    birth = row["birth_date"]
    return SubjectRead(
        **{k: row[k] for k in SubjectRead.model_fields if k in row and k != "birth_date"},
        birth_date=(birth.isoformat() if birth else None) if unmasked else mask_birth_date(birth),
        masked=not unmasked,
    )


@router.get(
    "/subjects/{subject_id}/eligibility",
    summary="Which interventions apply to a subject on a day (or in a period), and why.",
    dependencies=_READ,
)
async def get_subject_eligibility(
    subject_id: uuid.UUID,
    session: Session,
    caller: Caller,
    on: Annotated[date | None, Query(description="First day; today")] = None,
    to: Annotated[date | None, Query(description="Last day; the same as on")] = None,
) -> list[EligibilityRead]:
    row = await repo.get(session, subject_id, caller.region)
    if row is None:
        raise not_found(SUBJECT)
    start = on or today()
    end = max(to or start, start)
    subject = eligibility_subject(row)
    out = []
    for entry in catalogue_in_force(await catalogue_repo.all_entries(session), end):
        if entry.subject_kind.value != row["kind"]:
            continue
        result = evaluate(entry.eligibility, subject, start, end)
        reasons = {"id": "; ".join(result.reasons_id), "en": "; ".join(result.reasons_en)}
        out.append(
            EligibilityRead(
                code=entry.code,
                version=entry.version,
                name=entry.name,
                eligible=result.eligible,
                reasons=reasons,
                missing_data=result.missing_data,
                eligible_periods=result.eligible_periods,
            )
        )
    return out


@router.get(
    "/projection",
    summary="How far the registry projection has come (feed cursor and lag).",
    dependencies=[Depends(require("events.read"))],
)
async def get_projection_status(request: Request, session: Session) -> ProjectionStatus:
    row = await repo.feed_status(session, REGISTRY_FEED) or {
        "feed": REGISTRY_FEED,
        "position": "",
        "events_applied": 0,
        "last_event_at": None,
        "updated_at": None,
    }
    consumer = getattr(request.app.state, "registry_consumer", None)
    last = row["last_event_at"]
    return ProjectionStatus(
        **row,
        lag_s=(datetime.now(UTC) - last).total_seconds() if last else None,
        running=consumer is not None,
        last_error=consumer.last_error if consumer else None,
    )
