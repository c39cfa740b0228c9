"""FHIR R4 endpoints of the interventions service (docs/FHIR.md)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from common.auth import Caller, require
from common.db import Session
from common.errors import not_found
from common.i18n import current_lang
from services.interventions.fhir import resources as fhir
from services.interventions.fhir.settings import FhirSettings
from services.interventions.referrals import repository as referrals_repo
from services.interventions.sectors import SECTORS, Sector

router = APIRouter(prefix="/v1/interventions/fhir", tags=["fhir"])

FHIR_JSON = "application/fhir+json"
READ = Depends(require("fhir.read"))
REFERRAL = {"en": "Referral", "id": "Rujukan"}
_RESOURCE = {"content": {FHIR_JSON: {"schema": {"type": "object", "additionalProperties": True}}}}


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _lang() -> str:
    return "en" if current_lang.get() == "en" else "id"


async def _resources(
    request: Request, session: Session, caller: Caller, referral_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any]]:
    referral = await referrals_repo.get(session, referral_id, caller.region)
    if referral is None:
        raise not_found(REFERRAL)
    kind = request.app.state.referral_types.get(referral["referral_type"])
    try:
        sector_label = SECTORS[Sector(referral["to_sector"])].label
    except (ValueError, KeyError):
        sector_label = None
    registry = FhirSettings().registry_base
    lang = _lang()
    return (
        fhir.service_request(referral, kind.label if kind else None, sector_label, registry, lang),
        fhir.task(referral, sector_label, registry, lang),
    )


@router.get(
    "/referrals/{referral_id}",
    summary="A referral as a Bundle of its ServiceRequest and its Task.",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def get_referral_bundle(
    referral_id: uuid.UUID, request: Request, session: Session, caller: Caller
) -> Any:
    request_resource, task = await _resources(request, session, caller, referral_id)
    return fhir.collection(FhirSettings().base, [request_resource, task], datetime.now(UTC))


@router.get(
    "/ServiceRequest/{referral_id}",
    summary="A referral as ServiceRequest: what was asked of which sector.",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def get_service_request(
    referral_id: uuid.UUID, request: Request, session: Session, caller: Caller
) -> Any:
    return (await _resources(request, session, caller, referral_id))[0]


@router.get(
    "/Task/{referral_id}",
    summary="A referral as Task: its state, owner and due date.",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def get_task(
    referral_id: uuid.UUID, request: Request, session: Session, caller: Caller
) -> Any:
    return (await _resources(request, session, caller, referral_id))[1]
