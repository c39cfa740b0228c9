"""FHIR R4 endpoints of the registry (SATUSEHAT conventions, docs/FHIR.md)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from common.auth import Caller, require
from common.db import Session
from common.i18n import current_lang
from services.registry.fhir import resources as fhir
from services.registry.fhir import service
from services.registry.fhir.settings import FhirSettings
from services.registry.fhir.terms import FHIR_JSON, LOINC

router = APIRouter(prefix="/v1/fhir", tags=["fhir"])

READ = Depends(require("fhir.read"))
WRITE = Depends(require("fhir.write"))
_RESOURCE = {"content": {FHIR_JSON: {"schema": {"type": "object", "additionalProperties": True}}}}
_BUNDLE_BODY = {
    "required": True,
    "content": {
        FHIR_JSON: {"schema": {"type": "object", "additionalProperties": True}},
        "application/json": {"schema": {"type": "object", "additionalProperties": True}},
    },
}


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _lang() -> str:
    return "en" if current_lang.get() == "en" else "id"


def _subject_id(subject: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(subject.removeprefix("Patient/"))
    except ValueError:
        return None


def _codes(code: str | None) -> set[str] | None:
    """FHIR token search: ``29463-7`` or ``http://loinc.org|29463-7``, comma-separated."""
    if not code:
        return None
    out = set()
    for token in code.split(","):
        system, sep, value = token.rpartition("|")
        if not sep or system in ("", LOINC):
            out.add(value.strip())
    return out


@router.get(
    "/Observation",
    summary="Search a child's growth measurements as Observations (searchset Bundle).",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def search_observations(
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
    subject: Annotated[str, Query(description="The child: <registry id> or Patient/<id>")],
    code: Annotated[str | None, Query(description="LOINC codes, comma-separated")] = None,
) -> Any:
    person_id = _subject_id(subject)
    found = []
    if person_id is not None:
        found = await service.child_observations(
            session, caller, person_id, _codes(code), _lang(), response
        )
    return fhir.searchset(FhirSettings().base, str(request.url), found, datetime.now(UTC))


@router.get(
    "/Observation/{observation_id}",
    summary="One Observation (one quantity of a visit).",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def get_observation(
    observation_id: str, session: Session, caller: Caller, response: Response
) -> Any:
    return await service.one_observation(session, caller, observation_id, _lang(), response)


@router.get(
    "/Patient/{person_id}",
    summary="A person as Patient; NIK only with the personal-data right and a purpose.",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def get_patient(
    person_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> Any:
    return await service.one_patient(session, caller, person_id, response)


@router.get(
    "/Group/{household_id}",
    summary="A household (Kartu Keluarga) as Group with its members.",
    dependencies=[READ],
    response_class=FhirResponse,
    responses={200: _RESOURCE},
)
async def get_group(
    household_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> Any:
    return await service.one_group(session, caller, household_id, response)


async def _import(request: Request, session: Session, caller: Caller, response: Response) -> Any:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        body = None
    report = await service.import_bundle(session, caller, body, _lang())
    response.status_code = report.http_status
    return report.body


@router.post(
    "/Bundle",
    summary="Import growth Observations: a transaction Bundle is all or nothing, a batch "
    "or collection stores each valid visit; answers a response Bundle or an "
    "OperationOutcome. Idempotent on each Observation's identifier.",
    dependencies=[WRITE],
    response_class=FhirResponse,
    responses={200: _RESOURCE, 422: _RESOURCE},
    openapi_extra={"requestBody": _BUNDLE_BODY},
)
async def import_bundle(
    request: Request, session: Session, caller: Caller, response: Response
) -> Any:
    return await _import(request, session, caller, response)


@router.post(
    "",
    summary="FHIR transaction/batch endpoint at the base: the same as POST /v1/fhir/Bundle.",
    dependencies=[WRITE],
    response_class=FhirResponse,
    responses={200: _RESOURCE, 422: _RESOURCE},
    openapi_extra={"requestBody": _BUNDLE_BODY},
)
async def process_bundle(
    request: Request, session: Session, caller: Caller, response: Response
) -> Any:
    return await _import(request, session, caller, response)
