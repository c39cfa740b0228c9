"""Deliveries: what was given to whom, when, by which agency, from which budget.
Corrections and voids never change a delivery: they add a row that supersedes it."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, not_found
from common.pagination import Page, PageOut, paginate
from common.permissions import sector_allows
from services.interventions.catalogue import repository as catalogue_repo
from services.interventions.catalogue.rules import Violation
from services.interventions.deliveries import repository as repo
from services.interventions.deliveries.bulk import record_bulk
from services.interventions.deliveries.schemas import (
    BulkResult,
    DeliveryBulk,
    DeliveryCorrection,
    DeliveryCreate,
    DeliveryDetail,
    DeliveryRead,
    DeliveryVoid,
)
from services.interventions.deliveries.service import (
    check_delivery,
    new_row,
    resolve_sector,
    sector_not_responsible,
    store,
    superseded_problem,
)
from services.interventions.problems import raise_violations, violation_problem
from services.interventions.subjects import repository as subjects_repo
from services.interventions.subjects.service import require_subject

router = APIRouter(prefix="/v1/interventions/deliveries", tags=["deliveries"])

DELIVERY = {"en": "Delivery", "id": "Pemberian intervensi"}
_WRITE = [Depends(require("interventions.delivery.write"))]
_READ = [Depends(require("interventions.delivery.read"))]
RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", description="Only under this code"),
]


def _unknown_intervention(code: str) -> ProblemError:
    return violation_problem(
        [
            Violation(
                "unknown_intervention",
                {
                    "id": f"Intervensi {code} tidak ada di katalog",
                    "en": f"Intervention {code} is not in the catalogue",
                },
                "intervention_code",
            )
        ],
        status=422,
    )


async def _load(session: Session, delivery_id: uuid.UUID, caller: Caller) -> dict[str, Any]:
    row = await repo.get(session, delivery_id, caller.region)
    if row is None:
        raise not_found(DELIVERY)
    return row


@router.post("", status_code=201, summary="Record one delivery.", dependencies=_WRITE)
async def create_delivery(
    body: DeliveryCreate, request: Request, session: Session, caller: Caller
) -> DeliveryRead:
    entries = await catalogue_repo.versions(session, body.intervention_code)
    if not entries:
        raise _unknown_intervention(body.intervention_code)
    subject = await require_subject(request, session, caller, body.subject_id)
    entry, found = check_delivery(
        entries,
        body.intervention_code,
        body.delivered_on,
        body.quantity,
        body.unit,
        body.funding_source,
        subject,
        today(),
    )
    sector = resolve_sector(caller, entry or entries[-1], body.sector)
    raise_violations(found)
    assert entry is not None
    row = new_row(
        kind="recorded",
        subject=subject,
        entry=entry,
        caller=caller,
        values={
            **body.model_dump(exclude={"subject_id", "intervention_code", "sector"}),
            "unit": body.unit or entry.unit.value,
            "sector": sector,
        },
    )
    await store(session, row)
    return DeliveryRead(**await _load(session, row["id"], caller))


@router.post(
    "/bulk",
    status_code=201,
    summary="Record the deliveries of one session (up to 50,000 rows): each row is checked; "
    "on_error=skip stores the valid rows, on_error=reject stores nothing if any is invalid.",
    dependencies=_WRITE,
)
async def create_deliveries_bulk(
    body: DeliveryBulk, request: Request, session: Session, caller: Caller
) -> BulkResult:
    return await record_bulk(request, session, caller, body)


@router.get("", summary="Deliveries in your region, newest first.", dependencies=_READ)
async def list_deliveries(
    session: Session,
    caller: Caller,
    page: Page,
    subject_id: uuid.UUID | None = None,
    intervention: Annotated[str | None, Query(max_length=16)] = None,
    region: RegionQuery = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    batch_id: uuid.UUID | None = None,
    history: Annotated[bool, Query(description="Include superseded and voided rows")] = False,
) -> PageOut[DeliveryRead]:
    rows = await repo.list_deliveries(
        session,
        caller.region,
        {
            "within": region,
            "subject_id": subject_id,
            "intervention": intervention,
            "from": from_,
            "to": to,
            "batch_id": batch_id,
            "history": history,
        },
        page.after,
        page.limit + 1,
    )
    return paginate(
        [DeliveryRead(**r) for r in rows],
        page,
        key=lambda d: [d.delivered_on.isoformat(), str(d.id)],
    )


@router.get("/{delivery_id}", summary="One delivery with its history.", dependencies=_READ)
async def get_delivery(delivery_id: uuid.UUID, session: Session, caller: Caller) -> DeliveryDetail:
    row = await _load(session, delivery_id, caller)
    history = [DeliveryRead(**r) for r in await repo.history(session, delivery_id)]
    return DeliveryDetail(**row, history=history)


async def _replace(
    session: Session, caller: Caller, delivery_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The delivery to supersede (current, in region, of the caller's sector) and its
    subject."""
    original = await _load(session, delivery_id, caller)
    if not original["current"] or original["kind"] == "voided":
        raise superseded_problem(delivery_id)
    if not sector_allows(caller, original["sector"]):
        entries = await catalogue_repo.versions(session, original["intervention_code"])
        mine = caller.sector.value if caller.sector else None
        raise sector_not_responsible(original["intervention_code"], entries[-1], mine)
    subject = await subjects_repo.get(session, original["subject_id"], caller.region)
    if subject is None:
        raise not_found(DELIVERY)
    return original, subject


_COPIED = (
    "delivered_on",
    "quantity",
    "unit",
    "funding_source",
    "organisation",
    "officer",
    "place",
    "note",
    "sector",
)


@router.post(
    "/{delivery_id}/corrections",
    status_code=201,
    summary="Correct a delivery: a new row supersedes it (the original is kept).",
    dependencies=_WRITE,
)
async def correct_delivery(
    delivery_id: uuid.UUID, body: DeliveryCorrection, session: Session, caller: Caller
) -> DeliveryRead:
    original, subject = await _replace(session, caller, delivery_id)
    values = {k: original[k] for k in _COPIED}
    values.update(body.model_dump(exclude_unset=True, exclude={"reason"}))
    entries = await catalogue_repo.versions(session, original["intervention_code"])
    entry, found = check_delivery(
        entries,
        original["intervention_code"],
        values["delivered_on"],
        values["quantity"],
        values["unit"],
        values["funding_source"],
        subject,
        today(),
    )
    raise_violations(found)
    assert entry is not None
    if not await repo.supersede(session, delivery_id):
        raise superseded_problem(delivery_id)
    row = new_row(
        kind="corrected",
        subject=subject,
        entry=entry,
        caller=caller,
        values={**values, "reason": body.reason},
        supersedes=delivery_id,
        counted_subject_id=subject["merged_into"],
    )
    await store(session, row)
    return DeliveryRead(**await _load(session, row["id"], caller))


@router.post(
    "/{delivery_id}/void",
    status_code=201,
    summary="Void a delivery recorded in error: a new row supersedes it (kept as history).",
    dependencies=_WRITE,
)
async def void_delivery(
    delivery_id: uuid.UUID, body: DeliveryVoid, session: Session, caller: Caller
) -> DeliveryRead:
    original, subject = await _replace(session, caller, delivery_id)
    entries = await catalogue_repo.versions(session, original["intervention_code"])
    entry = next(e for e in entries if e.version == original["catalogue_version"])
    if not await repo.supersede(session, delivery_id):
        raise superseded_problem(delivery_id)
    row = new_row(
        kind="voided",
        subject=subject,
        entry=entry,
        caller=caller,
        values={**{k: original[k] for k in _COPIED}, "reason": body.reason},
        supersedes=delivery_id,
        counted_subject_id=subject["merged_into"],
    )
    await store(session, row)
    return DeliveryRead(**await _load(session, row["id"], caller))
