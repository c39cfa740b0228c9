"""Life events of a person. Each one is validated by the rules, published, followed by
the person's new target groups, and reassesses the household's KRS status."""

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Caller, Identity, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, field_error, not_found
from common.etag import required_version, set_etag, stale
from common.feed import emit
from common.ids import uuid7
from services.registry.events import repository as repo
from services.registry.events.rules import (
    ContraceptionUse,
    Delivery,
    MarriagePlan,
    Pregnancy,
    validate_contraception,
    validate_delivery,
    validate_marriage_plan,
    validate_pregnancy,
)
from services.registry.events.schemas import (
    ContraceptionCreate,
    LifeEventCreate,
    LifeEventRead,
    LifeEventRecorded,
    LifeEventUpdate,
)
from services.registry.persons.problems import located_problem
from services.registry.persons.routes import load_person, require_editable
from services.registry.persons.rules import PersonFacts, ValidationResult
from services.registry.persons.schemas import PersonRead
from services.registry.persons.service import (
    audit_persons,
    emit_person,
    person_facts,
    person_view,
)
from services.registry.risk.service import reassess_household

router = APIRouter(tags=["life-events"])

LIFE_EVENT = {"en": "Life event", "id": "Peristiwa"}


def _check(
    facts: PersonFacts, event: dict[str, Any], others: list[dict[str, Any]], on: date
) -> ValidationResult:
    """The rules for the event's kind; ``others`` are the person's other events."""
    match event["kind"]:
        case "pregnancy":
            pregnancy = Pregnancy(
                event["start_date"], event["expected_date"], event["outcome"], event["end_date"]
            )
            previous = repo.to_life_events(others).pregnancies
            return validate_pregnancy(facts, pregnancy, previous, on)
        case "delivery":
            return validate_delivery(facts, Delivery(event["start_date"], event["outcome"]), on)
        case "marriage_plan":
            return validate_marriage_plan(facts, MarriagePlan(event["expected_date"]), on)
        case _:
            use = ContraceptionUse(
                event["details"].get("method", ""), event["start_date"], event["end_date"]
            )
            return validate_contraception(facts, use, on)


def _raise_if_invalid(result: ValidationResult) -> None:
    if result.valid:
        return
    # A deceased person is a state conflict, not a malformed request.
    status = 409 if "person_deceased" in result.error_codes else 422
    raise located_problem([(["body"], i) for i in result.errors], status)


def life_event_payload(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "life_event_id": str(event["id"]),
        "person_id": str(event["person_id"]),
        "household_id": str(event["household_id"]) if event["household_id"] else None,
        "village_code": event["village_code"],
        "kind": event["kind"],
        "start_date": event["start_date"],
        "end_date": event["end_date"],
        "expected_date": event["expected_date"],
        "outcome": event["outcome"],
        "details": event["details"],
    }


async def _publish(
    session: AsyncSession,
    event_type: str,
    event_id: uuid.UUID,
    caller: Identity,
    response: Response,
) -> LifeEventRecorded:
    """Event, then the person's new target groups, then the family's KRS status."""
    on = today()
    event = await repo.get_event(session, event_id, "")
    assert event is not None
    payload = life_event_payload(event)
    await emit(session, event_type, "life_event", event_id, payload, event["village_code"])
    person = await load_person(session, event["person_id"], caller)
    events = repo.to_life_events((await repo.events_of(session, [person["id"]]))[person["id"]])
    await emit_person(session, "person.updated", person, on, events)
    if person["household_id"] is not None:
        await reassess_household(session, person["household_id"], on)
    set_etag(response, event["version"])
    audit_persons(response, caller, [person["id"]])
    return LifeEventRecorded(**event, person=PersonRead(**person_view(person, caller, events, on)))


@router.post(
    "/v1/persons/{person_id}/life-events",
    status_code=201,
    summary="Record a pregnancy, delivery, planned marriage or contraception use.",
    dependencies=[Depends(require("registry.event.write"))],
)
async def create_life_event(
    person_id: uuid.UUID,
    body: LifeEventCreate,
    session: Session,
    caller: Caller,
    response: Response,
) -> LifeEventRecorded:
    person = await load_person(session, person_id, caller, lock=True)
    require_editable(person, caller)
    fields = body.model_dump()
    details = dict(fields["details"])
    if isinstance(body, ContraceptionCreate):
        details["method"] = body.method
    event: dict[str, Any] = {
        "id": uuid7(),
        "person_id": person_id,
        "household_id": person["household_id"],
        "village_code": person["village_code"],
        "kind": body.kind,
        "start_date": fields.get("start_date"),
        "end_date": fields.get("end_date"),
        "expected_date": fields.get("expected_date"),
        "outcome": fields.get("outcome"),
        "details": {
            **fields["details"],
            **({"method": body.method} if body.kind == "contraception" else {}),
        },
    }
    others = (await repo.events_of(session, [person_id])).get(person_id, [])
    _raise_if_invalid(_check(person_facts(person), event, others, today()))
    await repo.insert_event(session, event)
    return await _publish(session, "life_event.recorded", event["id"], caller, response)


@router.get(
    "/v1/persons/{person_id}/life-events",
    summary="A person's life events.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def list_person_life_events(
    person_id: uuid.UUID, session: Session, caller: Caller
) -> list[LifeEventRead]:
    await load_person(session, person_id, caller)
    rows = (await repo.events_of(session, [person_id])).get(person_id, [])
    return [LifeEventRead(**r) for r in rows]


@router.get(
    "/v1/life-events/{event_id}",
    summary="One life event.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def get_life_event(
    event_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> LifeEventRead:
    event = await repo.get_event(session, event_id, caller.region)
    if event is None:
        raise not_found(LIFE_EVENT)
    set_etag(response, event["version"])
    return LifeEventRead(**event)


@router.patch(
    "/v1/life-events/{event_id}",
    summary="Update a life event, e.g. record a pregnancy's outcome (If-Match).",
    dependencies=[Depends(require("registry.event.write"))],
)
async def update_life_event(
    event_id: uuid.UUID,
    body: LifeEventUpdate,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> LifeEventRecorded:
    version = required_version(request)
    event = await repo.get_event(session, event_id, caller.region, lock=True)
    if event is None:
        raise not_found(LIFE_EVENT)
    person = await load_person(session, event["person_id"], caller, lock=True)
    require_editable(person, caller)
    if event["version"] != version:
        raise stale()
    changes = body.model_dump(exclude_unset=True)
    if "details" in changes and event["kind"] == "contraception":
        changes["details"] = {**changes["details"], "method": event["details"].get("method")}
    merged = {**event, **changes}
    needed = "expected_date" if event["kind"] == "marriage_plan" else "start_date"
    if merged[needed] is None:
        raise ProblemError(
            422,
            "field_required",
            detail={
                "en": f"{needed} cannot be removed from a {event['kind']}.",
                "id": f"{needed} tidak boleh dihapus dari peristiwa {event['kind']}.",
            },
            errors=[field_error(["body", needed], "required", "field_required")],
        )
    others = [
        e
        for e in (await repo.events_of(session, [person["id"]])).get(person["id"], [])
        if e["id"] != event_id
    ]
    _raise_if_invalid(_check(person_facts(person), merged, others, today()))
    if await repo.update_event(session, event_id, version, changes) is None:
        raise stale()
    return await _publish(session, "life_event.updated", event_id, caller, response)
